#!/usr/bin/env node
// Real-browser playback check for Kino's watch page, in Debian's headless Chromium.
//
//   node watch.mjs BASE_URL VIDEO_ID [SCREENSHOT.png]
//
// Checks that /watch/VIDEO_ID plays through hls.js with several levels, that time advances,
// frames are decoded and not black, and that forcing another level changes the picture size.
// Prints a JSON summary on stdout in every case; exits 1 (naming the failed check) on failure.

import { CheckError, browserVersion, createHarness, sleep } from './common.mjs';

const [baseArg, videoId, screenshotPath] = process.argv.slice(2);
if (!baseArg || !videoId) {
  console.error('usage: node watch.mjs BASE_URL VIDEO_ID [SCREENSHOT.png]');
  process.exit(2);
}
const base = baseArg.replace(/\/+$/, '');
const url = `${base}/watch/${encodeURIComponent(videoId)}`;

const PLAYER_TIMEOUT_MS = 30_000; // page loaded → kinoPlayer with parsed levels
const PLAYBACK_TIMEOUT_MS = 30_000; // currentTime > 2 s
const SWITCH_TIMEOUT_MS = 20_000; // forced level → videoHeight
const MIN_TIME_S = 2;
const MIN_LUMA = 10; // of 255, averaged over a downscaled frame
const OVERALL_TIMEOUT_MS = 180_000;

const summary = { ok: false, url, checks: [], failed: null };
const { check, newBrowser, pageLog, main } = createHarness({
  summary,
  profilePrefix: 'kino-watch',
  overallTimeoutMs: OVERALL_TIMEOUT_MS,
  json: 'pretty',
  okSuffix: `for ${url}`,
  // This script's page log: last 30 entries, "404 URL", Chromium's "Failed to load resource"
  // lines kept, none on the overall timeout.
  logLimit: 30,
  logHttpMethod: false,
  logResourceErrors: true,
  logOnTimeout: false,
});

/** Player state, read in the page. */
function readState(page) {
  return page.evaluate(() => {
    const p = window.kinoPlayer;
    const v = (p && p.video) || document.getElementById('player');
    const q = v && v.getVideoPlaybackQuality ? v.getVideoPlaybackQuality() : null;
    const errBox = document.getElementById('player-error');
    const t = window.__kinoTest;
    return {
      hasPlayer: !!p,
      hasHls: !!(p && p.hls),
      currentTime: v ? v.currentTime : null,
      paused: v ? v.paused : null,
      readyState: v ? v.readyState : null,
      videoWidth: v ? v.videoWidth : null,
      videoHeight: v ? v.videoHeight : null,
      videoError: v && v.error ? { code: v.error.code, message: v.error.message } : null,
      totalVideoFrames: q ? q.totalVideoFrames : null,
      droppedVideoFrames: q ? q.droppedVideoFrames : null,
      currentLevel: (() => {
        try {
          return p && p.hls ? p.hls.currentLevel : null;
        } catch {
          return null;
        }
      })(),
      pageFatalErrors: (p && p.fatalErrors) || [],
      testFatalErrors: t ? t.fatal : [],
      playerErrorText: errBox && !errBox.hidden ? errBox.textContent : null,
    };
  });
}

/** Fails when the page saw a fatal hls.js error, a media element error, or shows an error box. */
function assertNoErrors(state) {
  const fatal = [...state.pageFatalErrors, ...state.testFatalErrors];
  if (fatal.length) throw new CheckError(`fatal hls.js error: ${JSON.stringify(fatal[0])}`);
  if (state.videoError) throw new CheckError(`video element error ${state.videoError.code}: ${state.videoError.message}`);
  if (state.playerErrorText) throw new CheckError(`page shows a player error: ${state.playerErrorText}`);
}

/** Polls the page until `done(state)` is true; fails on errors or after `timeoutMs`. */
async function waitForState(page, timeoutMs, done, describe) {
  const deadline = Date.now() + timeoutMs;
  let state;
  for (;;) {
    state = await readState(page);
    assertNoErrors(state);
    if (done(state)) return state;
    if (Date.now() > deadline) {
      throw new CheckError(`${describe} not reached within ${timeoutMs / 1000} s (state: ${JSON.stringify(state)})`);
    }
    await sleep(250);
  }
}

async function run() {
  let page;
  await check('browser starts', async () => {
    let context;
    ({ context, page } = await newBrowser());
    return { version: browserVersion(context) };
  });

  await check('page loads', async () => {
    const res = await page.goto(url, { waitUntil: 'load', timeout: PLAYER_TIMEOUT_MS });
    if (!res) throw new CheckError('no response');
    if (!res.ok()) throw new CheckError(`HTTP ${res.status()} for ${url}`);
    return { status: res.status() };
  });

  await check('hls.js player with several levels', async () => {
    try {
      await page.waitForFunction(
        () =>
          !document.getElementById('player-error').hidden ||
          (window.kinoPlayer && (!window.kinoPlayer.hls || window.kinoPlayer.hls.levels.length > 0)),
        null,
        { timeout: PLAYER_TIMEOUT_MS, polling: 200 },
      );
    } catch {
      const state = await readState(page);
      throw new CheckError(`no player with parsed levels within ${PLAYER_TIMEOUT_MS / 1000} s ` +
        `(window.kinoPlayer ${state.hasPlayer ? 'exists' : 'missing'}; is the video ready?) state: ${JSON.stringify(state)}`);
    }
    const state = await readState(page);
    assertNoErrors(state);
    if (!state.hasHls) throw new CheckError('window.kinoPlayer.hls is missing: the page did not use hls.js');
    // Our own listener for later fatal errors (the page also records them in kinoPlayer.fatalErrors).
    const levels = await page.evaluate(() => {
      const { hls } = window.kinoPlayer;
      window.__kinoTest = { fatal: [] };
      hls.on(window.Hls.Events.ERROR, (_e, data) => {
        if (data.fatal) window.__kinoTest.fatal.push({ type: data.type, details: data.details });
      });
      return hls.levels.map((l, index) => ({ index, width: l.width, height: l.height, bitrate: l.bitrate, codecs: [l.videoCodec, l.audioCodec].filter(Boolean).join(',') }));
    });
    summary.levels = levels;
    if (levels.length < 2) throw new CheckError(`expected more than one level, hls.levels.length = ${levels.length}`);
    return { levels: levels.length, hlsVersion: await page.evaluate(() => window.Hls.version) };
  });

  await check('playback advances past 2 s', async () => {
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
    const state = await waitForState(page, PLAYBACK_TIMEOUT_MS, (s) => s.currentTime > MIN_TIME_S, `currentTime > ${MIN_TIME_S} s`);
    return { currentTime: state.currentTime, videoWidth: state.videoWidth, videoHeight: state.videoHeight, level: state.currentLevel };
  });

  await check('frames decoded', async () => {
    const state = await readState(page);
    assertNoErrors(state);
    if (!(state.totalVideoFrames > 0)) throw new CheckError(`getVideoPlaybackQuality().totalVideoFrames = ${state.totalVideoFrames}`);
    return { totalVideoFrames: state.totalVideoFrames, droppedVideoFrames: state.droppedVideoFrames };
  });

  await check('frame is not black', async () => {
    // Several samples over a few seconds: a single frame may legitimately be dark (fade-in).
    const samples = [];
    for (let i = 0; i < 6; i += 1) {
      const luma = await page.evaluate(() => {
        const v = window.kinoPlayer.video;
        const canvas = document.createElement('canvas');
        canvas.width = 64;
        canvas.height = 36;
        const ctx = canvas.getContext('2d', { willReadFrequently: true });
        ctx.drawImage(v, 0, 0, canvas.width, canvas.height);
        const { data } = ctx.getImageData(0, 0, canvas.width, canvas.height);
        let sum = 0;
        for (let p = 0; p < data.length; p += 4) sum += 0.2126 * data[p] + 0.7152 * data[p + 1] + 0.0722 * data[p + 2];
        return sum / (data.length / 4);
      });
      samples.push(Math.round(luma * 10) / 10);
      if (luma > MIN_LUMA) return { averageLuma: samples.at(-1), samples };
      await sleep(750);
    }
    throw new CheckError(`average luma stayed at or below ${MIN_LUMA}/255 (samples: ${samples.join(', ')}): the picture is black`);
  });

  await check('forced level switch changes the picture size', async () => {
    const before = await readState(page);
    assertNoErrors(before);
    const levels = summary.levels;
    const candidates = levels.filter((l) => l.height > 0 && l.height !== before.videoHeight).sort((a, b) => a.bitrate - b.bitrate);
    if (!candidates.length) {
      throw new CheckError(`no level with a height other than the current ${before.videoHeight}px (levels: ${levels.map((l) => l.height).join(', ')})`);
    }
    const target = candidates[0];
    await page.evaluate(async (index) => {
      const { hls, video } = window.kinoPlayer;
      hls.currentLevel = index;
      if (video.paused) await video.play().catch(() => {});
    }, target.index);
    const after = await waitForState(page, SWITCH_TIMEOUT_MS, (s) => s.videoHeight === target.height,
      `videoHeight ${target.height} (level ${target.index}, from ${before.videoHeight})`);
    return { fromHeight: before.videoHeight, toLevel: target.index, toHeight: after.videoHeight, currentTime: after.currentTime };
  });

  if (screenshotPath) {
    await page.screenshot({ path: screenshotPath, fullPage: true });
    summary.screenshot = screenshotPath;
  }
}

main(run);
