// @ts-check
// Where a live stream is in its life, as the pages tell it: idle ("Starting soon"), live
// ("LIVE"), ended ("Ended"; a reconnect may resume it, else its replay follows). A live stream is
// a video whose `status` is one of those three and whose `live` field describes the broadcast;
// once replayed it is a normal ready video (`live` null).
import { el } from './dom.js';

/**
 * The broadcast of a live stream as GET /api/videos/{id} describes it.
 * @typedef {{ state: 'idle' | 'live' | 'ended', started_at?: string | null, viewers?: number, latency_hint_secs?: number }} LiveInfo
 */

/** The statuses of a live stream that is not (yet) its replay. */
export const LIVE_STATUSES = ['idle', 'live', 'ended'];

/** @type {Record<string, string>} */
const LABELS = { idle: 'Starting soon', live: 'LIVE', ended: 'Ended' };

/** @type {Record<string, string>} */
const TITLES = {
  idle: 'This live stream has not started yet',
  live: 'Broadcasting now',
  ended: 'The broadcast has stopped; its replay follows',
};

/**
 * True for a live stream not yet replayed (idle, live or ended).
 * @param {{ status?: string, live?: LiveInfo | null } | null | undefined} video
 */
export function isLiveStream(video) {
  return Boolean(video && (video.live || LIVE_STATUSES.includes(video.status)));
}

/**
 * 'idle', 'live' or 'ended' for a live stream not yet replayed, else null.
 * @param {{ status?: string, live?: LiveInfo | null } | null | undefined} video
 * @returns {'idle' | 'live' | 'ended' | null}
 */
export function liveStateOf(video) {
  if (!video) return null;
  const state = video.live && video.live.state;
  if (state && LIVE_STATUSES.includes(state)) return state;
  return LIVE_STATUSES.includes(video.status) ? /** @type {'idle' | 'live' | 'ended'} */ (video.status) : null;
}

/**
 * The label of a live state ("LIVE", "Starting soon", "Ended"), or null for another status.
 * @param {string} state
 */
export function liveLabel(state) {
  return LABELS[state] || null;
}

/**
 * The badge of a live state: red "LIVE", "Starting soon" or "Ended".
 * @param {string} state
 * @param {Record<string, any>} [props]
 */
export function liveBadge(state, props = {}) {
  return el('span', {
    class: `badge badge-${LABELS[state] ? state : 'ended'}`,
    text: LABELS[state] || state,
    title: TITLES[state] || null,
    'data-live-state': state,
    ...props,
  });
}

/**
 * "3 watching" for a live stream's viewer count ('' when unknown or none).
 * @param {unknown} n
 */
export function formatWatching(n) {
  const v = Number(n);
  return Number.isFinite(v) && v > 0 ? `${Math.floor(v).toLocaleString()} watching` : '';
}
