// @ts-check
// Talking to Kino's API: a fetch wrapper that keeps the session alive (refresh on 401, shared
// across callers and tabs), JSON calls with the server's error messages, the signed-in user,
// and the sign-in redirect helpers.

/**
 * An Error carrying the server's message, `.status` (0: no answer) and `.retryAfter` (s or null).
 * @typedef {Error & { status: number, retryAfter: number | null }} ApiError
 */

/**
 * The signed-in user as GET /api/me describes it.
 * @typedef {{ id?: number, username: string, email?: string | null, role?: string, can_upload?: boolean, created_at?: string }} User
 */


/**
 * The `error` message of a JSON error body, or a fallback built from the HTTP status.
 * @param {number} status
 * @param {string} statusText
 * @param {string} bodyText
 */
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


// ---------------------------------------------------------------------------------------------
// Sessions. The server keeps the session in two HttpOnly cookies: a short-lived access cookie
// (15 min) and a refresh cookie (30 days). Every API call of every page goes through apiFetch,
// which answers an expired access cookie (401) by refreshing the session once and retrying, so a
// signed-in user never has to sign in again while the refresh cookie is valid.

/** @type {Promise<boolean> | null} */
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
 * @param {string} url
 * @param {RequestInit} [options]
 * @returns {Promise<Response>}
 */
export async function apiFetch(url, options = {}) {
  /** @type {RequestInit} */
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

/**
 * An Error carrying the server's message, `.status` (0: no answer) and `.retryAfter` (s or null).
 * @param {number} status
 * @param {string} message
 * @param {number | null} [retryAfter]
 * @returns {ApiError}
 */
function apiError(status, message, retryAfter = null) {
  return Object.assign(new Error(message), { status, retryAfter });
}

/**
 * Seconds of a Retry-After header (delta-seconds or HTTP date), or null.
 * @param {string | null | undefined} value
 */
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
 * @param {string} method
 * @param {string} url
 * @param {unknown} [body]
 * @param {{ signal?: AbortSignal }} [options]
 * @returns {Promise<any>}
 */
export async function api(method, url, body, { signal } = {}) {
  /** @type {Record<string, string>} */
  const headers = { Accept: 'application/json' };
  /** @type {RequestInit} */
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

/**
 * GETs JSON; throws an Error carrying the server's message (and `.status`) on failure.
 * @param {string} url
 * @param {{ signal?: AbortSignal }} [options]
 * @returns {Promise<any>}
 */
export function getJSON(url, options) {
  return api('GET', url, undefined, options);
}

/**
 * The user object of a {user} answer (also accepts the bare user object).
 * @param {any} body
 * @returns {User | null}
 */
export function userOf(body) {
  if (body && typeof body === 'object' && body.user && typeof body.user === 'object') return body.user;
  return body && typeof body === 'object' && typeof body.username === 'string' ? body : null;
}

/** @type {Promise<User | null> | null} */
let mePromise = null;

/**
 * The signed-in user (GET /api/me, refreshing the session if needed), or null when signed out.
 * Shared by the header and the page. Rejects when the server cannot answer (network, 5xx).
 * @param {{ reload?: boolean }} [options]
 * @returns {Promise<User | null>}
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
 * @template T
 * @param {() => Promise<T>} fn
 * @returns {Promise<T>}
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
 * @param {unknown} raw
 * @returns {string}
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

/**
 * Where to go after signing in or up: `safeNext(raw)`, but never back to those forms.
 * @param {unknown} raw
 */
export function nextAfterSignIn(raw) {
  const next = safeNext(raw);
  const path = next.split(/[?#]/)[0].replace(/\/+$/, '');
  return path === '/signin' || path === '/signup' ? '/' : next;
}

/** The current page as a `next` value ("/watch/abc?x=1"). */
export function herePath() {
  return `${location.pathname}${location.search}`;
}

/**
 * "/signin?next=…" for coming back to `path` (default: this page).
 * @param {string} [path]
 */
export function signInHref(path = herePath()) {
  const next = safeNext(path);
  return next === '/' ? '/signin' : `/signin?next=${encodeURIComponent(next)}`;
}
