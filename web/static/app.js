// Shared helpers for Kino's pages (plain ES module, no build step).
// Server data (titles, descriptions, errors) is user input: it only ever goes into textContent.

/** Creates an element: el('a', { class: 'card', href: '/x', text: 'hi' }, child, ...). */
export function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === 'text') node.textContent = String(value);
    else if (key === 'class') node.className = value;
    else if (key in node && typeof value !== 'string') node[key] = value;
    else node.setAttribute(key, value === true ? '' : String(value));
  }
  for (const child of children) {
    if (child !== undefined && child !== null && child !== false) node.append(child);
  }
  return node;
}

/** Seconds → "m:ss", or "h:mm:ss" from one hour on; "" when unknown. */
export function formatDuration(seconds) {
  if (typeof seconds !== 'number' || !Number.isFinite(seconds) || seconds < 0) return '';
  const total = Math.round(seconds);
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = String(total % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${s}` : `${m}:${s}`;
}

/** Bytes → "12.3 MB". */
export function formatBytes(bytes) {
  if (!Number.isFinite(bytes) || bytes < 0) return '';
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let value = bytes;
  let i = 0;
  while (value >= 1000 && i < units.length - 1) {
    value /= 1000;
    i += 1;
  }
  return `${i === 0 ? value : value.toFixed(value < 10 ? 1 : 0)} ${units[i]}`;
}

/** Bits per second → "2.1 Mbit/s" or "850 kbit/s". */
export function formatBitrate(bps) {
  if (!Number.isFinite(bps) || bps <= 0) return '';
  if (bps >= 1e6) return `${(bps / 1e6).toFixed(1)} Mbit/s`;
  return `${Math.round(bps / 1e3)} kbit/s`;
}

/** ISO date → short local date. */
export function formatDate(iso) {
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? '' : d.toLocaleDateString(undefined, { year: 'numeric', month: 'short', day: 'numeric' });
}

/** 1234 → "1,234" (locale grouping); "" when not a count. */
export function formatCount(n) {
  const v = Number(n);
  return Number.isFinite(v) && v >= 0 ? Math.floor(v).toLocaleString() : '';
}

/** A view count → "1 view", "1,234 views"; "" when unknown. */
export function formatViews(n) {
  const text = formatCount(n);
  if (!text) return '';
  return Math.floor(Number(n)) === 1 ? '1 view' : `${text} views`;
}

/** ISO date → "just now", "5 min ago", "3 h ago", "2 days ago", else a short date. */
export function timeAgo(iso) {
  const t = new Date(iso).getTime();
  if (Number.isNaN(t)) return '';
  const s = Math.max(0, (Date.now() - t) / 1000);
  if (s < 45) return 'just now';
  if (s < 3600) return `${Math.max(1, Math.round(s / 60))} min ago`;
  if (s < 86400) return `${Math.round(s / 3600)} h ago`;
  if (s < 7 * 86400) {
    const d = Math.round(s / 86400);
    return `${d} day${d === 1 ? '' : 's'} ago`;
  }
  return formatDate(iso);
}

/** Clamps a progress value to 0..100. */
export function percent(progress) {
  const p = Number(progress);
  return Number.isFinite(p) ? Math.max(0, Math.min(100, p)) : 0;
}

/** The `error` message of a JSON error body, or a fallback built from the HTTP status. */
export function errorMessage(status, statusText, bodyText) {
  try {
    const body = JSON.parse(bodyText);
    if (body && typeof body.error === 'string' && body.error) return body.error;
  } catch {
    // not JSON: fall through
  }
  if (status === 413) return 'The file is too large.';
  return `Request failed (HTTP ${status}${statusText ? ` ${statusText}` : ''})`;
}

/** Status badge element for a video. */
export function statusBadge(video) {
  const labels = { processing: 'Processing', ready: 'Ready', failed: 'Failed' };
  return el('span', { class: `badge badge-${video.status}`, text: labels[video.status] || video.status });
}

/** Privacy badge for a non-public video (null for public ones). */
export function privacyBadge(video) {
  const labels = { unlisted: 'Unlisted', private: 'Private' };
  const privacy = video && video.privacy;
  if (!privacy || privacy === 'public') return null;
  return el('span', {
    class: `badge badge-${labels[privacy] ? privacy : 'private'}`,
    text: labels[privacy] || privacy,
    title: privacy === 'unlisted' ? 'Anyone with the link can watch' : 'Only the owner (and admins) can watch',
  });
}

// ---------------------------------------------------------------------------------------------
// Sessions. The server keeps the session in two HttpOnly cookies: a short-lived access cookie
// (15 min) and a refresh cookie (30 days). Every API call of every page goes through apiFetch,
// which answers an expired access cookie (401) by refreshing the session once and retrying, so a
// signed-in user never has to sign in again while the refresh cookie is valid.

let refreshInFlight = null;
let refreshGeneration = 0;

// Cross-tab coordination where the Web Locks API is missing (plain-HTTP origins other than
// localhost): a marker in localStorage says "tab X is refreshing"; other tabs wait for it.
const TAB_ID = Math.random().toString(36).slice(2);
const REFRESH_MARK = 'kino.session-refresh';
const MARK_TTL_MS = 10_000;

function readMark() {
  try {
    return JSON.parse(localStorage.getItem(REFRESH_MARK) || 'null');
  } catch {
    return null;
  }
}

function writeMark(value) {
  try {
    localStorage.setItem(REFRESH_MARK, JSON.stringify(value));
  } catch {
    // storage unavailable: no cross-tab coordination
  }
}

/** Waits for another tab's refresh: its result, or null when it did not finish in time. */
function waitForOtherTab() {
  return new Promise((resolve) => {
    const finish = (result) => {
      window.removeEventListener('storage', onStorage);
      clearTimeout(timer);
      resolve(result);
    };
    const onStorage = (e) => {
      if (e.key !== REFRESH_MARK) return;
      const mark = readMark();
      if (!mark || mark.done) finish(mark ? mark.ok === true : null);
    };
    window.addEventListener('storage', onStorage);
    const timer = setTimeout(() => finish(null), MARK_TTL_MS);
  });
}

const busyElsewhere = (mark) => mark && mark.tab !== TAB_ID && !mark.done && Date.now() - mark.at < MARK_TTL_MS;

/** Runs `run` (the refresh) unless another tab is already refreshing, then shares its result. */
async function withStorageLock(run) {
  if (busyElsewhere(readMark())) {
    const theirs = await waitForOtherTab();
    if (theirs !== null) return theirs;
  }
  // Claim, then check a moment later that no other tab claimed at the same time (last one wins).
  writeMark({ tab: TAB_ID, at: Date.now() });
  await new Promise((r) => setTimeout(r, 40));
  if (busyElsewhere(readMark())) {
    const theirs = await waitForOtherTab();
    if (theirs !== null) return theirs;
  }
  return run();
}

/**
 * POST /api/auth/refresh, single-flight: concurrent callers share one request (two parallel
 * refreshes would present the same refresh token twice, which the server treats as theft and
 * answers by ending the session). Across tabs of this origin, the Web Locks API serialises
 * refreshes (secure contexts), else a localStorage marker lets one tab refresh for all.
 * Resolves to true when the session was renewed.
 */
export function refreshSession() {
  if (!refreshInFlight) {
    const asked = Date.now();
    const run = async () => {
      // Another tab renewed the shared cookies while this one waited: nothing left to do.
      const mark = readMark();
      if (mark && mark.tab !== TAB_ID && mark.done && mark.ok && mark.at >= asked) return true;
      let ok = false;
      try {
        const res = await fetch('/api/auth/refresh', {
          method: 'POST',
          headers: { Accept: 'application/json' },
          cache: 'no-store',
          credentials: 'same-origin',
        });
        await res.arrayBuffer().catch(() => {}); // read the small body: the request ends cleanly
        ok = res.ok;
      } catch {
        ok = false;
      }
      writeMark({ tab: TAB_ID, at: Date.now(), done: true, ok });
      return ok;
    };
    const locks = typeof navigator !== 'undefined' && navigator.locks && typeof navigator.locks.request === 'function' ? navigator.locks : null;
    const attempt = locks ? locks.request('kino-session-refresh', run).catch(run) : withStorageLock(run);
    refreshInFlight = attempt.then((ok) => {
      if (ok) refreshGeneration += 1;
      return ok;
    }).finally(() => {
      refreshInFlight = null;
    });
  }
  return refreshInFlight;
}

function isRefreshable(url) {
  let path;
  try {
    const u = new URL(url, location.href);
    if (u.origin !== location.origin) return false;
    path = u.pathname;
  } catch {
    return false;
  }
  return path.startsWith('/api/') && !path.startsWith('/api/auth/');
}

/**
 * fetch() for Kino's API: same-origin credentials, no caching, and on a 401 from an /api/ route
 * (other than /api/auth/*) one session refresh (shared with concurrent callers) and one retry.
 * When the refresh fails, the original 401 response is returned. `options.body` must be
 * re-sendable (a string, FormData, Blob…), not a stream.
 */
export async function apiFetch(url, options = {}) {
  const init = { cache: 'no-store', credentials: 'same-origin', ...options };
  const generation = refreshGeneration;
  const res = await fetch(url, init);
  if (res.status !== 401 || !isRefreshable(url)) return res;
  // A refresh that finished after this request left already renewed the cookie: just retry.
  const renewed = refreshGeneration !== generation && !refreshInFlight ? true : await refreshSession();
  if (!renewed) return res;
  await res.arrayBuffer().catch(() => {}); // the 401 answer is replaced by the retry's
  return fetch(url, init);
}

/** An Error carrying the server's message, `.status` (0: no answer) and `.retryAfter` (s or null). */
function apiError(status, message, retryAfter = null) {
  const err = new Error(message);
  err.status = status;
  err.retryAfter = retryAfter;
  return err;
}

/** Seconds of a Retry-After header (delta-seconds or HTTP date), or null. */
export function retryAfterSeconds(value) {
  if (!value) return null;
  const trimmed = String(value).trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed);
  const date = Date.parse(trimmed);
  return Number.isNaN(date) ? null : Math.max(0, Math.ceil((date - Date.now()) / 1000));
}

/**
 * Calls the API and returns the parsed JSON body (null for 204 / an empty body). `body`, when
 * given, is sent as JSON. Throws an Error with the server's message, `.status` and `.retryAfter`.
 */
export async function api(method, url, body, { signal } = {}) {
  const headers = { Accept: 'application/json' };
  const init = { method, headers };
  if (signal) init.signal = signal;
  if (body !== undefined) {
    headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  let res;
  try {
    res = await apiFetch(url, init);
  } catch (err) {
    if (signal && signal.aborted) throw err; // the caller gave up: an AbortError, not an outage
    throw apiError(0, 'Cannot reach the server.');
  }
  const text = await res.text();
  if (!res.ok) {
    throw apiError(res.status, errorMessage(res.status, res.statusText, text), retryAfterSeconds(res.headers.get('Retry-After')));
  }
  if (!text) return null;
  try {
    return JSON.parse(text);
  } catch {
    throw apiError(res.status, 'The server sent an unreadable answer.');
  }
}

/** GETs JSON; throws an Error carrying the server's message (and `.status`) on failure. */
export function getJSON(url, options) {
  return api('GET', url, undefined, options);
}

/** The user object of a {user} answer (also accepts the bare user object). */
export function userOf(body) {
  if (body && typeof body === 'object' && body.user && typeof body.user === 'object') return body.user;
  return body && typeof body === 'object' && typeof body.username === 'string' ? body : null;
}

let mePromise = null;

/**
 * The signed-in user (GET /api/me, refreshing the session if needed), or null when signed out.
 * Shared by the header and the page. Rejects when the server cannot answer (network, 5xx).
 */
export function currentUser({ reload = false } = {}) {
  if (!mePromise || reload) {
    const promise = getJSON('/api/me').then(userOf, (err) => {
      if (err.status === 401) return null;
      throw err;
    });
    mePromise = promise;
    promise.catch(() => {
      if (mePromise === promise) mePromise = null; // let a later call try again
    });
  }
  return mePromise;
}

/** Counts successful session refreshes on this page (to tell whether one happened since). */
export function sessionGeneration() {
  return refreshGeneration;
}

/**
 * Runs `fn` (an API read) and, when it fails with 404 or 403, checks the session once and
 * repeats `fn` if the session was renewed meanwhile. The browser drops the access cookie when it
 * expires, so the server sees an anonymous caller and answers 404 for a private video rather
 * than 401; the check (GET /api/me → 401 → refresh) brings the cookie back. Signed-out visitors
 * get the original error.
 */
export async function withSession(fn) {
  const generation = refreshGeneration;
  try {
    return await fn();
  } catch (err) {
    if (err.status !== 404 && err.status !== 403) throw err;
    try {
      await currentUser({ reload: true });
    } catch {
      throw err;
    }
    if (refreshGeneration === generation) throw err;
    return fn();
  }
}

/** Signs out (POST /api/auth/signout). Resolves even when the server cannot be reached. */
export async function signOut() {
  try {
    await fetch('/api/auth/signout', { method: 'POST', headers: { Accept: 'application/json' }, credentials: 'same-origin', cache: 'no-store' });
  } catch {
    // the cookies may survive; the header re-reads /api/me below
  }
  mePromise = null;
}

/**
 * Where to go after signing in: `raw` when it is a path on this site ("/…", not "//…" nor
 * "/\…"), else "/".
 */
export function safeNext(raw) {
  if (typeof raw !== 'string' || !raw.startsWith('/') || raw.startsWith('//') || raw.startsWith('/\\')) return '/';
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(raw)) return '/';
  try {
    const u = new URL(raw, location.origin);
    if (u.origin !== location.origin) return '/';
    return `${u.pathname}${u.search}${u.hash}`;
  } catch {
    return '/';
  }
}

/** Where to go after signing in or up: `safeNext(raw)`, but never back to those forms. */
export function nextAfterSignIn(raw) {
  const next = safeNext(raw);
  const path = next.split(/[?#]/)[0].replace(/\/+$/, '');
  return path === '/signin' || path === '/signup' ? '/' : next;
}

/** The current page as a `next` value ("/watch/abc?x=1"). */
export function herePath() {
  return `${location.pathname}${location.search}`;
}

/** "/signin?next=…" for coming back to `path` (default: this page). */
export function signInHref(path = herePath()) {
  const next = safeNext(path);
  return next === '/' ? '/signin' : `/signin?next=${encodeURIComponent(next)}`;
}

/** Marks the header link of the current page. */
export function markNav() {
  const path = location.pathname;
  for (const a of document.querySelectorAll('.site-nav a')) {
    const href = a.getAttribute('href');
    if (href === path || (href !== '/' && path.startsWith(href))) a.setAttribute('aria-current', 'page');
  }
  for (const a of document.querySelectorAll('.site-account a')) {
    const href = (a.getAttribute('href') || '').split('?')[0];
    if (href === path) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
}

function accountBox() {
  let box = document.getElementById('site-account');
  if (!box) {
    const inner = document.querySelector('.site-header .inner');
    if (!inner) return null;
    box = el('div', { id: 'site-account', class: 'site-account' });
    inner.append(box);
  }
  return box;
}

function renderAccount(box, user) {
  if (user) {
    const button = el('button', { type: 'button', id: 'signout-button', class: 'link-button', text: 'Sign out' });
    button.addEventListener('click', async () => {
      button.disabled = true;
      await signOut();
      // The private pages have nothing to show a signed-out visitor: go to the library.
      if (location.pathname === '/me') location.assign('/');
      else location.reload();
    });
    box.replaceChildren(
      el('a', { href: '/me', id: 'account-link', class: 'account-link', title: 'My videos and account', text: user.username }),
      button);
  } else {
    const onAuthPage = location.pathname === '/signin' || location.pathname === '/signup';
    const next = onAuthPage ? new URLSearchParams(location.search).get('next') : herePath();
    const nextQuery = safeNext(next) === '/' ? '' : `?next=${encodeURIComponent(safeNext(next))}`;
    box.replaceChildren(
      el('a', { href: `/signin${nextQuery}`, id: 'signin-link', text: 'Sign in' }),
      el('a', { href: `/signup${nextQuery}`, id: 'signup-link', class: 'signup-link', text: 'Sign up' }));
  }
  box.dataset.state = user ? 'signed-in' : 'signed-out';
  markNav();
}

/**
 * Fills the header's account area (username + Sign out, or Sign in / Sign up) and marks the
 * current page. Resolves to the signed-in user or null (also null when the server cannot answer).
 */
export async function initHeader() {
  markNav();
  initSearchBox();
  const box = accountBox();
  let user = null;
  try {
    user = await currentUser();
  } catch {
    user = null;
  }
  if (box) renderAccount(box, user);
  return user;
}

let cooldownTimer = null;

/**
 * After a 429: shows "Too many attempts, try again in N s" through `show(text)`, counting down
 * with `button` disabled, then clears the message and enables the button again.
 */
export function tooManyAttempts(seconds, button, show) {
  clearInterval(cooldownTimer);
  let left = Number.isFinite(seconds) && seconds > 0 ? Math.ceil(seconds) : null;
  if (left === null) {
    button.disabled = false;
    show('Too many attempts, try again later.');
    return;
  }
  const tick = () => {
    if (left <= 0) {
      clearInterval(cooldownTimer);
      button.disabled = false;
      show('');
      return;
    }
    button.disabled = true;
    show(`Too many attempts, try again in ${left} s`);
    left -= 1;
  };
  tick();
  cooldownTimer = setInterval(tick, 1000);
}


// ---------------------------------------------------------------------------------------------
// Shared pieces of the video pages.

/** "/u/NAME" for a username. */
export function userHref(name) {
  return `/u/${encodeURIComponent(name)}`;
}

/** "/?tag=TAG": the library filtered by a tag. */
export function tagHref(tag) {
  return `/?tag=${encodeURIComponent(tag)}`;
}

/** The tags of a video (lower-case strings), tolerating a missing or malformed field. */
export function tagsOf(video) {
  return Array.isArray(video && video.tags) ? video.tags.filter((t) => typeof t === 'string' && t) : [];
}

/** A list of tag chips, each linking to the library filtered by that tag. */
export function tagChips(tags, props = {}) {
  return el('ul', { class: 'tags', 'aria-label': 'Tags', ...props },
    ...tags.map((tag) => el('li', {}, el('a', { class: 'tag', href: tagHref(tag), 'data-tag': tag, text: `#${tag}` }))));
}

/**
 * A video card (library, search results, user pages). `options.progress`: {position, duration}
 * draws how much of it was watched.
 */
export function videoCard(video, options = {}) {
  const ready = video.status === 'ready';
  const thumb = el('div', { class: 'thumb' });
  if (video.poster_url) {
    thumb.append(el('img', { src: video.poster_url, alt: '', loading: 'lazy', decoding: 'async' }));
  } else {
    thumb.append(el('div', { class: 'placeholder', text: video.status === 'failed' ? 'No preview' : 'Processing…' }));
  }
  const duration = ready ? formatDuration(video.duration) : '';
  if (duration) thumb.append(el('span', { class: 'duration', text: duration }));
  const watched = options.progress;
  if (watched) {
    const total = Number(watched.duration) || Number(video.duration) || 0;
    const p = total > 0 ? Math.max(0, Math.min(100, (Number(watched.position) / total) * 100)) : 0;
    const fill = el('span');
    fill.style.width = `${p}%`;
    thumb.append(el('div', { class: 'watched', title: `Watched ${formatDuration(Number(watched.position))} of ${formatDuration(total)}` }, fill));
  }

  const views = formatViews(video.views);
  const body = el('div', { class: 'card-body' },
    el('h2', { class: 'card-title', text: video.title || 'Untitled', title: video.title || 'Untitled' }),
    el('div', { class: 'card-meta' },
      ready ? null : statusBadge(video),
      privacyBadge(video),
      options.owner !== false && video.owner ? el('span', { class: 'card-owner', text: video.owner }) : null,
      views ? el('span', { class: 'card-views', text: views }) : null,
      el('span', { class: 'card-date', text: formatDate(video.created_at) })));
  if (ready && options.readyBadge) body.querySelector('.card-meta').prepend(statusBadge(video));
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
  if (options.extra) body.append(options.extra);

  const attrs = { class: 'card', 'data-id': video.id, 'data-status': video.status };
  return ready ? el('a', { ...attrs, href: `/watch/${encodeURIComponent(video.id)}` }, thumb, body) : el('div', attrs, thumb, body);
}

/**
 * A video's JSON with its URLs reduced to whether they exist: the signed URLs of non-public
 * videos change on every answer, which must not rebuild a card (poster flicker).
 */
export function stableKey(video) {
  return JSON.stringify(video, (key, value) => (/_url$/.test(key) ? Boolean(value) : value));
}

/**
 * Fills a pager (<nav> with #newer/#older-like links and a page label): `hrefFor(n)` builds the
 * address of page n.
 */
export function fillPager(nav, { page, perPage, total, hrefFor, label }) {
  if (!nav) return;
  const pages = Math.max(1, Math.ceil((Number(total) || 0) / (perPage || 1)));
  nav.hidden = pages <= 1;
  const [prev, next] = nav.querySelectorAll('a');
  const info = nav.querySelector('span');
  if (prev) {
    prev.hidden = page <= 1;
    prev.href = hrefFor(Math.max(1, page - 1));
  }
  if (next) {
    next.hidden = page >= pages;
    next.href = hrefFor(page + 1);
  }
  if (info) info.textContent = label ? label(page, pages) : `Page ${page} of ${pages}`;
}

// ---------------------------------------------------------------------------------------------
// Header search: suggestions while typing (GET /api/search?per_page=6) in an ARIA combobox;
// Enter without a highlighted suggestion opens the full results page /search?q=….

const SEARCH_DEBOUNCE_MS = 150;
const SEARCH_SUGGESTIONS = 6;

function initSearchBox() {
  const inner = document.querySelector('.site-header .inner');
  if (!inner || document.getElementById('site-search')) return;
  const listId = 'site-search-list';
  const input = el('input', {
    type: 'search', id: 'site-search-input', name: 'q', class: 'site-search-input', placeholder: 'Search videos',
    autocomplete: 'off', autocapitalize: 'none', spellcheck: 'false', maxlength: '200', enterkeyhint: 'search',
    role: 'combobox', 'aria-label': 'Search videos', 'aria-autocomplete': 'list', 'aria-haspopup': 'listbox',
    'aria-expanded': 'false', 'aria-controls': listId,
  });
  const list = el('ul', { id: listId, class: 'search-suggestions', role: 'listbox', 'aria-label': 'Search suggestions', hidden: true });
  const status = el('span', { class: 'visually-hidden', role: 'status', 'aria-live': 'polite' });
  const form = el('form', { id: 'site-search', class: 'site-search', role: 'search', action: '/search', method: 'get' }, input, list, status);
  const account = document.getElementById('site-account');
  inner.insertBefore(form, account && account.parentNode === inner ? account : null);
  if (location.pathname === '/search') input.value = new URLSearchParams(location.search).get('q') || '';

  let timer = null;
  let controller = null;
  let seq = 0;
  let active = -1;
  let shownFor = null; // the query the list shows

  const options = () => [...list.querySelectorAll('[role="option"]')];
  const isOpen = () => !list.hidden;
  const resultsHref = (q) => `/search?q=${encodeURIComponent(q)}`;

  function setActive(index) {
    const opts = options();
    active = opts.length ? Math.max(-1, Math.min(index, opts.length - 1)) : -1;
    opts.forEach((opt, i) => opt.setAttribute('aria-selected', String(i === active)));
    if (active >= 0) {
      input.setAttribute('aria-activedescendant', opts[active].id);
      opts[active].scrollIntoView({ block: 'nearest' });
    } else {
      input.removeAttribute('aria-activedescendant');
    }
  }

  function open() {
    if (!list.children.length) return;
    list.hidden = false;
    input.setAttribute('aria-expanded', 'true');
  }

  function close() {
    list.hidden = true;
    input.setAttribute('aria-expanded', 'false');
    setActive(-1);
  }

  function option(i, href, ...content) {
    const li = el('li', { id: `site-search-opt-${i}`, role: 'option', 'aria-selected': 'false', class: 'search-option', 'data-href': href },
      el('a', { href, tabindex: '-1' }, ...content));
    li.addEventListener('mousemove', () => {
      if (active !== i) setActive(i);
    });
    return li;
  }

  function render(q, videos, error) {
    shownFor = q;
    const items = videos.slice(0, SEARCH_SUGGESTIONS).map((v, i) => {
      const thumb = el('span', { class: 'search-thumb' });
      if (v.poster_url) thumb.append(el('img', { src: v.poster_url, alt: '', loading: 'lazy', decoding: 'async' }));
      const meta = [v.owner, v.status === 'ready' ? formatDuration(v.duration) : v.status].filter(Boolean).join(' · ');
      const li = option(i, `/watch/${encodeURIComponent(v.id)}`, thumb,
        el('span', { class: 'search-text' },
          el('span', { class: 'search-title', text: v.title || 'Untitled' }),
          meta ? el('span', { class: 'search-meta', text: meta }) : null));
      li.dataset.id = v.id;
      return li;
    });
    const note = error ? el('li', { class: 'search-note error', role: 'presentation', text: error })
      : items.length ? null : el('li', { class: 'search-note', role: 'presentation', text: 'No matching videos' });
    const all = option(items.length, resultsHref(q), el('span', { class: 'search-all', text: `All results for “${q}”` }));
    all.classList.add('search-all-option');
    list.replaceChildren(...items, ...(note ? [note] : []), all);
    status.textContent = error ? error : `${items.length} suggestion${items.length === 1 ? '' : 's'}`;
    setActive(-1);
    if (document.activeElement === input) open();
  }

  async function suggest(q) {
    if (controller) controller.abort();
    controller = new AbortController();
    const mine = ++seq;
    try {
      const body = await getJSON(`/api/search?q=${encodeURIComponent(q)}&per_page=${SEARCH_SUGGESTIONS}`, { signal: controller.signal });
      if (mine !== seq) return;
      render(q, Array.isArray(body && body.videos) ? body.videos : []);
    } catch (err) {
      if (mine !== seq || (err && err.name === 'AbortError')) return;
      render(q, [], `Search failed: ${err.message}`);
    }
  }

  input.addEventListener('input', () => {
    clearTimeout(timer);
    const q = input.value.trim();
    if (!q) {
      seq += 1;
      if (controller) controller.abort();
      list.replaceChildren();
      shownFor = null;
      close();
      return;
    }
    if (q === shownFor) {
      seq += 1; // a request for another text may still be on its way: it is stale now
      if (controller) controller.abort();
      open();
      return;
    }
    timer = setTimeout(() => suggest(q), SEARCH_DEBOUNCE_MS);
  });

  input.addEventListener('keydown', (e) => {
    const count = options().length;
    if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
      if (!count) return;
      e.preventDefault();
      if (!isOpen()) {
        open();
        setActive(e.key === 'ArrowDown' ? 0 : count - 1);
        return;
      }
      // Past either end, back to the text field (-1).
      const next = e.key === 'ArrowDown' ? active + 1 : active - 1;
      setActive(next >= count ? -1 : next < -1 ? count - 1 : next);
    } else if (e.key === 'Enter') {
      if (isOpen() && active >= 0) {
        e.preventDefault();
        const href = options()[active].dataset.href;
        close();
        location.assign(href);
      }
      // otherwise the form submits (below)
    } else if (e.key === 'Escape') {
      if (isOpen()) {
        e.preventDefault();
        close();
      } else if (input.value) {
        e.preventDefault();
        input.value = '';
        input.dispatchEvent(new Event('input'));
      }
    } else if (e.key === 'Tab') {
      close();
    }
  });

  form.addEventListener('submit', (e) => {
    e.preventDefault();
    const q = input.value.trim();
    if (!q) {
      input.focus();
      return;
    }
    close();
    location.assign(resultsHref(q));
  });

  // A click on a suggestion must not blur the field first (the list would close under it).
  list.addEventListener('mousedown', (e) => e.preventDefault());
  list.addEventListener('click', () => close());
  input.addEventListener('focus', () => {
    if (input.value.trim() && input.value.trim() === shownFor) open();
  });
  input.addEventListener('blur', () => close());
}
