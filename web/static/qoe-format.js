// @ts-check
// How the Analytics page writes QoE figures (docs/qoe.md): milliseconds, ratios as percentages,
// watch time, scores; "—" for a figure the report has no value for (null). No DOM.

export const NONE = '—';

/** @param {unknown} x */
const isNum = (x) => typeof x === 'number' && Number.isFinite(x);

/**
 * Milliseconds → "850 ms", "1.25 s", "12.5 s".
 * @param {unknown} ms
 */
export function formatMs(ms) {
  if (!isNum(ms)) return NONE;
  const v = /** @type {number} */ (ms);
  if (v < 1000) return `${Math.round(v)} ms`;
  return `${(v / 1000).toFixed(v < 10_000 ? 2 : 1)} s`;
}

/**
 * A ratio 0–1 → "0.42 %", "3.1 %", "27.5 %".
 * @param {unknown} ratio
 */
export function formatRatio(ratio) {
  if (!isNum(ratio)) return NONE;
  const p = /** @type {number} */ (ratio) * 100;
  if (p === 0) return '0 %';
  return `${p.toFixed(p < 1 ? 2 : 1)} %`;
}

/**
 * Seconds of watch time → "45 s", "12 min", "3.4 h", "1,234 h".
 * @param {unknown} secs
 */
export function formatWatchTime(secs) {
  if (!isNum(secs)) return NONE;
  const s = /** @type {number} */ (secs);
  if (s < 60) return `${Math.round(s)} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${String(Math.round(s % 60)).padStart(2, '0')} s`;
  const h = s / 3600;
  return h < 100 ? `${h.toFixed(1)} h` : `${Math.round(h).toLocaleString()} h`;
}

/**
 * Seconds → "1.5 s" (media positions, latencies).
 * @param {unknown} secs
 */
export function formatSeconds(secs) {
  if (!isNum(secs)) return NONE;
  const s = /** @type {number} */ (secs);
  return `${s.toFixed(s < 10 ? 2 : 1)} s`;
}

/**
 * A number with the locale's grouping and at most `digits` decimals.
 * @param {unknown} x
 * @param {number} [digits]
 */
export function formatNumber(x, digits = 0) {
  if (!isNum(x)) return NONE;
  return /** @type {number} */ (x).toLocaleString(undefined, { maximumFractionDigits: digits });
}

/**
 * An RFC 3339 time → local date and time ("Dec 3, 10:04:12").
 * @param {string | null | undefined} iso
 */
export function formatTime(iso) {
  const d = new Date(iso || '');
  if (Number.isNaN(d.getTime())) return NONE;
  return d.toLocaleString(undefined, { month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit', second: '2-digit' });
}
