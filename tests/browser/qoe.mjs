#!/usr/bin/env node
// Real-browser check of the QoE beacons (docs/qoe.md) and the Analytics page, in Debian's
// headless Chromium.
//
//   node qoe.mjs BASE_URL VIDEO_ID ADMIN_TOKEN [FAILING_VIDEO_ID]
//
// VIDEO_ID: a ready, public video with at least two renditions of different heights, at least
// ~60 s long (it must not end during the ~40 s it plays). ADMIN_TOKEN: an API token (read scope)
// of an admin, or of the videos' owner. FAILING_VIDEO_ID (optional): a video whose media
// segments the server answers 500.
//
// 1. Watch page, network throttled through the DevTools protocol: it plays unthrottled until
//    hls.js plays above the lowest rendition (at least QOE_FAST_PLAY_S seconds), then the network
//    drops to half of what the lowest rendition really needs (its declared bitrate scaled by how
//    much the segments loaded so far weigh against theirs), at most QOE_THROTTLE_KBPS (default
//    250 kbit/s), until the page has sent a `rebuffer_start` and a `rendition` lower than an
//    earlier one — or, once the stall is sent, STALL_GRACE_MS more (the lower rendition may only
//    play once its segment is in) — then runs free again; a down-switch not sent yet must be
//    within DOWN_SWITCH_AFTER_MS. hls.js's forward buffer is capped at BUFFER_S seconds on this
//    page so that the slow network turns into a stall within seconds instead of after the 30 s
//    hls.js buffers by default. The page's own measurement of its start time
//    (window.kinoQoe.measured.startupMs) and its view id are read, the queue is flushed, and the
//    page is closed (pagehide sends the last beacon).
// 2. GET /api/qoe/views/VIEW_ID (as ADMIN_TOKEN, polled up to VIEW_POLL_MS): the view counts a
//    rebuffer, played at least two rendition heights, its events hold a down-switch, and its
//    startup_ms is within 20 % (or 50 ms) of the page's measurement. Whether `page_hide` arrived
//    is reported (summary.pageHide), not checked: it is sent while the page closes.
// 3. /analytics?video=VIDEO_ID in a browser sending `Authorization: Bearer ADMIN_TOKEN`: the
//    recent views have a row for the view; choosing it shows its timeline with its
//    rebuffer_start. No Content-Security-Policy violation on either page.
// 4. (FAILING_VIDEO_ID) its watch page plays until hls.js gives up (a fatal error in
//    window.kinoPlayer.fatalErrors, within QOE_FAIL_WAIT_MS: hls.js retries a segment answered
//    500 six times over ~31 s before it gives up, and tries the other renditions), the queue is
//    flushed, and the server's view of it is failed with an error that says 500 (or a load error
//    code).
// Prints a JSON summary on stdout in every case; exits 1 (naming the failed check) on failure.

import { CheckError, browserVersion, createHarness, sleep } from './common.mjs';

const [baseArg, videoId, adminToken, failingVideoId] = process.argv.slice(2);
if (!baseArg || !videoId || !adminToken) {
  console.error('usage: node qoe.mjs BASE_URL VIDEO_ID ADMIN_TOKEN [FAILING_VIDEO_ID]');
  process.exit(2);
}
const base = baseArg.replace(/\/+$/, '');
const watchUrl = (id) => `${base}/watch/${encodeURIComponent(id)}`;

const envNumber = (name, fallback) => (Number(process.env[name]) > 0 ? Number(process.env[name]) : fallback);
const PLAYER_TIMEOUT_MS = 30_000; // page loaded → player with parsed levels
const FIRST_FRAME_TIMEOUT_MS = 30_000; // play() → the page measured its start time
const FAST_PLAY_S = envNumber('QOE_FAST_PLAY_S', 6); // unthrottled playback at least this long…
const CLIMB_TIMEOUT_MS = 20_000; // …and until a rendition above the lowest plays, at most this long
const THROTTLE_KBPS = envNumber('QOE_THROTTLE_KBPS', 250);
const THROTTLED_MS = envNumber('QOE_THROTTLED_MS', 45_000); // throttled → rebuffer (and down-switch) sent
const STALL_GRACE_MS = 10_000; // stall sent, no down-switch yet: this long more throttled
const DOWN_SWITCH_AFTER_MS = 20_000; // unthrottled → the down-switch sent, when not yet
const RECOVER_MS = 4000; // unthrottled again: let playback resume before reading the page
const BUFFER_S = 8; // hls.js's forward buffer on the watch page of check 1
const VIEW_POLL_MS = 15_000;
const ANALYTICS_TIMEOUT_MS = 20_000;
const FAIL_WAIT_MS = envNumber('QOE_FAIL_WAIT_MS', 90_000);
const STARTUP_TOLERANCE = 0.2; // relative…
const STARTUP_TOLERANCE_MS = 50; // …or absolute, whichever is larger
const OVERALL_TIMEOUT_MS = 360_000;

const summary = {
  ok: false, base, videoId, failingVideoId: failingVideoId || null,
  viewId: null, pageStartupMs: null, serverStartupMs: null, throttleKbps: null, levels: null,
  renditionsSent: null, pageHide: null, failingViewId: null, checks: [], failed: null,
};
const { check, newBrowser, pageLog, main } = createHarness({
  summary,
  profilePrefix: 'kino-qoe',
  overallTimeoutMs: OVERALL_TIMEOUT_MS,
  json: 'pretty',
  okSuffix: `for ${watchUrl(videoId)}`,
});

// -----------------------------------------------------------------------------------------------
// Helpers

/** GET an API path with the admin token from node: { status, body }. */
async function apiGet(path) {
  const res = await fetch(`${base}${path}`, { headers: { Authorization: `Bearer ${adminToken}`, Accept: 'application/json' } });
  const text = await res.text();
  let body = text;
  try {
    body = JSON.parse(text);
  } catch {
    body = text.length > 300 ? `${text.slice(0, 300)}…` : text;
  }
  return { status: res.status, body };
}

/**
 * Polls GET /api/qoe/views/{viewId} until `problems(answer)` returns no problem or `timeoutMs`
 * pass; fails with the last problems and answer.
 * @param {string} viewId
 * @param {number} timeoutMs
 * @param {(answer: { view: any, events: any[] }) => string[]} problems
 */
async function pollView(viewId, timeoutMs, problems) {
  const deadline = Date.now() + timeoutMs;
  let last = null;
  let lastProblems = [];
  for (;;) {
    const r = await apiGet(`/api/qoe/views/${encodeURIComponent(viewId)}`);
    if (r.status === 200 && r.body && r.body.view) {
      last = r.body;
      lastProblems = problems({ view: r.body.view, events: Array.isArray(r.body.events) ? r.body.events : [] });
      if (!lastProblems.length) return last;
    } else {
      lastProblems = [`GET /api/qoe/views/${viewId} answered ${r.status}: ${JSON.stringify(r.body)}`];
    }
    if (Date.now() > deadline) {
      const view = last ? last.view : null;
      const types = last ? last.events.map((e) => e.type) : [];
      throw new CheckError(`${lastProblems.join('; ')} (after ${timeoutMs / 1000} s; view: ${JSON.stringify(view)}; event types: ${types.join(',')})`);
    }
    await sleep(1000);
  }
}

/** Records CSP violations of every page of a context in window.__cspViolations. */
async function watchCsp(context) {
  await context.addInitScript(() => {
    window.__cspViolations = [];
    document.addEventListener('securitypolicyviolation', (e) => {
      window.__cspViolations.push(`${e.violatedDirective} blocked ${e.blockedURI || 'inline'} (${e.sourceFile || ''}:${e.lineNumber || ''})`);
    });
  });
}

async function assertNoCspViolations(page, where) {
  const violations = await page.evaluate(() => window.__cspViolations || []);
  if (violations.length) throw new CheckError(`${where}: Content-Security-Policy violations: ${violations.join('; ')}`);
}

/** What the watch page's player and QoE module say now. */
function readPlayer(page) {
  return page.evaluate(() => {
    const p = window.kinoPlayer;
    const q = window.kinoQoe;
    const v = (p && p.video) || document.getElementById('player');
    const errBox = document.getElementById('player-error');
    const sent = q ? q.sent : [];
    return {
      hasPlayer: !!p,
      hasHls: !!(p && p.hls),
      hasQoe: !!q,
      viewId: q ? q.viewId : null,
      startupMs: q ? q.measured.startupMs : null,
      qoeStats: q ? q.stats : null,
      currentTime: v ? v.currentTime : null,
      paused: v ? v.paused : null,
      readyState: v ? v.readyState : null,
      videoHeight: v ? v.videoHeight : null,
      fatalErrors: (p && p.fatalErrors) || [],
      playerErrorText: errBox && !errBox.hidden ? errBox.textContent : null,
      sentTypes: sent.map((e) => e.type),
      renditions: sent.filter((e) => e.type === 'rendition').map((e) => ({ seq: e.seq, t: e.t, height: e.height, bitrate: e.bitrate })),
      rebufferStarts: sent.filter((e) => e.type === 'rebuffer_start').length,
      errors: sent.filter((e) => e.type === 'error').map((e) => ({ fatal: e.fatal, code: e.code, detail: e.detail })),
    };
  });
}

/** A rendition event (in seq order) lower than one before it, or null. */
function downSwitch(renditions) {
  let highest = null;
  for (const r of [...renditions].sort((a, b) => a.seq - b.seq)) {
    if (highest && r.height < highest.height) return { from: highest.height, to: r.height, seq: r.seq };
    if (!highest || r.height > highest.height) highest = r;
  }
  return null;
}

/** Polls the watch page until `done(state)`; fails on a player error or after `timeoutMs`. */
async function waitForPlayer(page, timeoutMs, done, describe, { allowErrors = false } = {}) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const state = await readPlayer(page);
    if (!allowErrors) {
      if (state.fatalErrors.length) throw new CheckError(`fatal player error while waiting for ${describe}: ${JSON.stringify(state.fatalErrors[0])}`);
      if (state.playerErrorText) throw new CheckError(`the page shows a player error while waiting for ${describe}: ${state.playerErrorText}`);
    }
    if (done(state)) return state;
    if (Date.now() > deadline) {
      const { sentTypes, ...rest } = state;
      throw new CheckError(`${describe} not reached within ${timeoutMs / 1000} s (state: ${JSON.stringify({ ...rest, sentTypes: sentTypes.join(',') })})`);
    }
    await sleep(250);
  }
}

/** Opens a watch page, waits for the player and the QoE module, and starts playback (muted). */
async function openAndPlay(page, id, { capBuffer = false } = {}) {
  const res = await page.goto(watchUrl(id), { waitUntil: 'load', timeout: PLAYER_TIMEOUT_MS });
  if (!res || !res.ok()) throw new CheckError(`HTTP ${res ? res.status() : 'no response'} for ${watchUrl(id)}`);
  try {
    await page.waitForFunction(
      () => !document.getElementById('player-error').hidden ||
        (window.kinoQoe && window.kinoPlayer && (!window.kinoPlayer.hls || window.kinoPlayer.hls.levels.length > 0)),
      null, { timeout: PLAYER_TIMEOUT_MS, polling: 100 });
  } catch {
    const state = await readPlayer(page);
    throw new CheckError(`no player with window.kinoQoe within ${PLAYER_TIMEOUT_MS / 1000} s (state: ${JSON.stringify(state)})`);
  }
  const levels = await page.evaluate((cap) => {
    const { hls } = window.kinoPlayer;
    if (!hls) return null;
    if (cap !== null) {
      // hls.js reads these on every tick: a short forward buffer makes a slow network stall soon.
      hls.config.maxBufferLength = cap;
      hls.config.maxMaxBufferLength = cap;
    }
    // What the segments of each level really weigh (bytes, seconds): their declared BANDWIDTH
    // may be far above what simple content needs.
    window.__qoeTestLoaded = {};
    hls.on(window.Hls.Events.FRAG_LOADED, (_e, data) => {
      const { frag } = data;
      // (The payload itself is often handed to the transmuxing worker by then: 0 bytes.)
      const bytes = (frag.stats && frag.stats.loaded) || (data.payload && data.payload.byteLength);
      if (!(bytes > 0) || !(frag.duration > 0) || typeof frag.level !== 'number') return;
      const sum = window.__qoeTestLoaded[frag.level] || (window.__qoeTestLoaded[frag.level] = { bytes: 0, duration: 0 });
      sum.bytes += bytes;
      sum.duration += frag.duration;
    });
    return hls.levels.map((l, index) => ({ index, height: l.height, width: l.width, bitrate: l.bitrate }));
  }, capBuffer ? BUFFER_S : null);
  const played = await page.evaluate(async () => {
    const v = window.kinoPlayer.video;
    v.muted = true;
    try {
      await v.play();
      return null;
    } catch (err) {
      return `${err.name}: ${err.message}`;
    }
  });
  if (played) pageLog.push({ kind: 'play() rejected', text: played });
  return levels;
}

/** Sets the page's network conditions (throughput in bytes/s; null: unthrottled). */
async function throttle(cdp, bytesPerSecond) {
  await cdp.send('Network.emulateNetworkConditions', {
    offline: false,
    latency: bytesPerSecond === null ? 0 : 40,
    downloadThroughput: bytesPerSecond === null ? -1 : bytesPerSecond,
    uploadThroughput: bytesPerSecond === null ? -1 : bytesPerSecond,
  });
}

// -----------------------------------------------------------------------------------------------

async function run() {
  let watch; // { context, page }
  let cdp;
  let levels;

  await check('browser starts', async () => {
    watch = await newBrowser('watch');
    await watchCsp(watch.context);
    cdp = await watch.page.context().newCDPSession(watch.page);
    await cdp.send('Network.enable');
    await throttle(cdp, null);
    return { version: browserVersion(watch.context) };
  });

  await check('watch page plays with the QoE module', async () => {
    levels = await openAndPlay(watch.page, videoId, { capBuffer: true });
    if (!levels) throw new CheckError('window.kinoPlayer.hls is missing: the page did not use hls.js');
    summary.levels = levels;
    const heights = new Set(levels.map((l) => l.height));
    if (heights.size < 2) throw new CheckError(`the video needs renditions of at least two heights; hls.levels: ${JSON.stringify(levels)}`);
    const state = await waitForPlayer(watch.page, FIRST_FRAME_TIMEOUT_MS, (s) => s.startupMs !== null, 'the first frame (kinoQoe.measured.startupMs)');
    if (!/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/.test(state.viewId)) {
      throw new CheckError(`window.kinoQoe.viewId is not a lowercase UUID v4: ${JSON.stringify(state.viewId)}`);
    }
    summary.viewId = state.viewId;
    return { viewId: state.viewId, startupMs: state.startupMs, levels: levels.length };
  });

  await check('unthrottled: climbs above the lowest rendition', async () => {
    const lowest = Math.min(...levels.map((l) => l.height));
    const started = Date.now();
    // The picture shown is above the lowest rendition (its `rendition` event goes with a flush).
    const state = await waitForPlayer(watch.page, FAST_PLAY_S * 1000 + CLIMB_TIMEOUT_MS,
      (s) => Date.now() - started >= FAST_PLAY_S * 1000 && s.videoHeight > lowest,
      `playback above the lowest rendition (${lowest}p) after ${FAST_PLAY_S} s`);
    return { videoHeight: state.videoHeight, currentTime: state.currentTime, renditions: state.renditions.map((r) => r.height) };
  });

  await check('throttled: the page sends a rebuffer and a down-switch', async () => {
    // Half of what the lowest rendition really needs (its declared bitrate scaled by how the
    // loaded segments compare with theirs), at most QOE_THROTTLE_KBPS: it cannot keep up.
    const loaded = await watch.page.evaluate(() => window.__qoeTestLoaded || {});
    const ratios = Object.entries(loaded)
      .map(([level, sum]) => (8 * sum.bytes) / sum.duration / (levels[Number(level)] ? levels[Number(level)].bitrate : NaN))
      .filter((r) => Number.isFinite(r) && r > 0);
    const ratio = ratios.length ? Math.min(1, Math.max(...ratios)) : 1;
    const lowestBitrate = Math.min(...levels.map((l) => l.bitrate).filter((b) => b > 0));
    const kbps = Math.max(16, Math.min(THROTTLE_KBPS, Math.floor((0.5 * ratio * lowestBitrate) / 1000)));
    summary.throttleKbps = kbps;
    await throttle(cdp, Math.floor((kbps * 1000) / 8));
    let state;
    try {
      // Both while throttled, ideally; the stall at least. The lower rendition may only get to
      // play once the network is back (its segment crawls in meanwhile): STALL_GRACE_MS after
      // the stall was sent, the network comes back anyway.
      let stallSeenAt = null;
      state = await waitForPlayer(watch.page, THROTTLED_MS, (s) => {
        if (s.rebufferStarts === 0) return false;
        if (stallSeenAt === null) stallSeenAt = Date.now();
        return downSwitch(s.renditions) !== null || Date.now() - stallSeenAt >= STALL_GRACE_MS;
      }, `a sent rebuffer_start at ${kbps} kbit/s`);
    } finally {
      await throttle(cdp, null);
    }
    const throttled = downSwitch(state.renditions);
    if (!throttled) {
      state = await waitForPlayer(watch.page, DOWN_SWITCH_AFTER_MS, (s) => downSwitch(s.renditions) !== null,
        `a sent rendition lower than an earlier one (${DOWN_SWITCH_AFTER_MS / 1000} s after the throttle ended; rendition heights sent: ${state.renditions.map((r) => r.height).join(' → ')})`);
    }
    summary.renditionsSent = state.renditions;
    return {
      kbps, segmentsVsDeclared: Math.round(ratio * 100) / 100, rebufferStarts: state.rebufferStarts,
      downSwitch: downSwitch(state.renditions), downSwitchWhileThrottled: !!throttled, currentTime: state.currentTime,
    };
  });

  await check('unthrottled again: plays on, page measurement read, page closed', async () => {
    await sleep(RECOVER_MS);
    const state = await readPlayer(watch.page);
    if (state.fatalErrors.length) throw new CheckError(`fatal player error after the throttle: ${JSON.stringify(state.fatalErrors[0])}`);
    await assertNoCspViolations(watch.page, 'watch page');
    summary.pageStartupMs = state.startupMs;
    await watch.page.evaluate(() => window.kinoQoe.flush());
    const after = await readPlayer(watch.page);
    await watch.page.close(); // pagehide: the last watch, page_hide, sent with sendBeacon
    return { startupMs: state.startupMs, viewId: after.viewId, sent: after.sentTypes.length, qoeStats: after.qoeStats };
  });

  const viewId = summary.viewId;
  await check('server: the view has the rebuffer, the renditions and the start time', async () => {
    const pageMs = summary.pageStartupMs;
    const tolerance = Math.max(STARTUP_TOLERANCE * pageMs, STARTUP_TOLERANCE_MS);
    const answer = await pollView(viewId, VIEW_POLL_MS, ({ view, events }) => {
      const problems = [];
      if (!(view.rebuffer_count >= 1)) problems.push(`rebuffer_count is ${view.rebuffer_count}, expected ≥ 1`);
      const heights = new Set((Array.isArray(view.renditions) ? view.renditions : []).map((r) => r.height));
      if (heights.size < 2) problems.push(`renditions has ${heights.size} height(s) (${JSON.stringify(view.renditions)}), expected ≥ 2`);
      const renditions = events.filter((e) => e.type === 'rendition');
      if (!downSwitch(renditions)) problems.push(`no rendition event lower than an earlier one (rendition heights in seq order: ${renditions.sort((a, b) => a.seq - b.seq).map((e) => e.height).join(' → ') || 'none'})`);
      if (typeof view.startup_ms !== 'number') problems.push(`startup_ms is ${JSON.stringify(view.startup_ms)}`);
      else if (Math.abs(view.startup_ms - pageMs) > tolerance) {
        problems.push(`startup_ms ${view.startup_ms} is not within ${Math.round(tolerance)} ms of the page's own ${pageMs} ms`);
      }
      return problems;
    });
    summary.serverStartupMs = answer.view.startup_ms;
    // page_hide is sent while the page closes: it may take a moment, and is reported, not required.
    const deadline = Date.now() + 5000;
    let events = answer.events;
    while (!events.some((e) => e.type === 'page_hide') && Date.now() < deadline) {
      await sleep(1000);
      const r = await apiGet(`/api/qoe/views/${encodeURIComponent(viewId)}`);
      if (r.status === 200 && Array.isArray(r.body.events)) events = r.body.events;
    }
    summary.pageHide = events.some((e) => e.type === 'page_hide');
    const v = answer.view;
    return {
      startupMs: v.startup_ms, pageStartupMs: pageMs, rebufferCount: v.rebuffer_count, rebufferSecs: v.rebuffer_secs,
      renditions: v.renditions, watchSecs: v.watch_secs, avgBitrate: v.avg_bitrate, events: events.length, pageHide: summary.pageHide,
    };
  });

  await check('analytics page: the view and its timeline', async () => {
    const { context, page } = await newBrowser('analytics');
    await watchCsp(context);
    await context.setExtraHTTPHeaders({ Authorization: `Bearer ${adminToken}` });
    const url = `${base}/analytics?video=${encodeURIComponent(videoId)}`;
    const res = await page.goto(url, { waitUntil: 'load' });
    if (!res || !res.ok()) throw new CheckError(`HTTP ${res ? res.status() : 'no response'} for ${url}`);
    const row = `#qoe-view-rows tr[data-view-id="${viewId}"]`;
    try {
      await page.waitForSelector(row, { timeout: ANALYTICS_TIMEOUT_MS });
    } catch {
      const shown = await page.evaluate(() => ({
        error: document.getElementById('qoe-error').hidden ? null : document.getElementById('qoe-error').textContent,
        empty: !document.getElementById('qoe-empty').hidden,
        rows: [...document.querySelectorAll('#qoe-view-rows tr')].map((tr) => tr.getAttribute('data-view-id')),
        url: location.href,
      }));
      throw new CheckError(`no row for view ${viewId} in #qoe-view-rows within ${ANALYTICS_TIMEOUT_MS / 1000} s (page: ${JSON.stringify(shown)})`);
    }
    const tiles = await page.evaluate(() => ({
      views: document.getElementById('qoe-views').textContent,
      startP50: document.getElementById('qoe-start-p50').textContent,
      rebufferRatio: document.getElementById('qoe-rebuffer-ratio').textContent,
      failureRatio: document.getElementById('qoe-failure-ratio').textContent,
    }));
    if (!(Number(tiles.views.replace(/[^0-9]/g, '')) >= 1)) throw new CheckError(`#qoe-views shows ${JSON.stringify(tiles.views)}, expected ≥ 1`);
    await page.click(row);
    try {
      await page.waitForSelector('#qoe-timeline li[data-type="rebuffer_start"]', { timeout: ANALYTICS_TIMEOUT_MS });
    } catch {
      const shown = await page.evaluate(() => ({
        error: document.getElementById('qoe-view-error').hidden ? null : document.getElementById('qoe-view-error').textContent,
        types: [...document.querySelectorAll('#qoe-timeline li')].map((li) => li.getAttribute('data-type') || li.textContent),
      }));
      throw new CheckError(`#qoe-timeline shows no li[data-type="rebuffer_start"] after choosing the view (page: ${JSON.stringify(shown)})`);
    }
    const timeline = await page.evaluate(() => [...document.querySelectorAll('#qoe-timeline li')].map((li) => li.getAttribute('data-type')));
    if (timeline[0] !== 'view_start') throw new CheckError(`the timeline starts with ${timeline[0]}, not view_start`);
    await assertNoCspViolations(page, 'analytics page');
    const charts = await page.evaluate(() => document.querySelectorAll('.qoe-chart canvas').length);
    await page.close();
    return { tiles, timelineEvents: timeline.length, charts };
  });

  if (!failingVideoId) {
    summary.failingSkipped = 'no FAILING_VIDEO_ID given';
    return;
  }

  await check('failing video: the page reports the fatal error', async () => {
    const { context, page } = await newBrowser('failing');
    await watchCsp(context);
    await openAndPlay(page, failingVideoId);
    const state = await waitForPlayer(page, FAIL_WAIT_MS, (s) => s.fatalErrors.length > 0,
      'a fatal error in window.kinoPlayer.fatalErrors (segments answered 500)', { allowErrors: true });
    summary.failingViewId = state.viewId;
    await page.evaluate(() => window.kinoQoe.flush());
    const after = await readPlayer(page);
    await assertNoCspViolations(page, 'failing watch page');
    await page.close();
    if (!after.errors.some((e) => e.fatal)) {
      throw new CheckError(`the page sent no fatal error event (errors sent: ${JSON.stringify(after.errors)}; stats: ${JSON.stringify(after.qoeStats)})`);
    }
    return { viewId: state.viewId, fatal: state.fatalErrors[0], errorsSent: after.errors.slice(-3) };
  });

  await check('server: the failing view is failed with the 500', async () => {
    const answer = await pollView(summary.failingViewId, VIEW_POLL_MS, ({ view }) => {
      const problems = [];
      if (view.failed !== true) problems.push(`failed is ${JSON.stringify(view.failed)}`);
      const says500 = typeof view.error_detail === 'string' && /\b500\b/.test(view.error_detail);
      const loadError = typeof view.error_code === 'string' && /fragLoadError|levelLoadError|manifestLoadError/.test(view.error_code);
      if (!says500 && !loadError) {
        problems.push(`error_code ${JSON.stringify(view.error_code)} / error_detail ${JSON.stringify(view.error_detail)} say neither 500 nor a load error`);
      }
      return problems;
    });
    return { errorCode: answer.view.error_code, errorDetail: answer.view.error_detail };
  });
}

main(run);
