// The viewer side of bench/live-latency.sh: headless Chromium plays a live stream with hls.js and
// reads, from every frame it presents, the capture time the publisher drew into the picture
// (strip.mjs), giving latency = display time - capture time per frame. Beside it, in the same
// frames: what hls.js claims (hls.latency, and display time - hls.playingDate, the
// EXT-X-PROGRAM-DATE-TIME of the frame shown), hls.js's targetLatency and the floor of its live
// sync (3 x PART-TARGET for a low-latency player, 3 x target duration for a standard one). Also
// Kino's own part (how soon after their last frame segments and parts are listed in the top
// variant's playlist, polled every 50 ms), and the CPU of Kino, of Kino's ffmpeg, of the
// publisher and of the browser over the measured windows.
//
// Player modes (--modes, run interleaved: ll, standard, ll, standard, ... against the same
// broadcast, a fresh page and hls.js for each start):
//   ll        new Hls({ lowLatencyMode: true, maxLiveSyncPlaybackRate: 1.1 }) — Kino's watch page
//             (web/static/player.js). No liveSyncDurationCount: setting it would override the
//             playlist's PART-HOLD-BACK in hls.js's LatencyController.
//   standard  new Hls({ lowLatencyMode: false, liveSyncDurationCount: 3, maxLiveSyncPlaybackRate: 1.1 })
//             — a standard-HLS player on the same playlists: whole segments only, 3 target
//             durations behind. (hls.js still uses blocking reloads when the playlist offers
//             them, for the next segment, and applies maxLiveSyncPlaybackRate in low-latency
//             mode only: this one never speeds up.)
//
//   node latency.mjs --base URL --id VIDEO_ID --kino-pid PID --publisher-pid PID
//        [--warmup SECS] [--window SECS] [--calibration JSON] [--version TEXT] [--binary PATH]
//        [--modes "ll standard"]  (player modes, in the order they take turns)
//        [--starts N]      (N player starts per mode, each with its warm-up and window; a mode's
//                           figures pool its windows' frames)
//        [--scratch DIR]   (Kino's old scratch directory with ffmpeg's own playlists, for the
//                           breakdown; absent with the pipe packager, then skipped)
//        [--samples CSV]   (every frame's readings, for a closer look)
//        [--server-env TEXT]  (Kino's settings from LIVE_SERVER_ENV, recorded)
//
// Prints a JSON line on stdout (`error` set when the run failed); progress on stderr. Per mode
// under `modes.<mode>`; the top-level figures (measured_ms, hls_latency_ms, ...) are the first
// mode's (`mode`), as before when there was one player; CPU and RSS cover every window.

import { createRequire } from 'node:module';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

import { CHROMIUM, CHROMIUM_ARGS } from '../../tests/browser/common.mjs';
import { CELLS, MOD, STRIP_H, HEIGHT } from './strip.mjs';
import { children, comm, cpuMeter, statusKiB, tree } from './proc.mjs';
import { topVariant, watchListing } from './listing.mjs';

const HERE = dirname(fileURLToPath(import.meta.url));
const REPO = resolve(HERE, '../..');
const require = createRequire(join(REPO, 'tests/browser/package.json'));
const { chromium } = require('playwright-core');
const HLS_VERSION = require(join(REPO, 'web/node_modules/hls.js/package.json')).version;

const args = {};
for (let i = 2; i < process.argv.length; i += 2) args[process.argv[i].replace(/^--/, '')] = process.argv[i + 1];
const base = args.base;
const warmupSecs = Number(args.warmup || 20);
const windowSecs = Number(args.window || 60);
const starts = Number(args.starts || 1);
const modes = String(args.modes || 'll standard').split(/[\s,]+/).filter(Boolean);

// hls.js configuration per player mode (see the header).
const HLS_CONFIGS = {
  ll: { lowLatencyMode: true, maxLiveSyncPlaybackRate: 1.1 },
  standard: { lowLatencyMode: false, liveSyncDurationCount: 3, maxLiveSyncPlaybackRate: 1.1 },
};
for (const m of modes) {
  if (!HLS_CONFIGS[m]) {
    process.stderr.write(`[live-latency] unknown player mode ${m} (known: ${Object.keys(HLS_CONFIGS).join(', ')})\n`);
    process.exit(2);
  }
}
const kinoPid = Number(args['kino-pid']);
const publisherPid = Number(args['publisher-pid']);

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const log = (m) => process.stderr.write(`[live-latency] ${m}\n`);

// The page: hls.js from Kino's own /assets/hls.min.js (the watch page's copy), configured per
// mode (HLS_CONFIGS; `ll` is what the watch page does for live, web/static/player.js). On each
// presented frame (requestVideoFrameCallback) the top of the picture is drawn onto a 640x40
// canvas and its 32 cells read.
const PAGE = `<!doctype html><meta charset="utf-8"><title>live latency</title>
<video id="v" muted autoplay playsinline width="1280" height="720"></video>
<canvas id="c" width="640" height="40" hidden></canvas>
<script src="/assets/hls.min.js"></script>
<script>
const CELLS = ${CELLS}, MOD = ${MOD}, STRIP = ${STRIP_H / HEIGHT};
const S = window.probe = {
  firstFrameAt: null, recording: false, samples: [], unreadable: 0, frames: 0,
  errors: [], waiting: 0, waitingBefore: 0, levels: {}, switches: 0,
};
const v = document.getElementById('v');
const ctx = document.getElementById('c').getContext('2d', { willReadFrequently: true });
function readStrip() {
  ctx.drawImage(v, 0, 0, v.videoWidth, v.videoHeight * STRIP, 0, 0, 640, 40);
  const px = ctx.getImageData(0, 0, 640, 40).data;
  const mean = (x0, y0) => { // 10x10 box
    let s = 0;
    for (let y = y0; y < y0 + 10; y++) for (let x = x0; x < x0 + 10; x++) { const i = (y * 640 + x) * 4; s += px[i] + px[i + 1] + px[i + 2]; }
    return s / 300;
  };
  let val = 0;
  for (let i = 0; i < CELLS; i++) {
    const a = mean(i * 20 + 5, 5), b = mean(i * 20 + 5, 25);
    if (Math.abs(a - b) < 100) return null;
    val = val * 2 + (a > b ? 1 : 0);
  }
  return val;
}
function onFrame(now, meta) {
  // The wall-clock time this frame is (expected to be) shown: Date.now() moved by how far the
  // compositor's expected display time is from performance.now().
  const display = Date.now() + (meta.expectedDisplayTime - performance.now());
  if (S.firstFrameAt == null) S.firstFrameAt = display;
  if (S.recording) {
    S.frames++;
    const val = readStrip();
    if (val == null) S.unreadable++;
    else {
      const capture = display - ((((display - val) % MOD) + MOD) % MOD);
      const hls = window.hls;
      // PROGRAM-DATE-TIME of this frame: hls.js's date of the current position, moved to the
      // presented frame's media time.
      const pdDate = hls.playingDate;
      const pd = pdDate ? pdDate.getTime() + (meta.mediaTime - v.currentTime) * 1000 : null;
      const lvl = hls.levels[hls.currentLevel];
      const details = lvl && lvl.details;
      S.samples.push([
        display - capture,                                     // measured latency, ms
        hls.latency,                                           // hls.js: seconds behind its live edge
        pd != null ? display - pd : null,                      // now - PROGRAM-DATE-TIME of the frame shown, ms
        pd != null ? pd - capture : null,                      // Kino's PDT minus the true capture time, ms
        details ? details.targetduration : null,
        hls.targetLatency,
        meta.mediaTime,
        capture,
        details && details.partTarget ? details.partTarget : null, // PART-TARGET, s (null: no parts)
      ]);
      const h = lvl ? lvl.height : 0;
      S.levels[h] = (S.levels[h] || 0) + 1;
    }
  }
  v.requestVideoFrameCallback(onFrame);
}
window.start = (src, config) => {
  const hls = window.hls = new Hls(config);
  hls.on(Hls.Events.ERROR, (_e, d) => { if (d.fatal || S.errors.length < 20) S.errors.push((d.fatal ? 'FATAL ' : '') + d.details + (d.response ? ' ' + d.response.code : '')); });
  hls.on(Hls.Events.LEVEL_SWITCHED, () => { if (S.recording) S.switches++; });
  hls.on(Hls.Events.MANIFEST_PARSED, () => { v.play().catch((e) => S.errors.push('play: ' + e)); });
  v.addEventListener('waiting', () => { if (S.recording) S.waiting++; else S.waitingBefore++; });
  v.requestVideoFrameCallback(onFrame);
  hls.loadSource(src);
  hls.attachMedia(v);
};
</script>`;

function quantile(sorted, q) {
  if (!sorted.length) return null;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))];
}
function stats(values) {
  const s = values.filter((x) => x != null && Number.isFinite(x)).sort((a, b) => a - b);
  return { n: s.length, median: quantile(s, 0.5), p95: quantile(s, 0.95), min: s[0] ?? null, max: s[s.length - 1] ?? null };
}

const result = {
  id: args.id,
  warmup_secs: warmupSecs,
  window_secs: windowSecs,
  starts_n: starts,
  mode: modes[0],
  mode_order: modes,
  hls_configs: Object.fromEntries(modes.map((m) => [m, HLS_CONFIGS[m]])),
  modes: null,
  measured_ms: null,
  hls_latency_ms: null,
  pdt_latency_ms: null,
  pdt_minus_capture_ms: null,
  listing: null,
  target_duration_s: null,
  hls_target_latency_s: null,
  part_target_s: null,
  floor_ms: null,
  floor_basis: null,
  frames: 0,
  unreadable: 0,
  waiting_events: 0,
  level_switches: 0,
  levels: null,
  dropped_frames: null,
  first_frame_secs: null,
  cpu: null,
  rss_kib: null,
  calibration: args.calibration ? JSON.parse(args.calibration) : null,
  hls_js: HLS_VERSION,
  chromium: null,
  publisher: args.publisher || null,
  kino: args.version || null,
  binary: args.binary || null,
  server_env: args['server-env'] || null,
  at: new Date().toISOString(),
  error: null,
};

/** One player start in `mode`: a fresh page, the first frame, the warm-up, the measured window. */
async function playOnce(context, n, mode) {
  const page = await context.newPage();
  const started = Date.now();
  try {
    await page.goto(`${base}/__live_latency/`);
    await page.evaluate(([src, config]) => window.start(src, config), [`${base}/hls/${args.id}/master.m3u8`, HLS_CONFIGS[mode]]);
    while ((await page.evaluate(() => window.probe.firstFrameAt)) == null) {
      if (Date.now() - started > 60_000) throw new Error(`no frame within 60 s; hls.js: ${(await page.evaluate(() => window.probe.errors)).join(', ')}`);
      await sleep(100);
    }
    const firstFrameSecs = Math.round(Date.now() - started) / 1000;
    log(`start ${n} (${mode}): first frame ${firstFrameSecs} s after loading the playlist; warming up ${warmupSecs} s`);
    // How far behind the edge hls.js is through the warm-up (the ll player plays up to 10 %
    // faster to reach its target, maxLiveSyncPlaybackRate 1.1; hls.js does that in low-latency
    // mode only, so the standard one keeps where it landed).
    const state = () => page.evaluate(() => {
      const h = window.hls;
      const v = document.getElementById('v');
      const lvl = h.levels[h.currentLevel];
      return [Math.round(h.latency * 1000) / 1000, Math.round(v.currentTime * 1000) / 1000, lvl ? lvl.height : null, window.probe.waitingBefore];
    });
    const timeline = []; // [seconds since first frame, hls.latency s, currentTime s, height, waiting events]
    const warmStart = Date.now();
    while (Date.now() - warmStart < warmupSecs * 1000) {
      timeline.push([Math.round((Date.now() - warmStart) / 100) / 10, ...(await state())]);
      await sleep(Math.min(1000, warmupSecs * 1000 - (Date.now() - warmStart)));
    }

    // The processes whose CPU is measured over the window.
    const kinoFfmpeg = () => children(kinoPid).filter((p) => comm(p) === 'ffmpeg');
    const meter = cpuMeter(() => ({
      kino: [kinoPid],
      kino_ffmpeg: kinoFfmpeg(),
      publisher: [publisherPid],
      browser: tree(process.pid).filter((p) => p !== process.pid),
    }));
    const rss = [];
    const sampleRss = () => rss.push(statusKiB(kinoPid));
    const q0 = await page.evaluate(() => document.getElementById('v').getVideoPlaybackQuality().droppedVideoFrames);
    // Kino's part: how soon segments and parts are listed after their last frame (top variant's
    // playlist).
    const masterUrl = `${base}/hls/${args.id}/master.m3u8`;
    const top = topVariant(await (await fetch(masterUrl)).text());
    const poller = watchListing({ url: new URL(top, masterUrl).href, scratch: args.scratch, id: args.id, variant: top.split('/')[0] });
    await page.evaluate(() => { window.probe.recording = true; });
    meter.start();
    sampleRss();
    log(`start ${n} (${mode}): measuring for ${windowSecs} s`);
    for (let t = 0; t < windowSecs; t += 5) {
      await sleep(Math.min(5, windowSecs - t) * 1000);
      sampleRss();
    }
    await page.evaluate(() => { window.probe.recording = false; });
    const cpu = meter.stop();
    const listing = await poller.stop();
    const p = await page.evaluate(() => ({ ...window.probe, dropped: document.getElementById('v').getVideoPlaybackQuality().droppedVideoFrames }));
    return { mode, n, firstFrameSecs, timeline, cpu, rss, listing: { ...listing, mode, start: n }, p, dropped: p.dropped - q0 };
  } finally {
    await page.close().catch(() => {});
  }
}

/** What the JSON line keeps of one start. */
function startEntry(r) {
  return {
    mode: r.mode,
    n: r.n,
    first_frame_secs: r.firstFrameSecs,
    measured_median_ms: stats(r.p.samples.map((x) => x[0])).median,
    measured_p95_ms: stats(r.p.samples.map((x) => x[0])).p95,
    hls_latency_median_ms: stats(r.p.samples.map((x) => (x[1] == null ? null : x[1] * 1000))).median,
    waiting: r.p.waiting,
    waiting_before: r.p.waitingBefore,
    warmup_timeline: r.timeline,
  };
}

/** The figures of one player mode, pooled over its starts `rs` (in run order). */
function modeSection(rs) {
  const mode = rs[0].mode;
  const samples = rs.flatMap((r) => r.p.samples);
  const col = (i) => samples.map((x) => x[i]);
  const sum = (f) => rs.reduce((a, r) => a + f(r), 0);
  const td = stats(col(4)).max;
  const pt = stats(col(8)).max;
  // The floor of hls.js's live sync: a low-latency player holds back PART-HOLD-BACK (Kino: 3
  // parts), a standard one 3 target durations. An `ll` player on a playlist without parts
  // falls back to the latter, and says so.
  const basis = mode === 'll' && pt != null ? 'part_target' : 'target_duration';
  const floor = basis === 'part_target' ? 3 * pt * 1000 : td != null ? 3 * td * 1000 : null;
  const levels = {};
  for (const r of rs) for (const [h, c] of Object.entries(r.p.levels)) levels[h] = (levels[h] || 0) + c;
  // Sanity: within one timeline, capture time - media time is constant up to the publisher's
  // pacing jitter; a wide spread would mean misread strips. The widest of the starts'.
  let spread = null;
  for (const r of rs) {
    const off = r.p.samples.map((x) => x[7] - x[6] * 1000).sort((a, b) => a - b);
    if (off.length) spread = Math.max(spread ?? 0, quantile(off, 0.99) - quantile(off, 0.01));
  }
  // Drift: the median of the first and of the last 10 s of each window.
  const firsts = [];
  const lasts = [];
  for (const r of rs) {
    const x = r.p.samples;
    if (!x.length) continue;
    firsts.push(...x.filter((y) => y[7] - x[0][7] < 10_000).map((y) => y[0]));
    lasts.push(...x.filter((y) => x[x.length - 1][7] - y[7] < 10_000).map((y) => y[0]));
  }
  const ff = rs.map((r) => r.firstFrameSecs);
  return {
    hls_config: HLS_CONFIGS[mode],
    starts_n: rs.length,
    measured_ms: stats(col(0)),
    hls_latency_ms: stats(col(1).map((x) => (x == null ? null : x * 1000))),
    pdt_latency_ms: stats(col(2)),
    pdt_minus_capture_ms: stats(col(3)),
    target_duration_s: td,
    part_target_s: pt,
    hls_target_latency_s: stats(col(5)).median,
    floor_ms: floor,
    floor_basis: basis,
    frames: sum((r) => r.p.frames),
    unreadable: sum((r) => r.p.unreadable),
    waiting_events: sum((r) => r.p.waiting),
    waiting_events_before: sum((r) => r.p.waitingBefore),
    level_switches: sum((r) => r.p.switches),
    levels,
    dropped_frames: sum((r) => r.dropped),
    first_frame_secs: stats(ff).median,
    first_frame_secs_each: ff,
    warmup_timeline: rs[0].timeline,
    hls_errors: rs.flatMap((r) => r.p.errors),
    capture_minus_media_spread_ms: spread,
    measured_first10_ms: stats(firsts).median,
    measured_last10_ms: stats(lasts).median,
    starts: rs.map(startEntry),
    listing: rs.map((r) => r.listing),
  };
}

async function main() {
  const profile = mkdtempSync(join(tmpdir(), 'kino-live-latency-'));
  let context;
  try {
    context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM, args: CHROMIUM_ARGS, headless: true, viewport: { width: 1280, height: 800 },
    });
    result.chromium = context.browser() ? context.browser().version() : null;
    // The page lives at Kino's origin (served by playwright's router: Kino's pages and CSP play
    // no part), so it loads Kino's own /assets/hls.min.js and reads the canvas untainted.
    await context.route(`${base}/__live_latency/`, (route) => route.fulfill({ contentType: 'text/html', body: PAGE }));

    // Interleaved: ll, standard, ll, standard, ... so both modes see the same broadcast, the
    // same machine load and the same drift of the run.
    const runs = [];
    const startErrors = [];
    let order = 0;
    for (let n = 1; n <= starts; n++) {
      for (const mode of modes) {
        order++;
        try {
          runs.push(await playOnce(context, order, mode));
        } catch (e) {
          const msg = `start ${order} (${mode}): ${e && e.message ? e.message : e}`;
          log(`error: ${msg}`);
          startErrors.push(msg);
        }
      }
    }
    result.start_errors = startErrors;
    if (!runs.length) throw new Error(`no start completed: ${startErrors.join('; ')}`);

    const samples = runs.flatMap((r) => r.p.samples.map((x) => [...x, r.mode]));
    const sum = (f) => runs.reduce((a, r) => a + f(r), 0);
    const totalSecs = sum((r) => r.cpu.secs);
    result.cpu = { ...runs[0].cpu, secs: totalSecs };
    for (const k of ['kino', 'kino_ffmpeg', 'publisher', 'browser', 'machine_busy_pct', 'machine_steal_pct']) {
      result.cpu[k] = sum((r) => r.cpu[k] * r.cpu.secs) / totalSecs;
    }
    const rss = runs.flatMap((r) => r.rss);
    result.rss_kib = { start: rss[0], end: rss[rss.length - 1], max: Math.max(...rss), hwm: statusKiB(kinoPid, 'VmHWM') };
    result.listing = runs.map((r) => r.listing);
    result.starts = runs.map(startEntry);
    if (args.samples) {
      const head = 'measured_ms,hls_latency_s,pdt_latency_ms,pdt_minus_capture_ms,target_duration_s,hls_target_latency_s,media_time_s,capture_unix_ms,part_target_s,mode\n';
      writeFileSync(args.samples, head + samples.map((x) => x.join(',')).join('\n') + '\n');
    }

    result.modes = {};
    for (const mode of modes) {
      const mine = runs.filter((r) => r.mode === mode);
      result.modes[mode] = mine.length ? modeSection(mine) : { error: 'no start completed', measured_ms: stats([]) };
    }
    // Top level: the first mode, under the field names of the single-player runs before.
    const first = result.modes[modes[0]];
    for (const k of ['measured_ms', 'hls_latency_ms', 'pdt_latency_ms', 'pdt_minus_capture_ms', 'target_duration_s',
      'part_target_s', 'hls_target_latency_s', 'floor_ms', 'floor_basis', 'frames', 'unreadable', 'waiting_events',
      'waiting_events_before', 'level_switches', 'levels', 'dropped_frames', 'first_frame_secs', 'warmup_timeline',
      'hls_errors', 'capture_minus_media_spread_ms', 'measured_first10_ms', 'measured_last10_ms']) {
      if (k in first) result[k] = first[k];
    }
    // Kino's PDT against the capture time does not depend on the player: all frames.
    result.pdt_minus_capture_all_ms = stats(samples.map((x) => x[3]));

    const problems = [...startErrors];
    for (const mode of modes) {
      const m = result.modes[mode];
      if (!m.measured_ms.n) problems.push(`${mode}: no readable frame in the window (${m.frames ?? 0} frames, ${m.unreadable ?? 0} unreadable); hls.js: ${(m.hls_errors || []).join(', ')}`);
      else if ((m.hls_errors || []).some((e) => e.startsWith('FATAL'))) problems.push(`${mode}: hls.js fatal error: ${m.hls_errors.join(', ')}`);
    }
    if (problems.length) result.error = problems.join('; ');
  } catch (e) {
    result.error = String(e && e.message ? e.message : e);
  } finally {
    if (context) await context.close().catch(() => {});
    rmSync(profile, { recursive: true, force: true });
  }
  if (result.error) log(`error: ${result.error}`);
  process.stdout.write(`${JSON.stringify(result)}\n`);
  process.exit(result.error ? 1 : 0);
}

main();
