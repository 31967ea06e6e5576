// @ts-check
// The Analytics page's charts (uPlot, loaded as a classic script): views per bucket, video start
// time (p50 and p90, ms), rebuffer ratio (%) and failure ratio (%) over a report's `series`, on
// the whole range asked for. A bucket without views is a gap in the ratio charts and 0 views.
import { formatCount } from './format.js';
import { NONE } from './qoe-format.js';

const HEIGHT = 200; // px
const MAX_POINTS = 5000;
const COUNT_STEPS = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10_000, 20_000, 50_000, 100_000, 1e6];
const COLORS = { accent: '#3b5bdb', p90: '#b35c00', bad: '#c92a2a', fillAccent: 'rgba(59, 91, 219, 0.35)' };

/** @type {InstanceType<UPlotClass>[]} */
let charts = [];
/** @type {ResizeObserver | null} */
let observer = null;

/**
 * The x values (s since the epoch) of the buckets from `from` to `to`, with those of the series.
 * @param {number} fromS
 * @param {number} toS
 * @param {number} bucketS
 * @param {number[]} seriesTs
 */
function bucketGrid(fromS, toS, bucketS, seriesTs) {
  const xs = new Set(seriesTs);
  if (bucketS > 0 && (toS - fromS) / bucketS <= MAX_POINTS) {
    for (let t = Math.floor(fromS / bucketS) * bucketS; t <= toS; t += bucketS) xs.add(t);
  }
  return [...xs].sort((a, b) => a - b);
}

/**
 * @param {unknown} x
 * @param {number} [scale]
 */
const valueOf = (x, scale = 1) => (typeof x === 'number' && Number.isFinite(x) ? x * scale : null);

/**
 * Column data for the charts.
 * @param {any} report
 */
function columns(report) {
  const points = (Array.isArray(report.series) ? report.series : [])
    .map((/** @type {any} */ p) => ({ t: Date.parse(p.t) / 1000, p }))
    .filter((/** @type {{ t: number }} */ x) => Number.isFinite(x.t));
  const byT = new Map(points.map((/** @type {{ t: number, p: any }} */ x) => [x.t, x.p]));
  const fromS = Date.parse(report.from) / 1000;
  const toS = Date.parse(report.to) / 1000;
  const xs = Number.isFinite(fromS) && Number.isFinite(toS)
    ? bucketGrid(fromS, toS, Number(report.bucket_secs) || 0, [...byT.keys()])
    : [...byT.keys()].sort((a, b) => a - b);
  const col = (/** @type {(p: any) => number | null} */ f, /** @type {number | null} */ missing = null) =>
    xs.map((t) => (byT.has(t) ? f(byT.get(t)) : missing));
  const start = (/** @type {any} */ p) => p.video_start_time_ms || {};
  return {
    range: /** @type {[number, number] | null} */ (Number.isFinite(fromS) && Number.isFinite(toS) && toS > fromS ? [fromS, toS] : null),
    xs,
    views: col((p) => valueOf(p.views) ?? 0, 0),
    startP50: col((p) => valueOf(start(p).p50)),
    startP90: col((p) => valueOf(start(p).p90)),
    rebuffer: col((p) => valueOf(p.rebuffer_ratio, 100)),
    failure: col((p) => valueOf(p.failure_ratio, 100)),
  };
}

/**
 * @param {(v: number) => string} format
 * @returns {(u: any, values: number[]) => string[]}
 */
const tickFormat = (format) => (_u, values) => values.map((v) => (v === null ? '' : format(v)));

/**
 * A y scale from 0 to at least `floor`.
 * @param {number} floor
 */
const fromZero = (floor) => ({ range: (/** @type {any} */ _u, /** @type {number} */ _min, /** @type {number} */ max) => /** @type {[number, number]} */ ([0, Math.max(floor, Number.isFinite(max) ? max * 1.1 : floor)]) });

/**
 * @param {HTMLElement} target
 * @param {[number, number] | null} range
 * @param {any[]} series uPlot series after x
 * @param {(v: number) => string} format y tick labels
 * @param {number} floor the y scale's least top
 * @param {Array<Array<number | null>>} data x then one column per series
 * @param {number[]} [incrs] the y axis's tick steps (default uPlot's)
 */
function chart(target, range, series, format, floor, data, incrs = undefined) {
  const uPlot = window.uPlot;
  /** @type {UPlotOptions} */
  const opts = {
    width: Math.max(240, target.clientWidth),
    height: HEIGHT,
    scales: {
      x: { time: true, ...(range ? { range: () => range } : {}) },
      y: fromZero(floor),
    },
    series: [{}, ...series],
    axes: [
      { stroke: '#5d6471', grid: { stroke: '#e2e5ea' } },
      { stroke: '#5d6471', grid: { stroke: '#e2e5ea' }, size: 64, values: tickFormat(format), ...(incrs ? { incrs } : {}) },
    ],
    legend: { show: true },
  };
  target.replaceChildren();
  return new uPlot(opts, /** @type {any} */ (data), target);
}

/**
 * Draws (or redraws) the four charts of `report` into their containers. Returns false when
 * uPlot is not loaded (the page shows the tables only).
 * @param {any} report
 * @param {{ views: HTMLElement, start: HTMLElement, rebuffer: HTMLElement, failure: HTMLElement }} targets
 */
export function drawCharts(report, targets) {
  for (const c of charts) c.destroy();
  charts = [];
  if (observer) observer.disconnect();
  if (!window.uPlot) return false;
  const c = columns(report);
  const bars = window.uPlot.paths.bars ? window.uPlot.paths.bars({ size: [0.7, 48] }) : undefined;
  const ms = (/** @type {number} */ v) => (v >= 1000 ? `${(v / 1000).toFixed(1)} s` : `${Math.round(v)} ms`);
  const pct = (/** @type {number} */ v) => `${+v.toFixed(2)} %`;
  const legendValue = (/** @type {(v: number) => string} */ f) => (/** @type {any} */ _u, /** @type {number | null} */ v) => (v === null || v === undefined ? NONE : f(v));
  charts = [
    chart(targets.views, c.range, [
      { label: 'Views', stroke: COLORS.accent, fill: COLORS.fillAccent, paths: bars, points: { show: false }, value: legendValue(formatCount) },
    ], (v) => formatCount(v), 1, [c.xs, c.views], COUNT_STEPS),
    chart(targets.start, c.range, [
      { label: 'p50', stroke: COLORS.accent, width: 2, points: { show: true, size: 5 }, value: legendValue(ms) },
      { label: 'p90', stroke: COLORS.p90, width: 1.5, dash: [6, 4], points: { show: true, size: 4 }, value: legendValue(ms) },
    ], ms, 100, [c.xs, c.startP50, c.startP90]),
    chart(targets.rebuffer, c.range, [
      { label: 'Rebuffer ratio', stroke: COLORS.accent, width: 2, points: { show: true, size: 5 }, value: legendValue(pct) },
    ], pct, 1, [c.xs, c.rebuffer]),
    chart(targets.failure, c.range, [
      { label: 'Failure ratio', stroke: COLORS.bad, width: 2, points: { show: true, size: 5 }, value: legendValue(pct) },
    ], pct, 1, [c.xs, c.failure]),
  ];
  const pairs = /** @type {Array<[HTMLElement, InstanceType<UPlotClass>]>} */ ([targets.views, targets.start, targets.rebuffer, targets.failure].map((t, i) => [t, charts[i]]));
  observer = new ResizeObserver(() => {
    for (const [target, u] of pairs) {
      const width = Math.max(240, target.clientWidth);
      if (Math.abs(width - u.width) > 1) u.setSize({ width, height: HEIGHT });
    }
  });
  for (const [target] of pairs) observer.observe(target);
  return true;
}
