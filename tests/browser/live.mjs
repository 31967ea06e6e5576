#!/usr/bin/env node
// Real-browser check of a live stream on Kino's watch page, in Debian's headless Chromium.
//
//   node live.mjs BASE_URL VIDEO_ID [PUBLISH_URL]
//
// VIDEO_ID is a public live stream (POST /api/live). PUBLISH_URL is where to publish it,
// `{rtmp_url}/{stream_key}` of that answer: the script then publishes itself, with ffmpeg as OBS
// would (`-re`, H.264 zerolatency keyed every second + AAC, FLV over RTMP), for
// LIVE_PUBLISH_SECS seconds (env, default 45; FFMPEG names the binary, default `ffmpeg`), and the
// stream must still be idle. Without PUBLISH_URL, someone else is publishing it (or is about to):
// the script checks the live parts only, not the replay.
//
// LIVE_OWNER (env, `username:password`) names the stream's owner (any uploader account will do):
// with it and PUBLISH_URL, a third browser signs in as that account and follows the stream on
// the Go live page (/live?id=VIDEO_ID), which must show the ingest health while publishing.
// Without it the Go live checks are skipped (the summary says so): accounts signed up here are
// viewers, who cannot open the Go live page.
//
// Signs up two fresh users (A and B, POST /api/auth/register, each in its own browser profile),
// then checks:
// 1. (own publisher) A's watch page, opened while the stream is idle, waits ("Starting soon");
// 2. the publisher starts; A's page starts playing by itself, without a reload, and the video
//    plays: currentTime advances by 2 s, frames decode, no player error;
// 3. B opens the watch page of the stream being published and plays it; the page shows the LIVE
//    badge and the "Go to live edge" button;
// 4. low-latency HLS on B: hls.js in lowLatencyMode reads parts (canBlockReload, a part list),
//    aims PART-HOLD-BACK behind the edge, makes blocking reloads (_HLS_msn) and loads parts;
//    latency: sampled on B for a few seconds, printed in the summary (`latency`): hls.js's
//    estimate behind the playlist's live edge, its target, and the wall-clock delay between the
//    capture of the frame shown (EXT-X-PROGRAM-DATE-TIME) and now; fails past
//    LIVE_MAX_LATENCY_S (env, default 20). Then B seeks 6 s back and "Go to live edge" brings it
//    back within 2 s of the edge;
// 5. chat: B posts a message through the chat form, A's page shows it (live, no reload); A posts
//    one, B's page shows it; markup in a message shows literally;
// 6. (own publisher) the publisher stops; A's page moves onto the replay (a VOD, no reload of the
//    page), the chat panel becomes "Chat replay", and its messages follow the video's time: none
//    before the first message's time, the message after it.
// 7. (own publisher, LIVE_OWNER) the Go live page: no ingest health while the stream is idle;
//    while publishing, fresh figures (updated within 3 s) with a bitrate > 0 and a frame rate
//    within HEALTH_FPS_SLACK of the publisher's 30 fps, updating; none once the broadcast is over.
// Prints a JSON summary on stdout in every case; exits 1 (naming the failed check) on failure.

import { spawn } from 'node:child_process';
import { CheckError, browserVersion, createHarness, pageFetch, sleep } from './common.mjs';

const [baseArg, videoId, publishUrl] = process.argv.slice(2);
if (!baseArg || !videoId) {
  console.error('usage: node live.mjs BASE_URL VIDEO_ID [PUBLISH_URL]');
  process.exit(2);
}
const base = baseArg.replace(/\/+$/, '');
const watchUrl = `${base}/watch/${encodeURIComponent(videoId)}`;

const FFMPEG = process.env.FFMPEG || 'ffmpeg';
const PUBLISH_SECS = Number(process.env.LIVE_PUBLISH_SECS) > 0 ? Number(process.env.LIVE_PUBLISH_SECS) : 45;
const MAX_LATENCY_S = Number(process.env.LIVE_MAX_LATENCY_S) > 0 ? Number(process.env.LIVE_MAX_LATENCY_S) : 20;
const STEP_TIMEOUT_MS = 30_000;
const LIVE_TIMEOUT_MS = 45_000; // publisher started → playing on the page
const ADVANCE_S = 2; // currentTime must advance this much
const LATENCY_SAMPLE_MS = 4000;
const SEEK_BACK_S = 6;
const EDGE_SLACK_S = 2; // after "Go to live edge": this close to hls.js's live sync position
const CHAT_TIMEOUT_MS = 5000; // accepted post → shown in the other page
const REPLAY_TIMEOUT_MS = 120_000; // publisher exited → the page plays the replay
const OVERALL_TIMEOUT_MS = 300_000;
const PUBLISH_FPS = 30;
const HEALTH_FPS_SLACK = 3; // a window's frame rate may be off by arrival jitter
const HEALTH_TIMEOUT_MS = 20_000; // live → a fresh health sample near PUBLISH_FPS
const OWNER = process.env.LIVE_OWNER || '';

const suffix = `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 8)}`.slice(-10);
const summary = { ok: false, base, videoId, publishing: Boolean(publishUrl), users: [], latency: null, goLive: null, checks: [], failed: null };
const { check, newBrowser, pageLog, main } = createHarness({
  summary,
  profilePrefix: 'kino-live',
  overallTimeoutMs: OVERALL_TIMEOUT_MS,
  pageTimeoutMs: STEP_TIMEOUT_MS,
  json: 'pretty',
  okSuffix: `for ${watchUrl}`,
  onFinish: () => stopPublisher(),
});

// ---------------------------------------------------------------------------------------------
// The publisher (ffmpeg, as OBS would send).

/** @type {import('node:child_process').ChildProcess | null} */
let publisher = null;
let publisherExit = null; // resolves to {code, signal, stderr} when it exits
let publisherStderr = '';

function startPublisher() {
  publisher = spawn(FFMPEG, [
    '-hide_banner', '-nostdin', '-v', 'error', '-re',
    '-f', 'lavfi', '-i', `testsrc2=size=854x480:rate=${PUBLISH_FPS}`,
    '-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=48000',
    '-t', String(PUBLISH_SECS),
    '-c:v', 'libx264', '-preset', 'ultrafast', '-tune', 'zerolatency', '-g', String(PUBLISH_FPS), '-pix_fmt', 'yuv420p',
    '-c:a', 'aac', '-f', 'flv', publishUrl,
  ], { stdio: ['ignore', 'ignore', 'pipe'] });
  publisher.stderr.on('data', (chunk) => {
    publisherStderr = `${publisherStderr}${chunk}`.slice(-2000);
  });
  publisherExit = new Promise((resolve) => {
    publisher.on('exit', (code, signal) => resolve({ code, signal, stderr: publisherStderr.trim() }));
    publisher.on('error', (err) => resolve({ code: null, signal: null, stderr: `cannot run ${FFMPEG}: ${err.message}` }));
  });
  return Date.now();
}

function stopPublisher() {
  if (publisher && publisher.exitCode === null && publisher.signalCode === null) publisher.kill('SIGKILL');
}
process.on('exit', stopPublisher); // also on the overall timeout

/** Fails when the publisher already gave up (wrong key, no ffmpeg…). */
async function assertPublishing() {
  if (!publisher) return;
  const exited = await Promise.race([publisherExit, sleep(0).then(() => null)]);
  if (exited && exited.code !== 0) throw new CheckError(`the publisher exited with ${exited.code ?? exited.signal}: ${exited.stderr || 'no message'}`);
}

// ---------------------------------------------------------------------------------------------
// Pages.

/** Registers a fresh account from the page (POST /api/auth/register), which signs it in. */
async function register(page, label) {
  const username = `l${label}${suffix}`.slice(0, 32).toLowerCase();
  const password = `pw-${suffix}-${Math.random().toString(36).slice(2, 10)}`;
  const r = await pageFetch(page, '/api/auth/register', {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
    body: JSON.stringify({ username, email: `${username}@example.test`, password }),
  });
  if (r.status !== 201) throw new CheckError(`POST /api/auth/register for ${username} answered ${r.status}: ${JSON.stringify(r.body)}`);
  return username;
}

/** GET /api/videos/{id} through a page. */
async function apiVideo(page) {
  const r = await pageFetch(page, `/api/videos/${encodeURIComponent(videoId)}`);
  if (r.status !== 200) throw new CheckError(`GET /api/videos/${videoId} answered ${r.status}: ${JSON.stringify(r.body)}`);
  return r.body;
}

/** The watch page's player, live parts and chat, read in the page. */
function readState(page) {
  return page.evaluate(() => {
    const p = window.kinoPlayer;
    const v = (p && p.video) || document.getElementById('player');
    const q = v && v.getVideoPlaybackQuality ? v.getVideoPlaybackQuality() : null;
    const errBox = document.getElementById('player-error');
    const shown = (id) => {
      const n = document.getElementById(id);
      return !!(n && !n.hidden && n.offsetParent !== null);
    };
    let live = null;
    try {
      const details = p && p.hls ? (p.hls.levels[Math.max(0, p.hls.currentLevel)] || {}).details : null;
      live = details ? details.live : null;
    } catch {
      live = null;
    }
    return {
      hasPlayer: !!p,
      hasHls: !!(p && p.hls),
      currentTime: v ? v.currentTime : null,
      paused: v ? v.paused : null,
      readyState: v ? v.readyState : null,
      videoError: v && v.error ? { code: v.error.code, message: v.error.message } : null,
      frames: q ? q.totalVideoFrames : null,
      playlistLive: live,
      fatalErrors: (p && p.fatalErrors) || [],
      reloads: p ? p.reloads.length : 0,
      playerErrorText: errBox && !errBox.hidden ? errBox.textContent : null,
      waiting: shown('live-waiting'),
      waitingText: shown('live-waiting') ? document.getElementById('live-waiting').textContent.replace(/\s+/g, ' ').trim() : null,
      badge: document.getElementById('status').textContent.trim(),
      edgeButton: shown('live-edge'),
      chatHeading: (document.getElementById('chat-heading') || {}).textContent || null,
      chatShown: shown('chat'),
      watch: window.kinoWatch ? { ...window.kinoWatch } : null,
      mark: window.__liveMark || null,
    };
  });
}

function assertNoErrors(state) {
  if (state.fatalErrors.length) throw new CheckError(`fatal hls.js error: ${JSON.stringify(state.fatalErrors[0])}`);
  if (state.videoError) throw new CheckError(`video element error ${state.videoError.code}: ${state.videoError.message}`);
  if (state.playerErrorText) throw new CheckError(`page shows a player error: ${state.playerErrorText}`);
}

/** Polls the page until `done(state)`; fails on player errors, a dead publisher or the timeout. */
async function waitForState(page, timeoutMs, done, describe) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const state = await readState(page);
    assertNoErrors(state);
    if (done(state)) return state;
    await assertPublishing();
    if (Date.now() > deadline) throw new CheckError(`${describe} not reached within ${timeoutMs / 1000} s (state: ${JSON.stringify(state)})`);
    await sleep(200);
  }
}

/** Opens the watch page and waits for its chat panel (first GET done, live connection open). */
async function openWatch(page) {
  const res = await page.goto(watchUrl, { waitUntil: 'load' });
  if (!res || !res.ok()) throw new CheckError(`GET ${watchUrl} answered ${res ? res.status() : 'nothing'}`);
  await page.evaluate(() => {
    window.__liveMark = 'same page'; // gone if the page reloads
  });
  try {
    await page.waitForFunction(() => {
      const chat = document.getElementById('chat');
      const comments = document.getElementById('comments');
      return chat && !chat.hidden && chat.dataset.open !== undefined && comments && comments.dataset.live === 'open';
    }, null, { timeout: STEP_TIMEOUT_MS, polling: 100 });
  } catch {
    throw new CheckError(`the chat panel did not show with an open live connection: ${JSON.stringify(await readState(page))}`);
  }
}

/** Waits until currentTime advanced ADVANCE_S from where it is (the page plays by itself). */
async function playsOn(page, describe) {
  const started = await waitForState(page, LIVE_TIMEOUT_MS, (s) => s.hasPlayer && s.currentTime > 0 && !s.paused, `${describe}: playing`);
  const from = started.currentTime;
  const state = await waitForState(page, STEP_TIMEOUT_MS, (s) => s.currentTime >= from + ADVANCE_S && s.frames > 0, `${describe}: currentTime ${from.toFixed(2)} + ${ADVANCE_S} s`);
  return { from, currentTime: state.currentTime, frames: state.frames, badge: state.badge };
}

/** Posts a chat message through the page's form; resolves to the accepted message. */
async function postChat(page, body) {
  await page.waitForSelector('#chat-body:not([disabled])', { timeout: STEP_TIMEOUT_MS });
  await page.fill('#chat-body', body);
  const answer = page.waitForResponse((r) => r.request().method() === 'POST' && new URL(r.url()).pathname === `/api/videos/${videoId}/chat`);
  await page.click('#chat-send');
  const res = await answer;
  const json = await res.json().catch(() => null);
  if (res.status() !== 201) {
    const shown = await page.textContent('#chat-status').catch(() => null);
    throw new CheckError(`posting ${JSON.stringify(body)} answered ${res.status()} ${JSON.stringify(json)}; the panel says ${JSON.stringify(shown)}`);
  }
  return { at: Date.now(), message: json };
}

/** Waits until the page's chat list shows a message reading `body`; resolves to the delay (ms). */
async function seesChat(page, body, since, label) {
  try {
    await page.waitForFunction((text) => [...document.querySelectorAll('#chat-list .chat-body')].some((n) => n.textContent === text),
      body, { timeout: CHAT_TIMEOUT_MS, polling: 20 });
  } catch {
    const live = await page.evaluate(() => document.getElementById('comments').dataset.live);
    throw new CheckError(`${label}'s page did not show ${JSON.stringify(body)} within ${CHAT_TIMEOUT_MS / 1000} s (live connection: ${live})`);
  }
  const mark = await page.evaluate(() => window.__liveMark);
  if (mark !== 'same page') throw new CheckError(`${label}'s page reloaded`);
  return Date.now() - since;
}

/** The Go live page's stream state and ingest health box, read in the page. */
function readHealth(page) {
  return page.evaluate(() => {
    const box = document.getElementById('ingest-health');
    const dd = (id) => {
      const n = document.getElementById(id);
      return { text: n.textContent, value: n.dataset.value === '' || n.dataset.value === undefined ? null : Number(n.dataset.value) };
    };
    return {
      state: (document.getElementById('stream') || {}).dataset?.state ?? null,
      shown: !!(box && !box.hidden && box.offsetParent !== null),
      stale: box ? box.dataset.stale : null,
      age: document.getElementById('health-age').textContent,
      bitrate: dd('health-bitrate'),
      frameRate: dd('health-frame-rate'),
      keyframes: dd('health-keyframes'),
      missing: dd('health-missing'),
      warnings: [...document.querySelectorAll('#health-warnings p')].map((p) => p.textContent),
      mark: window.__liveMark || null,
    };
  });
}

/** Seconds since the last health update the page shows ("just now" → 0), else null. */
function healthAgeSecs(age) {
  if (/just now$/.test(age)) return 0;
  const m = /(\d+) s ago$/.exec(age);
  return m ? Number(m[1]) : null;
}

/** The chat bodies a page shows. */
const chatBodies = (page) => page.evaluate(() => [...document.querySelectorAll('#chat-list .chat-body')].map((n) => n.textContent));

async function run() {
  let a;
  let b;
  await check('browsers start and two users sign up', async () => {
    a = await newBrowser('a');
    b = await newBrowser('b');
    b.requests = [];
    b.page.on('request', (r) => b.requests.push(r.url()));
    await a.page.goto(`${base}/`, { waitUntil: 'load' });
    await b.page.goto(`${base}/`, { waitUntil: 'load' });
    summary.users = [await register(a.page, 'a'), await register(b.page, 'b')];
    return { users: summary.users, version: browserVersion(a.context) };
  });

  const before = await check('the video is a public live stream', async () => {
    const v = await apiVideo(a.page);
    if (!v.live) throw new CheckError(`no "live" field: status ${v.status} (not a live stream, or already its replay)`);
    if (v.privacy && v.privacy !== 'public') throw new CheckError(`the stream is ${v.privacy}, not public`);
    if (publishUrl && v.status !== 'idle') throw new CheckError(`the stream is ${v.status}, not idle: someone else publishes it`);
    return { status: v.status, live: v.live, title: v.title };
  });

  if (publishUrl) {
    await check('A\'s watch page waits for the broadcast', async () => {
      await openWatch(a.page);
      const state = await waitForState(a.page, STEP_TIMEOUT_MS, (s) => s.waiting, '#live-waiting shown');
      if (!/Starting soon/.test(state.badge)) throw new CheckError(`the badge says ${JSON.stringify(state.badge)}, not "Starting soon"`);
      return { waiting: state.waitingText, badge: state.badge, chat: state.chatHeading };
    });
  }

  let owner = null;
  if (publishUrl && OWNER) {
    await check('the owner follows the idle stream on the Go live page, without ingest health', async () => {
      const colon = OWNER.indexOf(':');
      if (colon < 1) throw new CheckError('LIVE_OWNER must read username:password');
      owner = await newBrowser('owner');
      await owner.page.goto(`${base}/`, { waitUntil: 'load' });
      const r = await pageFetch(owner.page, '/api/auth/signin', {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
        body: JSON.stringify({ username: OWNER.slice(0, colon), password: OWNER.slice(colon + 1) }),
      });
      if (r.status !== 200) throw new CheckError(`signing in as ${OWNER.slice(0, colon)} answered ${r.status}: ${JSON.stringify(r.body)}`);
      const res = await owner.page.goto(`${base}/live?id=${encodeURIComponent(videoId)}`, { waitUntil: 'load' });
      if (!res || !res.ok()) throw new CheckError(`GET /live answered ${res ? res.status() : 'nothing'}`);
      await owner.page.evaluate(() => {
        window.__liveMark = 'same page';
      });
      try {
        await owner.page.waitForFunction(() => document.getElementById('stream').dataset.state === 'idle', null, { timeout: STEP_TIMEOUT_MS, polling: 100 });
      } catch {
        const note = await owner.page.evaluate(() => [...document.querySelectorAll('.notice:not([hidden])')].map((n) => n.textContent.trim()));
        throw new CheckError(`the Go live page does not show the idle stream: ${JSON.stringify({ notices: note, health: await readHealth(owner.page) })}`);
      }
      const health = await readHealth(owner.page);
      if (health.shown) throw new CheckError(`ingest health shown while idle: ${JSON.stringify(health)}`);
      return { state: health.state };
    });
  } else if (publishUrl) {
    summary.goLive = 'skipped: set LIVE_OWNER=username:password (the stream\'s owner) to check the Go live page';
    console.error(`Go live page checks ${summary.goLive}`);
  }

  let publishedAt = null;
  if (publishUrl) {
    await check('the publisher goes live', async () => {
      publishedAt = startPublisher();
      const deadline = Date.now() + LIVE_TIMEOUT_MS;
      for (;;) {
        await assertPublishing();
        const v = await apiVideo(b.page);
        if (v.status === 'live' && v.playable) return { afterMs: Date.now() - publishedAt, live: v.live };
        if (Date.now() > deadline) throw new CheckError(`status ${v.status}, playable ${v.playable} after ${LIVE_TIMEOUT_MS / 1000} s`);
        await sleep(250);
      }
    });
    if (owner) {
      await check('the Go live page shows ingest health: bitrate > 0, frame rate near 30, updating', async () => {
        const deadline = Date.now() + HEALTH_TIMEOUT_MS;
        const seen = [];
        let good = null;
        for (;;) {
          await assertPublishing();
          const h = await readHealth(owner.page);
          if (h.mark !== 'same page') throw new CheckError('the Go live page reloaded');
          const age = healthAgeSecs(h.age);
          const sample = `${h.bitrate.value}/${h.frameRate.value}`;
          if (h.shown && h.stale === 'false' && h.bitrate.value !== null && seen.at(-1) !== sample) seen.push(sample);
          const fresh = h.shown && h.stale === 'false' && age !== null && age <= 3;
          if (fresh && h.bitrate.value > 0 && Math.abs(h.frameRate.value - PUBLISH_FPS) <= HEALTH_FPS_SLACK) good = good || h;
          if (good && seen.length >= 2) {
            summary.goLive = { bitrate: good.bitrate.text, frameRate: good.frameRate.text, keyframes: good.keyframes.text, missing: good.missing.text, samples: seen.length };
            return { ...summary.goLive, age: good.age, warnings: good.warnings, afterMs: Date.now() - publishedAt };
          }
          if (Date.now() > deadline) {
            throw new CheckError(`no fresh sample with a bitrate > 0 and ${PUBLISH_FPS} ± ${HEALTH_FPS_SLACK} fps (and a second sample) within ${HEALTH_TIMEOUT_MS / 1000} s; samples ${JSON.stringify(seen)}, last ${JSON.stringify(h)}`);
          }
          await sleep(250);
        }
      });
    }
    await check('A\'s waiting page starts playing by itself', async () => {
      const played = await playsOn(a.page, 'A');
      const state = await readState(a.page);
      if (state.mark !== 'same page') throw new CheckError('A\'s page reloaded');
      if (state.waiting) throw new CheckError('the waiting overlay is still shown');
      return { ...played, afterMs: Date.now() - publishedAt, liveStarts: state.watch && state.watch.liveStarts };
    });
  } else {
    await openWatch(a.page);
  }

  await check('B opens the live stream and plays it, with the LIVE badge', async () => {
    await openWatch(b.page);
    const played = await playsOn(b.page, 'B');
    const state = await readState(b.page);
    if (state.badge !== 'LIVE') throw new CheckError(`the badge says ${JSON.stringify(state.badge)}, not LIVE`);
    if (!state.edgeButton) throw new CheckError('no "Go to live edge" button');
    if (state.playlistLive !== true) throw new CheckError(`hls.js does not see a live playlist (details.live ${state.playlistLive})`);
    if (state.chatHeading !== 'Live chat') throw new CheckError(`the chat panel is headed ${JSON.stringify(state.chatHeading)}`);
    return played;
  });

  await check('low-latency HLS: parts, blocking reloads, PART-HOLD-BACK', async () => {
    const ll = await b.page.evaluate(() => {
      const { hls } = window.kinoPlayer;
      const level = hls.levels[hls.currentLevel];
      const d = level && level.details;
      return {
        lowLatencyMode: hls.lowLatencyMode,
        canBlockReload: d ? d.canBlockReload : null,
        partTarget: d ? d.partTarget : null,
        partHoldBack: d ? d.partHoldBack : null,
        parts: d && d.partList ? d.partList.length : 0,
        targetLatency: hls.targetLatency,
        stallIncrease: hls.config.liveSyncOnStallIncrease,
      };
    });
    const blocking = b.requests.filter((u) => /index\.m3u8\?.*_HLS_msn=\d+/.test(u));
    const parts = b.requests.filter((u) => /-p\d{8}\.m4s$/.test(u));
    const seen = { ...ll, blockingReloads: blocking.length, partRequests: parts.length, deltaUpdates: blocking.filter((u) => u.includes('_HLS_skip=YES')).length };
    summary.lowLatency = seen;
    if (!ll.lowLatencyMode) throw new CheckError(`hls.js is not in low-latency mode: ${JSON.stringify(seen)}`);
    if (!ll.canBlockReload || !(ll.parts > 0) || !(ll.partTarget > 0)) throw new CheckError(`hls.js sees no LL-HLS playlist: ${JSON.stringify(seen)}`);
    // hls.js aims PART-HOLD-BACK behind the edge, plus liveSyncOnStallIncrease (1 s) for each
    // stall it had (a loaded test machine has some); 3 target durations would mean no LL-HLS.
    const stalls = (ll.targetLatency - ll.partHoldBack) / ll.stallIncrease;
    seen.stallIncreases = Math.round(stalls);
    if (!(stalls > -0.01 && Math.abs(stalls - Math.round(stalls)) < 0.01)) throw new CheckError(`hls.js aims ${ll.targetLatency} s behind the edge, not PART-HOLD-BACK (${ll.partHoldBack} s) plus whole stall increases`);
    if (!blocking.length) throw new CheckError(`hls.js made no blocking playlist reload: ${JSON.stringify(seen)}`);
    if (!parts.length) throw new CheckError(`hls.js loaded no part: ${JSON.stringify(seen)}`);
    return seen;
  });

  await check('latency behind the live edge', async () => {
    const samples = [];
    const until = Date.now() + LATENCY_SAMPLE_MS;
    while (Date.now() < until) {
      samples.push(await b.page.evaluate(() => {
        const { hls, video } = window.kinoPlayer;
        const date = hls.playingDate;
        return {
          behindEdge: hls.latency, // s between the position and the newest media of the playlist
          targetLatency: hls.targetLatency,
          liveSyncPosition: hls.liveSyncPosition,
          currentTime: video.currentTime,
          wallClock: date ? (Date.now() - date.getTime()) / 1000 : null, // capture → shown
          shown: document.getElementById('live-latency').textContent,
        };
      }));
      await sleep(500);
    }
    const avg = (key) => {
      const xs = samples.map((s) => s[key]).filter(Number.isFinite);
      return xs.length ? Math.round((xs.reduce((x, y) => x + y, 0) / xs.length) * 100) / 100 : null;
    };
    const latency = {
      behindEdgeS: avg('behindEdge'),
      targetS: avg('targetLatency'),
      wallClockS: avg('wallClock'),
      hint: before.live && before.live.latency_hint_secs,
      shown: samples.at(-1).shown,
      samples: samples.length,
    };
    summary.latency = latency;
    console.error(`latency behind the live edge: ${latency.behindEdgeS} s (hls.js target ${latency.targetS} s); capture to screen: ${latency.wallClockS} s`);
    if (latency.behindEdgeS === null) throw new CheckError(`hls.js gives no latency: ${JSON.stringify(samples.at(-1))}`);
    const worst = Math.max(latency.behindEdgeS, latency.wallClockS ?? 0);
    if (worst > MAX_LATENCY_S) throw new CheckError(`${worst} s behind live (limit ${MAX_LATENCY_S} s): ${JSON.stringify(latency)}`);
    if (!/s behind live$/.test(latency.shown || '')) throw new CheckError(`the page shows ${JSON.stringify(latency.shown)} as its latency`);
    return latency;
  });

  await check('"Go to live edge" catches up after seeking back', async () => {
    const back = await b.page.evaluate((s) => {
      const { video } = window.kinoPlayer;
      video.currentTime = Math.max(0, video.currentTime - s);
      return video.currentTime;
    }, SEEK_BACK_S);
    await waitForState(b.page, STEP_TIMEOUT_MS, (s) => !s.paused && s.currentTime > back + 0.5, 'playing after the seek back');
    const behind = await b.page.evaluate(() => ({
      edge: window.kinoPlayer.hls.liveSyncPosition,
      currentTime: window.kinoPlayer.video.currentTime,
      flag: document.getElementById('live-edge').dataset.behind,
    }));
    await b.page.click('#live-edge');
    await sleep(1500);
    const after = await b.page.evaluate(() => ({
      edge: window.kinoPlayer.hls.liveSyncPosition,
      currentTime: window.kinoPlayer.video.currentTime,
      paused: window.kinoPlayer.video.paused,
      flag: document.getElementById('live-edge').dataset.behind,
    }));
    if (after.paused) throw new CheckError('paused after "Go to live edge"');
    if (!(Math.abs(after.edge - after.currentTime) <= EDGE_SLACK_S)) {
      throw new CheckError(`after "Go to live edge": currentTime ${after.currentTime}, live sync position ${after.edge}`);
    }
    return { behindBy: Math.round((behind.edge - behind.currentTime) * 100) / 100, flagBefore: behind.flag, after, flagAfter: after.flag };
  });

  const sent = [];
  await check('chat: B\'s message shows on A\'s page, A\'s on B\'s', async () => {
    await assertPublishing();
    const fromB = `hello from B <b>${suffix}</b>`;
    const postB = await postChat(b.page, fromB);
    const aDelay = await seesChat(a.page, fromB, postB.at, 'A');
    const fromA = `hi B, from A ${suffix}`;
    const postA = await postChat(a.page, fromA);
    const bDelay = await seesChat(b.page, fromA, postA.at, 'B');
    const stray = await a.page.evaluate(() => document.querySelectorAll('#chat-list .chat-body b').length);
    if (stray) throw new CheckError('markup in a chat message became an element');
    sent.push(postB.message, postA.message);
    return { aSawBAfterMs: aDelay, bSawAAfterMs: bDelay, messages: sent.map((m) => ({ id: m.id, author: m.author, offset_secs: m.offset_secs })) };
  });

  if (!publishUrl) return;

  await check('the publisher stops and A\'s page moves onto the replay', async () => {
    const exited = await Promise.race([publisherExit, sleep(PUBLISH_SECS * 1000 + 30_000).then(() => null)]);
    if (!exited) throw new CheckError('the publisher did not stop');
    if (exited.code !== 0) throw new CheckError(`the publisher exited with ${exited.code ?? exited.signal}: ${exited.stderr}`);
    const stoppedAt = Date.now();
    const state = await waitForState(a.page, REPLAY_TIMEOUT_MS,
      (s) => s.watch && s.watch.replayReloads >= 1 && s.playlistLive === false && s.chatHeading === 'Chat replay',
      'the replay (a VOD playlist) with "Chat replay"');
    if (state.mark !== 'same page') throw new CheckError('A\'s page reloaded');
    const v = await apiVideo(a.page);
    if (v.status !== 'ready' || v.live !== null) throw new CheckError(`the API says status ${v.status}, live ${JSON.stringify(v.live)}`);
    return { afterMs: Date.now() - stoppedAt, duration: v.duration, reloads: state.reloads, badge: state.badge };
  });

  await check('chat replay follows the video\'s time', async () => {
    const first = sent.reduce((x, y) => (x.offset_secs <= y.offset_secs ? x : y));
    const seek = async (t) => {
      await a.page.evaluate((to) => {
        const { video } = window.kinoPlayer;
        video.pause();
        video.currentTime = to;
      }, t);
      await a.page.waitForFunction((to) => Math.abs(window.kinoPlayer.video.currentTime - to) < 0.5 && !window.kinoPlayer.video.seeking, t, { timeout: STEP_TIMEOUT_MS });
      await sleep(300);
      return chatBodies(a.page);
    };
    const beforeFirst = await seek(Math.max(0, first.offset_secs - 3));
    if (beforeFirst.includes(first.body)) throw new CheckError(`at ${Math.max(0, first.offset_secs - 3)} s the replay already shows ${JSON.stringify(first.body)} (sent at ${first.offset_secs} s)`);
    const afterFirst = await seek(first.offset_secs + 1);
    if (!afterFirst.includes(first.body)) throw new CheckError(`at ${first.offset_secs + 1} s the replay does not show ${JSON.stringify(first.body)}: ${JSON.stringify(afterFirst)}`);
    const backToStart = await seek(0);
    if (backToStart.length) throw new CheckError(`back at 0 s the replay still shows ${JSON.stringify(backToStart)}`);
    const composer = await a.page.isDisabled('#chat-body');
    if (!composer) throw new CheckError('the chat composer is still usable on the replay');
    return { firstOffset: first.offset_secs, beforeFirst, afterFirst, backToStart };
  });

  if (owner) {
    await check('the Go live page drops ingest health once the broadcast is over', async () => {
      try {
        await owner.page.waitForFunction(() => ['ended', 'ready'].includes(document.getElementById('stream').dataset.state), null, { timeout: STEP_TIMEOUT_MS, polling: 100 });
      } catch {
        throw new CheckError(`the Go live page still says ${JSON.stringify(await readHealth(owner.page))}`);
      }
      const h = await readHealth(owner.page);
      if (h.shown) throw new CheckError(`ingest health still shown in state ${h.state}: ${JSON.stringify(h)}`);
      return { state: h.state };
    });
  }

  if (pageLog.length) summary.pageLogSize = pageLog.length;
}

main(run);
