// @ts-check
// The sign-up page: /signup?next=/path. Hints follow the server's rules as the user types; the
// server's answer is the authority (its message is shown as is).
import { api, nextAfterSignIn } from './api.js';
import { el, tooManyAttempts } from './dom.js';
import { initHeader } from './header.js';

const form = /** @type {HTMLFormElement} */ (document.getElementById('signup-form'));
const username = /** @type {HTMLInputElement} */ (document.getElementById('username'));
const email = /** @type {HTMLInputElement} */ (document.getElementById('email'));
const password = /** @type {HTMLInputElement} */ (document.getElementById('password'));
const confirm = /** @type {HTMLInputElement} */ (document.getElementById('confirm'));
const button = /** @type {HTMLButtonElement} */ (document.getElementById('signup-button'));
const status = document.getElementById('form-status');
const next = nextAfterSignIn(new URLSearchParams(location.search).get('next'));

const USERNAME_RE = /^[a-z0-9][a-z0-9_.-]{2,31}$/;
const hints = {
  username: document.getElementById('username-hint'),
  email: document.getElementById('email-hint'),
  password: document.getElementById('password-hint'),
  confirm: document.getElementById('confirm-hint'),
};
const defaultHints = Object.fromEntries(Object.entries(hints).map(([k, node]) => [k, node.textContent]));

function setStatus(kind, ...parts) {
  status.className = `form-status${kind === 'error' ? ' error' : ''}`;
  status.replaceChildren(...parts);
}

/** Number of characters as people count them (code points). */
const length = (s) => [...s].length;

/** Problems by field, following the API's rules; '' when the field looks fine. */
function problems() {
  const name = username.value.trim();
  const out = { username: '', email: '', password: '', confirm: '' };
  if (name) {
    if (/[A-Z]/.test(name) && USERNAME_RE.test(name.toLowerCase())) out.username = 'Use lowercase letters only.';
    else if (length(name) < 3) out.username = 'At least 3 characters.';
    else if (length(name) > 32) out.username = 'At most 32 characters.';
    else if (!/^[a-z0-9]/.test(name)) out.username = 'Start with a letter or a digit.';
    else if (!USERNAME_RE.test(name)) out.username = 'Only lowercase letters, digits, “_”, “.” and “-”.';
  }
  const mail = email.value.trim();
  if (mail && !/^[^\s@]+@[^\s@]+$/.test(mail)) out.email = 'That does not look like an email address.';
  const pw = password.value;
  if (pw) {
    if (length(pw) < 10) out.password = `At least 10 characters (${length(pw)} so far).`;
    else if (length(pw) > 128) out.password = `At most 128 characters (${length(pw)} now).`;
  }
  if (confirm.value && confirm.value !== pw) out.confirm = 'The two passwords differ.';
  return out;
}

/** Shows each field's problem in its hint (or the rule, when fine). */
function showHints(touchedOnly = true) {
  const found = problems();
  for (const [key, node] of Object.entries(hints)) {
    const input = { username, email, password, confirm }[key];
    const show = found[key] && (!touchedOnly || input.dataset.touched === '1');
    node.textContent = show ? found[key] : defaultHints[key];
    node.classList.toggle('bad', Boolean(show));
    node.hidden = !node.textContent;
    if (show) input.setAttribute('aria-invalid', 'true');
    else input.removeAttribute('aria-invalid');
  }
  return found;
}

for (const input of [username, email, password, confirm]) {
  input.addEventListener('input', () => showHints());
  input.addEventListener('blur', () => {
    if (input.value) input.dataset.touched = '1';
    showHints();
  });
}

if (next !== '/') /** @type {HTMLAnchorElement} */ (document.getElementById('signin-instead')).href = `/signin?next=${encodeURIComponent(next)}`;

form.addEventListener('submit', async (event) => {
  event.preventDefault();
  for (const input of [username, email, password, confirm]) if (input.value) input.dataset.touched = '1';
  showHints(false);
  /** @type {Array<[HTMLInputElement, string]>} */
  const required = [[username, 'Choose a username.'], [email, 'Enter your email address.'], [password, 'Choose a password.'], [confirm, 'Repeat the password.']];
  const missing = required.find(([input]) => !input.value.trim());
  if (missing) {
    setStatus('error', missing[1]);
    missing[0].focus();
    return;
  }
  if (confirm.value !== password.value) {
    setStatus('error', 'The two passwords differ.');
    confirm.focus();
    return;
  }
  // The other rules are only hints: the server decides, and its message is shown.
  button.disabled = true;
  setStatus('info', 'Creating your account…');
  try {
    await api('POST', '/api/auth/register', { username: username.value.trim(), email: email.value.trim(), password: password.value });
    setStatus('ok', 'Account created.');
    location.assign(next);
  } catch (err) {
    button.disabled = false;
    if (err.status === 429) {
      tooManyAttempts(err.retryAfter, button, (text) => setStatus(text ? 'error' : 'info', text));
      return;
    }
    setStatus('error', err.message);
    if (err.status === 409) username.focus();
  }
});

initHeader().then((user) => {
  if (!user) return;
  const note = document.getElementById('signed-in-note');
  note.replaceChildren(
    `You are signed in as ${user.username}. Creating another account signs you in as the new one, or `,
    el('a', { href: next, text: next === '/' ? 'go to the library' : 'continue' }),
    '.');
  note.hidden = false;
});
