// @ts-check
// A user's page: /u/{name}. Their videos (public ones; all of them for themselves and admins)
// with a sort order; on one's own page also "Continue watching" and "History".
import { currentUser, getJSON } from './api.js';
import { fillPager, userHref, videoCard } from './cards.js';
import { el } from './dom.js';
import { formatCount, formatDate, formatDuration, timeAgo } from './format.js';
import { initHeader } from './header.js';

const PER_PAGE = 24;
const HISTORY_PER_PAGE = 12;
const SORTS = ['newest', 'oldest', 'most_viewed'];

const name = (() => {
  const raw = location.pathname.replace(/\/+$/, '').split('/').pop() || '';
  try {
    return decodeURIComponent(raw);
  } catch {
    return raw;
  }
})();
const params = new URLSearchParams(location.search);
let sort = SORTS.includes(params.get('sort')) ? params.get('sort') : 'newest';
let page = Math.max(1, parseInt(params.get('page'), 10) || 1);

const $ = (/** @type {string} */ id) => document.getElementById(id);
const loadError = $('load-error');
const sortSelect = /** @type {HTMLSelectElement} */ ($('sort'));

function showError(message) {
  loadError.textContent = message;
  loadError.hidden = !message;
}

function listHref(n, s = sort) {
  const q = new URLSearchParams();
  if (s !== 'newest') q.set('sort', s);
  if (n > 1) q.set('page', String(n));
  const query = q.toString();
  return `${userHref(name)}${query ? `?${query}` : ''}`;
}

let latest = 0;

async function loadVideos() {
  const seq = ++latest;
  const grid = $('user-videos');
  grid.setAttribute('aria-busy', 'true');
  let body;
  try {
    body = await getJSON(`/api/users/${encodeURIComponent(name)}/videos?${new URLSearchParams({ sort, page: String(page), per_page: String(PER_PAGE) })}`);
  } catch (err) {
    if (seq !== latest) return;
    grid.removeAttribute('aria-busy');
    showError(`Could not load the videos: ${err.message}`);
    return;
  }
  if (seq !== latest) return;
  grid.removeAttribute('aria-busy');
  showError('');
  const videos = Array.isArray(body && body.videos) ? body.videos : [];
  const total = Number.isFinite(body && body.total) ? body.total : videos.length;
  grid.replaceChildren(...videos.map((v) => videoCard(v, { owner: false })));
  $('videos-empty').hidden = videos.length > 0;
  $('videos-heading').textContent = total > 0 ? `Videos · ${formatCount(total)}` : 'Videos';
  fillPager($('pager'), { page, perPage: (body && body.per_page) || PER_PAGE, total, hrefFor: (n) => listHref(n) });
}

/** Cards of history / continue items: {video, position, updated_at, finished}. */
function progressCard(item, { history }) {
  const v = item && item.video;
  if (!v || !v.id) return null;
  const when = timeAgo(item.updated_at);
  const note = history
    ? (item.finished ? `Watched ${when}` : `Stopped at ${formatDuration(item.position)} · ${when}`)
    : `Left at ${formatDuration(item.position)} of ${formatDuration(v.duration)}`;
  const card = videoCard(v, {
    progress: { position: item.finished ? v.duration : item.position, duration: v.duration },
    extra: el('span', { class: 'card-meta card-progress', text: note, title: formatDate(item.updated_at) }),
  });
  card.classList.toggle('finished', item.finished === true);
  return card;
}

async function loadContinue() {
  try {
    const body = await getJSON('/api/me/continue');
    const items = Array.isArray(body && body.items) ? body.items : [];
    const cards = items.map((item) => progressCard(item, { history: false })).filter(Boolean);
    $('continue-list').replaceChildren(...cards);
    $('continue').hidden = cards.length === 0;
  } catch {
    $('continue').hidden = true;
  }
}

let historyPage = 0;

async function loadHistory() {
  const more = /** @type {HTMLButtonElement} */ ($('history-more'));
  more.disabled = true;
  try {
    const body = await getJSON(`/api/me/history?page=${historyPage + 1}&per_page=${HISTORY_PER_PAGE}`);
    const items = Array.isArray(body && body.items) ? body.items : [];
    historyPage = Number(body.page) || historyPage + 1;
    const list = $('history-list');
    const shown = new Set([...list.children].map((n) => /** @type {HTMLElement} */ (n).dataset.id));
    list.append(...items.filter((i) => i && i.video && !shown.has(i.video.id)).map((item) => progressCard(item, { history: true })).filter(Boolean));
    const perPage = Number(body.per_page) || HISTORY_PER_PAGE;
    more.hidden = !(historyPage * perPage < Number(body.total));
    $('history-empty').hidden = list.children.length > 0;
    $('history').hidden = false;
  } catch (err) {
    if (historyPage === 0) $('history').hidden = true;
    else showError(`Could not load more history: ${err.message}`);
  } finally {
    more.disabled = false;
  }
}

const mePromise = initHeader();

async function main() {
  if (!name) {
    $('user-name').textContent = 'No such user';
    return;
  }
  document.title = `${name} · Kino`;
  $('user-name').textContent = name;
  let profile;
  try {
    profile = await getJSON(`/api/users/${encodeURIComponent(name)}`);
  } catch (err) {
    if (err.status === 404) {
      $('user-name').textContent = 'No such user';
      showError(`There is no user called “${name}”.`);
      document.title = 'No such user · Kino';
      return;
    }
    showError(`Could not load this user: ${err.message}`);
    setTimeout(main, 5000);
    return;
  }
  const user = (profile && profile.user) || profile || {};
  const username = user.username || name;
  $('user-name').textContent = username;
  document.title = `${username} · Kino`;
  const count = Number(user.video_count);
  $('user-summary').textContent = [
    user.created_at ? `Joined ${formatDate(user.created_at)}` : '',
    Number.isFinite(count) ? `${formatCount(count)} video${count === 1 ? '' : 's'}` : '',
  ].filter(Boolean).join(' · ');

  sortSelect.value = sort;
  $('videos-section').hidden = false;
  loadVideos();

  let me = await mePromise;
  if (!me) me = await currentUser().catch(() => null);
  if (me && me.username === username) {
    $('manage-link').hidden = false;
    loadContinue();
    loadHistory();
  }
}

sortSelect.addEventListener('change', () => {
  sort = SORTS.includes(sortSelect.value) ? sortSelect.value : 'newest';
  page = 1;
  history.replaceState(null, '', listHref(1, sort));
  loadVideos();
});
/** @type {HTMLButtonElement} */ ($('history-more')).addEventListener('click', loadHistory);

main();
