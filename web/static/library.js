// @ts-check
// The library page: a grid of video cards, refreshed every 2 s while anything is processing,
// under the "Live now" row of the streams broadcasting now (live-now.js; first page, no tag).
// `/?tag=TAG` shows only the public videos with that tag.
import { getJSON, sessionGeneration } from './api.js';
import { fillPager, stableKey, videoCard } from './cards.js';
import { el } from './dom.js';
import { initHeader } from './header.js';
import { refreshLiveNow } from './live-now.js';
import { tagHref } from './tags.js';

const PER_PAGE = 24;
const FAST_POLL_MS = 2000;
const SLOW_POLL_MS = 10000;

const grid = document.getElementById('videos');
const empty = document.getElementById('empty');
const loadError = document.getElementById('load-error');
const params = new URLSearchParams(location.search);
const page = Math.max(1, parseInt(params.get('page'), 10) || 1);
const tag = (params.get('tag') || '').trim().toLowerCase();
const showLiveNow = page === 1 && !tag;

/** id → { json, node }: cards are rebuilt only when their video changed (no poster flicker). */
const cards = new Map();

function pageHref(n) {
  const q = new URLSearchParams();
  if (tag) q.set('tag', tag);
  if (n > 1) q.set('page', String(n));
  const s = q.toString();
  return s ? `/?${s}` : '/';
}

function showFilter() {
  if (!tag) return;
  document.title = `#${tag} · Kino`;
  document.getElementById('library-heading').textContent = `Videos tagged #${tag}`;
  const note = document.getElementById('tag-filter');
  note.replaceChildren(
    'Showing only videos tagged ',
    el('a', { class: 'tag', href: tagHref(tag), text: `#${tag}` }),
    ' · ',
    el('a', { id: 'clear-tag', href: '/', text: 'Show all videos' }));
  note.hidden = false;
  empty.replaceChildren(`No videos tagged #${tag}. `, el('a', { href: '/', text: 'Show all videos' }));
}

function render(list) {
  const videos = Array.isArray(list && list.videos) ? list.videos : [];
  const seen = new Set();
  const nodes = videos.map((video) => {
    seen.add(video.id);
    const json = stableKey(video);
    let entry = cards.get(video.id);
    if (!entry || entry.json !== json) {
      entry = { json, node: videoCard(video, { readyBadge: true }) };
      cards.set(video.id, entry);
    }
    return entry.node;
  });
  for (const id of [...cards.keys()]) if (!seen.has(id)) cards.delete(id);
  grid.replaceChildren(...nodes);
  empty.hidden = list.total > 0 || nodes.length > 0;
  fillPager(document.getElementById('pager'), { page, perPage: list.per_page || PER_PAGE, total: list.total, hrefFor: pageHref });
}

let timer = null;
let latest = 0;

async function refresh() {
  clearTimeout(timer);
  const seq = ++latest;
  let delay = SLOW_POLL_MS;
  try {
    const q = new URLSearchParams({ page: String(page), per_page: String(PER_PAGE) });
    if (tag) q.set('tag', tag);
    const [list] = await Promise.all([getJSON(`/api/videos?${q}`), showLiveNow ? refreshLiveNow() : null]);
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

showFilter();
// The header's session check runs beside the first list request; when it had to renew an
// expired session, list again at once (a signed-in owner or admin sees more than the public).
const startGeneration = sessionGeneration();
initHeader().then(() => {
  if (sessionGeneration() !== startGeneration) refresh();
});
refresh();
