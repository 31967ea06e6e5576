// @ts-check
// Formatting of durations, sizes, counts and dates for display (no DOM).

/**
 * Seconds → "m:ss", or "h:mm:ss" from one hour on; "" when unknown. A duration under a second
 * (but not zero) shows as "0:01", not "0:00".
 * @param {unknown} seconds
 */
export function formatDuration(seconds) {
  if (typeof seconds !== 'number' || !Number.isFinite(seconds) || seconds < 0) return '';
  const total = seconds > 0 && seconds < 1 ? 1 : Math.round(seconds);
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = String(total % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${s}` : `${m}:${s}`;
}

/**
 * A rendition's label by its short side, as players name them: "720p" for 1280×720 and for a
 * portrait 720×1280 alike; "" when neither size is known.
 * @param {number | null | undefined} width
 * @param {number | null | undefined} height
 */
export function renditionLabel(width, height) {
  const sides = [width, height].filter((n) => typeof n === 'number' && Number.isFinite(n) && n > 0);
  return sides.length ? `${Math.min(...sides)}p` : '';
}

/**
 * Bytes → "12.3 MB".
 * @param {number} bytes
 */
export function formatBytes(bytes) {
  if (!Number.isFinite(bytes) || bytes < 0) return '';
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let value = bytes;
  let i = 0;
  while (value >= 1000 && i < units.length - 1) {
    value /= 1000;
    i += 1;
  }
  return `${i === 0 ? value : value.toFixed(value < 10 ? 1 : 0)} ${units[i]}`;
}

/**
 * Bits per second → "2.1 Mbit/s" or "850 kbit/s".
 * @param {number} bps
 */
export function formatBitrate(bps) {
  if (!Number.isFinite(bps) || bps <= 0) return '';
  if (bps >= 1e6) return `${(bps / 1e6).toFixed(1)} Mbit/s`;
  return `${Math.round(bps / 1e3)} kbit/s`;
}

/**
 * ISO date → short local date.
 * @param {string | null | undefined} iso
 */
export function formatDate(iso) {
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? '' : d.toLocaleDateString(undefined, { year: 'numeric', month: 'short', day: 'numeric' });
}

/**
 * 1234 → "1,234" (locale grouping); "" when not a count.
 * @param {unknown} n
 */
export function formatCount(n) {
  const v = Number(n);
  return Number.isFinite(v) && v >= 0 ? Math.floor(v).toLocaleString() : '';
}

/**
 * A view count → "1 view", "1,234 views"; "" when unknown.
 * @param {unknown} n
 */
export function formatViews(n) {
  const text = formatCount(n);
  if (!text) return '';
  return Math.floor(Number(n)) === 1 ? '1 view' : `${text} views`;
}

/**
 * ISO date → "just now", "5 min ago", "3 h ago", "2 days ago", else a short date.
 * @param {string | null | undefined} iso
 */
export function timeAgo(iso) {
  const t = new Date(iso).getTime();
  if (Number.isNaN(t)) return '';
  const s = Math.max(0, (Date.now() - t) / 1000);
  if (s < 45) return 'just now';
  if (s < 3600) return `${Math.max(1, Math.round(s / 60))} min ago`;
  if (s < 86400) return `${Math.round(s / 3600)} h ago`;
  if (s < 7 * 86400) {
    const d = Math.round(s / 86400);
    return `${d} day${d === 1 ? '' : 's'} ago`;
  }
  return formatDate(iso);
}

/**
 * Clamps a progress value to 0..100.
 * @param {unknown} progress
 */
export function percent(progress) {
  const p = Number(progress);
  return Number.isFinite(p) ? Math.max(0, Math.min(100, p)) : 0;
}
