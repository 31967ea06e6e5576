// @ts-check
// Search results: /search?q=TEXT&page=N → GET /api/search (ranked, prefix matching, only what
// the caller may see), shown as library cards.
import { getJSON, sessionGeneration } from './api.js';
import { fillPager, videoCard } from './cards.js';
import { el } from './dom.js';
import { formatCount } from './format.js';
import { initHeader } from './header.js';

const PER_PAGE = 24;

const params = new URLSearchParams(location.search);
const q = (params.get('q') || '').trim();
const page = Math.max(1, parseInt(params.get('page'), 10) || 1);
const results = document.getElementById('results');
const summary = document.getElementById('search-summary');
const empty = document.getElementById('empty');
const loadError = document.getElementById('load-error');

function pageHref(n) {
  const s = new URLSearchParams({ q });
  if (n > 1) s.set('page', String(n));
  return `/search?${s}`;
}

let latest = 0;

async function load() {
  const seq = ++latest;
  if (!q) {
    summary.textContent = 'Type what you are looking for in the search box above.';
    results.replaceChildren();
    return;
  }
  summary.textContent = 'Searching…';
  let body;
  try {
    body = await getJSON(`/api/search?${new URLSearchParams({ q, page: String(page), per_page: String(PER_PAGE) })}`);
  } catch (err) {
    if (seq !== latest) return;
    summary.textContent = '';
    loadError.textContent = `Search failed: ${err.message}`;
    loadError.hidden = false;
    return;
  }
  if (seq !== latest) return;
  loadError.hidden = true;
  const videos = Array.isArray(body && body.videos) ? body.videos : [];
  const total = Number.isFinite(body && body.total) ? body.total : videos.length;
  results.replaceChildren(...videos.map((v) => videoCard(v)));
  summary.textContent = total === 0 ? '' : `${formatCount(total)} result${total === 1 ? '' : 's'}`;
  empty.replaceChildren(
    videos.length === 0 && total > 0 ? 'No more results. ' : `No videos match “${q}”. `,
    el('a', { href: videos.length === 0 && total > 0 ? pageHref(1) : '/', text: videos.length === 0 && total > 0 ? 'First page' : 'Browse the library' }));
  empty.hidden = videos.length > 0;
  fillPager(document.getElementById('pager'), { page, perPage: (body && body.per_page) || PER_PAGE, total, hrefFor: pageHref });
}

if (q) {
  document.title = `${q} · Search · Kino`;
  document.getElementById('search-heading').textContent = `Results for “${q}”`;
}
// The header's session check runs beside the first search; if it had to renew an expired
// session, search again (a signed-in user may see more: own unlisted/private videos).
const startGeneration = sessionGeneration();
initHeader().then(() => {
  if (sessionGeneration() !== startGeneration) load();
});
load();
