// @ts-check
// The Analytics page: what viewers saw (docs/qoe.md). /analytics shows every video to admins
// (GET /api/qoe, scope "site") and their own videos to other signed-in users (scope "mine");
// /analytics?video=ID one video (GET /api/videos/ID/qoe) with its recent views, each of which
// opens its timeline (GET /api/qoe/views/VIEW_ID). A range picker (?range=1h|24h|7d|30d) sets
// from/to; summary tiles, charts over time (analytics-charts.js), time per rendition, the
// breakdowns by browser, system and player, and (site, mine) the videos with the most failures
// and rebuffering. Signed out → /signin.
import { getJSON, signInHref } from './api.js';
import { drawCharts } from './analytics-charts.js';
import { el } from './dom.js';
import { formatBitrate, renditionLabel } from './format.js';
import { initHeader } from './header.js';
import { NONE, formatMs, formatNumber, formatRatio, formatSeconds, formatTime, formatWatchTime } from './qoe-format.js';

/** Range choices: seconds back from now. */
const RANGES = { '1h': 3600, '24h': 86_400, '7d': 7 * 86_400, '30d': 30 * 86_400 };
const DEFAULT_RANGE = '24h';

const params = new URLSearchParams(location.search);
const videoId = params.get('video') || null;

const $ = (/** @type {string} */ id) => /** @type {HTMLElement} */ (document.getElementById(id));
const rangeSelect = /** @type {HTMLSelectElement} */ ($('qoe-range'));
const errorBox = $('qoe-error');
const loading = $('qoe-loading');
const empty = $('qoe-empty');
const reportBox = $('qoe-report');

let loads = 0; // reports asked for; only the latest answer is shown
let viewLoads = 0;

/**
 * A report's Summary (docs/qoe.md), only the fields read here.
 * @typedef {{
 *   views?: number, play_requests?: number, started?: number,
 *   video_start_time_ms?: { p50: number | null, p90: number | null, mean: number | null } | null,
 *   startup_score?: number | null, exits_before_start?: number, ebvs_ratio?: number | null,
 *   failures?: number, failure_ratio?: number | null, watch_secs?: number,
 *   rebuffer_count?: number, rebuffer_secs?: number, rebuffer_ratio?: number | null, rebuffer_frequency?: number | null,
 *   avg_bitrate?: number | null, seek_latency_ms?: number | null, dropped_frames_per_min?: number | null,
 *   live_latency_secs?: number | null,
 * }} Summary
 */

/**
 * RFC 3339 without milliseconds.
 * @param {Date} d
 */
const rfc3339 = (d) => d.toISOString().replace(/\.\d{3}Z$/, 'Z');

/** @param {unknown} bps */
const bitrateText = (bps) => (typeof bps === 'number' && bps > 0 ? formatBitrate(bps) : NONE);

function showError(message) {
  errorBox.textContent = message;
  errorBox.hidden = !message;
}

/**
 * @param {string} id
 * @param {string} text
 */
function setText(id, text) {
  $(id).textContent = text;
}

/** The range chosen (the select, kept in the address as ?range=). */
function currentRange() {
  const value = rangeSelect.value in RANGES ? rangeSelect.value : DEFAULT_RANGE;
  return { key: value, secs: RANGES[value] };
}

/**
 * "1 view", "12 views".
 * @param {unknown} n
 */
const viewsText = (n) => `${formatNumber(n)} ${n === 1 ? 'view' : 'views'}`;

/**
 * @param {Summary} s
 */
function renderTiles(s) {
  const start = s.video_start_time_ms || { p50: null, p90: null, mean: null };
  setText('qoe-views', formatNumber(s.views));
  setText('qoe-views-sub', `${formatNumber(s.play_requests)} played · ${formatNumber(s.started)} started`);
  setText('qoe-start-p50', formatMs(start.p50));
  setText('qoe-start-sub', `p90 ${formatMs(start.p90)} · mean ${formatMs(start.mean)}`);
  setText('qoe-startup-score', formatNumber(s.startup_score));
  setText('qoe-ebvs', formatRatio(s.ebvs_ratio));
  setText('qoe-ebvs-sub', viewsText(s.exits_before_start));
  setText('qoe-failure-ratio', formatRatio(s.failure_ratio));
  setText('qoe-failure-sub', viewsText(s.failures));
  setText('qoe-rebuffer-ratio', formatRatio(s.rebuffer_ratio));
  setText('qoe-rebuffer-sub', `${formatWatchTime(s.rebuffer_secs)} stalled`);
  setText('qoe-rebuffer-count', formatNumber(s.rebuffer_count));
  setText('qoe-rebuffer-frequency', `${formatNumber(s.rebuffer_frequency, 2)} per minute`);
  setText('qoe-watch-time', formatWatchTime(s.watch_secs));
  setText('qoe-bitrate', bitrateText(s.avg_bitrate));
  setText('qoe-seek-latency', formatMs(s.seek_latency_ms));
  setText('qoe-dropped', formatNumber(s.dropped_frames_per_min, 1));
  const live = typeof s.live_latency_secs === 'number';
  $('qoe-live-latency-tile').hidden = !live;
  setText('qoe-live-latency', live ? formatSeconds(s.live_latency_secs) : NONE);
}

/**
 * A table cell holding a number (right-aligned).
 * @param {string} text
 */
const num = (text) => el('td', { class: 'num', text });

/**
 * Rows labelled by the rendition's short side (720p for 720×1280) when the server gives its
 * width, else by its height.
 * @param {Array<{ height: number, width?: number, seconds: number, share: number }>} rows
 */
function renderRenditions(rows) {
  const list = Array.isArray(rows) ? [...rows].sort((a, b) => (b.height || 0) - (a.height || 0)) : [];
  $('qoe-rendition-rows').replaceChildren(...list.map((r) => {
    const share = typeof r.share === 'number' ? Math.max(0, Math.min(1, r.share)) : 0;
    const bar = el('span', { class: 'qoe-share-bar' });
    bar.style.width = `${(share * 100).toFixed(1)}%`;
    return el('tr', {},
      el('th', { scope: 'row', text: renditionLabel(r.width, r.height) || 'Unknown' }),
      num(formatWatchTime(r.seconds)),
      el('td', { class: 'qoe-share' },
        el('span', { class: 'qoe-share-track', 'aria-hidden': 'true' }, bar),
        el('span', { class: 'qoe-share-text', text: formatRatio(r.share) })));
  }));
  $('qoe-renditions').hidden = !list.length;
  $('qoe-renditions-empty').hidden = list.length > 0;
}

/**
 * A link to a video's analytics.
 * @param {any} row a `worst` entry (video_id, title)
 */
function videoLink(row) {
  const href = `/analytics?video=${encodeURIComponent(row.video_id)}&range=${currentRange().key}`;
  return el('a', { href, text: row.title || row.video_id });
}

/**
 * @param {{ failure_ratio?: any[], rebuffer_ratio?: any[] } | null | undefined} worst
 */
function renderWorst(worst) {
  const section = $('qoe-worst');
  if (!worst) {
    section.hidden = true;
    return;
  }
  const failures = Array.isArray(worst.failure_ratio) ? worst.failure_ratio : [];
  const rebuffers = Array.isArray(worst.rebuffer_ratio) ? worst.rebuffer_ratio : [];
  const none = (/** @type {number} */ cols) => el('tr', {}, el('td', { colspan: String(cols), class: 'muted', text: 'None in this range.' }));
  $('qoe-worst-failure-rows').replaceChildren(...(failures.length ? failures.map((r) => el('tr', {},
    el('th', { scope: 'row' }, videoLink(r)), num(formatNumber(r.views)), num(formatRatio(r.failure_ratio)))) : [none(3)]));
  $('qoe-worst-rebuffer-rows').replaceChildren(...(rebuffers.length ? rebuffers.map((r) => el('tr', {},
    el('th', { scope: 'row' }, videoLink(r)), num(formatNumber(r.views)), num(formatRatio(r.rebuffer_ratio)))) : [none(3)]));
  section.hidden = false;
}

const DIMENSIONS = [['browser', 'Browser'], ['os', 'System'], ['player', 'Player']];

/**
 * @param {Record<string, any[]> | null | undefined} breakdown
 */
function renderBreakdowns(breakdown) {
  const box = $('qoe-breakdowns');
  box.replaceChildren(...DIMENSIONS.map(([key, label]) => {
    const rows = breakdown && Array.isArray(breakdown[key]) ? breakdown[key] : [];
    const headingId = `qoe-breakdown-${key}`;
    return el('div', { class: 'qoe-breakdown' },
      el('h3', { id: headingId, text: label }),
      el('div', { class: 'table-wrap' },
        el('table', { class: 'table qoe-table', 'aria-labelledby': headingId },
          el('thead', {}, el('tr', {},
            el('th', { scope: 'col', text: label }),
            el('th', { scope: 'col', class: 'num', text: 'Views' }),
            el('th', { scope: 'col', class: 'num', text: 'Start p50' }),
            el('th', { scope: 'col', class: 'num', text: 'Failures' }),
            el('th', { scope: 'col', class: 'num', text: 'Rebuffer' }),
            el('th', { scope: 'col', class: 'num', text: 'Watched' }))),
          el('tbody', {}, ...(rows.length ? rows.map((r) => el('tr', {},
            el('th', { scope: 'row', text: r.value || 'Unknown' }),
            num(formatNumber(r.views)),
            num(formatMs(r.video_start_time_ms && r.video_start_time_ms.p50)),
            num(formatRatio(r.failure_ratio)),
            num(formatRatio(r.rebuffer_ratio)),
            num(formatWatchTime(r.watch_secs)))) : [el('tr', {}, el('td', { colspan: '6', class: 'muted', text: 'No views.' }))])))));
  }));
}

/**
 * What became of a view, in a word or two.
 * @param {any} v ViewSummary
 */
function outcome(v) {
  if (v.failed) return { text: 'Failed', cls: 'failed' };
  if (v.exited_before_start) return { text: 'Left before start', cls: 'left' };
  if (v.startup_ms === null || v.startup_ms === undefined) return { text: v.play_requested ? 'Not started' : 'Not played', cls: 'none' };
  return { text: 'Played', cls: 'played' };
}

/** @param {any} v ViewSummary */
function outcomeBadge(v) {
  const o = outcome(v);
  return el('span', { class: `badge qoe-outcome-${o.cls}`, text: o.text });
}

/**
 * @param {any} v ViewSummary
 */
function browserText(v) {
  return [v.browser, v.os].filter(Boolean).join(' · ') || 'Unknown';
}

/**
 * The recent views (video reports): one row per view; choosing one shows its timeline.
 * @param {any[] | null | undefined} views
 */
function renderViews(views) {
  const section = $('qoe-views-section');
  if (!Array.isArray(views)) {
    section.hidden = true;
    return;
  }
  section.hidden = false;
  const tbody = $('qoe-view-rows');
  tbody.replaceChildren(...views.map((v) => {
    const open = el('button', { type: 'button', class: 'link-button qoe-view-open', 'aria-controls': 'qoe-view', 'aria-expanded': 'false', text: formatTime(v.started_at) });
    const row = el('tr', { class: 'qoe-view-row', 'data-view-id': v.view_id },
      el('th', { scope: 'row' }, open),
      el('td', { text: browserText(v) }),
      num(formatMs(v.startup_ms)),
      num(formatWatchTime(v.watch_secs)),
      num(v.rebuffer_count ? `${formatNumber(v.rebuffer_count)} (${formatSeconds(v.rebuffer_secs)})` : '0'),
      num(bitrateText(v.avg_bitrate)),
      el('td', {}, outcomeBadge(v)));
    row.addEventListener('click', () => openView(v.view_id, row));
    return row;
  }));
  $('qoe-views-empty').hidden = views.length > 0;
}

// ---------------------------------------------------------------------------------------------
// One view: its summary and timeline.

/** Labels and units of event fields in the timeline. */
const FIELD_FORMATS = {
  startup_ms: ['start time', formatMs],
  duration_ms: ['stalled', formatMs],
  latency_ms: ['latency', formatMs],
  ms: ['watched', formatMs],
  position: ['at', formatSeconds],
  from: ['from', formatSeconds],
  to: ['to', formatSeconds],
  latency: ['behind live', formatSeconds],
  bitrate: ['bitrate', (/** @type {unknown} */ x) => (x === 1 ? 'unknown' : bitrateText(x))],
  height: ['height', (/** @type {unknown} */ x) => `${x} px`],
  width: ['width', (/** @type {unknown} */ x) => `${x} px`],
};
const COMMON_FIELDS = new Set(['view_id', 'video_id', 'seq', 't', 'type', 'received_at']);

/**
 * The fields of an event, as "label value" strings.
 * @param {Record<string, unknown>} event
 */
function eventFields(event) {
  return Object.entries(event)
    .filter(([key]) => !COMMON_FIELDS.has(key))
    .map(([key, value]) => {
      const known = FIELD_FORMATS[key];
      if (known) return `${known[0]} ${known[1](value)}`;
      return `${key.replace(/_/g, ' ')} ${typeof value === 'string' ? value : JSON.stringify(value)}`;
    });
}

/**
 * @param {any[]} events
 */
function renderTimeline(events) {
  const list = $('qoe-timeline');
  list.replaceChildren(...events.map((e) => {
    const t = typeof e.t === 'number' ? e.t / 1000 : null;
    const fields = eventFields(e);
    return el('li', { 'data-type': String(e.type), class: `qoe-event qoe-event-${String(e.type).replace(/[^a-z_]/g, '')}` },
      el('span', { class: 'qoe-event-t', text: t === null ? NONE : `${t.toFixed(2)} s` }),
      el('span', { class: 'qoe-event-type', text: String(e.type) }),
      fields.length ? el('span', { class: 'qoe-event-fields', text: fields.join(' · ') }) : null);
  }));
  if (!events.length) list.append(el('li', { class: 'muted', text: 'No events.' }));
}

/**
 * @param {any} v ViewSummary
 */
function renderViewSummary(v) {
  const renditions = Array.isArray(v.renditions)
    ? [...v.renditions].sort((a, b) => (b.height || 0) - (a.height || 0)).map((r) => `${renditionLabel(r.width, r.height) || 'unknown'} ${formatWatchTime(r.seconds)}`).join(', ')
    : '';
  const facts = [
    ['Started', formatTime(v.started_at)],
    ['Last heard', formatTime(v.updated_at)],
    ['Browser', browserText(v)],
    ['Player', [v.player, v.player_version].filter(Boolean).join(' ') || NONE],
    ['Stream', v.live ? 'live' : 'on demand'],
    ['Start time', formatMs(v.startup_ms)],
    ['Watched', formatWatchTime(v.watch_secs)],
    ['Rebuffers', `${formatNumber(v.rebuffer_count)} (${formatSeconds(v.rebuffer_secs)})`],
    ['Seeks', formatNumber(v.seek_count)],
    ['Bitrate', bitrateText(v.avg_bitrate)],
    ['Renditions', renditions || NONE],
    ['Outcome', outcome(v).text],
  ];
  if (v.error_code || v.error_detail) facts.push(['Error', [v.error_code, v.error_detail].filter(Boolean).join(': ')]);
  $('qoe-view-summary').replaceChildren(...facts.flatMap(([term, value]) => [el('dt', { text: term }), el('dd', { text: value })]));
}

/**
 * Loads and shows one view (GET /api/qoe/views/{id}).
 * @param {string} viewId
 * @param {HTMLElement} row
 */
async function openView(viewId, row) {
  const load = ++viewLoads;
  for (const r of $('qoe-view-rows').querySelectorAll('tr')) r.classList.toggle('selected', r === row);
  for (const b of $('qoe-view-rows').querySelectorAll('button')) b.setAttribute('aria-expanded', String(row.contains(b)));
  const section = $('qoe-view');
  const viewError = $('qoe-view-error');
  section.hidden = false;
  section.setAttribute('aria-busy', 'true');
  setText('qoe-view-heading', `View ${viewId}`);
  viewError.hidden = true;
  $('qoe-view-summary').replaceChildren();
  $('qoe-timeline').replaceChildren(el('li', { class: 'muted', text: 'Loading…' }));
  let answer;
  try {
    answer = await getJSON(`/api/qoe/views/${encodeURIComponent(viewId)}`);
  } catch (err) {
    if (load !== viewLoads) return;
    if (err.status === 401) {
      location.replace(signInHref());
      return;
    }
    section.removeAttribute('aria-busy');
    $('qoe-timeline').replaceChildren();
    viewError.textContent = `Could not load the view: ${err.message}`;
    viewError.hidden = false;
    return;
  }
  if (load !== viewLoads) return;
  const v = (answer && answer.view) || {};
  setText('qoe-view-heading', `View of ${formatTime(v.started_at)}`);
  renderViewSummary(v);
  renderTimeline(Array.isArray(answer && answer.events) ? answer.events : []);
  section.removeAttribute('aria-busy');
  section.focus({ preventScroll: true });
  section.scrollIntoView({ block: 'nearest' });
}

// ---------------------------------------------------------------------------------------------

/**
 * What the report covers, and for one video a link to it.
 * @param {any} report
 * @param {{ title?: string } | null} video
 */
function renderScope(report, video) {
  const scope = $('qoe-scope');
  const range = `${formatTime(report.from)} – ${formatTime(report.to)}`;
  if (report.scope === 'video') {
    const title = (video && video.title) || videoId;
    setText('qoe-title', `Analytics: ${title}`);
    document.title = `Analytics: ${title} · Kino`;
    scope.replaceChildren('One video: ', el('a', { href: `/watch/${encodeURIComponent(videoId)}`, text: title }),
      ` · ${range} · `, el('a', { href: `/analytics?range=${currentRange().key}`, text: 'All videos' }));
    return;
  }
  setText('qoe-title', 'Analytics');
  scope.textContent = `${report.scope === 'site' ? 'Every video on this site' : 'Your videos'} · ${range}`;
}

/** @type {Promise<{ title?: string } | null> | null} */
let videoInfo = null;

/** Asks for the report of the chosen range and shows it. */
async function load() {
  const n = ++loads;
  const { key, secs } = currentRange();
  const url = new URL(location.href);
  url.searchParams.set('range', key);
  history.replaceState(null, '', `${url.pathname}${url.search}`);
  const to = new Date();
  const from = new Date(to.getTime() - secs * 1000);
  const query = `from=${encodeURIComponent(rfc3339(from))}&to=${encodeURIComponent(rfc3339(to))}`;
  const path = videoId ? `/api/videos/${encodeURIComponent(videoId)}/qoe?${query}` : `/api/qoe?${query}`;
  loading.hidden = false;
  reportBox.setAttribute('aria-busy', 'true');
  if (videoId && !videoInfo) videoInfo = getJSON(`/api/videos/${encodeURIComponent(videoId)}`).catch(() => null);
  let report;
  try {
    report = await getJSON(path);
  } catch (err) {
    if (n !== loads) return;
    loading.hidden = true;
    reportBox.removeAttribute('aria-busy');
    if (err.status === 401) {
      location.replace(signInHref());
      return;
    }
    reportBox.hidden = true;
    empty.hidden = true;
    showError(err.status === 0 ? 'Cannot reach the server.' : `Could not load the analytics: ${err.message}`);
    return;
  }
  const video = videoId ? await videoInfo : null;
  if (n !== loads) return;
  loading.hidden = true;
  reportBox.removeAttribute('aria-busy');
  showError('');
  render(report || {}, video);
}

/**
 * @param {any} report
 * @param {{ title?: string } | null} video
 */
function render(report, video) {
  renderScope(report, video);
  /** @type {Summary} */
  const summary = report.summary || {};
  const noViews = !(Number(summary.views) > 0);
  empty.hidden = !noViews;
  reportBox.hidden = noViews;
  if (noViews) return;
  renderTiles(summary);
  renderRenditions(report.time_per_rendition);
  renderWorst(report.scope === 'video' ? null : report.worst);
  renderBreakdowns(report.breakdown);
  renderViews(report.scope === 'video' ? report.views || [] : null);
  // After the report is shown: the charts take their containers' widths.
  const drawn = drawCharts(report, {
    views: $('qoe-chart-views'),
    start: $('qoe-chart-start'),
    rebuffer: $('qoe-chart-rebuffer'),
    failure: $('qoe-chart-failure'),
  });
  const note = $('qoe-charts-note');
  note.textContent = drawn ? '' : 'The charts could not be drawn (their script did not load); the figures are in the tables.';
  note.hidden = drawn;
  const buckets = { 60: 'per minute', 3600: 'per hour', 86400: 'per day' }[report.bucket_secs];
  setText('qoe-charts-heading', buckets ? `Over time (${buckets})` : 'Over time');
}

async function main() {
  const user = await initHeader();
  const initial = params.get('range');
  if (initial && initial in RANGES) rangeSelect.value = initial;
  if (!user) {
    // initHeader says null also when the server cannot answer: the report's own request tells.
    try {
      await getJSON('/api/me');
    } catch (err) {
      if (err.status === 401) {
        location.replace(signInHref());
        return;
      }
    }
  }
  rangeSelect.addEventListener('change', () => load());
  $('qoe-controls').addEventListener('submit', (event) => {
    event.preventDefault();
    load();
  });
  load();
}

main();
