// @ts-check
// Writing comments: the new-comment form under the video, and the rules it shares with the
// reply and edit boxes (length check and counter from the server's limit, Ctrl+Enter, how a
// refused write is shown). Comment bodies are user input: they only ever go into textContent.
import { api } from './api.js';

/** The length counter appears from this share of the limit on ("1800 / 2000"). */
const LENGTH_HINT_FROM = 0.9;

/** Number of characters as people count them (code points). */
const length = (/** @type {string} */ s) => [...s].length;

/**
 * Why `text` cannot be posted, or null. `max`: the server's limit (unchecked when unknown).
 * @param {string} text
 * @param {number | null} max
 */
export function checkBody(text, max) {
  if (!text) return 'Write something first.';
  if (max && length(text) > max) return `A comment has at most ${max} characters.`;
  return null;
}

/**
 * Shows "n / max" in `node` once the text nears the limit (nothing while the limit is unknown).
 * @param {HTMLElement} node
 * @param {string} text
 * @param {number | null} max
 */
export function showLength(node, text, max) {
  const n = length(text);
  node.textContent = max && n >= Math.floor(max * LENGTH_HINT_FROM) ? `${n} / ${max}` : '';
  node.classList.toggle('bad', Boolean(max) && n > max);
}

/**
 * Ctrl+Enter (⌘+Enter) in `area` submits `formNode`.
 * @param {HTMLTextAreaElement} area
 * @param {HTMLFormElement} formNode
 */
export function submitOnCtrlEnter(area, formNode) {
  area.addEventListener('keydown', (e) => {
    if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) {
      e.preventDefault();
      formNode.requestSubmit();
    }
  });
}

/**
 * @callback WriteFailed
 * @param {any} err an ApiError
 * @param {(text: string) => void} show
 * @param {HTMLButtonElement} button disabled during a 429 countdown
 */

/**
 * How a refused write is shown: 401 (signed out) and 403 (comments turned off) adjust the page
 * through the callbacks; 429 counts down with the button disabled (one countdown at a time).
 * @param {{ onSignedOut: () => void, onCommentsOff: () => void }} callbacks
 * @returns {WriteFailed}
 */
export function createWriteFailed({ onSignedOut, onCommentsOff }) {
  /** @type {ReturnType<typeof setInterval> | undefined} */
  let cooldown;
  return (err, show, button) => {
    if (err.status === 401) {
      onSignedOut();
      show('Your session has ended: sign in again to comment.');
      return;
    }
    if (err.status === 403 && /comment/i.test(err.message || '')) {
      onCommentsOff();
    }
    if (err.status === 429) {
      let left = Number.isFinite(err.retryAfter) && err.retryAfter > 0 ? Math.ceil(err.retryAfter) : null;
      if (left === null) {
        show('You are commenting too fast. Wait a moment and try again.');
        return;
      }
      clearInterval(cooldown);
      const tick = () => {
        if (left <= 0) {
          clearInterval(cooldown);
          button.disabled = false;
          show('');
          return;
        }
        button.disabled = true;
        show(`You are commenting too fast. Try again in ${left} s.`);
        left -= 1;
      };
      tick();
      cooldown = setInterval(tick, 1000);
      return;
    }
    show(err.message);
  };
}

/**
 * The new-comment form (#comment-form): checks, posts, and hands the new comment to `onPosted`.
 * @param {{
 *   base: string,
 *   maxBody: () => number | null,
 *   writeFailed: WriteFailed,
 *   onPosted: (comment: any) => void,
 * }} options
 */
export function initComposer({ base, maxBody, writeFailed, onPosted }) {
  const form = /** @type {HTMLFormElement} */ (document.getElementById('comment-form'));
  const textarea = /** @type {HTMLTextAreaElement} */ (document.getElementById('comment-body'));
  const submit = /** @type {HTMLButtonElement} */ (document.getElementById('comment-submit'));
  const formStatus = document.getElementById('comment-status');
  const lengthHint = document.getElementById('comment-length');

  /**
   * @param {string} kind
   * @param {string} text
   */
  const setFormStatus = (kind, text) => {
    formStatus.className = `form-status${kind ? ` ${kind}` : ''}`;
    formStatus.textContent = text;
  };

  textarea.addEventListener('input', () => showLength(lengthHint, textarea.value, maxBody()));
  submitOnCtrlEnter(textarea, form);
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const body = textarea.value.trim();
    const problem = checkBody(body, maxBody());
    if (problem) {
      setFormStatus('error', problem);
      textarea.focus();
      return;
    }
    submit.disabled = true;
    setFormStatus('', 'Posting…');
    try {
      const c = await api('POST', `${base}/comments`, { body });
      textarea.value = '';
      showLength(lengthHint, '', maxBody());
      setFormStatus('', '');
      onPosted(c);
    } catch (err) {
      writeFailed(err, (m) => setFormStatus('error', m), submit);
      if (err.status === 429) return; // the countdown enables the button
    }
    submit.disabled = false;
  });

  return {
    /** The server's limit became known: the textarea follows it. */
    setMaxBody(/** @type {number | null} */ max) {
      if (max) textarea.maxLength = max;
      showLength(lengthHint, textarea.value, max);
    },
  };
}
