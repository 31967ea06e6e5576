// @ts-check
// Quality-of-experience beacons of a player (docs/qoe.md): what one view of a video was like —
// the play request, the first frame and how long it took, stalls, renditions played, seeks,
// errors, dropped frames and the time watched — as events sent to POST /api/qoe/beacons
// (qoe-beacons.js: every 10 s, at 50 queued events, and when the page is hidden or left).
// Works with hls.js (LEVEL_SWITCHED, ERROR) and with native HLS (the <video> element's own
// events). Exposes window.kinoQoe for tests and debugging.
//
//   import { startQoe } from '/assets/qoe.js';
//   startQoe({ video, videoId, live: false, getHls: () => hls });
import { createSender } from './qoe-beacons.js';

const FLUSH_EVERY_MS = 10_000;
const FLUSH_AT_EVENTS = 50; // queued events that make a flush at once
const MAX_T_MS = 86_400_000; // the longest view (t of its events, ms); past it nothing is recorded
const MAX_WATCH_MS = 600_000; // per `watch` event
const MAX_POSITION_S = 604_800;
const MAX_NON_FATAL_ERRORS = 20; // per view; fatal ones are always sent
const NUDGE_S = 1; // a seek shorter than this is the player stepping over a gap, not the viewer
const VIDEO_ID = /^[A-Za-z0-9_-]{12}$/;
// Non-fatal hls.js error details that are not errors of their own: part of a stall (reported as
// rebuffering), or a load the ABR abandoned on purpose (`aborted`).
const NOT_ERRORS = new Set(['bufferStalledError', 'bufferNudgeOnStall', 'bufferSeekOverHole', 'bufferFullError', 'aborted']);
const MEDIA_ERRORS = ['', 'MEDIA_ERR_ABORTED', 'MEDIA_ERR_NETWORK', 'MEDIA_ERR_DECODE', 'MEDIA_ERR_SRC_NOT_SUPPORTED'];

/**
 * The rendition shown: bitrate in bits/s (1 when unknown: native HLS does not tell), sizes in px.
 * @typedef {{ bitrate: number, height: number, width: number }} Rendition
 */

/** @typedef {import('./qoe-beacons.js').QoeEvent} QoeEvent */
/** @typedef {InstanceType<HlsClass>} HlsInstance */

/**
 * A random UUID v4 (crypto.randomUUID is missing outside secure contexts, e.g. plain HTTP).
 * @returns {string}
 */
function uuid4() {
  if (typeof crypto.randomUUID === 'function') return crypto.randomUUID();
  const b = crypto.getRandomValues(new Uint8Array(16));
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  const h = Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

/**
 * `x` rounded to an integer within [min, max] (min when not a finite number).
 * @param {number} x
 * @param {number} min
 * @param {number} max
 */
function clampInt(x, min, max) {
  return Number.isFinite(x) ? Math.min(max, Math.max(min, Math.round(x))) : min;
}

/**
 * A media position (s) as the beacons take it: 0–604,800, to the millisecond.
 * @param {number} s
 */
function position(s) {
  return Number.isFinite(s) ? Math.min(MAX_POSITION_S, Math.max(0, Math.round(s * 1000) / 1000)) : 0;
}

/**
 * A URL for an error's detail: its path (with the host when on another origin), without the
 * query and with a stream grant (`/g/{grant}/`) masked.
 * @param {string} url
 */
function shortUrl(url) {
  try {
    const u = new URL(url, location.href);
    const path = u.pathname.replace(/\/g\/[^/]+\//, '/g/…/');
    return u.origin === location.origin ? path : `${u.host}${path}`;
  } catch {
    return '';
  }
}

/**
 * The `error` event of an hls.js ERROR: code `${type}:${details}`, detail with the HTTP status
 * and URL when a request failed.
 * @param {any} data hls.js ErrorData
 */
function hlsError(data) {
  const response = data.response || null;
  const url = (response && response.url) || (data.frag && data.frag.url) || (data.context && data.context.url) || data.url || '';
  const parts = [];
  if (response && Number.isFinite(response.code) && response.code > 0) parts.push(`HTTP ${response.code}`);
  const where = url ? shortUrl(url) : '';
  if (where) parts.push(`for ${where}`);
  const reason = data.reason || (data.error && data.error.message) || '';
  if (reason) parts.push(parts.length ? `(${reason})` : reason);
  return { fatal: data.fatal === true, code: errorCode(`${data.type}:${data.details}`), detail: parts.join(' ').slice(0, 500) };
}

/**
 * An error code within the allowed characters (A-Z a-z 0-9 _ . : -) and 64 of them.
 * @param {string} raw
 */
function errorCode(raw) {
  return (raw.replace(/[^A-Za-z0-9_.:-]/g, '_').slice(0, 64)) || 'unknown';
}

/**
 * Starts reporting the views of a player to Kino. Call once per page, after the player is set up;
 * it follows the <video> element whatever source it plays, and the hls.js instance `getHls()`
 * returns (a new one is announced by a `kino:hls` CustomEvent on the video, `detail`: the
 * instance).
 * @param {object} options
 * @param {HTMLVideoElement} options.video
 * @param {string} options.videoId Kino's id of the video (12 characters)
 * @param {boolean} [options.live] a live stream
 * @param {() => (HlsInstance | null | undefined)} [options.getHls] the hls.js instance playing, or null (native HLS)
 * @param {boolean} [options.autoplay] playback starts without the viewer asking (default: the video's autoplay attribute)
 * @param {string} [options.player] the player's name (≤ 40 characters; default "kino")
 * @param {string} [options.endpoint] where beacons go (default /api/qoe/beacons)
 * @returns {KinoQoe | null} null when `videoId` is not a video id (nothing is reported)
 */
export function startQoe({ video, videoId, live = false, getHls = () => null, autoplay = !!(video && video.autoplay), player = 'kino', endpoint }) {
  if (!video || typeof videoId !== 'string' || !VIDEO_ID.test(videoId)) return null;
  const currentHls = () => getHls() || null;

  /** @type {QoeEvent[]} */
  const sent = [];
  const measured = { startupMs: /** @type {number | null} */ (null) };
  const sender = createSender({ url: endpoint, onSent: (events) => sent.push(...events) });

  // The view: one page load of the player, until the page goes away (a page restored from the
  // back/forward cache starts a new one).
  let viewId = '';
  let t0 = 0; // performance.now() at the view's start (ms)
  let seq = 0;
  let over = false; // page_hide sent (or the view is older than a day): nothing more to record
  let playRequestAt = /** @type {number | null} */ (null); // performance.now() ms of the first `play`
  /** A `playing` after the play request whose currentTime has not moved yet. */
  let candidate = /** @type {{ at: number, position: number } | null} */ (null);
  let firstFrameAt = /** @type {number | null} */ (null);
  let stallAt = /** @type {number | null} */ (null); // rebuffering since (performance.now() ms)
  /** A seek not yet settled: since when, and whether it is reported (not a player reload). */
  let seek = /** @type {{ at: number, reported: boolean } | null} */ (null);
  let halted = false; // a fatal error stopped playback (until it plays again)
  let rendition = /** @type {Rendition | null} */ (null);
  let clockSince = /** @type {number | null} */ (null); // watch time accrues since (ms), null when not
  let unreported = 0; // ms watched not yet in a `watch` event
  let lastPosition = 0; // s, the position before a seek
  let frames = { dropped: 0, total: 0 }; // getVideoPlaybackQuality() at the last dropped_frames
  let nonFatalErrors = 0;
  let stopped = false; // end() was called: no view after this one

  function hlsVersion() {
    const hls = currentHls();
    const Hls = /** @type {any} */ (hls ? hls.constructor : window.Hls);
    if (hls || (Hls && typeof Hls.isSupported === 'function' && Hls.isSupported())) {
      return String((Hls && Hls.version) || 'hls.js').slice(0, 40);
    }
    return 'native';
  }

  /**
   * Queues an event of the view (`at`: when it happened, performance.now() ms; default now).
   * @param {string} type
   * @param {Record<string, unknown>} [fields]
   * @param {number} [at]
   */
  function emit(type, fields = {}, at = performance.now()) {
    if (over) return;
    const t = Math.round(at - t0);
    if (t > MAX_T_MS) {
      over = true;
      return;
    }
    sender.push({ view_id: viewId, video_id: videoId, seq, t: Math.max(0, t), type, ...fields });
    seq += 1;
    if (sender.queued >= FLUSH_AT_EVENTS) sender.send();
  }

  function startView() {
    viewId = uuid4();
    t0 = performance.now();
    seq = 0;
    over = false;
    playRequestAt = null;
    candidate = null;
    firstFrameAt = null;
    stallAt = null;
    seek = null;
    halted = false;
    clockSince = null;
    unreported = 0;
    nonFatalErrors = 0;
    frames = { dropped: 0, total: 0 };
    measured.startupMs = null;
    emit('view_start', { player: String(player).slice(0, 40), player_version: hlsVersion(), live: !!live, autoplay: !!autoplay });
  }

  // ---------------------------------------------------------------------------------------------
  // Watch time: accrues while the video plays after its first frame — not paused, stalled,
  // seeking, ended or halted by an error.

  function accruing() {
    return !over && firstFrameAt !== null && !video.paused && !video.ended && stallAt === null && seek === null && !halted;
  }

  /** Adds the time since the clock last moved to the unreported watch time. */
  function tick(now = performance.now()) {
    if (clockSince !== null) {
      unreported += Math.max(0, now - clockSince);
      clockSince = now;
    }
  }

  /** Starts or stops the clock to match the player's state. */
  function syncClock(now = performance.now()) {
    tick(now);
    if (!accruing()) clockSince = null;
    else if (clockSince === null) clockSince = now;
  }

  /** The rendition playing: the one reported last, else what hls.js or the element says. */
  function shownRendition() {
    if (rendition) return rendition;
    const hls = currentHls();
    const level = hls && hls.currentLevel >= 0 ? hls.levels[hls.currentLevel] : null;
    if (level) return renditionOf(level);
    return { bitrate: 1, height: video.videoHeight || 0, width: video.videoWidth || 0 };
  }

  /** Live streams: seconds behind the live edge (hls.js's estimate), or null. */
  function liveLatency() {
    if (!live) return null;
    let latency = null;
    try {
      const hls = currentHls();
      if (hls) latency = hls.latency > 0 ? hls.latency : null; // 0: not known yet
      else if (video.seekable.length) latency = video.seekable.end(video.seekable.length - 1) - video.currentTime;
    } catch {
      latency = null;
    }
    return Number.isFinite(latency) && latency >= 0 && latency <= 3600 ? Math.round(latency * 1000) / 1000 : null;
  }

  /** A `watch` event with the time watched since the previous one (none when under 1 ms). */
  function reportWatch(now = performance.now()) {
    tick(now);
    const { bitrate, height } = shownRendition();
    const latency = liveLatency();
    while (unreported >= 1) {
      const ms = Math.min(MAX_WATCH_MS, Math.floor(unreported));
      unreported -= ms;
      emit('watch', { ms, bitrate: clampInt(bitrate, 1, 1e9), height: clampInt(height, 0, 8640), ...(latency === null ? {} : { latency }) }, now);
    }
  }

  /** A `dropped_frames` event with the counts since the previous one (none when both are 0). */
  function reportFrames() {
    if (firstFrameAt === null || typeof video.getVideoPlaybackQuality !== 'function') return;
    const q = video.getVideoPlaybackQuality();
    let dropped = q.droppedVideoFrames - frames.dropped;
    let decoded = q.totalVideoFrames - frames.total;
    if (dropped < 0 || decoded < 0) {
      // The counters restarted (a new source): count from 0.
      dropped = q.droppedVideoFrames;
      decoded = q.totalVideoFrames;
    }
    frames = { dropped: q.droppedVideoFrames, total: q.totalVideoFrames };
    if (dropped > 0 || decoded > 0) emit('dropped_frames', { dropped: Math.max(0, dropped), decoded: Math.max(0, decoded) });
  }

  function endStall(now = performance.now()) {
    if (stallAt === null) return;
    emit('rebuffer_end', { duration_ms: clampInt(now - stallAt, 0, 3_600_000) }, now);
    stallAt = null;
  }

  function endSeek(now = performance.now()) {
    if (seek === null) return;
    if (seek.reported) emit('seeked', { latency_ms: clampInt(now - seek.at, 0, 600_000) }, now);
    seek = null;
  }

  /**
   * The rendition shown changed: a `watch` for the time at the previous one, then `rendition`.
   * @param {Rendition} next
   */
  function setRendition(next) {
    if (rendition && rendition.bitrate === next.bitrate && rendition.height === next.height && rendition.width === next.width) return;
    const now = performance.now();
    // Time played before any rendition was known was played at this first one.
    if (rendition) reportWatch(now);
    else tick(now);
    rendition = next;
    emit('rendition', { bitrate: next.bitrate, height: next.height, width: next.width }, now);
  }

  /**
   * @param {{ bitrate?: number, averageBitrate?: number, height?: number, width?: number }} level
   * @returns {Rendition}
   */
  function renditionOf(level) {
    return {
      bitrate: clampInt(level.bitrate || level.averageBitrate || 1, 1, 1e9),
      height: clampInt(level.height || 0, 0, 8640),
      width: clampInt(level.width || 0, 0, 15360),
    };
  }

  /**
   * @param {{ fatal: boolean, code: string, detail: string }} error
   */
  function reportError(error) {
    if (!error.fatal) {
      if (nonFatalErrors >= MAX_NON_FATAL_ERRORS) return;
      nonFatalErrors += 1;
    }
    const now = performance.now();
    if (error.fatal) {
      reportWatch(now);
      endStall(now);
      candidate = null;
      halted = true;
    }
    emit('error', error, now);
    if (error.fatal) {
      syncClock(now);
      flush();
    }
  }

  // ---------------------------------------------------------------------------------------------
  // The <video> element.

  /**
   * Listens to a media event: the watch clock is brought up to date before the handler and
   * started or stopped after it.
   * @param {string} type
   * @param {(now: number) => void} handler
   */
  function on(type, handler) {
    video.addEventListener(type, () => {
      if (over) return;
      const now = performance.now();
      tick(now);
      handler(now);
      syncClock(now);
    });
  }

  on('play', (now) => {
    if (playRequestAt === null) {
      playRequestAt = now;
      emit('play_request', {}, now);
    } else {
      emit('play', { position: position(video.currentTime) }, now);
    }
  });

  on('playing', (now) => {
    halted = false;
    endStall(now);
    endSeek(now);
    if (playRequestAt !== null && firstFrameAt === null && !candidate) candidate = { at: now, position: video.currentTime };
  });

  on('timeupdate', (now) => {
    const t = video.currentTime;
    if (candidate && !video.paused && t !== candidate.position) {
      // The first frame: playing since the candidate `playing`, and time moves.
      const at = candidate.at;
      candidate = null;
      firstFrameAt = at;
      measured.startupMs = Math.round(at - playRequestAt);
      emit('first_frame', { startup_ms: clampInt(at - playRequestAt, 0, 600_000) }, at);
      clockSince = at;
      flush();
    }
    if (!video.seeking) lastPosition = t;
  });

  on('waiting', (now) => {
    candidate = null; // not started after all: the first frame is the next `playing`
    if (firstFrameAt === null || seek !== null || video.seeking || stallAt !== null || video.paused || halted) return;
    reportWatch(now);
    emit('rebuffer_start', { position: position(video.currentTime) }, now);
    stallAt = now;
  });

  on('pause', (now) => {
    candidate = null;
    reportWatch(now);
    endStall(now);
    if (seek !== null && !video.seeking) endSeek(now);
    emit('pause', { position: position(video.currentTime) }, now);
  });

  on('ended', (now) => {
    reportWatch(now);
    endStall(now);
    emit('ended', { position: position(video.currentTime) }, now);
  });

  on('seeking', (now) => {
    // Before the first frame a seek is the player going to where playback starts (a resumed
    // position): part of the startup, not a seek of the viewer.
    if (firstFrameAt === null) return;
    const to = video.currentTime;
    const from = lastPosition;
    const kino = window.kinoPlayer;
    const reload = !!(kino && kino.reloading); // player.js moving a new source to where playback was
    if (Math.abs(to - from) < NUDGE_S && !reload && seek === null) return; // the player stepping over a gap
    endStall(now); // a seek during a stall: waiting for the seek from now on
    if (!reload) emit('seek', { from: position(from), to: position(to) }, now);
    if (seek === null) seek = { at: now, reported: !reload };
    else if (!reload) seek.reported = true;
  });

  on('seeked', (now) => {
    lastPosition = video.currentTime;
    // Paused, or with enough data to go on playing (then no `playing` follows): settled now.
    if (seek !== null && (video.paused || video.readyState >= 3)) endSeek(now);
  });

  on('emptied', () => {
    candidate = null; // a new source (player.js reloading): paused until it plays again
  });

  on('resize', () => {
    if (currentHls() || !video.videoHeight) return; // hls.js says which level plays
    setRendition({ bitrate: 1, height: clampInt(video.videoHeight, 0, 8640), width: clampInt(video.videoWidth, 0, 15360) });
  });

  on('error', () => {
    if (currentHls()) return; // hls.js reports its own errors
    const err = video.error;
    const name = err ? MEDIA_ERRORS[err.code] || `code${err.code}` : 'unknown';
    reportError({ fatal: true, code: errorCode(`video:${name}`), detail: ((err && err.message) || '').slice(0, 500) });
  });

  // ---------------------------------------------------------------------------------------------
  // hls.js

  /** @type {HlsInstance | null} */
  let attached = null;

  /** @type {(event: string, data: any) => void} */
  const onLevelSwitched = (_event, data) => {
    if (over || !attached) return;
    const level = attached.levels[data.level];
    if (level) setRendition(renditionOf(level));
  };

  /** @type {(event: string, data: any) => void} */
  const onError = (_event, data) => {
    if (over || !data) return;
    if (!data.fatal && NOT_ERRORS.has(data.details)) return;
    reportError(hlsError(data));
  };

  /** @param {HlsInstance | null} hls */
  function attach(hls) {
    if (!hls || hls === attached) return;
    const eventsOf = (/** @type {HlsInstance} */ h) => /** @type {HlsClass} */ (/** @type {unknown} */ (h.constructor)).Events;
    if (attached) {
      const Events = eventsOf(attached);
      attached.off(Events.LEVEL_SWITCHED, onLevelSwitched);
      attached.off(Events.ERROR, onError);
    }
    attached = hls;
    const Events = eventsOf(hls);
    hls.on(Events.LEVEL_SWITCHED, onLevelSwitched);
    hls.on(Events.ERROR, onError);
  }

  video.addEventListener('kino:hls', (event) => attach(/** @type {CustomEvent} */ (event).detail || null));
  attach(currentHls());

  // ---------------------------------------------------------------------------------------------
  // Sending

  /**
   * A `watch` and `dropped_frames` for the time since the last flush, then everything queued to
   * the server (a keepalive fetch). Resolves once sent (or failed: kept for the next flush).
   */
  function flush() {
    if (!over) {
      const now = performance.now();
      reportWatch(now);
      reportFrames();
    }
    return sender.send();
  }

  const timer = setInterval(() => {
    flush();
  }, FLUSH_EVERY_MS);

  document.addEventListener('visibilitychange', () => {
    if (document.visibilityState !== 'hidden') return;
    if (!over) {
      reportWatch();
      reportFrames();
    }
    sender.sendNow();
  });

  /** The view is over (the page goes away): its last events and page_hide, sent at once. */
  function endView() {
    if (over) return;
    const now = performance.now();
    reportWatch(now);
    endStall(now);
    seek = null; // unsettled: its `seek` was sent, its latency is unknown
    reportFrames();
    emit('page_hide', {}, now);
    over = true;
    clockSince = null;
    sender.sendNow();
  }

  window.addEventListener('pagehide', endView);

  window.addEventListener('pageshow', (event) => {
    // Back from the back/forward cache: the view before ended with page_hide; this is another
    // (its play request is the next `play`).
    if (!event.persisted || !over || stopped) return;
    startView();
    rendition = null;
    attach(currentHls());
  });

  startView();

  /** @type {KinoQoe} */
  const api = {
    get viewId() {
      return viewId;
    },
    sent,
    measured,
    flush,
    stats: sender.stats,
    end() {
      stopped = true;
      clearInterval(timer);
      endView();
    },
  };
  window.kinoQoe = api;
  return api;
}
