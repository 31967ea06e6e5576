// @ts-check
// The player of the watch and embed pages: hls.js (Safari: native HLS) in the page's <video>,
// whose controls are Media Chrome's (player-ui.js; its quality and audio menus follow hls.js
// through player-tracks.js), and the renewal of time-limited stream grants (unlisted and
// private videos) before or when they expire, so that playback goes on without a reload. Live
// streams play from the live edge (low-latency HLS: three parts behind it; standard HLS: three
// segments) and tell where that edge is. Exposes window.kinoPlayer for tests and debugging.
import { followHls } from './player-tracks.js';

const MAX_RECOVERIES = 5; // grants renewed after a refused request, per page view

/**
 * GET /api/videos/{id}/playback: the stream URL, with a grant that may expire.
 * @typedef {{ url?: string, poster_url?: string, expires_at?: string }} Playback
 */

/**
 * What the player needs from the page.
 * @typedef {object} PlayerContext
 * @property {HTMLVideoElement} video
 * @property {() => Promise<Playback>} fetchPlayback A fresh grant.
 * @property {(message: string) => void} showError
 * @property {boolean} [live] A live stream (a sliding-window playlist): start at its live edge.
 */

/**
 * What startPlayer hands back.
 * @typedef {object} PlayerControl
 * @property {(playback: Playback, startAt?: number | null) => void} reload Plays `playback` (a
 *   rewritten multivariant playlist) instead of the current source: from where playback is (or
 *   `startAt`), paused or playing as it was, at the quality the viewer chose (or Auto).
 * @property {() => void} stop Stops loading (the video failed meanwhile); reload starts again.
 * @property {() => number | null} liveEdge Live streams: where playback at the live edge is on the
 *   media timeline (hls.js's liveSyncPosition, three parts or segments behind the newest); null
 *   otherwise.
 * @property {() => number | null} latency Live streams: seconds between the position and the
 *   newest media of the playlist (hls.js's estimate); null when unknown.
 * @property {() => Date | null} playingDate The wall-clock time the frame shown was captured at
 *   (EXT-X-PROGRAM-DATE-TIME), or null.
 * @property {(startedAt?: string | null) => number} broadcastPosition Seconds into the broadcast
 *   of the frame shown: the position to take onto the replay (whose timeline starts with the
 *   broadcast). `startedAt` (RFC 3339) is used when the live window no longer starts there.
 */

/** A PlayerControl that does nothing (no stream to play). */
function idleControl(/** @type {HTMLVideoElement} */ video) {
  return {
    reload: () => {},
    stop: () => {},
    liveEdge: () => null,
    latency: () => null,
    playingDate: () => null,
    broadcastPosition: () => video.currentTime,
  };
}

/** The bar under the watch page's player (live edge, share, download); absent on the embed page. */
const playerBar = document.getElementById('player-bar');

/** Shows the bar under the player, where there is one. */
function showPlayerBar() {
  if (playerBar) playerBar.hidden = false;
}

/**
 * True when `playback`'s grant has expired (or expires within `marginMs`).
 * @param {Playback | null} playback
 * @param {number} [marginMs]
 */
function grantExpired(playback, marginMs = 0) {
  if (!playback || !playback.expires_at) return false;
  const t = Date.parse(playback.expires_at);
  return Number.isFinite(t) && t - marginMs <= Date.now();
}

/**
 * The directory of a URL (absolute, through its last "/"): what the ladder's URLs resolve against.
 * @param {string} url
 */
function dirOf(url) {
  const u = new URL(url, location.href);
  u.search = '';
  u.hash = '';
  return u.href.slice(0, u.href.lastIndexOf('/') + 1);
}

/**
 * When to renew a grant that expires at `expiresAt`: a quarter of its life (≤ 5 min) before.
 * @param {string} expiresAt
 */
function renewDelayMs(expiresAt) {
  const left = Date.parse(expiresAt) - Date.now();
  if (!Number.isFinite(left)) return null;
  return Math.max(1000, left - Math.min(300_000, left / 4));
}

/**
 * @param {Playback} playback
 * @param {number | null} startAt
 * @param {PlayerContext} ctx
 * @returns {PlayerControl}
 */
function startHls(playback, startAt, { video, fetchPlayback, showError, live = false }) {
  const Hls = window.Hls;
  // Signed streams: every playlist and segment URL lives under the playback URL's directory,
  // which carries the grant. When the grant is renewed, requests still aimed at an old
  // directory are sent to the new one (hls.js keeps the URLs it resolved first), so playback
  // goes on without reloading anything.
  let currentBase = dirOf(playback.url);
  const oldBases = [];
  const rebase = (url) => {
    for (const old of oldBases) if (url.startsWith(old)) return currentBase + url.slice(old.length);
    return url;
  };
  const hls = new Hls({
    capLevelToPlayerSize: false,
    // 0 is meant: a growing (EVENT) playlist would otherwise start at its live edge.
    startPosition: Number.isFinite(startAt) && startAt >= 0 ? startAt : -1,
    // Live: low-latency HLS where the playlist has parts — hls.js then keeps the playlist's
    // PART-HOLD-BACK (three parts) behind the edge, with blocking reloads and delta updates.
    // liveSyncDurationCount is left unset on purpose: setting it would override PART-HOLD-BACK;
    // unset, playlists without parts get hls.js's default of three segments. Up to 10 %
    // faster playback brings a late start or a stall back to that distance.
    ...(live ? { lowLatencyMode: true, maxLiveSyncPlaybackRate: 1.1 } : {}),
    xhrSetup: (xhr, url) => {
      const target = rebase(url);
      if (target !== url) xhr.open('GET', target, true);
    },
  });
  video.dispatchEvent(new CustomEvent('kino:hls', { detail: hls })); // for qoe.js
  followHls(video, hls); // the quality and audio menus
  const fatalErrors = [];
  const renewals = [];
  const reloads = [];
  window.kinoPlayer = { hls, video, fatalErrors, playback, renewals, reloads, reloading: false };
  let triedMediaRecovery = false;
  let renewal = null; // the renewal in flight
  let recoveries = 0; // renewals caused by a refused request
  let renewTimer = null;
  let destroyed = false;

  function adopt(fresh) {
    const base = dirOf(fresh.url);
    if (base !== currentBase) {
      oldBases.push(currentBase);
      currentBase = base;
    }
    window.kinoPlayer.playback = fresh;
    scheduleRenewal(fresh);
  }

  /** Fetches a fresh grant (one at a time) and adopts it; resolves to true on success. */
  function renewGrant(reason) {
    if (!renewal) {
      renewal = (async () => {
        try {
          const fresh = await fetchPlayback();
          if (destroyed || !fresh || !fresh.url) return false;
          renewals.push({ at: new Date().toISOString(), position: video.currentTime, reason });
          adopt(fresh);
          return true;
        } catch {
          return false;
        } finally {
          renewal = null;
        }
      })();
    }
    return renewal;
  }

  function scheduleRenewal(current) {
    clearTimeout(renewTimer);
    if (!current || !current.expires_at) return; // public: the URL does not expire
    const delay = renewDelayMs(current.expires_at);
    if (delay === null) return;
    renewTimer = setTimeout(async () => {
      if (destroyed) return;
      // On failure, try again in a while; the reactive path below remains as a fallback.
      if (!(await renewGrant('scheduled')) && !destroyed) {
        renewTimer = setTimeout(() => scheduleRenewal(window.kinoPlayer.playback), 30_000);
      }
    }, Math.min(delay, 2 ** 31 - 1));
  }
  scheduleRenewal(playback);

  /** Whether a network error looks like a refused or expired grant. */
  function grantRefused(data) {
    const current = window.kinoPlayer.playback;
    if (!current || !current.expires_at) return false;
    const code = data.response && data.response.code;
    return grantExpired(current, 5000) || [401, 403, 404, 410].includes(code);
  }

  /**
   * A fatal network error on a signed stream whose grant expired (or was refused): renew the
   * grant and resume loading where playback is. Resolves to true when loading was restarted.
   */
  async function recoverFromGrantError(data) {
    if (!grantRefused(data)) return false;
    if (!renewal) {
      if (recoveries >= MAX_RECOVERIES) return false;
      recoveries += 1;
    }
    if (!(await renewGrant(data.details))) return false;
    if (destroyed) return false;
    hls.startLoad(video.currentTime);
    if (video.paused && window.kinoPlayer.wasPlaying) video.play().catch(() => {});
    return true;
  }

  video.addEventListener('playing', () => {
    window.kinoPlayer.wasPlaying = true;
  });
  video.addEventListener('pause', () => {
    window.kinoPlayer.wasPlaying = false;
  });
  hls.on(Hls.Events.DESTROYING, () => {
    destroyed = true;
    clearTimeout(renewTimer);
  });

  hls.on(Hls.Events.MANIFEST_PARSED, showPlayerBar);
  hls.on(Hls.Events.ERROR, async (_event, data) => {
    if (data.type === Hls.ErrorTypes.NETWORK_ERROR && !data.fatal) {
      // hls.js does not retry a 4xx; renewing now lets its next attempt (another level, or the
      // recovery below) use the new grant.
      if (!renewal && grantRefused(data) && recoveries < MAX_RECOVERIES) {
        recoveries += 1;
        renewGrant(data.details);
      }
      return;
    }
    if (!data.fatal) return;
    if (data.type === Hls.ErrorTypes.NETWORK_ERROR && (await recoverFromGrantError(data))) return;
    fatalErrors.push({ type: data.type, details: data.details, reason: data.reason || (data.error && data.error.message) || null });
    if (data.type === Hls.ErrorTypes.MEDIA_ERROR && !triedMediaRecovery) {
      triedMediaRecovery = true;
      hls.recoverMediaError();
      return;
    }
    const what = data.type === Hls.ErrorTypes.NETWORK_ERROR ? 'a network error' : data.type === Hls.ErrorTypes.MEDIA_ERROR ? 'a media error' : 'an error';
    showError(`Playback stopped because of ${what} (${data.details}).`);
    hls.destroy();
  });
  hls.loadSource(playback.url);
  hls.attachMedia(video);

  /** @type {PlayerControl} */
  const control = {
    reload(fresh, startAt = null) {
      if (destroyed || !fresh || !fresh.url) return;
      const at = Number.isFinite(startAt) && startAt >= 0 ? startAt : video.currentTime;
      const wasPlaying = !video.paused && !video.ended;
      reloads.push({ at: new Date().toISOString(), position: at, wasPlaying, url: fresh.url });
      adopt(fresh);
      triedMediaRecovery = false;
      // loadSource() detaches and re-attaches the <video> (a new MediaSource: the element
      // pauses at 0); hls.js then starts loading where config.startPosition says, seeks there
      // once data is in, and the quality menu applies the viewer's choice again
      // (player-tracks.js, on MANIFEST_PARSED).
      hls.config.startPosition = Number.isFinite(at) && at >= 0 ? at : 0;
      reloading(video, at, wasPlaying);
      hls.loadSource(fresh.url);
    },
    stop() {
      if (!destroyed) hls.stopLoad();
    },
    liveEdge() {
      const edge = destroyed ? null : hls.liveSyncPosition;
      return Number.isFinite(edge) ? edge : null;
    },
    latency() {
      if (destroyed || !levelDetails(hls) || !levelDetails(hls).live) return null;
      const latency = hls.latency;
      return Number.isFinite(latency) ? latency : null;
    },
    playingDate() {
      const date = destroyed ? null : hls.playingDate;
      return date && Number.isFinite(date.getTime()) ? date : null;
    },
    broadcastPosition(startedAt = null) {
      // A live window that still holds the first segment (media sequence 0) has the replay's
      // timeline; past the DVR window, the capture time of the frame tells.
      const details = destroyed ? null : levelDetails(hls);
      if (!details || details.startSN === 0) return video.currentTime;
      const started = startedAt ? Date.parse(startedAt) : NaN;
      const date = control.playingDate();
      if (!date || !Number.isFinite(started)) return video.currentTime;
      return Math.max(0, (date.getTime() - started) / 1000);
    },
  };
  return control;
}

/**
 * The playlist details of the level playing (or the first one), once loaded.
 * @param {InstanceType<HlsClass>} hls
 */
function levelDetails(hls) {
  const level = hls.levels[hls.currentLevel >= 0 ? hls.currentLevel : 0];
  return (level && level.details) || null;
}

/**
 * While a new source loads: window.kinoPlayer.reloading (watch progress is not saved from the
 * passing position 0), and playback resumes (or stays paused) once it is back at `at`.
 * @param {HTMLVideoElement} video
 * @param {number} at
 * @param {boolean} wasPlaying
 */
function reloading(video, at, wasPlaying) {
  const player = window.kinoPlayer;
  player.reloading = true;
  let done = false;
  const finish = () => {
    if (done) return;
    done = true;
    clearTimeout(timer);
    video.removeEventListener('loadedmetadata', onMetadata);
    video.removeEventListener('timeupdate', onTime);
    player.reloading = false;
  };
  const onMetadata = () => {
    if (wasPlaying && video.paused) video.play().catch(() => {});
  };
  const onTime = () => {
    if (Math.abs(video.currentTime - at) < 2) finish();
  };
  video.addEventListener('loadedmetadata', onMetadata);
  video.addEventListener('timeupdate', onTime);
  const timer = setTimeout(finish, 15_000);
}

/**
 * Plays `playback` in the page's <video> from `startAt` (s; null: where the stream says, i.e.
 * the start of a finished video; 0: the start even of a growing playlist).
 * @param {import('./cards.js').Video} v
 * @param {Playback} playback
 * @param {number | null} startAt
 * @param {PlayerContext} ctx
 * @returns {PlayerControl}
 */
export function startPlayer(v, playback, startAt, ctx) {
  const { video, fetchPlayback, showError } = ctx;
  const poster = playback.poster_url || v.poster_url;
  if (poster) video.poster = poster;
  /** @type {PlayerControl} */
  let control = idleControl(video);
  if (!playback.url) {
    showError('This video has no stream to play.');
    return control;
  }
  if (window.Hls && window.Hls.isSupported()) {
    control = startHls(playback, startAt, ctx);
  } else if (video.canPlayType('application/vnd.apple.mpegurl')) {
    // Safari (and iOS): native HLS with its own adaptive switching; no manual quality choice.
    window.kinoPlayer = { hls: null, video, fatalErrors: [], playback, renewals: [], reloads: [], reloading: false };
    control = nativeControl(video);
    if (Number.isFinite(startAt) && startAt >= 0) {
      video.addEventListener('loadedmetadata', () => {
        video.currentTime = startAt;
      }, { once: true });
    }
    video.src = playback.url;
    showPlayerBar();
  } else {
    showError('This browser cannot play HLS video (no Media Source Extensions). Use the download link instead.');
    showPlayerBar();
  }
  let nativeRecoveries = 0;
  video.addEventListener('error', async () => {
    const player = window.kinoPlayer;
    if (player && player.hls) return; // hls.js reports its own errors
    // Native HLS: an expired grant shows up as a media error; take a fresh URL and resume.
    if (player && grantExpired(player.playback, 5000) && nativeRecoveries < MAX_RECOVERIES) {
      nativeRecoveries += 1;
      const position = video.currentTime;
      try {
        const fresh = await fetchPlayback();
        if (fresh && fresh.url) {
          player.playback = fresh;
          player.renewals.push({ at: new Date().toISOString(), position, reason: 'media error' });
          video.addEventListener('loadedmetadata', () => {
            video.currentTime = position;
            video.play().catch(() => {});
          }, { once: true });
          video.src = fresh.url;
          return;
        }
      } catch {
        // fall through to the error message
      }
    }
    showError(`Playback failed: ${(video.error && video.error.message) || 'the video could not be decoded'}.`);
  });
  return control;
}

/**
 * reload/stop for native HLS: a new `src`, then back to where playback was.
 * @param {HTMLVideoElement} video
 * @returns {PlayerControl}
 */
function nativeControl(video) {
  /** The end of what can be played (Safari's live edge), or null. */
  const seekableEnd = () => (video.seekable.length ? video.seekable.end(video.seekable.length - 1) : null);
  const isLive = () => video.duration === Infinity;
  return {
    ...idleControl(video),
    liveEdge() {
      const end = isLive() ? seekableEnd() : null;
      return end === null ? null : Math.max(0, end - 3);
    },
    latency() {
      const end = isLive() ? seekableEnd() : null;
      return end === null ? null : Math.max(0, end - video.currentTime);
    },
    reload(fresh, startAt = null) {
      const player = window.kinoPlayer;
      if (!fresh || !fresh.url || !player) return;
      const at = Number.isFinite(startAt) && startAt >= 0 ? startAt : video.currentTime;
      const wasPlaying = !video.paused && !video.ended;
      player.playback = fresh;
      player.reloads.push({ at: new Date().toISOString(), position: at, wasPlaying, url: fresh.url });
      reloading(video, at, wasPlaying);
      video.addEventListener('loadedmetadata', () => {
        video.currentTime = at;
      }, { once: true });
      video.src = fresh.url;
    },
    stop() {
      video.pause();
    },
  };
}
