// @ts-check
// Around the watch page's player: where a signed-in viewer resumes, their watch progress (saved
// every ~10 s while playing, on pause, and when the page is hidden or left) and the view count
// (one ping after 10 s of actual playback).
import { api, currentUser, getJSON } from './api.js';
import { el } from './dom.js';
import { formatDuration } from './format.js';

const RESUME_MIN_S = 5; // resume only past this…
const RESUME_MAX_FRACTION = 0.95; // …and before this share of the video (then it counts as watched)
const RESUME_WAIT_MS = 1500; // the player does not wait longer than this for the saved position
const SAVE_EVERY_MS = 10_000; // while playing
const VIEW_AFTER_S = 10; // of actual playback, once per page view

/** The saved position to resume from (signed-in viewers), or null. Never waits long. */
export async function resumePosition(id, v) {
  const user = await currentUser().catch(() => null);
  if (!user) return null;
  const ask = getJSON(`/api/videos/${encodeURIComponent(id)}/progress`).catch(() => null);
  const saved = await Promise.race([ask, new Promise((r) => setTimeout(() => r(null), RESUME_WAIT_MS))]);
  if (!saved || !Number.isFinite(saved.position)) return null;
  const duration = Number(saved.duration) > 0 ? Number(saved.duration) : Number(v.duration);
  if (!(duration > 0)) return null;
  return saved.position > RESUME_MIN_S && saved.position < RESUME_MAX_FRACTION * duration ? saved.position : null;
}

/**
 * @param {HTMLVideoElement} video
 * @param {number} at
 */
function showResumed(video, at) {
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
 * page is hidden or left) and the view count (one ping after 10 s of actual playback). Call
 * once per page: it listens to the <video> element, whatever source it plays.
 * @param {object} ctx
 * @param {string} ctx.id the video's id
 * @param {HTMLVideoElement} ctx.video
 * @param {number | null} ctx.startAt where playback was asked to start (s; null: the start)
 * @param {{ user: any }} ctx.state the page's state: `user` (null: signed out, nothing saved)
 * @param {Record<string, any>} ctx.stats window.kinoWatch (playedSeconds, viewPing, resumedAt, saves)
 * @param {(views: number) => void} ctx.showViews
 * @param {() => boolean} [ctx.saving] whether the position is worth saving now (not while a live
 *   stream plays: its place is the live edge); default always
 */
export function trackPlayback({ id, video, startAt, state, stats, showViews, saving = () => true }) {
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
    // A source being reloaded (player.js) sits at 0 for a moment: that is not where the viewer is.
    if (!started || !state.user || (window.kinoPlayer && window.kinoPlayer.reloading) || !saving()) return;
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
      showResumed(video, startAt);
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
