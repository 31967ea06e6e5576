// The library page: a grid of video cards, refreshed every 2 s while anything is processing.
import { el, formatDuration, formatDate, getJSON, initHeader, percent, privacyBadge, sessionGeneration, statusBadge } from './app.js';

const PER_PAGE = 24;
const FAST_POLL_MS = 2000;
const SLOW_POLL_MS = 10000;

const grid = document.getElementById('videos');
const empty = document.getElementById('empty');
const loadError = document.getElementById('load-error');
const page = Math.max(1, parseInt(new URLSearchParams(location.search).get('page'), 10) || 1);

/** id → { json, node }: cards are rebuilt only when their video changed (no poster flicker). */
const cards = new Map();

function card(video) {
  const ready = video.status === 'ready';
  const thumb = el('div', { class: 'thumb' });
  if (video.poster_url) {
    thumb.append(el('img', { src: video.poster_url, alt: '', loading: 'lazy', decoding: 'async' }));
  } else {
    thumb.append(el('div', { class: 'placeholder', text: video.status === 'failed' ? 'No preview' : 'Processing…' }));
  }
  const duration = ready ? formatDuration(video.duration) : '';
  if (duration) thumb.append(el('span', { class: 'duration', text: duration }));

  const body = el('div', { class: 'card-body' },
    el('h2', { class: 'card-title', text: video.title || 'Untitled', title: video.title || 'Untitled' }),
    el('div', { class: 'card-meta' }, statusBadge(video), privacyBadge(video), el('span', { text: formatDate(video.created_at) })));
  if (video.status === 'processing') {
    const p = percent(video.progress);
    const fill = el('span');
    fill.style.width = `${p}%`;
    body.append(
      el('div', { class: 'bar', role: 'progressbar', 'aria-valuemin': '0', 'aria-valuemax': '100', 'aria-valuenow': String(Math.round(p)) }, fill),
      el('span', { class: 'card-meta', text: `${Math.floor(p)}%` }));
  } else if (video.status === 'failed') {
    body.append(el('p', { class: 'card-error', text: video.error || 'Processing failed.' }));
  }

  const attrs = { class: 'card', 'data-id': video.id, 'data-status': video.status };
  return ready ? el('a', { ...attrs, href: `/watch/${encodeURIComponent(video.id)}` }, thumb, body) : el('div', attrs, thumb, body);
}

/**
 * A video's JSON with its URLs reduced to whether they exist: the signed URLs of non-public
 * videos change on every answer, which must not rebuild the card (poster flicker).
 */
function stableKey(video) {
  return JSON.stringify(video, (key, value) => (/_url$/.test(key) ? Boolean(value) : value));
}

function render(list) {
  const seen = new Set();
  const nodes = list.videos.map((video) => {
    seen.add(video.id);
    const json = stableKey(video);
    let entry = cards.get(video.id);
    if (!entry || entry.json !== json) {
      entry = { json, node: card(video) };
      cards.set(video.id, entry);
    }
    return entry.node;
  });
  for (const id of [...cards.keys()]) if (!seen.has(id)) cards.delete(id);
  grid.replaceChildren(...nodes);
  empty.hidden = list.total > 0 || nodes.length > 0;

  const pages = Math.max(1, Math.ceil(list.total / (list.per_page || PER_PAGE)));
  document.getElementById('pager').hidden = pages <= 1;
  const newer = document.getElementById('newer');
  const older = document.getElementById('older');
  newer.hidden = page <= 1;
  newer.href = page - 1 <= 1 ? '/' : `/?page=${page - 1}`;
  older.hidden = page >= pages;
  older.href = `/?page=${page + 1}`;
  document.getElementById('page-info').textContent = `Page ${page} of ${pages}`;
}

let timer = null;
let latest = 0;

async function refresh() {
  clearTimeout(timer);
  const seq = ++latest;
  let delay = SLOW_POLL_MS;
  try {
    const list = await getJSON(`/api/videos?page=${page}&per_page=${PER_PAGE}`);
    if (seq !== latest) return; // a newer request is on its way
    render(list);
    loadError.hidden = true;
    if (list.videos.some((v) => v.status === 'processing')) delay = FAST_POLL_MS;
  } catch (err) {
    if (seq !== latest) return;
    loadError.textContent = `Could not load the library: ${err.message}`;
    loadError.hidden = false;
  }
  clearTimeout(timer);
  timer = setTimeout(refresh, delay);
}

// The header's session check runs beside the first list request; when it had to renew an
// expired session, list again at once (a signed-in owner or admin sees more than the public).
const startGeneration = sessionGeneration();
initHeader().then(() => {
  if (sessionGeneration() !== startGeneration) refresh();
});
refresh();
