// @ts-check
// Positions in a video as people write them: the `?t=` of a shared link ("1m30s", "90",
// "1h2m3s") and timestamps in comments ("1:23", "1:02:03"), which become links that seek the
// player. Comment text is user input: it only ever becomes text nodes and <a> elements built
// here (no HTML parsing).
import { el } from './dom.js';

const MAX_S = 7 * 24 * 3600; // a week: anything longer is not a position in a video

/**
 * A `?t=` value → seconds, or null when it is not one. Takes "90", "90s", "1m30s", "1h2m3s",
 * "1h", "2m", and clock forms "1:30", "1:02:03".
 * @param {string | null | undefined} value
 * @returns {number | null}
 */
export function parseStartTime(value) {
  if (typeof value !== 'string') return null;
  const text = value.trim().toLowerCase();
  if (!text) return null;
  let seconds = null;
  let m;
  if ((m = /^(\d+(?:\.\d+)?)s?$/.exec(text))) {
    seconds = Number(m[1]);
  } else if ((m = /^(?:(\d+)h)?(?:(\d+)m)?(?:(\d+(?:\.\d+)?)s)?$/.exec(text))) {
    if (m[1] === undefined && m[2] === undefined && m[3] === undefined) return null;
    seconds = Number(m[1] || 0) * 3600 + Number(m[2] || 0) * 60 + Number(m[3] || 0);
  } else {
    seconds = parseClock(text);
  }
  return seconds !== null && Number.isFinite(seconds) && seconds >= 0 && seconds <= MAX_S ? seconds : null;
}

/**
 * "1:23" → 83, "1:02:03" → 3723 (minutes and seconds under 60 after the first field); null
 * when not a clock time.
 * @param {string} text
 * @returns {number | null}
 */
export function parseClock(text) {
  const m = /^(?:(\d{1,2}):)?(\d{1,2}):(\d{2})$/.exec(text);
  if (!m) return null;
  const h = m[1] === undefined ? 0 : Number(m[1]);
  const min = Number(m[2]);
  const s = Number(m[3]);
  if (s >= 60 || (m[1] !== undefined && min >= 60)) return null;
  return h * 3600 + min * 60 + s;
}

/**
 * Seconds → the `?t=` form: 90 → "1m30s", 5 → "5s", 3723 → "1h2m3s" (whole seconds, down).
 * @param {number} seconds
 */
export function formatStartTime(seconds) {
  const total = Number.isFinite(seconds) && seconds > 0 ? Math.floor(seconds) : 0;
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  return `${h ? `${h}h` : ''}${m ? `${m}m` : ''}${s || (!h && !m) ? `${s}s` : ''}`;
}

/**
 * The start position a page's address asks for (`?t=`), or null.
 * @param {string} [search] location.search by default
 */
export function startTimeFromUrl(search = location.search) {
  return parseStartTime(new URLSearchParams(search).get('t'));
}

// "1:23", "12:34", "1:02:03" standing alone (not part of a longer run of digits, colons or
// letters: "10:30am", "1:2:3:4" and "a1:23" are left alone).
const TIMESTAMP = /(?<![\w:.])(?:\d{1,2}:)?\d{1,2}:\d{2}(?![\w:]|\.\d)/g;

/**
 * Comment text as nodes: plain text, with each timestamp ("1:23", "1:02:03") a link to that
 * position (`hrefFor(seconds)`, and `data-t` holding the seconds for a click handler that seeks
 * without reloading). A timestamp past `duration` (when known) stays text.
 * @param {string} text
 * @param {{ hrefFor: (seconds: number) => string, duration?: number | null }} options
 * @returns {Array<string | HTMLAnchorElement>}
 */
export function linkTimestamps(text, { hrefFor, duration = null }) {
  /** @type {Array<string | HTMLAnchorElement>} */
  const out = [];
  let last = 0;
  for (const match of text.matchAll(TIMESTAMP)) {
    const seconds = parseClock(match[0]);
    if (seconds === null) continue;
    if (Number.isFinite(duration) && duration > 0 && seconds > Math.ceil(duration)) continue;
    if (match.index > last) out.push(text.slice(last, match.index));
    out.push(el('a', { class: 'timestamp', href: hrefFor(seconds), 'data-t': String(seconds), text: match[0] }));
    last = match.index + match[0].length;
  }
  if (last < text.length) out.push(text.slice(last));
  return out;
}
