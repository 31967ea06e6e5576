#!/usr/bin/env node
// Real-browser check of Kino's accounts, sessions, privacy and signed playback, in Debian's
// headless Chromium, through the real pages.
//
//   node auth.mjs BASE_URL MEDIA_FILE
//
// Signs up a fresh user on /signup, renews an expired access cookie with exactly one refresh for
// several parallel API calls, uploads MEDIA_FILE as private on /upload, waits for it to be ready,
// plays it on /watch/ID from a signed playlist URL, checks that a signed-out browser can neither
// see it nor fetch its bare playlist, changes its privacy and creates/revokes an API token on /me,
// then signs out with the header button.
// Prints a JSON summary on stdout in every case; exits 1 (naming the failed check) on failure.

import { statSync } from 'node:fs';
import { basename, resolve } from 'node:path';
import { CheckError, browserVersion, createHarness, pageFetch, sleep } from './common.mjs';

const [baseArg, mediaArg] = process.argv.slice(2);
if (!baseArg || !mediaArg) {
  console.error('usage: node auth.mjs BASE_URL MEDIA_FILE');
  process.exit(2);
}
const base = baseArg.replace(/\/+$/, '');
const mediaFile = resolve(mediaArg);

const STEP_TIMEOUT_MS = 30_000;
const UPLOAD_TIMEOUT_MS = 120_000; // submit → the page reports the new video
const READY_TIMEOUT_MS = 240_000; // upload → status ready
const PLAYBACK_TIMEOUT_MS = 30_000; // currentTime > 2 s
const MIN_TIME_S = 2;
const OVERALL_TIMEOUT_MS = 540_000;

const suffix = `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 8)}`.slice(-10);
const username = `t${suffix}`;
const email = `${username}@example.test`;
const password = `pw-${suffix}-${Math.random().toString(36).slice(2, 10)}`;

let accessCookieName = null; // found by the refresh check
const summary = { ok: false, base, media: basename(mediaFile), username, videoId: null, checks: [], failed: null };
const { check, newBrowser, main } = createHarness({
  summary,
  profilePrefix: 'kino-auth',
  overallTimeoutMs: OVERALL_TIMEOUT_MS,
  pageTimeoutMs: STEP_TIMEOUT_MS,
  json: 'pretty',
  okSuffix: `against ${base}`,
  // Answer the pages' confirm() dialogs (delete, revoke) with OK.
  onDialog: (dialog) => dialog.accept().catch(() => {}),
});

/** The user of a {user} answer (or a bare user object). */
const userOf = (body) => (body && body.user) || body;

/** Fails when the page shows a fatal player error (kinoPlayer, the media element or the error box). */
async function playerState(page) {
  return page.evaluate(() => {
    const p = window.kinoPlayer;
    const v = (p && p.video) || document.getElementById('player');
    const errBox = document.getElementById('player-error');
    return {
      hasPlayer: !!p,
      hasHls: !!(p && p.hls),
      levels: p && p.hls ? p.hls.levels.length : 0,
      hlsUrl: p && p.hls ? p.hls.url : null,
      playbackUrl: p && p.playback ? p.playback.url : null,
      expiresAt: p && p.playback ? p.playback.expires_at : null,
      currentTime: v ? v.currentTime : null,
      videoHeight: v ? v.videoHeight : null,
      videoError: v && v.error ? { code: v.error.code, message: v.error.message } : null,
      fatalErrors: [...((p && p.fatalErrors) || []), ...((window.__kinoTest && window.__kinoTest.fatal) || [])],
      playerErrorText: errBox && !errBox.hidden ? errBox.textContent : null,
    };
  });
}

/** Opens the watch page of `id` and waits (at most `timeout` ms) for a player with parsed
 * levels or a shown error. */
async function openPlayer(page, id, timeout) {
  const res = await page.goto(`${base}/watch/${encodeURIComponent(id)}`, { waitUntil: 'load' });
  if (!res || !res.ok()) throw new CheckError(`GET /watch/${id} answered ${res ? res.status() : 'nothing'}`);
  try {
    await page.waitForFunction(
      () => !document.getElementById('player-error').hidden ||
        (window.kinoPlayer && (!window.kinoPlayer.hls || window.kinoPlayer.hls.levels.length > 0)),
      null, { timeout, polling: 200 });
  } catch {
    throw new CheckError(`no player with parsed levels within ${timeout / 1000} s: ${JSON.stringify(await playerState(page))}`);
  }
}

function assertNoPlayerErrors(state) {
  if (state.fatalErrors.length) throw new CheckError(`fatal hls.js error: ${JSON.stringify(state.fatalErrors[0])}`);
  if (state.videoError) throw new CheckError(`video element error ${state.videoError.code}: ${state.videoError.message}`);
  if (state.playerErrorText) throw new CheckError(`page shows a player error: ${state.playerErrorText}`);
}

async function run() {
  let size;
  try {
    size = statSync(mediaFile).size;
  } catch (err) {
    throw new CheckError(`cannot read MEDIA_FILE ${mediaFile}: ${err.message}`);
  }

  let context;
  let page;
  await check('browser starts', async () => {
    ({ context, page } = await newBrowser('user'));
    return { version: browserVersion(context) };
  });

  // Requests the pages make, for the refresh and playlist checks.
  const requests = [];
  page.on('request', (req) => requests.push({ method: req.method(), url: req.url() }));

  await check('sign up on /signup', async () => {
    const res = await page.goto(`${base}/signup`, { waitUntil: 'load' });
    if (!res || !res.ok()) throw new CheckError(`GET /signup answered ${res ? res.status() : 'nothing'}`);
    await page.fill('#username', username);
    await page.fill('#email', email);
    await page.fill('#password', password);
    await page.fill('#confirm', password);
    await page.click('#signup-button');
    try {
      await page.waitForURL((u) => u.pathname === '/', { timeout: STEP_TIMEOUT_MS });
    } catch {
      const status = await page.textContent('#form-status').catch(() => null);
      throw new CheckError(`still on ${page.url()} after submitting; the form says: ${JSON.stringify(status)}`);
    }
    return { landed: page.url() };
  });

  const me = await check('header shows the signed-in username', async () => {
    try {
      await page.waitForFunction((name) => {
        const a = document.getElementById('account-link');
        return a && a.textContent.trim() === name;
      }, username, { timeout: STEP_TIMEOUT_MS, polling: 100 });
    } catch {
      const header = await page.textContent('#site-account').catch(() => null);
      throw new CheckError(`the header shows ${JSON.stringify(header)}, not the username ${username}`);
    }
    if (!(await page.isVisible('#signout-button'))) throw new CheckError('no visible Sign out button in the header');
    const r = await pageFetch(page, '/api/me');
    if (r.status !== 200) throw new CheckError(`GET /api/me answered ${r.status}: ${JSON.stringify(r.body)}`);
    const user = userOf(r.body);
    if (!user || user.username !== username) throw new CheckError(`GET /api/me gave ${JSON.stringify(r.body)}`);
    if (user.email !== email) throw new CheckError(`GET /api/me email is ${JSON.stringify(user.email)}, expected ${email}`);
    return { role: user.role, id: user.id };
  });
  summary.role = me.role;

  await check('expired access cookie: parallel API calls share one refresh', async () => {
    // Every cookie of this host, whatever its path (the refresh cookie may be scoped to /api/auth).
    const host = new URL(base).hostname;
    const cookies = (await context.cookies()).filter((c) => c.domain.replace(/^\./, '') === host);
    const cookieInfo = cookies.map((c) => ({
      name: c.name, httpOnly: c.httpOnly, sameSite: c.sameSite, path: c.path,
      expiresInS: c.expires > 0 ? Math.round(c.expires - Date.now() / 1000) : c.expires,
    }));
    const byName = cookies.filter((c) => /access/i.test(c.name) && !/refresh/i.test(c.name));
    let access = byName.length === 1 ? byName[0] : null;
    if (!access) {
      // The one expiring first (15 min, against the refresh cookie's 30 days).
      const dated = cookies.filter((c) => c.expires > 0).sort((a, b) => a.expires - b.expires);
      if (dated.length >= 2 && dated[1].expires - dated[0].expires > 3600) access = dated[0];
    }
    if (!access) throw new CheckError(`cannot tell the access cookie among ${JSON.stringify(cookieInfo)}`);
    const readable = cookies.filter((c) => /access|refresh|session/i.test(c.name) && !c.httpOnly);
    if (!access.httpOnly || readable.length) throw new CheckError(`a session cookie is readable by scripts: ${JSON.stringify(cookieInfo)}`);
    accessCookieName = access.name;
    await context.clearCookies({ name: access.name });
    const before = requests.length;
    const results = await page.evaluate(async () => {
      const { getJSON } = await import('/assets/app.js');
      const paths = ['/api/me', '/api/me/videos?page=1&per_page=5', '/api/tokens', '/api/me'];
      return Promise.all(paths.map((p) => getJSON(p).then(() => ({ p, ok: true }), (e) => ({ p, ok: false, status: e.status, message: e.message }))));
    });
    const refreshes = requests.slice(before).filter((r) => r.method === 'POST' && new URL(r.url).pathname === '/api/auth/refresh').length;
    const failedCalls = results.filter((r) => !r.ok);
    if (failedCalls.length) throw new CheckError(`calls failed after the access cookie was removed: ${JSON.stringify(failedCalls)} (refresh requests: ${refreshes})`);
    if (refreshes !== 1) throw new CheckError(`expected exactly 1 POST /api/auth/refresh for ${results.length} parallel 401s, saw ${refreshes}`);
    const after = await context.cookies();
    if (!after.some((c) => c.name === access.name)) throw new CheckError(`the refresh did not set a new ${access.name} cookie`);
    // The session survived: reuse detection did not end it.
    const r = await pageFetch(page, '/api/me');
    if (r.status !== 200) throw new CheckError(`GET /api/me after the refresh answered ${r.status}`);
    return { accessCookie: access.name, parallelCalls: results.length, refreshes, cookies: cookieInfo };
  });

  await check('lapsed access cookie: three tabs at once stay signed in', async () => {
    // Tabs share the cookies: refreshing in parallel would replay one refresh token, which the
    // server answers by ending the sign-in. The pages coordinate so that this never happens.
    await context.clearCookies({ name: accessCookieName });
    const before = requests.length;
    const tabs = [page, await context.newPage(), await context.newPage()];
    const refreshes = [];
    const onResponse = (res) => {
      if (new URL(res.url()).pathname === '/api/auth/refresh') refreshes.push(res.status());
    };
    context.on('response', onResponse);
    try {
      await Promise.all(tabs.map((tab, i) => tab.goto(`${base}${['/', '/me', '/upload'][i]}`, { waitUntil: 'load' })));
      await Promise.all(tabs.map((tab) => tab.waitForSelector('#site-account[data-state]', { timeout: STEP_TIMEOUT_MS })));
      const states = await Promise.all(tabs.map((tab) => tab.getAttribute('#site-account', 'data-state')));
      if (states.some((s) => s !== 'signed-in')) throw new CheckError(`tab headers: ${states.join(', ')} (refresh answers: ${refreshes.join(', ')})`);
      const r = await pageFetch(page, '/api/me');
      if (r.status !== 200) throw new CheckError(`GET /api/me afterwards answered ${r.status} (refresh answers: ${refreshes.join(', ')})`);
      if (!refreshes.length || refreshes.some((st) => st !== 200)) throw new CheckError(`refresh answers: ${refreshes.join(', ') || 'none'}`);
      return { refreshes: refreshes.length, requests: requests.length - before };
    } finally {
      context.off('response', onResponse);
      await Promise.all(tabs.slice(1).map((tab) => tab.close().catch(() => {})));
    }
  });

  const videoId = await check('upload a private video on /upload', async () => {
    const res = await page.goto(`${base}/upload`, { waitUntil: 'load' });
    if (!res || !res.ok()) throw new CheckError(`GET /upload answered ${res ? res.status() : 'nothing'}`);
    try {
      await page.waitForSelector('#upload-form', { state: 'visible', timeout: STEP_TIMEOUT_MS });
    } catch {
      const notice = await page.textContent('#signin-required').catch(() => null);
      throw new CheckError(`the upload form is not shown (notice: ${JSON.stringify(notice)})`);
    }
    await page.setInputFiles('#file', mediaFile);
    await page.selectOption('#privacy', 'private');
    await page.fill('#title', `Private test ${suffix}`);
    await page.click('#upload-button');
    const link = await page.waitForSelector('#upload-status a[href^="/watch/"], #upload-status.error', { timeout: UPLOAD_TIMEOUT_MS })
      .catch(() => null);
    if (!link) throw new CheckError(`no result within ${UPLOAD_TIMEOUT_MS / 1000} s; status: ${JSON.stringify(await page.textContent('#upload-status'))}`);
    const href = await link.getAttribute('href');
    if (!href) throw new CheckError(`the page reports: ${JSON.stringify(await page.textContent('#upload-status'))}`);
    const id = decodeURIComponent(href.replace(/^\/watch\//, ''));
    if (!/^[A-Za-z0-9_-]+$/.test(id)) throw new CheckError(`unexpected video link ${href}`);
    return { id, bytes: size };
  }).then((d) => d.id);
  summary.videoId = videoId;

  await check('watch page opened while processing starts the player on the live ready event', async () => {
    await openPlayer(page, videoId, READY_TIMEOUT_MS);
    const watch = await page.evaluate(() => ({ ...window.kinoWatch }));
    assertNoPlayerErrors(await playerState(page));
    // Opened before the transcode finished: the page must have learned of it from the
    // WebSocket (the ready event, or the look it takes when its socket opens), not a poll.
    if (watch.sawProcessing && !['event', 'reopen'].includes(watch.readyVia)) {
      throw new CheckError(`the page saw processing but started the player via ${JSON.stringify(watch.readyVia)}`);
    }
    return { sawProcessing: watch.sawProcessing, readyVia: watch.readyVia, jobEvents: watch.jobEvents };
  });

  await check('video becomes ready (owner view)', async () => {
    const deadline = Date.now() + READY_TIMEOUT_MS;
    let last;
    for (;;) {
      last = await pageFetch(page, `/api/videos/${encodeURIComponent(videoId)}`);
      if (last.status === 200 && last.body.status === 'ready') break;
      if (last.status === 200 && last.body.status === 'failed') throw new CheckError(`processing failed: ${last.body.error}`);
      if (last.status !== 200) throw new CheckError(`GET /api/videos/${videoId} answered ${last.status}: ${JSON.stringify(last.body)}`);
      if (Date.now() > deadline) throw new CheckError(`not ready within ${READY_TIMEOUT_MS / 1000} s (progress ${last.body.progress})`);
      await sleep(1000);
    }
    const v = last.body;
    const problems = [];
    if (v.privacy !== 'private') problems.push(`privacy is ${JSON.stringify(v.privacy)}`);
    if (v.owner !== username) problems.push(`owner is ${JSON.stringify(v.owner)}`);
    if (v.can_edit !== true) problems.push(`can_edit is ${JSON.stringify(v.can_edit)}`);
    if (problems.length) throw new CheckError(problems.join('; '));
    return { renditions: (v.renditions || []).map((r) => r.name), duration: v.duration };
  });

  await check('watch page plays the private video past 2 s', async () => {
    await openPlayer(page, videoId, STEP_TIMEOUT_MS);
    let state = await playerState(page);
    assertNoPlayerErrors(state);
    if (!state.hasHls) throw new CheckError('window.kinoPlayer.hls is missing: the page did not use hls.js');
    await page.evaluate(() => {
      const { hls, video } = window.kinoPlayer;
      window.__kinoTest = { fatal: [] };
      hls.on(window.Hls.Events.ERROR, (_e, data) => {
        if (data.fatal) window.__kinoTest.fatal.push({ type: data.type, details: data.details, code: data.response && data.response.code });
      });
      video.muted = true;
      return video.play().catch(() => {});
    });
    const deadline = Date.now() + PLAYBACK_TIMEOUT_MS;
    for (;;) {
      state = await playerState(page);
      assertNoPlayerErrors(state);
      if (state.currentTime > MIN_TIME_S) break;
      if (Date.now() > deadline) throw new CheckError(`currentTime stayed at ${state.currentTime} s (state: ${JSON.stringify(state)})`);
      await sleep(250);
    }
    const badge = await page.textContent('#privacy').catch(() => '');
    if (!(await page.isVisible('#privacy')) || !/private/i.test(badge || '')) throw new CheckError(`no "Private" badge on the watch page (shows ${JSON.stringify(badge)})`);
    return { currentTime: state.currentTime, levels: state.levels, videoHeight: state.videoHeight };
  });

  await check('player loaded a signed playlist URL', async () => {
    const state = await playerState(page);
    const bare = `/hls/${encodeURIComponent(videoId)}/master.m3u8`;
    const loaded = state.hlsUrl ? new URL(state.hlsUrl, base) : null;
    if (!loaded) throw new CheckError('hls.url is empty');
    if (`${loaded.pathname}${loaded.search}` === bare) throw new CheckError(`the player loaded the bare ${bare}`);
    if (state.playbackUrl && new URL(state.playbackUrl, base).href !== loaded.href) {
      throw new CheckError(`hls.url ${loaded.href} is not the playback URL ${state.playbackUrl}`);
    }
    const playlists = requests.filter((r) => new URL(r.url).pathname.endsWith('.m3u8'));
    const bareRequests = playlists.filter((r) => { const u = new URL(r.url); return `${u.pathname}${u.search}` === bare; });
    if (bareRequests.length) throw new CheckError(`the page requested the bare playlist ${bare}`);
    const playback = await pageFetch(page, `/api/videos/${encodeURIComponent(videoId)}/playback`);
    if (playback.status !== 200) throw new CheckError(`GET /api/videos/${videoId}/playback answered ${playback.status}`);
    if (!playback.body.expires_at) throw new CheckError(`the playback answer of a private video has no expires_at: ${JSON.stringify(playback.body)}`);
    return { hlsUrl: loaded.pathname + (loaded.search ? '?…' : ''), expiresAt: state.expiresAt, playlistRequests: playlists.length };
  });

  await check('lapsed access cookie: the watch page renews the session and plays', async () => {
    // The browser drops the access cookie when it expires (15 min): the server then sees an
    // anonymous caller and answers 404 for the private video, which the page must not believe.
    await context.clearCookies({ name: accessCookieName });
    const before = requests.length;
    await page.goto(`${base}/watch/${encodeURIComponent(videoId)}`, { waitUntil: 'load' });
    try {
      await page.waitForFunction(
        () => !document.getElementById('player-error').hidden ||
          (window.kinoPlayer && window.kinoPlayer.hls && window.kinoPlayer.hls.levels.length > 0),
        null, { timeout: STEP_TIMEOUT_MS, polling: 200 });
    } catch {
      throw new CheckError(`no player: ${JSON.stringify(await playerState(page))}`);
    }
    const state = await playerState(page);
    assertNoPlayerErrors(state);
    const refreshes = requests.slice(before).filter((r) => r.method === 'POST' && new URL(r.url).pathname === '/api/auth/refresh').length;
    if (refreshes !== 1) throw new CheckError(`expected 1 POST /api/auth/refresh, saw ${refreshes}`);
    await page.waitForSelector('#account-link', { timeout: STEP_TIMEOUT_MS });
    return { levels: state.levels, refreshes };
  });

  await check('signed-out browser cannot see the private video', async () => {
    const anon = await newBrowser('anon');
    try {
      await anon.page.goto(`${base}/`, { waitUntil: 'load' });
      const meRes = await pageFetch(anon.page, '/api/me');
      if (meRes.status !== 401) throw new CheckError(`GET /api/me in a fresh profile answered ${meRes.status}`);
      const video = await pageFetch(anon.page, `/api/videos/${encodeURIComponent(videoId)}`);
      if (video.status !== 404) throw new CheckError(`GET /api/videos/${videoId} answered ${video.status} (expected 404): ${JSON.stringify(video.body)}`);
      const playback = await pageFetch(anon.page, `/api/videos/${encodeURIComponent(videoId)}/playback`);
      if (playback.status !== 404) throw new CheckError(`GET /api/videos/${videoId}/playback answered ${playback.status} (expected 404)`);
      const master = await pageFetch(anon.page, `/hls/${encodeURIComponent(videoId)}/master.m3u8`);
      if (master.status === 200) throw new CheckError(`GET /hls/${videoId}/master.m3u8 answered 200 without a grant`);
      const list = await pageFetch(anon.page, '/api/videos?per_page=100');
      if (list.status === 200 && Array.isArray(list.body.videos) && list.body.videos.some((v) => v.id === videoId)) {
        throw new CheckError('the public library lists the private video');
      }
      await anon.page.goto(`${base}/watch/${encodeURIComponent(videoId)}`, { waitUntil: 'load' });
      await anon.page.waitForFunction(() => !document.getElementById('player-error').hidden, null, { timeout: STEP_TIMEOUT_MS });
      const shown = await anon.page.textContent('#title');
      if (!/not found/i.test(shown || '')) throw new CheckError(`the watch page shows ${JSON.stringify(shown)} instead of "Video not found"`);
      const played = await anon.page.evaluate(() => !!window.kinoPlayer);
      if (played) throw new CheckError('the watch page started a player for a signed-out visitor');
      return { video: video.status, playback: playback.status, bareMaster: master.status };
    } finally {
      await Promise.race([anon.context.close().catch(() => {}), sleep(10_000)]);
    }
  });

  await check('/me lists the video; privacy change is saved', async () => {
    await page.goto(`${base}/me`, { waitUntil: 'load' });
    const select = `#my-videos tr[data-id="${videoId}"] select[data-role="privacy"]`;
    await page.waitForSelector(select, { timeout: STEP_TIMEOUT_MS });
    const shown = await page.inputValue(select);
    if (shown !== 'private') throw new CheckError(`the privacy select shows ${JSON.stringify(shown)}`);
    await page.selectOption(select, 'unlisted');
    const status = `#my-videos tr[data-id="${videoId}"] .row-status`;
    const done = await page.waitForSelector(`${status}.ok, ${status}.error`, { timeout: STEP_TIMEOUT_MS });
    const text = await done.textContent();
    if (await done.evaluate((n) => n.classList.contains('error'))) throw new CheckError(`after choosing Unlisted the row says ${JSON.stringify(text)}`);
    const v = await pageFetch(page, `/api/videos/${encodeURIComponent(videoId)}`);
    if (v.body.privacy !== 'unlisted') throw new CheckError(`the API says privacy ${JSON.stringify(v.body.privacy)} after the change`);
    return { privacy: v.body.privacy };
  });

  await check('/me creates and revokes an API token', async () => {
    const name = `auth-check-${suffix}`;
    await page.fill('#token-name', name);
    await page.check('#token-form input[value="read"]');
    await page.click('#token-button');
    await page.waitForSelector('#new-token', { state: 'visible', timeout: STEP_TIMEOUT_MS }).catch(async () => {
      throw new CheckError(`no token shown; the form says ${JSON.stringify(await page.textContent('#token-status'))}`);
    });
    const token = await page.inputValue('#new-token-value');
    if (!token || token.length < 16) throw new CheckError(`the token shown is ${JSON.stringify(token)}`);
    const listed = await pageFetch(page, '/api/tokens');
    const entry = (listed.body.tokens || []).find((t) => t.name === name);
    if (!entry) throw new CheckError(`GET /api/tokens does not list ${name}`);
    if (JSON.stringify(listed.body).includes(token)) throw new CheckError('GET /api/tokens shows the secret again');
    const row = `#tokens-body tr[data-id="${entry.id}"]`;
    await page.waitForSelector(row, { timeout: STEP_TIMEOUT_MS });
    await page.click(`${row} button[data-role="revoke"]`);
    await page.waitForSelector(row, { state: 'detached', timeout: STEP_TIMEOUT_MS });
    const after = await pageFetch(page, '/api/tokens');
    if ((after.body.tokens || []).some((t) => t.id === entry.id)) throw new CheckError('the revoked token is still listed');
    return { scopes: entry.scopes };
  });

  await check('sign out with the header button', async () => {
    await page.goto(`${base}/`, { waitUntil: 'load' });
    await page.waitForSelector('#signout-button', { state: 'visible', timeout: STEP_TIMEOUT_MS });
    await Promise.all([
      page.waitForEvent('load', { timeout: STEP_TIMEOUT_MS }).catch(() => null),
      page.click('#signout-button'),
    ]);
    try {
      await page.waitForSelector('#site-account #signin-link', { state: 'visible', timeout: STEP_TIMEOUT_MS });
    } catch {
      throw new CheckError(`the header still shows ${JSON.stringify(await page.textContent('#site-account').catch(() => null))}`);
    }
    const meRes = await pageFetch(page, '/api/me');
    if (meRes.status !== 401) throw new CheckError(`GET /api/me after signing out answered ${meRes.status}`);
    const refresh = await pageFetch(page, '/api/auth/refresh', { method: 'POST' });
    if (refresh.status !== 401) throw new CheckError(`POST /api/auth/refresh after signing out answered ${refresh.status}`);
    return { me: meRes.status, refresh: refresh.status };
  });
}

main(run);
