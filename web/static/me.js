// "My videos" (/me): the signed-in user's videos with privacy, title and delete controls; the
// change-password form; API tokens. Signed out → /signin?next=/me.
import {
  api, currentUser, el, formatDate, formatDuration, formatViews, initHeader, percent, statusBadge, tagsOf,
} from './app.js';

const PER_PAGE = 20;
const POLL_MS = 3000; // while a video is processing
const SAVED_MS = 3000; // how long "Saved" stays

const page = Math.max(1, parseInt(new URLSearchParams(location.search).get('page'), 10) || 1);
const table = document.getElementById('my-videos');
const tbody = document.getElementById('my-videos-body');
const loading = document.getElementById('videos-loading');
const empty = document.getElementById('videos-empty');
const loadError = document.getElementById('load-error');

const MAX_TAGS = 10;
const MAX_TAG_CHARS = 30;

/** "Cats, dogs ,cats" → ["cats", "dogs"]; {error} when a rule is broken. */
function parseTags(text) {
  const tags = [];
  for (const raw of String(text).split(',')) {
    const tag = raw.trim().replace(/\s+/g, ' ').toLowerCase();
    if (!tag) continue;
    if ([...tag].length > MAX_TAG_CHARS) return { error: `A tag has at most ${MAX_TAG_CHARS} characters (“${tag.slice(0, 40)}”).` };
    if (!tags.includes(tag)) tags.push(tag);
  }
  if (tags.length > MAX_TAGS) return { error: `At most ${MAX_TAGS} tags (${tags.length} given).` };
  return { tags };
}

const PRIVACY = [
  ['public', 'Public'],
  ['unlisted', 'Unlisted'],
  ['private', 'Private'],
];

/** id → row controller. */
const rows = new Map();
let total = 0;
let pollTimer = null;

function goSignIn() {
  location.replace('/signin?next=%2Fme');
}

/** Shows an API error; a 401 (the session is gone even after a refresh) goes to sign-in. */
function failed(err, show) {
  if (err.status === 401) {
    goSignIn();
    return;
  }
  show(err.message);
}

function setStatus(node, kind, text) {
  clearTimeout(node.savedTimer);
  node.className = `row-status${kind ? ` ${kind}` : ''}`;
  node.textContent = text;
  if (kind === 'ok') {
    node.savedTimer = setTimeout(() => {
      node.textContent = '';
    }, SAVED_MS);
  }
}

// ---------------------------------------------------------------------------------------------
// Videos

function statusCell(video) {
  const parts = [statusBadge(video)];
  if (video.status === 'processing') {
    const p = percent(video.progress);
    const fill = el('span');
    fill.style.width = `${p}%`;
    parts.push(
      el('div', { class: 'bar', role: 'progressbar', 'aria-valuemin': '0', 'aria-valuemax': '100', 'aria-valuenow': String(Math.round(p)) }, fill),
      el('span', { class: 'muted small', text: `${Math.floor(p)}%` }));
  } else if (video.status === 'failed') {
    parts.push(el('span', { class: 'card-error', text: video.error || 'Processing failed.' }));
  } else if (video.status === 'ready') {
    const d = formatDuration(video.duration);
    if (d) parts.push(el('span', { class: 'muted small', text: d }));
  }
  return parts;
}

function thumb(video) {
  const box = el('div', { class: 'mini-thumb' });
  if (video.poster_url) box.append(el('img', { src: video.poster_url, alt: '', loading: 'lazy', decoding: 'async' }));
  return box;
}

function watchLink(video) {
  if (video.status !== 'ready') return el('span', { class: 'muted small', text: video.status === 'processing' ? 'Not ready yet' : '' });
  const views = formatViews(video.views);
  return el('span', { class: 'small' },
    el('a', { href: `/watch/${encodeURIComponent(video.id)}`, text: 'Watch' }),
    views ? el('span', { class: 'muted', text: ` · ${views}` }) : null);
}

/** One table row with its controls; `update(video)` refreshes what the server may change. */
function makeRow(initial) {
  let video = initial;
  const tr = el('tr', { 'data-id': video.id });
  const rowStatus = el('span', { class: 'row-status', role: 'status', 'aria-live': 'polite' });

  // Title: edited in place, saved on change (Enter or leaving the field); Escape reverts.
  const title = el('input', {
    type: 'text', class: 'title-input', maxlength: '200', value: video.title || '',
    'aria-label': 'Title', 'data-role': 'title',
  });
  title.addEventListener('keydown', (e) => {
    if (e.key === 'Escape') {
      title.value = video.title || '';
      title.blur();
    } else if (e.key === 'Enter') {
      e.preventDefault();
      title.blur();
    }
  });
  title.addEventListener('change', async () => {
    const value = title.value.trim();
    if (value === (video.title || '')) return;
    if (!value) {
      title.value = video.title || '';
      setStatus(rowStatus, 'error', 'A title cannot be empty.');
      return;
    }
    title.disabled = true;
    setStatus(rowStatus, '', 'Saving…');
    try {
      update(await api('PATCH', `/api/videos/${encodeURIComponent(video.id)}`, { title: value }));
      title.value = video.title || '';
      setStatus(rowStatus, 'ok', 'Saved');
    } catch (err) {
      title.value = video.title || '';
      failed(err, (m) => setStatus(rowStatus, 'error', m));
    } finally {
      title.disabled = false;
    }
  });

  // Tags: comma-separated, saved on change like the title.
  const tagsText = (v) => tagsOf(v).join(', ');
  const tags = el('input', {
    type: 'text', class: 'tags-input', maxlength: '400', value: tagsText(video), placeholder: 'Tags, comma-separated',
    'aria-label': 'Tags, comma-separated', 'data-role': 'tags', autocapitalize: 'none', spellcheck: 'false',
  });
  tags.addEventListener('keydown', (e) => {
    if (e.key === 'Escape') {
      tags.value = tagsText(video);
      tags.blur();
    } else if (e.key === 'Enter') {
      e.preventDefault();
      tags.blur();
    }
  });
  tags.addEventListener('change', async () => {
    const parsed = parseTags(tags.value);
    if (parsed.error) {
      setStatus(rowStatus, 'error', parsed.error);
      return;
    }
    if (parsed.tags.join('\n') === tagsOf(video).join('\n')) {
      tags.value = tagsText(video);
      return;
    }
    tags.disabled = true;
    setStatus(rowStatus, '', 'Saving…');
    try {
      update(await api('PATCH', `/api/videos/${encodeURIComponent(video.id)}`, { tags: parsed.tags }));
      tags.value = tagsText(video);
      setStatus(rowStatus, 'ok', 'Saved');
    } catch (err) {
      failed(err, (m) => setStatus(rowStatus, 'error', m));
    } finally {
      tags.disabled = false;
    }
  });

  const privacy = el('select', { 'aria-label': 'Privacy', 'data-role': 'privacy' },
    ...PRIVACY.map(([value, label]) => new Option(label, value)));
  privacy.value = video.privacy || 'public';
  privacy.addEventListener('change', async () => {
    const wanted = privacy.value;
    privacy.disabled = true;
    setStatus(rowStatus, '', 'Saving…');
    try {
      update(await api('PATCH', `/api/videos/${encodeURIComponent(video.id)}`, { privacy: wanted }));
      privacy.value = video.privacy || wanted;
      setStatus(rowStatus, 'ok', 'Saved');
    } catch (err) {
      privacy.value = video.privacy || 'public';
      failed(err, (m) => setStatus(rowStatus, 'error', m));
    } finally {
      privacy.disabled = false;
    }
  });

  const remove = el('button', { type: 'button', class: 'danger small-button', 'data-role': 'delete', text: 'Delete' });
  remove.addEventListener('click', async () => {
    const name = video.title || 'Untitled';
    if (!window.confirm(`Delete “${name}”? The video and its streams are removed for good.`)) return;
    remove.disabled = true;
    privacy.disabled = true;
    title.disabled = true;
    tags.disabled = true;
    setStatus(rowStatus, '', 'Deleting…');
    try {
      await api('DELETE', `/api/videos/${encodeURIComponent(video.id)}`);
      removeRow(video.id);
    } catch (err) {
      remove.disabled = false;
      privacy.disabled = false;
      title.disabled = false;
      tags.disabled = false;
      if (err.status === 404) {
        removeRow(video.id); // already gone
        return;
      }
      failed(err, (m) => setStatus(rowStatus, 'error', m));
    }
  });

  // Ends every signed link handed out so far (shared unlisted/private links stop working);
  // the server answers with the video under a fresh link.
  const revokeLinks = el('button', {
    type: 'button', class: 'small-button', 'data-role': 'revoke-links', text: 'Revoke links',
    title: 'Stop every playback link shared so far; new links are issued',
  });
  revokeLinks.addEventListener('click', async () => {
    if (!window.confirm('Revoke every link to this video shared so far? People who have one must ask for a new one.')) return;
    revokeLinks.disabled = true;
    setStatus(rowStatus, '', 'Revoking…');
    try {
      update(await api('POST', `/api/videos/${encodeURIComponent(video.id)}/revoke-links`));
      setStatus(rowStatus, 'ok', 'Links revoked');
    } catch (err) {
      failed(err, (m) => setStatus(rowStatus, 'error', m));
    } finally {
      revokeLinks.disabled = false;
    }
  });

  const statusTd = el('td', { class: 'status-cell' });
  const thumbBox = el('div');
  const links = el('div', { class: 'video-links' });
  const created = el('td', { class: 'muted nowrap' });

  tr.append(
    el('td', { class: 'video-cell' }, thumbBox, el('div', { class: 'video-title' }, title, tags, links)),
    statusTd,
    el('td', { class: 'privacy-cell' }, el('div', { class: 'privacy-control' }, privacy), rowStatus),
    created,
    el('td', { class: 'actions' }, revokeLinks, ' ', remove));

  let shownKey = '';
  function update(next) {
    if (!next || typeof next !== 'object') return;
    const previous = video;
    video = { ...video, ...next };
    // The server's answer wins, except for a field the user is editing right now.
    if (document.activeElement !== title && !title.disabled) title.value = video.title || '';
    if (document.activeElement !== tags && !tags.disabled) tags.value = tagsText(video);
    if (!privacy.disabled && document.activeElement !== privacy) privacy.value = video.privacy || 'public';
    title.title = video.title || '';
    const key = JSON.stringify([video.status, Math.floor(percent(video.progress)), video.error, video.duration, Boolean(video.poster_url), video.views]);
    if (key !== shownKey) {
      shownKey = key;
      statusTd.replaceChildren(...statusCell(video));
      links.replaceChildren(watchLink(video));
      if (!previous.poster_url !== !video.poster_url || !thumbBox.firstChild) thumbBox.replaceChildren(thumb(video));
    }
    created.textContent = formatDate(video.created_at);
    tr.dataset.status = video.status;
    tr.dataset.privacy = video.privacy || 'public';
  }
  update(video);
  return { tr, update, get video() { return video; } };
}

function removeRow(id) {
  const row = rows.get(id);
  if (!row) return;
  row.tr.remove();
  rows.delete(id);
  total = Math.max(0, total - 1);
  if (rows.size === 0) {
    // The last row of this page: show the previous page, or the empty state.
    if (page > 1) location.replace(page - 1 <= 1 ? '/me' : `/me?page=${page - 1}`);
    else refreshVideos();
  }
  showCounts();
}

function showCounts() {
  table.hidden = rows.size === 0;
  empty.hidden = rows.size > 0 || total > 0;
  const pages = Math.max(1, Math.ceil(total / PER_PAGE));
  document.getElementById('pager').hidden = pages <= 1;
  const newer = document.getElementById('newer');
  const older = document.getElementById('older');
  newer.hidden = page <= 1;
  newer.href = page - 1 <= 1 ? '/me' : `/me?page=${page - 1}`;
  older.hidden = page >= pages;
  older.href = `/me?page=${page + 1}`;
  document.getElementById('page-info').textContent = `Page ${page} of ${pages} · ${total} video${total === 1 ? '' : 's'}`;
}

async function refreshVideos() {
  clearTimeout(pollTimer);
  let list;
  try {
    list = await api('GET', `/api/me/videos?page=${page}&per_page=${PER_PAGE}`);
  } catch (err) {
    if (err.status === 401) {
      goSignIn();
      return;
    }
    loadError.textContent = `Could not load your videos: ${err.message}`;
    loadError.hidden = false;
    pollTimer = setTimeout(refreshVideos, POLL_MS * 3);
    return;
  }
  loading.hidden = true;
  loadError.hidden = true;
  const videos = Array.isArray(list && list.videos) ? list.videos : [];
  total = Number.isFinite(list.total) ? list.total : videos.length;
  const seen = new Set();
  const ordered = videos.map((video) => {
    seen.add(video.id);
    let row = rows.get(video.id);
    if (row) row.update(video);
    else {
      row = makeRow(video);
      rows.set(video.id, row);
    }
    return row.tr;
  });
  for (const [id, row] of rows) {
    if (!seen.has(id)) {
      row.tr.remove();
      rows.delete(id);
    }
  }
  // Re-append in the server's order (moving a row keeps its controls and focus state).
  ordered.forEach((tr, i) => {
    if (tbody.children[i] !== tr) tbody.insertBefore(tr, tbody.children[i] || null);
  });
  showCounts();
  if (videos.some((v) => v.status === 'processing')) pollTimer = setTimeout(refreshVideos, POLL_MS);
}

// ---------------------------------------------------------------------------------------------
// Change password

function initPassword() {
  const form = document.getElementById('password-form');
  const current = document.getElementById('current-password');
  const fresh = document.getElementById('new-password');
  const confirm = document.getElementById('confirm-password');
  const button = document.getElementById('password-button');
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
// API tokens

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

async function loadTokens() {
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

function initTokens(user) {
  const form = document.getElementById('token-form');
  if (user.role === 'viewer') {
    // The server gives viewer accounts read-only tokens.
    const upload = form.querySelector('input[name="scope"][value="upload"]');
    upload.disabled = true;
    upload.closest('label').append(el('span', { class: 'muted', text: ' (needs the uploader role)' }));
  }
  const name = document.getElementById('token-name');
  const button = document.getElementById('token-button');
  const status = document.getElementById('token-status');
  const box = document.getElementById('new-token');
  const value = document.getElementById('new-token-value');
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
    const scopes = [...form.querySelectorAll('input[name="scope"]:checked')].map((c) => c.value);
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
    setTimeout(main, POLL_MS * 3);
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
  if (user.role === 'viewer') document.getElementById('upload-button-link').hidden = true;
  initPassword();
  initTokens(user);
  refreshVideos();
  loadTokens();
}

main();
