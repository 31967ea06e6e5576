// @ts-check
// API tokens on the "My videos" page (/me): the list with Revoke buttons, and the form that
// creates one (its secret is shown once, with a Copy button).
import { api } from './api.js';
import { el } from './dom.js';
import { formatDate } from './format.js';
import { failed, goSignIn, setStatus } from './me-common.js';

const tokensTable = document.getElementById('tokens');
const tokensBody = document.getElementById('tokens-body');
const tokensEmpty = document.getElementById('tokens-empty');
const tokensError = document.getElementById('tokens-error');

function showTokensError(message) {
  tokensError.textContent = message;
  tokensError.hidden = !message;
}

function tokenRow(token) {
  const status = el('span', { class: 'row-status', role: 'status', 'aria-live': 'polite' });
  const revoke = el('button', { type: 'button', class: 'danger small-button', 'data-role': 'revoke', text: 'Revoke' });
  const tr = el('tr', { 'data-id': String(token.id) },
    el('td', { class: 'token-name', text: token.name || '(unnamed)' }),
    el('td', {}, ...(Array.isArray(token.scopes) ? token.scopes : []).map((s) => el('span', { class: 'badge badge-scope', text: s }))),
    el('td', { class: 'muted nowrap', text: formatDate(token.created_at) }),
    el('td', { class: 'muted nowrap', text: token.last_used_at ? formatDate(token.last_used_at) : 'Never' }),
    el('td', { class: 'actions' }, revoke, status));
  revoke.addEventListener('click', async () => {
    if (!window.confirm(`Revoke the token “${token.name || '(unnamed)'}”? Scripts using it stop working.`)) return;
    revoke.disabled = true;
    setStatus(status, '', 'Revoking…');
    try {
      await api('DELETE', `/api/tokens/${encodeURIComponent(token.id)}`);
      tr.remove();
      showTokenCounts();
    } catch (err) {
      revoke.disabled = false;
      if (err.status === 404) {
        tr.remove();
        showTokenCounts();
        return;
      }
      failed(err, (m) => setStatus(status, 'error', m));
    }
  });
  return tr;
}

function showTokenCounts() {
  const n = tokensBody.children.length;
  tokensTable.hidden = n === 0;
  tokensEmpty.hidden = n > 0;
}

/** Lists the user's tokens. */
export async function loadTokens() {
  try {
    const body = await api('GET', '/api/tokens');
    const tokens = Array.isArray(body && body.tokens) ? body.tokens : [];
    tokensBody.replaceChildren(...tokens.map(tokenRow));
    showTokensError('');
  } catch (err) {
    if (err.status === 401) {
      goSignIn();
      return;
    }
    showTokensError(`Could not load your tokens: ${err.message}`);
  }
  showTokenCounts();
}

/**
 * The token form; viewer accounts cannot ask for the upload scope.
 * @param {import('./api.js').User} user
 */
export function initTokens(user) {
  const form = /** @type {HTMLFormElement} */ (document.getElementById('token-form'));
  if (!user.can_upload) {
    // The server gives viewer accounts read-only tokens.
    const upload = /** @type {HTMLInputElement} */ (form.querySelector('input[name="scope"][value="upload"]'));
    upload.disabled = true;
    upload.closest('label').append(el('span', { class: 'muted', text: ' (needs the uploader role)' }));
  }
  const name = /** @type {HTMLInputElement} */ (document.getElementById('token-name'));
  const button = /** @type {HTMLButtonElement} */ (document.getElementById('token-button'));
  const status = document.getElementById('token-status');
  const box = document.getElementById('new-token');
  const value = /** @type {HTMLInputElement} */ (document.getElementById('new-token-value'));
  const copy = document.getElementById('copy-token');
  const copyHint = document.getElementById('copy-hint');
  const copyHintText = copyHint.textContent;
  const show = (kind, text) => {
    status.className = `form-status${kind === 'error' ? ' error' : ''}`;
    status.textContent = text;
  };

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const label = name.value.trim();
    const scopes = [.../** @type {NodeListOf<HTMLInputElement>} */ (form.querySelectorAll('input[name="scope"]:checked'))].map((c) => c.value);
    if (!label) {
      show('error', 'Give the token a name (where or what it is for).');
      name.focus();
      return;
    }
    if (!scopes.length) {
      show('error', 'Choose at least one scope.');
      return;
    }
    button.disabled = true;
    show('', 'Creating…');
    try {
      const created = await api('POST', '/api/tokens', { name: label, scopes });
      show('', '');
      form.reset();
      value.value = created.token || '';
      document.getElementById('new-token-name').textContent = `“${created.name || label}”`;
      copyHint.textContent = copyHintText;
      box.hidden = false;
      value.focus();
      value.select();
      const { token: _secret, ...listed } = created;
      tokensBody.prepend(tokenRow({ last_used_at: null, ...listed }));
      showTokenCounts();
    } catch (err) {
      failed(err, (m) => show('error', m));
    } finally {
      button.disabled = false;
    }
  });

  copy.addEventListener('click', async () => {
    value.focus();
    value.select();
    let ok = false;
    try {
      if (navigator.clipboard && window.isSecureContext) {
        await navigator.clipboard.writeText(value.value);
        ok = true;
      }
    } catch {
      ok = false;
    }
    if (!ok) {
      try {
        ok = document.execCommand('copy');
      } catch {
        ok = false;
      }
    }
    copyHint.textContent = ok
      ? 'Copied. Kino shows a token only once: keep it somewhere safe.'
      : 'Press Ctrl+C (⌘C) to copy the selected token. Kino shows a token only once.';
  });
}

