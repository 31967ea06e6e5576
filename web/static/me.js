// @ts-check
// "My videos" (/me): the signed-in user's videos (my-videos.js) with privacy, title and delete
// controls; the change-password form; API tokens (tokens.js). Signed out → /signin?next=/me.
import { api, currentUser } from './api.js';
import { formatDate } from './format.js';
import { initHeader } from './header.js';
import { goSignIn } from './me-common.js';
import { refreshVideos } from './my-videos.js';
import { initTokens, loadTokens } from './tokens.js';

const RETRY_MS = 9000; // when the server could not be reached

const loading = document.getElementById('videos-loading');
const loadError = document.getElementById('load-error');

// ---------------------------------------------------------------------------------------------
// Change password

function initPassword() {
  const form = /** @type {HTMLFormElement} */ (document.getElementById('password-form'));
  const current = /** @type {HTMLInputElement} */ (document.getElementById('current-password'));
  const fresh = /** @type {HTMLInputElement} */ (document.getElementById('new-password'));
  const confirm = /** @type {HTMLInputElement} */ (document.getElementById('confirm-password'));
  const button = /** @type {HTMLButtonElement} */ (document.getElementById('password-button'));
  const status = document.getElementById('password-status');
  const show = (kind, text) => {
    status.className = `form-status${kind === 'error' ? ' error' : kind === 'ok' ? ' ok' : ''}`;
    status.textContent = text;
  };
  const hint = document.getElementById('new-password-hint');
  fresh.addEventListener('input', () => {
    const n = [...fresh.value].length;
    const bad = n > 0 && (n < 10 || n > 128);
    hint.textContent = !bad ? '10–128 characters.' : n < 10 ? `At least 10 characters (${n} so far).` : `At most 128 characters (${n} now).`;
    hint.classList.toggle('bad', bad);
  });

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    if (!current.value) {
      show('error', 'Enter your current password.');
      current.focus();
      return;
    }
    if (!fresh.value) {
      show('error', 'Choose a new password.');
      fresh.focus();
      return;
    }
    if (fresh.value !== confirm.value) {
      show('error', 'The two new passwords differ.');
      confirm.focus();
      return;
    }
    button.disabled = true;
    show('', 'Changing the password…');
    try {
      // /api/auth/* is never retried after a refresh (a 401 there may mean a wrong password),
      // so renew an expired access cookie first.
      if (!(await currentUser({ reload: true }))) {
        goSignIn();
        return;
      }
      await api('POST', '/api/auth/password', { current_password: current.value, new_password: fresh.value });
      form.reset();
      hint.textContent = '10–128 characters.';
      hint.classList.remove('bad');
      show('ok', 'Password changed.');
    } catch (err) {
      if (err.status === 429) show('error', err.retryAfter ? `Too many attempts, try again in ${err.retryAfter} s` : 'Too many attempts, try again later.');
      else show('error', err.message);
    } finally {
      button.disabled = false;
    }
  });
}

// ---------------------------------------------------------------------------------------------

async function main() {
  initHeader();
  let user;
  try {
    user = await currentUser();
  } catch (err) {
    loading.hidden = true;
    loadError.textContent = `Could not reach the server: ${err.message}`;
    loadError.hidden = false;
    setTimeout(main, RETRY_MS);
    return;
  }
  if (!user) {
    goSignIn();
    return;
  }
  const role = { admin: 'admin', uploader: 'uploader', viewer: 'viewer' }[user.role] || user.role || '';
  document.getElementById('account-summary').textContent =
    [`Signed in as ${user.username}`, user.email, role && `role: ${role}`, user.created_at && `member since ${formatDate(user.created_at)}`]
      .filter(Boolean).join(' · ');
  if (!user.can_upload) document.getElementById('upload-button-link').hidden = true;
  initPassword();
  initTokens(user);
  refreshVideos();
  loadTokens();
}

main();
