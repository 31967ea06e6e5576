#!/usr/bin/env node
// Real-browser check of "playable first" on Kino's watch page, in Debian's headless Chromium.
//
//   node playable.mjs BASE_URL VIDEO_ID [TOKEN]
//
// VIDEO_ID is a video that is still processing (it may not be playable yet: the script waits
// for `playable: true`, up to 2 min). TOKEN (optional) authorizes the script's own
// GET /api/videos/{id} reads; the page itself opens anonymously, so the video must be public.
//
// The page does not autoplay: the script starts playback with video.play() (Chromium runs with
// --autoplay-policy=no-user-gesture-required), as watch.mjs does.
//
// Checks, in order:
// 1. the API says processing and playable (not ready yet);
// 2. /watch/VIDEO_ID plays the first rendition: currentTime passes 2 s while the API still says
//    `processing`, and #processing-note ("Still processing: …") is visible;
// 3. the video becomes ready (API, up to 5 min) and the page reloads the HLS source
//    (kinoPlayer.reloads.length >= 1, kinoPlayer.reloading back to false);
// 4. after the reload, playback goes on from about where it was (not back near 0) and
//    currentTime keeps advancing; hls.js has more than one level; the note is hidden; no fatal
//    player error.
// Prints a JSON summary on stdout in every case; exits 1 (naming the failed check) on failure.

import { CheckError, browserVersion, createHarness, sleep } from './common.mjs';

const [baseArg, videoId, token] = process.argv.slice(2);
if (!baseArg || !videoId) {
  console.error('usage: node playable.mjs BASE_URL VIDEO_ID [TOKEN]');
  process.exit(2);
}
const base = baseArg.replace(/\/+$/, '');
const url = `${base}/watch/${encodeURIComponent(videoId)}`;

const PLAYABLE_TIMEOUT_MS = 120_000; // API: processing → playable
const EARLY_PLAY_TIMEOUT_MS = 45_000; // page opened → currentTime > 2 s
const READY_TIMEOUT_MS = 300_000; // API: → ready, page: → reloaded
const RESUME_TIMEOUT_MS = 30_000; // reload → playing on from about where it was
const MIN_TIME_S = 2;
const ADVANCE_S = 1.5; // currentTime must grow at least this much after the reload
const RESUME_SLACK_S = 4; // after the reload, currentTime ≥ position at reload − this
const OVERALL_TIMEOUT_MS = 480_000;

const summary = { ok: false, url, videoId, checks: [], failed: null };
const { check, newBrowser, main } = createHarness({
  summary,
  profilePrefix: 'kino-playable',
  overallTimeoutMs: OVERALL_TIMEOUT_MS,
  json: 'pretty',
  okSuffix: `for ${url}`,
});

/** GET /api/videos/{id} from Node (with the token when given). */
async function apiVideo() {
  const res = await fetch(`${base}/api/videos/${encodeURIComponent(videoId)}`, {
    headers: token ? { Authorization: `Bearer ${token}` } : {},
  });
  if (!res.ok) throw new CheckError(`GET /api/videos/${videoId} answered ${res.status}`);
  return res.json();
}

/** The page's player and note, read in the page. */
function readState(page) {
  return page.evaluate(() => {
    const p = window.kinoPlayer;
    const v = (p && p.video) || document.getElementById('player');
    const note = document.getElementById('processing-note');
    const errBox = document.getElementById('player-error');
    let levels = null;
    let currentLevel = null;
    try {
      levels = p && p.hls ? p.hls.levels.map((l) => ({ height: l.height, bitrate: l.bitrate, name: l.name })) : null;
      currentLevel = p && p.hls ? p.hls.currentLevel : null;
    } catch {
      // hls.js destroyed
    }
    return {
      hasPlayer: !!p,
      hasHls: !!(p && p.hls),
      currentTime: v ? v.currentTime : null,
      paused: v ? v.paused : null,
      readyState: v ? v.readyState : null,
      videoHeight: v ? v.videoHeight : null,
      videoError: v && v.error ? { code: v.error.code, message: v.error.message } : null,
      levels,
      currentLevel,
      reloads: p ? p.reloads : [],
      reloading: p ? p.reloading : null,
      fatalErrors: (p && p.fatalErrors) || [],
      noteVisible: !!(note && !note.hidden && note.offsetParent !== null),
      noteHidden: !note || note.hidden,
      noteText: note ? note.textContent : null,
      playerErrorText: errBox && !errBox.hidden ? errBox.textContent : null,
      watch: window.kinoWatch ? { ...window.kinoWatch } : null,
    };
  });
}

function assertNoErrors(state) {
  if (state.fatalErrors.length) throw new CheckError(`fatal hls.js error: ${JSON.stringify(state.fatalErrors[0])}`);
  if (state.videoError) throw new CheckError(`video element error ${state.videoError.code}: ${state.videoError.message}`);
  if (state.playerErrorText) throw new CheckError(`page shows a player error: ${state.playerErrorText}`);
}

async function run() {
  await check('API says processing and playable', async () => {
    const deadline = Date.now() + PLAYABLE_TIMEOUT_MS;
    for (;;) {
      const v = await apiVideo();
      if (v.status === 'ready') throw new CheckError('the video is already ready: nothing to check early');
      if (v.status === 'failed') throw new CheckError(`processing failed: ${v.error}`);
      if (v.status === 'processing' && v.playable === true) {
        return { status: v.status, progress: v.progress, renditions: (v.renditions || []).map((r) => (r && r.name) || r) };
      }
      if (Date.now() > deadline) throw new CheckError(`not playable after ${PLAYABLE_TIMEOUT_MS / 1000} s (status ${v.status}, progress ${v.progress})`);
      await sleep(300);
    }
  });

  const { context, page } = await newBrowser();
  summary.browser = browserVersion(context);

  const early = await check('plays the first rendition while processing, with the note shown', async () => {
    await page.goto(url, { waitUntil: 'domcontentloaded' });
    const deadline = Date.now() + EARLY_PLAY_TIMEOUT_MS;
    let playAttempts = 0;
    const playRejections = [];
    let state;
    for (;;) {
      state = await readState(page);
      assertNoErrors(state);
      if (state.reloads.length) throw new CheckError('the page reloaded the source before playing 2 s of the first rendition (the video became ready too early)');
      if (state.hasHls && state.currentTime > MIN_TIME_S) break;
      // The page does not autoplay: start playback as a viewer would (once the stream is in).
      if (state.hasHls && state.paused && state.readyState >= 1 && playAttempts < 5) {
        playAttempts += 1;
        const rejected = await page.evaluate(() => window.kinoPlayer.video.play().then(() => null, (e) => String(e)));
        if (rejected) playRejections.push(rejected);
      }
      if (Date.now() > deadline) throw new CheckError(`currentTime ${state.currentTime} after ${EARLY_PLAY_TIMEOUT_MS / 1000} s (hls ${state.hasHls}, paused ${state.paused}, readyState ${state.readyState}, play() rejections ${JSON.stringify(playRejections)})`);
      await sleep(250);
    }
    const v = await apiVideo();
    if (v.status !== 'processing') throw new CheckError(`the API says ${v.status} once playback passed ${MIN_TIME_S} s: not an early start`);
    state = await readState(page);
    if (!state.noteVisible) throw new CheckError(`#processing-note is not visible (hidden ${state.noteHidden}, text ${JSON.stringify(state.noteText)})`);
    if (!/^Still processing: more qualities are on the way \(\d+%\)$/.test((state.noteText || '').trim())) {
      throw new CheckError(`#processing-note says ${JSON.stringify(state.noteText)}`);
    }
    if (!state.watch || state.watch.earlyStart !== true) throw new CheckError(`kinoWatch.earlyStart is ${state.watch && state.watch.earlyStart}`);
    return {
      currentTime: state.currentTime,
      playAttempts,
      apiStatus: v.status,
      apiProgress: v.progress,
      note: state.noteText,
      levels: state.levels,
      videoHeight: state.videoHeight,
    };
  });

  let lastEarlyTime = early.currentTime;
  await check('becomes ready and the page reloads the source', async () => {
    const deadline = Date.now() + READY_TIMEOUT_MS;
    let apiReadyAfterMs = null;
    const started = Date.now();
    let nextApi = 0;
    let state;
    for (;;) {
      state = await readState(page);
      assertNoErrors(state);
      if (!state.reloads.length && Number.isFinite(state.currentTime)) lastEarlyTime = state.currentTime;
      // On a loaded machine the ladder can take longer than the clip lasts: like a viewer
      // going back, keep playback away from the end so it is still playing at the switch.
      if (!state.reloads.length && state.currentTime > 50) {
        await page.evaluate(() => { const v = document.querySelector('video'); if (v) v.currentTime = 10; });
      }
      if (apiReadyAfterMs === null && Date.now() >= nextApi) {
        const v = await apiVideo();
        if (v.status === 'failed') throw new CheckError(`processing failed: ${v.error}`);
        if (v.status === 'ready') apiReadyAfterMs = Date.now() - started;
        nextApi = Date.now() + 1000;
      }
      if (apiReadyAfterMs !== null && state.reloads.length >= 1) break;
      if (Date.now() > deadline) {
        throw new CheckError(`after ${READY_TIMEOUT_MS / 1000} s: API ready ${apiReadyAfterMs !== null}, page reloads ${state.reloads.length}`);
      }
      await sleep(250);
    }
    return { apiReadyAfterMs, pageReloadedAfterMs: Date.now() - started, reloads: state.reloads, lastEarlyTime, watch: state.watch };
  });

  await check('playback resumes near where it was on the full ladder, the note hidden', async () => {
    const deadline = Date.now() + RESUME_TIMEOUT_MS;
    let state = await readState(page);
    const reload = state.reloads[0];
    if (!reload.wasPlaying) throw new CheckError(`the reload recorded wasPlaying false: ${JSON.stringify(reload)}`);
    if (!(reload.position > MIN_TIME_S)) throw new CheckError(`the reload recorded position ${reload.position}: not where playback was`);
    // Back at the recorded position (kinoPlayer.reloading false), then advancing from there.
    let resumedAt = null;
    const samples = [];
    for (;;) {
      state = await readState(page);
      assertNoErrors(state);
      samples.push(Math.round(state.currentTime * 100) / 100);
      if (samples.length > 40) samples.shift();
      if (resumedAt === null && !state.reloading && state.currentTime >= reload.position - RESUME_SLACK_S && !state.paused) {
        resumedAt = state.currentTime;
      }
      if (resumedAt !== null && state.currentTime >= resumedAt + ADVANCE_S) break;
      if (Date.now() > deadline) {
        throw new CheckError(`after the reload at ${reload.position.toFixed(2)} s: currentTime ${state.currentTime}, paused ${state.paused}, reloading ${state.reloading}, resumedAt ${resumedAt}; samples ${samples.join(',')}`);
      }
      await sleep(250);
    }
    if (state.currentTime < reload.position - RESUME_SLACK_S) {
      throw new CheckError(`currentTime ${state.currentTime} is back before the reload position ${reload.position}`);
    }
    if (!state.levels || state.levels.length < 2) throw new CheckError(`hls.js has ${state.levels ? state.levels.length : 0} level(s) after the reload`);
    if (!state.noteHidden) throw new CheckError(`#processing-note still shown: ${JSON.stringify(state.noteText)}`);
    if (state.reloads.length !== 1) throw new CheckError(`${state.reloads.length} reloads: ${JSON.stringify(state.reloads)}`);
    return {
      reloadPosition: reload.position,
      lastEarlyTime,
      resumedAt,
      currentTime: state.currentTime,
      levels: state.levels.map((l) => l.height || l.name),
      currentLevel: state.currentLevel,
      videoHeight: state.videoHeight,
      watch: state.watch,
    };
  });
}

main(run);
