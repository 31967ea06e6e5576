// @ts-check
// Video cards (library, search results, user pages), status/privacy badges, links to users, and
// the pager under a grid of cards.
import { el } from './dom.js';
import { formatDate, formatDuration, formatViews, percent } from './format.js';
import { formatWatching, isLiveStream, liveBadge, liveLabel, liveStateOf } from './live-status.js';

/** What a live stream's card shows before it has a poster. */
const LIVE_PLACEHOLDERS = { idle: 'Not started yet', live: 'Broadcasting', ended: 'Replay on the way' };

/**
 * A video as the API describes it (only the fields the pages read).
 * @typedef {{
 *   id: string, title?: string, description?: string, status: string, privacy?: string,
 *   progress?: number, error?: string | null, duration?: number | null, views?: number,
 *   owner?: string, created_at?: string, poster_url?: string | null, download_url?: string | null,
 *   tags?: string[], can_edit?: boolean, comments_enabled?: boolean,
 *   playable?: boolean, hls_url?: string | null, media?: { hls?: string | null } | null,
 *   renditions?: Array<{ name: string, width?: number | null, height?: number | null }>,
 *   source_bytes?: number, live?: import('./live-status.js').LiveInfo | null,
 *   storyboard?: string | null,
 * }} Video
 * `playable`: watchable now — ready, or processing with a first rendition published (then
 * `renditions` lists what is published so far and the playlist grows until ready).
 * `hls_url` (or `media.hls`): the multivariant playlist, null while it may not be played.
 * `live`: for a live stream until it becomes its replay (then `status` is idle, live or ended).
 * `storyboard`: the WebVTT thumbnails track of the seek bar's previews (signed like the stream),
 * absent or null when there is none.
 */

/**
 * Status badge element for a video.
 * @param {Video} video
 */
export function statusBadge(video) {
  if (liveLabel(video.status)) return liveBadge(video.status);
  /** @type {Record<string, string>} */
  const labels = { processing: 'Processing', ready: 'Ready', failed: 'Failed' };
  return el('span', { class: `badge badge-${video.status}`, text: labels[video.status] || video.status });
}

/**
 * Privacy badge for a non-public video (null for public ones).
 * @param {Video} video
 */
export function privacyBadge(video) {
  /** @type {Record<string, string>} */
  const labels = { unlisted: 'Unlisted', private: 'Private' };
  const privacy = video && video.privacy;
  if (!privacy || privacy === 'public') return null;
  return el('span', {
    class: `badge badge-${labels[privacy] ? privacy : 'private'}`,
    text: labels[privacy] || privacy,
    title: privacy === 'unlisted' ? 'Anyone with the link can watch' : 'Only the owner (and admins) can watch',
  });
}

/**
 * "/u/NAME" for a username.
 * @param {string} name
 */
export function userHref(name) {
  return `/u/${encodeURIComponent(name)}`;
}

/**
 * A video card (library, search results, user pages). `options.progress`: {position, duration}
 * draws how much of it was watched.
 * @param {Video} video
 * @param {{ progress?: { position: number, duration?: number | null }, owner?: boolean, readyBadge?: boolean, extra?: Node }} [options]
 * @returns {HTMLElement}
 */
export function videoCard(video, options = {}) {
  const ready = video.status === 'ready';
  const liveState = isLiveStream(video) ? liveStateOf(video) : null;
  const thumb = el('div', { class: 'thumb' });
  if (video.poster_url) {
    thumb.append(el('img', { src: video.poster_url, alt: '', loading: 'lazy', decoding: 'async' }));
  } else {
    const placeholder = liveState ? LIVE_PLACEHOLDERS[liveState] : video.status === 'failed' ? 'No preview' : 'Processing…';
    thumb.append(el('div', { class: 'placeholder', text: placeholder }));
  }
  if (liveState) thumb.append(liveBadge(liveState, { class: `badge badge-${liveState} thumb-live` }));
  const duration = ready ? formatDuration(video.duration) : '';
  if (duration) thumb.append(el('span', { class: 'duration', text: duration }));
  const watched = options.progress;
  if (watched) {
    const total = Number(watched.duration) || Number(video.duration) || 0;
    const p = total > 0 ? Math.max(0, Math.min(100, (Number(watched.position) / total) * 100)) : 0;
    const fill = el('span');
    fill.style.width = `${p}%`;
    thumb.append(el('div', { class: 'watched', title: `Watched ${formatDuration(Number(watched.position))} of ${formatDuration(total)}` }, fill));
  }

  const views = liveState === 'live' ? formatWatching(video.live && video.live.viewers) : formatViews(video.views);
  const body = el('div', { class: 'card-body' },
    el('h2', { class: 'card-title', text: video.title || 'Untitled', title: video.title || 'Untitled' }),
    el('div', { class: 'card-meta' },
      ready || liveState ? null : statusBadge(video),
      privacyBadge(video),
      options.owner !== false && video.owner ? el('span', { class: 'card-owner', text: video.owner }) : null,
      views ? el('span', { class: 'card-views', text: views }) : null,
      el('span', { class: 'card-date', text: formatDate(video.created_at) })));
  if (ready && options.readyBadge) body.querySelector('.card-meta').prepend(statusBadge(video));
  if (video.status === 'processing') {
    const p = percent(video.progress);
    const fill = el('span');
    fill.style.width = `${p}%`;
    body.append(
      el('div', { class: 'bar', role: 'progressbar', 'aria-valuemin': '0', 'aria-valuemax': '100', 'aria-valuenow': String(Math.round(p)) }, fill),
      el('span', { class: 'card-meta', text: `${Math.floor(p)}%` }));
  } else if (video.status === 'failed') {
    body.append(el('p', { class: 'card-error', text: video.error || 'Processing failed.' }));
  }
  if (options.extra) body.append(options.extra);

  const attrs = { class: `card${liveState ? ' live-card' : ''}`, 'data-id': video.id, 'data-status': video.status };
  return ready || liveState ? el('a', { ...attrs, href: `/watch/${encodeURIComponent(video.id)}` }, thumb, body) : el('div', attrs, thumb, body);
}

/**
 * A video's JSON with its URLs reduced to whether they exist: the signed URLs of non-public
 * videos change on every answer, which must not rebuild a card (poster flicker).
 * @param {Video} video
 */
export function stableKey(video) {
  return JSON.stringify(video, (key, value) => (/_url$/.test(key) ? Boolean(value) : value));
}

/**
 * Fills a pager (<nav> with #newer/#older-like links and a page label): `hrefFor(n)` builds the
 * address of page n.
 * @param {HTMLElement | null} nav
 * @param {{ page: number, perPage: number, total: number, hrefFor: (n: number) => string, label?: (page: number, pages: number) => string }} options
 */
export function fillPager(nav, { page, perPage, total, hrefFor, label }) {
  if (!nav) return;
  const pages = Math.max(1, Math.ceil((Number(total) || 0) / (perPage || 1)));
  nav.hidden = pages <= 1;
  const [prev, next] = nav.querySelectorAll('a');
  const info = nav.querySelector('span');
  if (prev) {
    prev.hidden = page <= 1;
    prev.href = hrefFor(Math.max(1, page - 1));
  }
  if (next) {
    next.hidden = page >= pages;
    next.href = hrefFor(page + 1);
  }
  if (info) info.textContent = label ? label(page, pages) : `Page ${page} of ${pages}`;
}

