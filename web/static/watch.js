// The player page: /watch/{id}. Plays the HLS ladder through hls.js (Safari: natively).
// The stream URL comes from GET /api/videos/{id}/playback: for unlisted and private videos it
// carries a time-limited grant, renewed from the same endpoint if it expires during playback.
import {
  api, currentUser, el, formatBitrate, formatDate, formatDuration, formatViews, getJSON, initHeader, percent, privacyBadge,
  sessionGeneration, signInHref, statusBadge, tagChips, tagsOf, userHref, withSession,
} from './app.js';
import { initComments } from './comments.js';

const POLL_MS = 2000; // while processing and the live socket is not open
const LIVE_POLL_MS = 15_000; // while processing with the socket open: events do the work
const MAX_RECOVERIES = 5; // grants renewed after a refused request, per page view

const id = decodeURIComponent(location.pathname.replace(/\/+$/, '').split('/').pop() || '');
const video = document.getElementById('player');
const playerError = document.getElementById('player-error');
const processing = document.getElementById('processing');
const playerBar = document.getElementById('player-bar');
const quality = document.getElementById('quality');
const currentLevel = document.getElementById('current-level');
const wrap = video.closest('.player-wrap');

function showError(message) {
  processing.hidden = true;
  wrap.classList.add('inactive');
  playerError.textContent = message;
  playerError.hidden = false;
}

function showInfo(v) {
  document.title = `${v.title || 'Untitled'} · Kino`;
  document.getElementById('title').textContent = v.title || 'Untitled';
  document.getElementById('description').textContent = v.description || '';
  const status = document.getElementById('status');
  status.replaceChildren(v.status === 'ready' ? '' : statusBadge(v));
  status.hidden = v.status === 'ready';
  const privacy = document.getElementById('privacy');
  const badge = privacyBadge(v);
  privacy.replaceChildren(...(badge ? [badge] : []));
  privacy.hidden = !badge;
  const owner = document.getElementById('owner');
  const ownerLink = document.getElementById('owner-link');
  if (v.owner) {
    ownerLink.textContent = v.owner;
    ownerLink.href = userHref(v.owner);
  }
  owner.hidden = !v.owner;
  const meta = [formatDuration(v.duration), formatDate(v.created_at)].filter(Boolean).join(' · ');
  document.getElementById('meta').textContent = meta;
  showViews(v.views);
  const tags = tagsOf(v);
  const tagBox = document.getElementById('tags');
  tagBox.replaceChildren(...(tags.length ? [tagChips(tags)] : []));
  tagBox.hidden = !tags.length;
  document.getElementById('manage').hidden = v.can_edit !== true;
  const download = document.getElementById('download');
  if (v.download_url) download.href = v.download_url;
  download.hidden = !v.download_url;
}

function levelLabel(level, index) {
  const size = level.height ? `${level.height}p` : level.name || `Level ${index + 1}`;
  const rate = formatBitrate(level.bitrate);
  return rate ? `${size} · ${rate}` : size;
}

function fillQuality(hls) {
  const options = hls.levels
    .map((level, index) => ({ level, index }))
    .sort((a, b) => (b.level.height || 0) - (a.level.height || 0) || b.level.bitrate - a.level.bitrate)
    .map(({ level, index }) => new Option(levelLabel(level, index), String(index)));
  quality.replaceChildren(new Option('Auto', '-1'), ...options);
  quality.value = '-1';
  quality.disabled = hls.levels.length < 2;
}

function showCurrentLevel(hls, index) {
  const level = hls.levels[index];
  if (!level) return;
  currentLevel.textContent = `Playing ${levelLabel(level, index)}${hls.autoLevelEnabled ? ' (auto)' : ''}`;
  quality.value = hls.autoLevelEnabled ? '-1' : String(index);
}

/** GET /api/videos/{id}/playback: {url, poster_url, expires_at}. */
function fetchPlayback() {
  return withSession(() => getJSON(`/api/videos/${encodeURIComponent(id)}/playback`));
}

/** GET /api/videos/{id}, renewing a lapsed session before concluding 404. */
function fetchVideo() {
  return withSession(() => getJSON(`/api/videos/${encodeURIComponent(id)}`));
}

/** True when `playback`'s grant has expired (or expires within `marginMs`). */
function grantExpired(playback, marginMs = 0) {
  if (!playback || !playback.expires_at) return false;
  const t = Date.parse(playback.expires_at);
  return Number.isFinite(t) && t - marginMs <= Date.now();
}

/** The directory of a URL (absolute, through its last "/"): what the ladder's URLs resolve against. */
function dirOf(url) {
  const u = new URL(url, location.href);
  u.search = '';
  u.hash = '';
  return u.href.slice(0, u.href.lastIndexOf('/') + 1);
}

/** When to renew a grant that expires at `expiresAt`: a quarter of its life (≤ 5 min) before. */
function renewDelayMs(expiresAt) {
  const left = Date.parse(expiresAt) - Date.now();
  if (!Number.isFinite(left)) return null;
  return Math.max(1000, left - Math.min(300_000, left / 4));
}

function startHls(playback, startAt) {
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
    startPosition: Number.isFinite(startAt) && startAt > 0 ? startAt : -1,
    xhrSetup: (xhr, url) => {
      const target = rebase(url);
      if (target !== url) xhr.open('GET', target, true);
    },
  });
  const fatalErrors = [];
  const renewals = [];
  window.kinoPlayer = { hls, video, fatalErrors, playback, renewals };
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

  hls.on(Hls.Events.MANIFEST_PARSED, () => {
    fillQuality(hls);
    playerBar.hidden = false;
  });
  hls.on(Hls.Events.LEVEL_SWITCHED, (_event, data) => showCurrentLevel(hls, data.level));
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
  quality.addEventListener('change', () => {
    hls.currentLevel = Number(quality.value);
    if (hls.currentLevel >= 0) showCurrentLevel(hls, hls.currentLevel);
  });

  hls.loadSource(playback.url);
  hls.attachMedia(video);
}

function startPlayer(v, playback, startAt = null) {
  processing.hidden = true;
  playerError.hidden = true;
  wrap.classList.remove('inactive');
  const poster = playback.poster_url || v.poster_url;
  if (poster) video.poster = poster;
  if (!playback.url) {
    showError('This video has no stream to play.');
    return;
  }
  if (window.Hls && window.Hls.isSupported()) {
    startHls(playback, startAt);
  } else if (video.canPlayType('application/vnd.apple.mpegurl')) {
    // Safari (and iOS): native HLS with its own adaptive switching; no manual quality choice.
    window.kinoPlayer = { hls: null, video, fatalErrors: [], playback, renewals: [] };
    if (Number.isFinite(startAt) && startAt > 0) {
      video.addEventListener('loadedmetadata', () => {
        video.currentTime = startAt;
      }, { once: true });
    }
    video.src = playback.url;
    quality.closest('label').hidden = true;
    playerBar.hidden = false;
  } else {
    showError('This browser cannot play HLS video (no Media Source Extensions). Use the download link instead.');
    playerBar.hidden = false;
    quality.closest('label').hidden = true;
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
}

/** 404: the video does not exist, or is private to someone else (a signed-out owner may sign in). */
async function showNotFound(err) {
  document.getElementById('title').textContent = 'Video not found';
  showError(err.message || 'This video does not exist.');
  let user = null;
  try {
    user = await currentUser();
  } catch {
    return;
  }
  if (!user) {
    playerError.append(el('p', {},
      'If it is your private video, ',
      el('a', { href: signInHref(), id: 'signin-to-watch', text: 'sign in' }),
      ' to watch it.'));
  }
}

let infoShown = false;

async function load() {
  if (!id) {
    showError('No video id in the address.');
    return;
  }
  let v;
  try {
    v = await fetchVideo();
  } catch (err) {
    if (err.status === 404) {
      showNotFound(err);
      return;
    }
    // Transient trouble (server restarting…): say so and try again.
    showError(`Could not load the video: ${err.message} Retrying…`);
    poll(POLL_MS);
    return;
  }
  if (state.phase === 'ready') return; // a late poll after the player started
  state.phase = v.status;
  showInfo(v);
  infoShown = true;
  startExtras(v);
  if (v.status === 'ready') {
    let playback;
    const resume = resumePosition(v);
    try {
      playback = await fetchPlayback();
    } catch (err) {
      if (err.status === 404) {
        showNotFound(err);
        return;
      }
      showError(`Could not load the video: ${err.message} Retrying…`);
      state.phase = 'retry';
      poll(POLL_MS);
      return;
    }
    const startAt = await resume;
    startPlayer(v, playback || {}, startAt);
    trackPlayback(startAt);
  } else if (v.status === 'failed') {
    if (v.poster_url) video.poster = v.poster_url;
    showError(`Processing failed: ${v.error || 'unknown error'}`);
    playerBar.hidden = !v.download_url;
    quality.closest('label').hidden = true;
  } else {
    playerError.hidden = true;
    showProgress(v.progress);
    processing.hidden = false;
    wrap.classList.add('inactive');
    stats.sawProcessing = true;
    poll(state.liveOpen ? LIVE_POLL_MS : POLL_MS);
  }
}

let pollTimer = null;
function poll(ms) {
  clearTimeout(pollTimer);
  pollTimer = setTimeout(() => {
    if (state.phase === 'processing') stats.readyVia = 'poll';
    load();
  }, ms);
}

function showProgress(progress) {
  const p = percent(progress);
  document.getElementById('processing-bar').style.width = `${p}%`;
  document.getElementById('processing-text').textContent = `${Math.floor(p)}%`;
}

/**
 * Transcoding news over the live socket (see comments.js): progress moves the bar; ready or
 * failed loads the video at once instead of at the next poll; a (re)opened socket may have
 * missed news, so it looks once.
 */
function onJobEvent(msg) {
  if (msg.type === 'live.open') state.liveOpen = true;
  if (msg.type === 'live.closed') {
    state.liveOpen = false;
    if (state.phase === 'processing') poll(POLL_MS);
    return;
  }
  if (state.phase !== 'processing') return;
  stats.jobEvents += 1;
  if (msg.type === 'job.progress') {
    if (Number.isFinite(msg.progress)) showProgress(msg.progress);
    return;
  }
  stats.readyVia = msg.type === 'live.open' ? 'reopen' : 'event';
  clearTimeout(pollTimer);
  load();
}

// ---------------------------------------------------------------------------------------------
// Around the player: views, "More from", comments, resume and watch progress.

const RESUME_MIN_S = 5; // resume only past this…
const RESUME_MAX_FRACTION = 0.95; // …and before this share of the video (then it counts as watched)
const RESUME_WAIT_MS = 1500; // the player does not wait longer than this for the saved position
const SAVE_EVERY_MS = 10_000; // while playing
const VIEW_AFTER_S = 10; // of actual playback, once per page view
const MORE_FROM = 6;

const state = { user: null, video: null, comments: null, extrasStarted: false, phase: null, liveOpen: false };
// For tests and debugging: what this page did about progress, views and transcoding news.
const stats = {
  playedSeconds: 0, viewPing: null, resumedAt: null, saves: 0, sawProcessing: false, jobEvents: 0, readyVia: null,
};
window.kinoWatch = stats;

function showViews(n) {
  const views = document.getElementById('views');
  const text = formatViews(n);
  views.textContent = text;
  views.hidden = !text;
}

function showViewers(n) {
  const node = document.getElementById('viewers');
  node.textContent = n > 0 ? `${n.toLocaleString()} watching now` : '';
  node.hidden = !(n > 0);
}

/** The signed-in user, or null (also when the server cannot say). */
async function me() {
  try {
    return await currentUser();
  } catch {
    return null;
  }
}

/** "More from NAME": the uploader's other videos (GET /api/users/NAME/videos). */
async function loadMoreFrom(v) {
  const aside = document.getElementById('more-from');
  if (!v.owner) return;
  let body;
  try {
    // One more than shown, since this video may be among them.
    body = await getJSON(`/api/users/${encodeURIComponent(v.owner)}/videos?sort=newest&page=1&per_page=${MORE_FROM + 1}`);
  } catch {
    return; // the aside stays hidden
  }
  const videos = (Array.isArray(body && body.videos) ? body.videos : [])
    .filter((other) => other.id !== v.id && other.status === 'ready')
    .slice(0, MORE_FROM);
  const ownerLink = document.getElementById('more-from-owner');
  ownerLink.textContent = v.owner;
  ownerLink.href = userHref(v.owner);
  const all = document.getElementById('more-from-all');
  all.href = userHref(v.owner);
  all.hidden = !(Number(body.total) > videos.length + 1);
  document.getElementById('more-from-list').replaceChildren(...videos.map((other) => {
    const thumb = el('span', { class: 'side-thumb' });
    if (other.poster_url) thumb.append(el('img', { src: other.poster_url, alt: '', loading: 'lazy', decoding: 'async' }));
    const d = formatDuration(other.duration);
    if (d) thumb.append(el('span', { class: 'duration', text: d }));
    return el('li', { 'data-id': other.id },
      el('a', { class: 'side-item', href: `/watch/${encodeURIComponent(other.id)}` },
        thumb,
        el('span', { class: 'side-text' },
          el('span', { class: 'side-title', text: other.title || 'Untitled' }),
          el('span', { class: 'side-meta', text: [formatViews(other.views), formatDate(other.created_at)].filter(Boolean).join(' · ') }))));
  }));
  aside.hidden = videos.length === 0;
  aside.closest('.watch').classList.toggle('with-side', !aside.hidden);
}

/** Once the video is known: its comments and the uploader's other videos. */
async function startExtras(v) {
  state.video = v;
  if (state.extrasStarted) {
    if (state.comments) state.comments.setVideo(v);
    return;
  }
  state.extrasStarted = true;
  loadMoreFrom(v);
  state.user = await me();
  state.comments = initComments({
    videoId: id,
    video: state.video,
    user: state.user,
    onVideo: (fresh) => {
      state.video = { ...state.video, ...fresh };
    },
    onViewers: showViewers,
    onJob: onJobEvent,
  });
}

/** The saved position to resume from (signed-in viewers), or null. Never waits long. */
async function resumePosition(v) {
  const user = await me();
  if (!user) return null;
  const ask = getJSON(`/api/videos/${encodeURIComponent(id)}/progress`).catch(() => null);
  const saved = await Promise.race([ask, new Promise((r) => setTimeout(() => r(null), RESUME_WAIT_MS))]);
  if (!saved || !Number.isFinite(saved.position)) return null;
  const duration = Number(saved.duration) > 0 ? Number(saved.duration) : Number(v.duration);
  if (!(duration > 0)) return null;
  return saved.position > RESUME_MIN_S && saved.position < RESUME_MAX_FRACTION * duration ? saved.position : null;
}

function showResumed(at) {
  const note = document.getElementById('resume-note');
  const again = el('button', { type: 'button', id: 'start-over', class: 'link-button', text: 'Start over' });
  again.addEventListener('click', () => {
    video.currentTime = 0;
    note.hidden = true;
    video.play().catch(() => {});
  });
  note.replaceChildren(`Resumed at ${formatDuration(Math.floor(at))}`, ' · ', again);
  note.hidden = false;
  setTimeout(() => {
    note.hidden = true;
  }, 8000);
}

/**
 * Watch progress (signed-in viewers: saved every ~10 s while playing, on pause, and when the
 * page is hidden or left) and the view count (one ping after 10 s of actual playback).
 */
function trackPlayback(startAt) {
  let started = false; // nothing is saved before playback began: that would overwrite the saved place
  let lastSaved = null;
  let lastSaveAt = 0;
  let lastTime = null;

  const progressUrl = `/api/videos/${encodeURIComponent(id)}/progress`;

  function position() {
    const t = video.currentTime;
    if (!Number.isFinite(t)) return null;
    return video.ended && Number.isFinite(video.duration) ? video.duration : t;
  }

  function save({ leaving = false } = {}) {
    if (!started || !state.user) return;
    const pos = position();
    if (pos === null || (lastSaved !== null && Math.abs(pos - lastSaved) < 0.25)) return;
    lastSaved = pos;
    lastSaveAt = Date.now();
    stats.saves += 1;
    const body = { position: Math.round(pos * 1000) / 1000 };
    if (leaving) {
      // The page is going away: a keepalive request outlives it. No session refresh here (an
      // expired access cookie just loses this one save).
      try {
        fetch(progressUrl, {
          method: 'PUT',
          headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
          body: JSON.stringify(body),
          keepalive: true,
          credentials: 'same-origin',
          cache: 'no-store',
        }).catch(() => {});
      } catch {
        // ignore
      }
      return;
    }
    api('PUT', progressUrl, body).catch((err) => {
      if (err.status === 401) state.user = null; // signed out meanwhile: stop saving
      else lastSaved = null; // try again next time
    });
  }

  async function countView() {
    stats.viewPing = 'sent';
    try {
      const res = await api('POST', `/api/videos/${encodeURIComponent(id)}/views`);
      stats.viewPing = res || {};
      if (res && Number.isFinite(res.views)) showViews(res.views);
    } catch (err) {
      stats.viewPing = { error: err.message };
    }
  }

  video.addEventListener('playing', () => {
    if (!started && Number.isFinite(startAt) && startAt > 0 && Math.abs(video.currentTime - startAt) < 3) {
      stats.resumedAt = video.currentTime;
      showResumed(startAt);
    }
    if (!started) lastSaveAt = Date.now(); // the first periodic save comes ~10 s in
    started = true;
  });
  video.addEventListener('seeking', () => {
    lastTime = null;
  });
  video.addEventListener('timeupdate', () => {
    const t = video.currentTime;
    if (lastTime !== null && !video.paused && !video.seeking) {
      const d = t - lastTime;
      if (d > 0 && d < 2) stats.playedSeconds += d;
    }
    lastTime = t;
    if (stats.viewPing === null && stats.playedSeconds >= VIEW_AFTER_S) countView();
    if (started && !video.paused && Date.now() - lastSaveAt >= SAVE_EVERY_MS) save();
  });
  video.addEventListener('pause', () => save());
  video.addEventListener('ended', () => save());
  document.addEventListener('visibilitychange', () => {
    if (document.visibilityState === 'hidden') save({ leaving: true });
  });
  window.addEventListener('pagehide', () => save({ leaving: true }));
}

// The header's session check runs beside the first load; if it had to renew the session, the
// video's details (owner-only fields such as can_edit) are read again.
const startGeneration = sessionGeneration();
initHeader().then((user) => {
  if (state.comments && user && !state.user) {
    state.user = user;
    state.comments.setUser(user);
  }
  if (infoShown && sessionGeneration() !== startGeneration) {
    fetchVideo().then((v) => {
      showInfo(v);
      startExtras(v);
    }, () => {});
  }
});
load();
