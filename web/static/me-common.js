// @ts-check
// Shared by the parts of the "My videos" page (/me): going to sign-in, showing an API error,
// and the short status next to a row's controls.

const SAVED_MS = 3000; // how long "Saved" stays

/** The session is gone: sign in again and come back here. */
export function goSignIn() {
  location.replace('/signin?next=%2Fme');
}

/**
 * Shows an API error; a 401 (the session is gone even after a refresh) goes to sign-in.
 * @param {any} err an ApiError
 * @param {(message: string) => void} show
 */
export function failed(err, show) {
  if (err.status === 401) {
    goSignIn();
    return;
  }
  show(err.message);
}

/** @type {WeakMap<HTMLElement, ReturnType<typeof setTimeout>>} */
const savedTimers = new WeakMap();

/**
 * A row's status line: `kind` '' (in progress), 'ok' (fades after a while) or 'error'.
 * @param {HTMLElement} node
 * @param {string} kind
 * @param {string} text
 */
export function setStatus(node, kind, text) {
  clearTimeout(savedTimers.get(node));
  node.className = `row-status${kind ? ` ${kind}` : ''}`;
  node.textContent = text;
  if (kind === 'ok') {
    savedTimers.set(node, setTimeout(() => {
      node.textContent = '';
    }, SAVED_MS));
  }
}
