// @ts-check
// The player page: /watch/{id}. Plays the HLS ladder through hls.js (Safari: natively; see
// player.js). The stream URL comes from GET /api/videos/{id}/playback: for unlisted and private
// videos it carries a time-limited grant, renewed from the same endpoint if it expires during
// playback. A video being processed plays as soon as a first rendition is published (its
// playlist grows meanwhile; a note under the player tells the progress) and moves to the full
// ladder when `video.ready` comes, where it is. A failed video offers its owner (and admins)
// "Retry processing". One live connection (live.js) brings comments, transcoding news and the
// viewer count; watch-progress.js resumes and saves the viewer's place and counts the view;
// qoe.js reports what the view was like (start time, stalls, renditions, errors: docs/qoe.md).
// A live stream waits for its broadcast ("Starting soon"), plays from the live edge once its
// first segments are out (watch-live.js: the edge button, the notes), has its chat beside the
// player (chat.js), and moves onto its replay where the viewer is when `video.ready` comes;
// the replay's chat shows each message at the video time it was sent at.
// The player's controls are Media Chrome's (player-ui.js: quality, speed, captions and audio
// menus, theater mode, keyboard shortcuts, seek-bar previews from the storyboard). `?t=1m30s`
// starts playback there (instead of where a signed-in viewer left off); timestamps in comments
// seek the player; Share gives the link (at the current time) and the embed code (share.js).
import { currentUser, getJSON, sessionGeneration, signInHref, withSession } from './api.js';
import { privacyBadge, statusBadge, userHref } from './cards.js';
import { initChat } from './chat.js';
import { initComments } from './comments.js';
import { el } from './dom.js';
import { formatDate, formatDuration, formatViews, percent } from './format.js';
import { initHeader } from './header.js';
import { isLiveStream, liveBadge, liveStateOf } from './live-status.js';
import { liveChannel } from './live.js';
import { loadMoreFrom } from './more-from.js';
import { startPlayer } from './player.js';
import { mountPlayer } from './player-ui.js';
import { startQoe } from './qoe.js';
import { retryBox } from './retry.js';
import { initShare } from './share.js';
import { tagChips, tagsOf } from './tags.js';
import { startTimeFromUrl } from './timecode.js';
import { createLiveBar } from './watch-live.js';
import { resumePosition, trackPlayback } from './watch-progress.js';

/** @typedef {import('./cards.js').Video} Video */

const POLL_MS = 2000; // while processing (or waiting for a broadcast) and the live socket is not open
const LIVE_POLL_MS = 15_000; // the same with the socket open: events do the work

const id = decodeURIComponent(location.pathname.replace(/\/+$/, '').split('/').pop() || '');
const video = /** @type {HTMLVideoElement} */ (document.getElementById('player'));
const playerError = document.getElementById('player-error');
const processing = document.getElementById('processing');
const playerBar = document.getElementById('player-bar');
const wrap = video.closest('.player-wrap');
const note = document.getElementById('processing-note');
const liveBar = createLiveBar({ video, player: () => state.player });
/** `?t=` of the address: where playback starts (not where the viewer left off), or null. */
const linkedStart = startTimeFromUrl();
const ui = mountPlayer(video, {
  theaterTarget: document.querySelector('main.watch'),
  active: () => !!state.player && !wrap.classList.contains('inactive'),
});

/**
 * Watchable now: ready, or processing with a first rendition published.
 * @param {Video} v
 */
function isPlayable(v) {
  return v.status === 'ready' || (v.status === 'processing' && v.playable === true);
}

/**
 * The multivariant playlist URL in a video's details (signed unless public), or null.
 * @param {Video} v
 */
function playlistUrl(v) {
  return v.hls_url || (v.media && v.media.hls) || null;
}

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
  const liveNow = isLiveStream(v);
  const meta = [liveNow ? '' : formatDuration(v.duration), formatDate(v.created_at)].filter(Boolean).join(' · ');
  document.getElementById('meta').textContent = meta;
  showViews(v.views);
  const tags = tagsOf(v);
  const tagBox = document.getElementById('tags');
  tagBox.replaceChildren(...(tags.length ? [tagChips(tags)] : []));
  tagBox.hidden = !tags.length;
  document.getElementById('manage').hidden = v.can_edit !== true;
  // Its owner and admins (those who may manage it) may read its playback analytics.
  const analytics = /** @type {HTMLAnchorElement} */ (document.getElementById('video-analytics-link'));
  analytics.href = `/analytics?video=${encodeURIComponent(id)}`;
  analytics.hidden = v.can_edit !== true;
  const download = /** @type {HTMLAnchorElement} */ (document.getElementById('download'));
  if (v.download_url) download.href = v.download_url;
  // A live stream has no original file to download (nor has its replay).
  download.hidden = !v.download_url || liveNow || state.wasLive;
  if (liveNow && v.live) showViewers(v.live.viewers);
  ui.setStoryboard(!liveNow && typeof v.storyboard === 'string' ? v.storyboard : null);
}

/** GET /api/videos/{id}/playback: {url, poster_url, expires_at}. */
function fetchPlayback() {
  return withSession(() => getJSON(`/api/videos/${encodeURIComponent(id)}/playback`));
}

/** GET /api/videos/{id}, renewing a lapsed session before concluding 404. */
function fetchVideo() {
  return withSession(() => getJSON(`/api/videos/${encodeURIComponent(id)}`));
}

/**
 * The stream to play: GET /api/videos/{id}/playback, or, when that answers 409 for a video
 * being processed that is already playable, the playlist URL of its details (`hls_url`).
 * Also what the player asks when its grant needs renewing.
 */
async function fetchStream() {
  try {
    return await fetchPlayback();
  } catch (err) {
    if (err.status !== 409) throw err;
    const v = await fetchVideo();
    const url = playlistUrl(v);
    if (!url || !isPlayable(v)) throw err;
    return { url, poster_url: v.poster_url || undefined };
  }
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
let looks = 0; // GETs of the video started; only the latest one's answer is shown
/** @type {Promise<void>} */
let showing = Promise.resolve(); // one answer is shown at a time (starting a player takes a while)

/**
 * Shows `v` once the answers before it are shown.
 * @param {Video} v
 */
function enqueue(v) {
  showing = showing.then(() => show(v)).catch(() => {});
}

/** Looks at the video (GET) and shows what it is now. */
async function load() {
  if (!id) {
    showError('No video id in the address.');
    return;
  }
  const look = ++looks;
  let v;
  try {
    v = await fetchVideo();
  } catch (err) {
    if (look !== looks) return;
    if (state.phase === 'early' || state.phase === 'live') {
      // Playing while processed (or live): a 404 means it was deleted, made private or failed
      // (failed videos are their owner's); anything else is passing trouble that must not stop
      // playback.
      if (err.status === 404) {
        state.phase = 'gone';
        video.pause();
        hideNote();
        liveBar.stop();
        if (state.failedError !== null) showError(`Processing failed: ${state.failedError || 'unknown error'}`);
        else showNotFound(err);
      } else poll(POLL_MS);
      return;
    }
    if (err.status === 404 && state.failedError !== null) {
      // It just failed, which makes it its owner's (and admins') only.
      showError(`Processing failed: ${state.failedError || 'unknown error'}`);
      return;
    }
    if (err.status === 404) {
      showNotFound(err);
      return;
    }
    // Transient trouble (server restarting…): say so and try again.
    showError(`Could not load the video: ${err.message} Retrying…`);
    poll(POLL_MS);
    return;
  }
  if (look === looks) enqueue(v);
}

/**
 * Shows the video as it is now: the player (ready, or processing but already playable), the
 * failure, or the processing state.
 * @param {Video} v
 */
async function show(v) {
  if (state.phase === 'ready' || state.phase === 'gone') return; // a late look after the player started
  showInfo(v);
  infoShown = true;
  startExtras(v);
  if (isLiveStream(v)) {
    await showLive(v);
    return;
  }
  if (state.phase === 'live' || state.phase === 'waiting') {
    if (v.status === 'ready') await startReplay(v);
    else if (v.status === 'failed') showFailed(v);
    else poll(POLL_MS);
    return;
  }
  if (state.phase === 'early') {
    if (v.status === 'ready') await upgrade();
    else if (v.status === 'failed') showFailed(v);
    else {
      showProgress(v.progress);
      poll(state.liveOpen ? LIVE_POLL_MS : POLL_MS);
    }
    return;
  }
  if (v.status === 'ready') await startReady(v);
  else if (v.status === 'failed') showFailed(v);
  else if (isPlayable(v)) await startEarly(v);
  else showProcessing(v);
}

/**
 * Where the link asks playback to start (`?t=`), when that is inside the video; else null.
 * @param {Video} v
 */
function linkedStartFor(v) {
  if (linkedStart === null) return null;
  return Number.isFinite(v.duration) && v.duration > 0 && linkedStart >= v.duration ? null : linkedStart;
}

/** @param {Video} v */
async function startReady(v) {
  state.phase = 'ready';
  hideNote();
  let playback;
  const resume = linkedStartFor(v) !== null ? Promise.resolve(linkedStartFor(v)) : resumePosition(id, v);
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
  play(v, playback || {}, await resume);
}

/**
 * Processing, but a first rendition is published: play it (its playlist grows while the rest is
 * encoded), with a note under the player; the full ladder is loaded when `video.ready` comes.
 * @param {Video} v
 */
async function startEarly(v) {
  state.phase = 'early';
  let playback;
  const resume = linkedStartFor(v) !== null ? Promise.resolve(linkedStartFor(v)) : resumePosition(id, v);
  try {
    playback = await fetchStream();
  } catch (err) {
    if (err.status === 404) {
      showNotFound(err);
      return;
    }
    // No stream after all (yet): the processing state, and another look soon.
    showProcessing(v);
    poll(POLL_MS);
    return;
  }
  stats.earlyStart = true;
  showProgress(v.progress);
  // From the start, not the live edge: the growing playlist is an EVENT playlist.
  const startAt = await resume;
  play(v, playback || {}, startAt === null ? 0 : startAt);
  poll(state.liveOpen ? LIVE_POLL_MS : POLL_MS);
}

/**
 * A live stream (idle, live or ended): waiting for its broadcast, or playing it from the live
 * edge (once its first segments are out).
 * @param {Video} v
 */
async function showLive(v) {
  const liveState = liveStateOf(v) || 'idle';
  if (v.live && v.live.started_at) state.startedAt = v.live.started_at;
  if (v.playable && state.phase === 'live') {
    liveBar.follow(liveState);
    poll(state.liveOpen ? LIVE_POLL_MS : POLL_MS);
    return;
  }
  if (v.playable) {
    await startLive(v);
    return;
  }
  // Nothing to play yet (or any more: a broadcast that sent nothing usable is idle again).
  if (state.player) state.player.stop();
  video.pause();
  showWaiting(liveState);
}

/**
 * Plays a live stream from its live edge (and by itself: a viewer opened it to watch it now).
 * @param {Video} v
 */
async function startLive(v) {
  state.phase = 'live';
  let playback;
  try {
    playback = await fetchStream();
  } catch (err) {
    if (err.status === 404) {
      showNotFound(err);
      return;
    }
    showWaiting(liveStateOf(v) || 'live'); // not out after all: the next look tries again
    return;
  }
  liveBar.hideWaiting();
  stats.liveStarts += 1;
  play(v, playback || {}, null);
  liveBar.follow(liveStateOf(v) || 'live');
  liveBar.autoplay();
  poll(state.liveOpen ? LIVE_POLL_MS : POLL_MS);
}

/**
 * Nothing to play yet: "Starting soon" (or what the broadcast is doing) over the player.
 * @param {'idle' | 'live' | 'ended'} liveState
 */
function showWaiting(liveState) {
  state.phase = 'waiting';
  playerError.hidden = true;
  processing.hidden = true;
  hideNote();
  wrap.classList.add('inactive');
  liveBar.stop();
  liveBar.showWaiting(liveState);
  stats.sawWaiting = true;
  poll(state.liveOpen ? LIVE_POLL_MS : POLL_MS);
}

/**
 * The live stream is now its replay (a VOD): the player moves onto it where the viewer was in
 * the broadcast, the chat becomes its replay.
 * @param {Video} v
 */
async function startReplay(v) {
  state.wasLive = true;
  liveBar.hideWaiting();
  liveBar.stop();
  if (state.chat) state.chat.toReplay();
  if (!state.player) {
    await startReady(v); // it was waiting: the replay from the start
    return;
  }
  state.phase = 'ready';
  let playback;
  try {
    playback = await fetchPlayback();
  } catch {
    state.phase = 'live'; // keep playing what there is; the next look tries again
    poll(POLL_MS);
    return;
  }
  stats.replayReloads += 1;
  play(v, playback || {}, state.player.broadcastPosition(state.startedAt));
}

/**
 * Starts the player, or (after a retried failure) loads the new stream in the one there is.
 * @param {Video} v
 * @param {import('./player.js').Playback} playback
 * @param {number | null} startAt
 */
function play(v, playback, startAt) {
  processing.hidden = true;
  playerError.hidden = true;
  wrap.classList.remove('inactive');
  if (state.player) {
    state.player.reload(playback, startAt);
    return;
  }
  state.player = startPlayer(v, playback, startAt, { video, fetchPlayback: fetchStream, showError, live: isLiveStream(v) });
  startQoeOnce(v, playback);
  // A start asked for by the link (?t=) is not a resumed one: no "Resumed at" note.
  const resumedAt = linkedStart !== null && startAt === linkedStart ? null : startAt;
  trackPlayback({ id, video, startAt: resumedAt, state, stats, showViews, saving: () => state.phase !== 'live' });
}

let qoeStarted = false;

/**
 * The QoE beacons of this page's view (qoe.js), when the player starts with a stream: once per
 * page, whatever sources the player loads after.
 * @param {Video} v
 * @param {import('./player.js').Playback} playback
 */
function startQoeOnce(v, playback) {
  if (qoeStarted || !playback.url) return;
  qoeStarted = true;
  const live = isLiveStream(v);
  // Live streams start by themselves (watch-live.js); other videos when the viewer says.
  startQoe({ video, videoId: id, live, autoplay: live, getHls: () => (window.kinoPlayer && window.kinoPlayer.hls) || null });
}

/** The full ladder is published: the player moves to it where it is (quality back to Auto). */
async function upgrade() {
  state.phase = 'ready';
  hideNote();
  let playback;
  try {
    playback = await fetchPlayback();
  } catch {
    state.phase = 'early'; // keep playing what there is; the next look tries again
    poll(POLL_MS);
    return;
  }
  stats.upgrades += 1;
  if (state.player && playback && playback.url) state.player.reload(playback);
}

/** @param {Video} v */
function showProcessing(v) {
  state.phase = 'processing';
  playerError.hidden = true;
  hideNote();
  showProgress(v.progress);
  processing.hidden = false;
  wrap.classList.add('inactive');
  stats.sawProcessing = true;
  poll(state.liveOpen ? LIVE_POLL_MS : POLL_MS);
}

/** @param {Video} v */
function showFailed(v) {
  state.phase = 'failed';
  clearTimeout(pollTimer);
  hideNote();
  if (state.player) state.player.stop();
  video.pause();
  if (v.poster_url) video.poster = v.poster_url;
  showError(`Processing failed: ${v.error || 'unknown error'}`);
  if (v.can_edit === true) playerError.append(retryControls());
  playerBar.hidden = !v.download_url;
}

/** "Retry processing" (owner and admins), then the processing state. */
function retryControls() {
  return retryBox(id, {
    onRetried: (fresh) => {
      looks += 1; // an answer to an earlier look is out of date
      state.failedError = null;
      if (fresh) enqueue(fresh);
      else load();
    },
    onStale: () => load(), // no longer failed: show what it is now
  });
}

let pollTimer = null;
function poll(ms) {
  clearTimeout(pollTimer);
  pollTimer = setTimeout(() => {
    if (state.phase === 'processing') stats.readyVia = 'poll';
    else if (state.phase === 'early') stats.upgradedVia = 'poll';
    load();
  }, ms);
}

function showProgress(progress) {
  const p = percent(progress);
  document.getElementById('processing-bar').style.width = `${p}%`;
  document.getElementById('processing-text').textContent = `${Math.floor(p)}%`;
  if (state.phase === 'early') {
    note.textContent = `Still processing: more qualities are on the way (${Math.floor(p)}%)`;
    note.hidden = false;
  }
}

function hideNote() {
  note.hidden = true;
  note.textContent = '';
}

/**
 * Transcoding news over the live socket: progress moves the bar (or the note under a player
 * that plays while the rest is encoded); playable, ready or failed loads the video at once
 * instead of at the next poll; a (re)opened socket may have missed news, so it looks once
 * ('live.open', 'live.closed': the socket's state).
 * @param {{ type: string, progress?: number, error?: string }} msg
 */
function onJobEvent(msg) {
  if (msg.type === 'live.open') state.liveOpen = true;
  const following = state.phase === 'processing' || state.phase === 'early';
  if (msg.type === 'live.closed') {
    state.liveOpen = false;
    if (following) poll(POLL_MS);
    return;
  }
  if (!following) return;
  stats.jobEvents += 1;
  if (msg.type === 'job.progress') {
    if (Number.isFinite(msg.progress)) showProgress(msg.progress);
    return;
  }
  if (state.phase === 'early' && msg.type === 'video.playable') return; // already playing
  if (msg.type === 'video.failed') state.failedError = typeof msg.error === 'string' ? msg.error : '';
  const via = msg.type === 'live.open' ? 'reopen' : 'event';
  if (state.phase === 'processing') stats.readyVia = via;
  else stats.upgradedVia = via;
  clearTimeout(pollTimer);
  load();
}

/**
 * Live-stream news: the broadcast started or stopped (`live.state`: the badge follows at once),
 * its first segments are out (`video.playable`), its replay is ready (`video.ready`). Each makes
 * the page look at the video again.
 * @param {{ type: string, state?: string }} msg
 */
function onLiveEvent(msg) {
  if (msg.type === 'live.state' && liveStateOf({ status: msg.state })) {
    document.getElementById('status').replaceChildren(liveBadge(msg.state));
  }
  if (state.phase !== 'waiting' && state.phase !== 'live') return;
  stats.liveEvents += 1;
  clearTimeout(pollTimer);
  load();
}

// ---------------------------------------------------------------------------------------------
// Around the player: views, "More from", comments, chat, resume and watch progress.

/**
 * phase: null (not looked yet), 'processing' (not playable yet), 'early' (playing while the
 * rest is processed), 'ready' (playing the full ladder), 'failed', 'retry' (the stream could not
 * be had: looking again), 'gone' (no longer visible while playing), 'waiting' (a live stream
 * with nothing to play yet), 'live' (playing a live stream).
 * @type {{ user: any, video: Video | null, comments: any, chat: Awaited<ReturnType<typeof initChat>>, extrasStarted: boolean, phase: string | null, liveOpen: boolean, player: import('./player.js').PlayerControl | null, failedError: string | null, startedAt: string | null, wasLive: boolean }}
 * failedError: the reason of a `video.failed` this page heard (then a 404 means "failed").
 * startedAt: when the live stream's broadcast began; wasLive: the video is (the replay of) a
 * live stream.
 */
const state = {
  user: null, video: null, comments: null, chat: null, extrasStarted: false, phase: null, liveOpen: false, player: null, failedError: null,
  startedAt: null, wasLive: false,
};
// For tests and debugging: what this page did about progress, views and transcoding news.
const stats = {
  playedSeconds: 0, viewPing: null, resumedAt: null, saves: 0, sawProcessing: false, jobEvents: 0, readyVia: null,
  // Played while processing (a first rendition); full-ladder reloads; what made the latest look
  // while playing early (poll, event, reopen).
  earlyStart: false, upgrades: 0, upgradedVia: null,
  // Live streams: waited for the broadcast, players started on the live edge, moves onto the
  // replay, live-stream events heard.
  sawWaiting: false, liveStarts: 0, replayReloads: 0, liveEvents: 0,
  // Comment timestamps clicked (seeks without a reload).
  timestampSeeks: 0,
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
  // Live streams and their replays have a chat; uploads (whose source has bytes) do not.
  if (isLiveStream(v) || !(Number(v.source_bytes) > 0)) startChat(v);
  live.start();
}

/**
 * The chat panel (subscribed to the live channel before it starts); absent for a video that
 * never was a live stream.
 * @param {Video} v
 */
function startChat(v) {
  initChat({ videoId: id, video, user: state.user, owner: v.owner || null, live, replay: v.status === 'ready' }).then((chat) => {
    state.chat = chat;
    if (!chat) return;
    state.wasLive = true;
    document.getElementById('download').hidden = true;
    if (state.video && state.video.status === 'ready') chat.toReplay();
  }, () => {});
}


// The live channel: one socket for the comments, transcoding news and the viewer count. It is
// started with the comments, once the video is known.
const live = liveChannel(id);
live.onState((liveState) => {
  if (liveState === 'open') onJobEvent({ type: 'live.open' }); // news sent before this moment was missed: look again
  else if (liveState === 'closed') onJobEvent({ type: 'live.closed' }); // no news until it reopens: poll meanwhile
  if ((liveState === 'open' || liveState === 'closed') && (state.phase === 'waiting' || state.phase === 'live')) {
    if (liveState === 'open') load();
    else poll(POLL_MS);
  }
});
for (const type of ['live.state', 'video.playable', 'video.ready']) live.on(type, onLiveEvent);
for (const type of ['job.progress', 'video.playable', 'video.ready', 'video.failed']) live.on(type, onJobEvent); // from whichever worker runs the job
live.on('viewers', (msg) => {
  if (Number.isFinite(msg.count)) showViewers(msg.count);
});

// Timestamps in comments ("1:23", timecode.js) seek the player where it is, without a reload
// (their href, /watch/ID?t=…, is for opening them elsewhere).
document.addEventListener('click', (event) => {
  const link = event.target instanceof Element ? event.target.closest('a.timestamp[data-t]') : null;
  if (!link || event.button !== 0 || event.ctrlKey || event.metaKey || event.shiftKey || event.altKey) return;
  const t = Number(/** @type {HTMLElement} */ (link).dataset.t);
  if (!state.player || !Number.isFinite(t) || wrap.classList.contains('inactive')) return; // nothing playing: follow the link
  event.preventDefault();
  video.currentTime = t;
  if (video.paused) video.play().catch(() => {});
  stats.timestampSeeks += 1;
  wrap.scrollIntoView({ behavior: 'smooth', block: 'nearest' });
});

initShare({ id, video, getVideo: () => state.video });

// The header's session check runs beside the first load; if it had to renew the session, the
// video's details (owner-only fields such as can_edit) are read again.
const startGeneration = sessionGeneration();
initHeader().then((user) => {
  if (state.comments && user && !state.user) {
    state.user = user;
    state.comments.setUser(user);
    if (state.chat) state.chat.setUser(user);
  }
  if (infoShown && sessionGeneration() !== startGeneration) {
    fetchVideo().then((v) => {
      if (state.phase === 'failed') {
        enqueue(v); // its owner, now known: "Retry processing"
        return;
      }
      showInfo(v);
      startExtras(v);
    }, () => {});
  }
});
load();
