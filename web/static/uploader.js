// @ts-check
// Resumable uploads (tus 1.0.0 at /api/uploads/) through tus-js-client, and following a video's
// processing once its bytes are in. tus-js-client is the classic script /assets/tus.min.js
// (the global `tus`), loaded by the page before its module.
//
// Sessions: every tus request goes through an HTTP stack that answers a 401 (the 15-minute
// access cookie expired during a long upload) by refreshing the session once and sending the
// same request again, as apiFetch does for the other calls. When the session cannot be renewed,
// the request fails with a "signed out" error that is neither retried nor allowed to reach
// tus-js-client as a 4xx (a 4xx on its HEAD would make it forget the upload's URL, and the user
// could no longer resume after signing in again).
import { errorMessage, getJSON, refreshSession, sessionGeneration, withSession } from './api.js';
import { percent } from './format.js';
import { liveChannel } from './live.js';

export const TUS_ENDPOINT = '/api/uploads/';
/** A dropped link loses at most one chunk. */
export const CHUNK_SIZE = 50 * 1024 * 1024;
export const RETRY_DELAYS = [0, 1000, 3000, 5000, 10000];

const POLL_MS = 2000; // the processing status, while the live socket is not open
const POLL_OPEN_MS = 15_000; // a slow safety look while it is open (news can be missed)

/** tus-js-client, or null when its script did not load (or the browser lacks what it needs). */
export function tusClient() {
  const tus = window.tus;
  return tus && tus.isSupported ? tus : null;
}

/**
 * @typedef {Error & { kinoSignedOut: true }} SignedOutError
 */

/** @returns {SignedOutError} */
function signedOutError() {
  return Object.assign(new Error('Your session has ended.'), { kinoSignedOut: /** @type {true} */ (true) });
}

/**
 * True when a tus error (or its cause) says the session could not be renewed.
 * @param {any} err
 */
export function isSignedOut(err) {
  return Boolean(err && (err.kinoSignedOut || (err.causingError && err.causingError.kinoSignedOut)));
}

/**
 * The HTTP status of a tus error's response (0: none, e.g. the connection dropped).
 * @param {any} err
 */
export function errorStatus(err) {
  const res = err && err.originalResponse;
  return res && typeof res.getStatus === 'function' ? res.getStatus() : 0;
}

/**
 * A tus error in words: the server's `{"error"}` message when it answered, else what went wrong.
 * @param {any} err
 */
export function uploadErrorText(err) {
  if (isSignedOut(err)) return 'Your session has ended: sign in again, then choose the same file to resume.';
  const res = err && err.originalResponse;
  if (res && typeof res.getStatus === 'function') {
    const status = res.getStatus();
    let body = '';
    try {
      body = res.getBody() || '';
    } catch {
      // no body
    }
    if (status === 413 && !body) return 'The file is too large.';
    return errorMessage(status, '', body);
  }
  if (err && err.originalRequest) return 'the connection to the server was lost';
  return (err && err.message) || 'the upload stopped';
}

/**
 * One tus request that renews the session on a 401 and sends itself again (once).
 * @implements {TusHttpRequest}
 */
class SessionRequest {
  /**
   * @param {TusHttpStack} stack
   * @param {string} method
   * @param {string} url
   */
  constructor(stack, method, url) {
    this._stack = stack;
    this._method = method;
    this._url = url;
    /** @type {Record<string, string>} */
    this._headers = {};
    /** @type {((bytesSent: number) => void) | null} */
    this._progress = null;
    this._aborted = false;
    this._req = stack.createRequest(method, url);
  }

  getMethod() {
    return this._method;
  }

  getURL() {
    return this._url;
  }

  /**
   * @param {string} header
   * @param {string} value
   */
  setHeader(header, value) {
    this._headers[header] = value;
    this._req.setHeader(header, value);
  }

  /** @param {string} header */
  getHeader(header) {
    return this._headers[header];
  }

  /** @param {(bytesSent: number) => void} handler */
  setProgressHandler(handler) {
    this._progress = handler;
    this._req.setProgressHandler(handler);
  }

  /**
   * @param {any} body a Blob slice (re-sendable) or null
   * @returns {Promise<TusHttpResponse>}
   */
  async send(body) {
    const generation = sessionGeneration();
    const res = await this._req.send(body);
    if (res.getStatus() !== 401 || this._aborted) return res;
    // A refresh that finished meanwhile (another request's) already renewed the cookie.
    const renewed = sessionGeneration() !== generation || (await refreshSession());
    if (!renewed) throw signedOutError();
    if (this._aborted) return res;
    const retry = this._stack.createRequest(this._method, this._url);
    for (const [name, value] of Object.entries(this._headers)) retry.setHeader(name, value);
    if (this._progress) retry.setProgressHandler(this._progress);
    this._req = retry;
    const again = await retry.send(body);
    if (again.getStatus() === 401) throw signedOutError();
    return again;
  }

  abort() {
    this._aborted = true;
    return this._req.abort();
  }

  getUnderlyingObject() {
    return this._req.getUnderlyingObject();
  }
}

/**
 * The session-renewing HTTP stack around tus-js-client's own (XMLHttpRequest, same origin: the
 * session cookies go along).
 * @param {TusModule} tus
 * @returns {TusHttpStack}
 */
function sessionHttpStack(tus) {
  const inner = new tus.DefaultHttpStack({});
  return {
    createRequest: (method, url) => new SessionRequest(inner, method, url),
    getName: () => 'KinoSessionHttpStack',
  };
}

/**
 * Whether to retry after a failed request: connection losses, 5xx, 409 (offset mismatch: the
 * retry asks the server for its offset) and 423, while the browser is online; never when the
 * session has ended.
 * @param {any} err
 */
function shouldRetry(err) {
  if (isSignedOut(err)) return false;
  const status = errorStatus(err);
  const retryable = status < 400 || status >= 500 || status === 409 || status === 423;
  return retryable && !(typeof navigator !== 'undefined' && navigator.onLine === false);
}

/**
 * @typedef {object} UploadHandlers
 * @property {(sent: number, total: number) => void} onProgress
 * @property {(videoId: string) => void} onVideoId the server's Kino-Video-Id (on every answer)
 * @property {() => void} onUrlAvailable the upload exists on the server (pausing is now safe)
 * @property {() => void} onSuccess every byte is in
 * @property {(err: any) => void} onError retries exhausted (or not retryable)
 */

/**
 * A tus upload of `file` (not started; set `upload.options.metadata` before `start()`).
 * @param {TusModule} tus
 * @param {File} file
 * @param {UploadHandlers} handlers
 * @returns {TusUpload}
 */
export function createUpload(tus, file, handlers) {
  return new tus.Upload(file, {
    // Absolute, so that the fingerprint and the resolved upload URLs do not depend on the page.
    endpoint: new URL(TUS_ENDPOINT, location.href).href,
    metadata: {},
    chunkSize: CHUNK_SIZE,
    retryDelays: RETRY_DELAYS,
    removeFingerprintOnSuccess: true,
    storeFingerprintForResuming: true,
    httpStack: sessionHttpStack(tus),
    onShouldRetry: (err) => shouldRetry(err),
    onProgress: (sent, total) => handlers.onProgress(sent, total),
    onUploadUrlAvailable: () => handlers.onUrlAvailable(),
    onAfterResponse: (_req, res) => {
      const id = res.getHeader('Kino-Video-Id');
      if (id) handlers.onVideoId(id.trim());
    },
    onSuccess: () => handlers.onSuccess(),
    onError: (err) => handlers.onError(err),
  });
}

/**
 * The most recent earlier upload of this file that tus-js-client remembers (localStorage), or
 * null.
 * @param {TusUpload} upload
 * @returns {Promise<TusPreviousUpload | null>}
 */
export async function previousUpload(upload) {
  let found = [];
  try {
    found = await upload.findPreviousUploads();
  } catch {
    return null;
  }
  const usable = found.filter((p) => p && p.uploadUrl);
  if (!usable.length) return null;
  const time = (/** @type {TusPreviousUpload} */ p) => {
    const t = Date.parse(p.creationTime);
    return Number.isNaN(t) ? 0 : t;
  };
  usable.sort((a, b) => time(b) - time(a));
  return usable[0];
}

/**
 * The video id of an upload URL ("…/api/uploads/{id}"): the server's upload and video ids are
 * the same; used only when no Kino-Video-Id header was seen.
 * @param {string | null} url
 */
export function videoIdOfUrl(url) {
  if (!url) return null;
  try {
    const last = new URL(url, location.href).pathname.split('/').filter(Boolean).pop();
    return last ? decodeURIComponent(last) : null;
  } catch {
    return null;
  }
}

/**
 * @typedef {object} ProcessingHandlers
 * @property {(progress: number) => void} onProgress percent, 0–100
 * @property {(renditions: string[]) => void} [onPlayable] a first rendition is published: the
 *   video can be watched while the rest is encoded (called once, before onReady if at all)
 * @property {() => void} onReady
 * @property {(reason: string) => void} onFailed
 */

/**
 * Follows a video from "processing" to "ready" or "failed": the live socket's `job.progress`,
 * `video.playable`, `video.ready` and `video.failed`, with GET /api/videos/{id} every 2 s while
 * the socket is not open (no WebSocket, refused, reconnecting) and once whenever it (re)opens
 * (news sent before was missed). Calls onPlayable at most once (`video.playable`, or a look that
 * finds `playable: true` while processing), then onReady or onFailed once, then stops listening.
 * Returns a stop function.
 * @param {string} videoId
 * @param {ProcessingHandlers} handlers
 * @returns {() => void}
 */
export function followProcessing(videoId, handlers) {
  let done = false;
  /** @type {ReturnType<typeof setTimeout> | undefined} */
  let timer;
  /** @type {Array<() => void>} */
  const unsubscribe = [];
  const live = liveChannel(videoId);

  const stop = () => {
    done = true;
    clearTimeout(timer);
    for (const off of unsubscribe.splice(0)) off();
  };
  const ready = () => {
    if (done) return;
    stop();
    handlers.onReady();
  };
  const failed = (/** @type {unknown} */ reason) => {
    if (done) return;
    stop();
    handlers.onFailed(typeof reason === 'string' && reason ? reason : 'Processing failed.');
  };
  let playableSeen = false;
  const playable = (/** @type {unknown} */ renditions) => {
    if (done || playableSeen) return;
    playableSeen = true;
    const names = Array.isArray(renditions)
      ? renditions.map((r) => (r && typeof r === 'object' ? r.name : r)).filter((n) => typeof n === 'string')
      : [];
    if (handlers.onPlayable) handlers.onPlayable(names);
  };
  const progress = (/** @type {unknown} */ value) => {
    if (!done && Number.isFinite(Number(value))) handlers.onProgress(percent(value));
  };

  const schedule = () => {
    clearTimeout(timer);
    if (!done) timer = setTimeout(look, live.state() === 'open' ? POLL_OPEN_MS : POLL_MS);
  };

  async function look() {
    clearTimeout(timer);
    if (done) return;
    try {
      const video = await withSession(() => getJSON(`/api/videos/${encodeURIComponent(videoId)}`));
      if (done) return;
      if (video && video.status === 'ready') return ready();
      if (video && video.status === 'failed') return failed(video.error);
      if (video && video.status === 'processing') {
        if (video.playable === true) playable(video.renditions);
        progress(video.progress);
      }
    } catch (err) {
      if (done) return;
      if (err && err.status === 404) return failed('The video no longer exists (it may have been deleted).');
      // Anything else (no answer, 5xx): look again later.
    }
    schedule();
  }

  unsubscribe.push(
    live.on('job.progress', (msg) => progress(msg.progress)),
    live.on('video.playable', (msg) => playable(msg.renditions)),
    live.on('video.ready', () => ready()),
    live.on('video.failed', (msg) => failed(msg.error)),
    live.onState((state) => {
      if (done) return;
      if (state === 'open') look(); // news sent before this moment was missed: look once
      else if (state === 'closed' || state === 'waiting') schedule();
    }),
  );
  live.start();
  look();
  return stop;
}
