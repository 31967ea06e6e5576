// @ts-check
// The player page: /watch/{id}. Plays the HLS ladder through hls.js (Safari: natively; see
// player.js). The stream URL comes from GET /api/videos/{id}/playback: for unlisted and private
// videos it carries a time-limited grant, renewed from the same endpoint if it expires during
// playback. One live connection (live.js) brings comments, transcoding progress and the viewer
// count.
import { api, currentUser, getJSON, sessionGeneration, signInHref, withSession } from './api.js';
import { privacyBadge, statusBadge, userHref } from './cards.js';
import { initComments } from './comments.js';
import { el } from './dom.js';
import { formatDate, formatDuration, formatViews, percent } from './format.js';
import { initHeader } from './header.js';
import { liveChannel } from './live.js';
import { hideQuality, startPlayer } from './player.js';
import { tagChips, tagsOf } from './tags.js';

const POLL_MS = 2000; // while processing and the live socket is not open
const LIVE_POLL_MS = 15_000; // while processing with the socket open: events do the work

const id = decodeURIComponent(location.pathname.replace(/\/+$/, '').split('/').pop() || '');
const video = /** @type {HTMLVideoElement} */ (document.getElementById('player'));
const playerError = document.getElementById('player-error');
const processing = document.getElementById('processing');
const playerBar = document.getElementById('player-bar');
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
  const ownerLink = /** @type {HTMLAnchorElement} */ (document.getElementById('owner-link'));
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
  const download = /** @type {HTMLAnchorElement} */ (document.getElementById('download'));
  if (v.download_url) download.href = v.download_url;
  download.hidden = !v.download_url;
}

/** GET /api/videos/{id}/playback: {url, poster_url, expires_at}. */
function fetchPlayback() {
  return withSession(() => getJSON(`/api/videos/${encodeURIComponent(id)}/playback`));
}

/** GET /api/videos/{id}, renewing a lapsed session before concluding 404. */
function fetchVideo() {
  return withSession(() => getJSON(`/api/videos/${encodeURIComponent(id)}`));
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
    processing.hidden = true;
    playerError.hidden = true;
    wrap.classList.remove('inactive');
    startPlayer(v, playback || {}, startAt, { video, fetchPlayback, showError });
    trackPlayback(startAt);
  } else if (v.status === 'failed') {
    if (v.poster_url) video.poster = v.poster_url;
    showError(`Processing failed: ${v.error || 'unknown error'}`);
    playerBar.hidden = !v.download_url;
    hideQuality();
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
 * Transcoding news over the live socket: progress moves the bar; ready or failed loads the
 * video at once instead of at the next poll; a (re)opened socket may have missed news, so it
 * looks once ('live.open', 'live.closed': the socket's state).
 * @param {{ type: string, progress?: number }} msg
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
  const ownerLink = /** @type {HTMLAnchorElement} */ (document.getElementById('more-from-owner'));
  ownerLink.textContent = v.owner;
  ownerLink.href = userHref(v.owner);
  const all = /** @type {HTMLAnchorElement} */ (document.getElementById('more-from-all'));
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
    live,
    onVideo: (fresh) => {
      state.video = { ...state.video, ...fresh };
    },
  });
  live.start();
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

// The live channel: one socket for the comments, transcoding news and the viewer count. It is
// started with the comments, once the video is known.
const live = liveChannel(id);
live.onState((liveState) => {
  if (liveState === 'open') onJobEvent({ type: 'live.open' }); // news sent before this moment was missed: look again
  else if (liveState === 'closed') onJobEvent({ type: 'live.closed' }); // no news until it reopens: poll meanwhile
});
for (const type of ['job.progress', 'video.ready', 'video.failed']) live.on(type, onJobEvent); // from whichever worker runs the job
live.on('viewers', (msg) => {
  if (Number.isFinite(msg.count)) showViewers(msg.count);
});

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
