// @ts-check
// The embed page: /embed/{id}, the player alone (player.js with player-ui.js's controls, as on
// the watch page), filling the frame another site puts it in; the title links to the watch page
// (in a new tab). `?t=1m30s` starts playback there. A video still being processed, or a live
// stream waiting for its broadcast, says so and plays once it can (a video playing while it is
// processed moves onto its full ladder when ready). Any other parameters of
// the address (a grant for a private video) are passed on to the API requests.
import { getJSON } from './api.js';
import { isLiveStream, liveStateOf } from './live-status.js';
import { startPlayer } from './player.js';
import { mountPlayer } from './player-ui.js';
import { startQoe } from './qoe.js';
import { startTimeFromUrl } from './timecode.js';

const WAIT_POLL_MS = 5000; // not playable yet: look again after
const UPGRADE_POLL_MS = 10_000; // playing while processed: look for the full ladder after

const id = decodeURIComponent(location.pathname.replace(/\/+$/, '').split('/').pop() || '');
const video = /** @type {HTMLVideoElement} */ (document.getElementById('player'));
const wrap = video.closest('.player-wrap');
const errorBox = document.getElementById('player-error');
const waitBox = document.getElementById('player-wait');
const heading = document.getElementById('embed-heading');
const titleLink = /** @type {HTMLAnchorElement} */ (document.getElementById('embed-title'));
const startAt = startTimeFromUrl();

/** The address's parameters other than `t`, for the API requests (e.g. a grant). */
const passOn = (() => {
  const params = new URLSearchParams(location.search);
  params.delete('t');
  const text = params.toString();
  return text ? `?${text}` : '';
})();

/** @type {import('./player.js').PlayerControl | null} */
let player = null;
const ui = mountPlayer(video, { topChrome: heading, active: () => player !== null });

/** @param {string} message */
function showError(message) {
  waitBox.hidden = true;
  wrap.classList.add('inactive');
  errorBox.textContent = message;
  errorBox.hidden = false;
}

/**
 * The message for an API refusal that will not change by asking again (null: any other
 * error). 404: no such video, or a private one without a valid grant; 403: a genuine grant
 * (a private video's embed link) that expired or whose links the owner revoked.
 * @param {{ status?: number }} err
 */
function refusal(err) {
  if (err.status === 404) return 'This video is unavailable.';
  if (err.status === 403) return 'This embed link no longer works: it expired, or the video’s owner revoked it.';
  return null;
}

/** @param {string} message */
function showWait(message) {
  waitBox.textContent = message;
  waitBox.hidden = false;
}

function fetchVideo() {
  return getJSON(`/api/videos/${encodeURIComponent(id)}${passOn}`);
}

function fetchPlayback() {
  return getJSON(`/api/videos/${encodeURIComponent(id)}/playback${passOn}`);
}

/** @param {import('./cards.js').Video} v */
function showTitle(v) {
  const title = v.title || 'Untitled';
  document.title = `${title} · Kino`;
  titleLink.textContent = title;
  const t = new URLSearchParams(location.search).get('t');
  titleLink.href = `/watch/${encodeURIComponent(id)}${startAt !== null ? `?t=${encodeURIComponent(t)}` : ''}`;
  titleLink.title = `Watch “${title}” on Kino`;
}

/** @param {import('./cards.js').Video} v */
function playable(v) {
  return v.status === 'ready' || v.playable === true;
}

async function load() {
  if (!id) {
    showError('No video id in the address.');
    return;
  }
  let v;
  try {
    v = await fetchVideo();
  } catch (err) {
    const refused = refusal(err);
    if (refused) showError(refused);
    else {
      showError(`Could not load the video: ${err.message} Retrying…`);
      setTimeout(load, WAIT_POLL_MS);
    }
    return;
  }
  showTitle(v);
  if (v.status === 'failed') {
    showError('This video could not be processed.');
    return;
  }
  const live = isLiveStream(v);
  if (!playable(v)) {
    const state = live ? liveStateOf(v) : null;
    showWait(state === 'idle' ? 'Waiting for the broadcast to start…' : live ? 'The broadcast is starting…' : 'This video is still being processed…');
    setTimeout(load, WAIT_POLL_MS);
    return;
  }
  let playback;
  try {
    playback = await fetchPlayback();
  } catch (err) {
    const refused = refusal(err);
    if (refused) showError(refused);
    else if (err.status === 409) {
      showWait('This video is still being processed…');
      setTimeout(load, WAIT_POLL_MS);
    } else showError(`Could not load the video: ${err.message}`);
    return;
  }
  waitBox.hidden = true;
  errorBox.hidden = true;
  wrap.classList.remove('inactive');
  ui.setStoryboard(!live && typeof v.storyboard === 'string' ? v.storyboard : null);
  // A video still being processed plays from its start (its playlist grows), not its newest part.
  const from = live ? null : startAt !== null ? startAt : v.status === 'ready' ? null : 0;
  player = startPlayer(v, playback || {}, from, { video, fetchPlayback, showError, live });
  startQoe({ video, videoId: id, live, autoplay: false, player: 'kino-embed', getHls: () => (window.kinoPlayer && window.kinoPlayer.hls) || null });
  if (!live && v.status !== 'ready') setTimeout(upgrade, UPGRADE_POLL_MS);
}

/**
 * Playing a video while it is processed (its first rendition): once it is ready, the player
 * moves onto the full ladder where it is.
 */
async function upgrade() {
  try {
    const v = await fetchVideo();
    if (v.status === 'ready') {
      ui.setStoryboard(typeof v.storyboard === 'string' ? v.storyboard : null);
      player.reload(await fetchPlayback());
      return;
    }
    if (v.status === 'failed') return; // it plays what there is
  } catch {
    // passing trouble: look again
  }
  setTimeout(upgrade, UPGRADE_POLL_MS);
}

load();
