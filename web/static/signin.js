// @ts-check
// The sign-in page: /signin?next=/path. On success, goes to `next` (a path on this site) or /.
import { api, nextAfterSignIn, userOf } from './api.js';
import { el, tooManyAttempts } from './dom.js';
import { initHeader } from './header.js';

const form = /** @type {HTMLFormElement} */ (document.getElementById('signin-form'));
const username = /** @type {HTMLInputElement} */ (document.getElementById('username'));
const password = /** @type {HTMLInputElement} */ (document.getElementById('password'));
const button = /** @type {HTMLButtonElement} */ (document.getElementById('signin-button'));
const status = document.getElementById('form-status');
const next = nextAfterSignIn(new URLSearchParams(location.search).get('next'));

function setStatus(kind, ...parts) {
  status.className = `form-status${kind === 'error' ? ' error' : ''}`;
  status.replaceChildren(...parts);
}

// Keep `next` on the link to the sign-up page.
if (next !== '/') /** @type {HTMLAnchorElement} */ (document.getElementById('signup-instead')).href = `/signup?next=${encodeURIComponent(next)}`;

form.addEventListener('submit', async (event) => {
  event.preventDefault();
  const name = username.value.trim();
  if (!name) {
    setStatus('error', 'Enter your username.');
    username.focus();
    return;
  }
  if (!password.value) {
    setStatus('error', 'Enter your password.');
    password.focus();
    return;
  }
  button.disabled = true;
  setStatus('info', 'Signing in…');
  try {
    const body = await api('POST', '/api/auth/signin', { username: name, password: password.value });
    const user = userOf(body);
    setStatus('ok', `Signed in${user ? ` as ${user.username}` : ''}.`);
    location.assign(next);
  } catch (err) {
    button.disabled = false;
    if (err.status === 429) {
      tooManyAttempts(err.retryAfter, button, (text) => setStatus(text ? 'error' : 'info', text));
      return;
    }
    setStatus('error', err.message);
    if (err.status === 401) {
      password.value = '';
      password.focus();
    }
  }
});

initHeader().then((user) => {
  if (!user) return;
  const note = document.getElementById('signed-in-note');
  note.replaceChildren(
    `You are signed in as ${user.username}. Signing in here switches account, or `,
    el('a', { href: next, text: next === '/' ? 'go to the library' : 'continue' }),
    '.');
  note.hidden = false;
});
