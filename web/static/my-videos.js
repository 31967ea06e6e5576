// @ts-check
// "My videos" (/me): the table of the signed-in user's videos with title, tags, privacy,
// revoke-links and delete controls (and Retry for a failed one), refreshed while a video is
// processing.
import { api } from './api.js';
import { statusBadge } from './cards.js';
import { applyMaxLength, limitsNow, loadConfig } from './config.js';
import { el } from './dom.js';
import { formatDate, formatDuration, formatViews, percent } from './format.js';
import { isLiveStream } from './live-status.js';
import { failed, goSignIn, setStatus } from './me-common.js';
import { retryProcessing } from './retry.js';
import { parseTags, tagsOf } from './tags.js';

const PER_PAGE = 20;
const POLL_MS = 3000; // while a video is processing

const page = Math.max(1, parseInt(new URLSearchParams(location.search).get('page'), 10) || 1);
const table = document.getElementById('my-videos');
const tbody = document.getElementById('my-videos-body');
const loading = document.getElementById('videos-loading');
const empty = document.getElementById('videos-empty');
const loadError = document.getElementById('load-error');

const PRIVACY = [
  ['public', 'Public'],
  ['unlisted', 'Unlisted'],
  ['private', 'Private'],
];

/** id → row controller. */
const rows = new Map();
let total = 0;
let pollTimer = null;
let configAsked = false;

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
  if (isLiveStream(video)) {
    return el('span', { class: 'small' },
      el('a', { href: `/watch/${encodeURIComponent(video.id)}`, text: 'Watch' }),
      ' · ',
      el('a', { href: `/live?id=${encodeURIComponent(video.id)}`, text: 'Stream key and state' }));
  }
  if (video.status === 'processing' && video.playable === true) {
    return el('span', { class: 'small' },
      el('a', { href: `/watch/${encodeURIComponent(video.id)}`, text: 'Watch' }),
      el('span', { class: 'muted', text: ' · more qualities on the way' }));
  }
  if (video.status !== 'ready') return el('span', { class: 'muted small', text: video.status === 'processing' ? 'Not ready yet' : '' });
  const views = formatViews(video.views);
  return el('span', { class: 'small' },
    el('a', { href: `/watch/${encodeURIComponent(video.id)}`, text: 'Watch' }),
    views ? el('span', { class: 'muted', text: ` · ${views}` }) : null);
}

/** One table row with its controls; `update(video)` refreshes what the server may change. */
function makeRow(initial) {
  let video = initial;
  const limits = limitsNow();
  const titleMax = limits && limits.title_chars;
  const tr = el('tr', { 'data-id': video.id });
  const rowStatus = el('span', { class: 'row-status', role: 'status', 'aria-live': 'polite' });

  // Title: edited in place, saved on change (Enter or leaving the field); Escape reverts.
  const title = el('input', {
    type: 'text', class: 'title-input', maxlength: titleMax ? String(titleMax) : null, value: video.title || '',
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
    const parsed = parseTags(tags.value, limitsNow());
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

  // A failed video: queue its processing again (POST /api/videos/{id}/retry).
  const retry = el('button', {
    type: 'button', class: 'small-button', 'data-role': 'retry', text: 'Retry', hidden: true,
    title: 'Process this video again',
  });
  retry.addEventListener('click', async () => {
    retry.disabled = true;
    setStatus(rowStatus, '', 'Retrying…');
    try {
      update(await retryProcessing(video.id));
      setStatus(rowStatus, 'ok', 'Processing again');
      pollSoon();
    } catch (err) {
      failed(err, (m) => setStatus(rowStatus, 'error', m));
      if (err.status === 409) pollSoon(); // no longer failed: show what it is now
    } finally {
      retry.disabled = false;
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
    el('td', { class: 'actions' }, retry, ' ', revokeLinks, ' ', remove));

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
    retry.hidden = video.status !== 'failed';
    const key = JSON.stringify([video.status, Math.floor(percent(video.progress)), video.error, video.duration, Boolean(video.poster_url), video.views, video.playable === true]);
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
  return { tr, update, title, get video() { return video; } };
}

/** Lists the videos again shortly (a retried video is processing again). */
function pollSoon() {
  clearTimeout(pollTimer);
  pollTimer = setTimeout(refreshVideos, POLL_MS);
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
  const newer = /** @type {HTMLAnchorElement} */ (document.getElementById('newer'));
  const older = /** @type {HTMLAnchorElement} */ (document.getElementById('older'));
  newer.hidden = page <= 1;
  newer.href = page - 1 <= 1 ? '/me' : `/me?page=${page - 1}`;
  older.hidden = page >= pages;
  older.href = `/me?page=${page + 1}`;
  document.getElementById('page-info').textContent = `Page ${page} of ${pages} · ${total} video${total === 1 ? '' : 's'}`;
}

/** Lists the page's videos again (and again while one is processing). */
export async function refreshVideos() {
  if (!configAsked) {
    configAsked = true;
    // Rows made before the server's limits arrived take them now.
    loadConfig().then((config) => {
      if (config) for (const row of rows.values()) applyMaxLength(row.title, config.limits.title_chars);
    });
  }
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

