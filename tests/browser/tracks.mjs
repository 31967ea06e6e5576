#!/usr/bin/env node
// Real-browser check of a video's own tracks — several audio languages, subtitles embedded in the
// uploaded file — and of a private video's embed link, in Debian's headless Chromium.
//
//   node tracks.mjs BASE_URL AUDIO_VIDEO_ID SUBS_VIDEO_ID TOKEN
//
// AUDIO_VIDEO_ID: a ready, public video made from a source with two audio streams, English
// (default, a 440 Hz tone) then French (an 880 Hz tone). SUBS_VIDEO_ID: a ready, public video
// made from an MKV with an English SubRip stream; this script makes it private. TOKEN: an API
// token of the videos' owner (or an admin) with the `upload` scope.
// Env: EMBEDDED_CAPTION_TEXT, the text of the SubRip stream's cue (its captions check is skipped
// without it); OWNER_LOGIN (`username:password` of the owner, optional): the share dialog is
// used signed in through POST /api/auth/signin, as a browser session would be (without it, the
// page's requests carry `Authorization: Bearer TOKEN`, as in a11y.mjs).
//
// Checks, in order:
//  1. GET /api/videos/AUDIO lists two audio renditions (`audio_track`: English/en default,
//     French/fr) and its multivariant playlist has two EXT-X-MEDIA TYPE=AUDIO lines, every
//     variant naming the group (AUDIO="aud");
//  2. on the watch page, the audio menu (settings → Audio, <media-audio-track-menu>) lists
//     English and French; choosing French switches hls.js to it (hls.audioTrack, the enabled
//     item of video.audioTracks), the browser fetches audio_1/ segments, and playback goes on
//     (currentTime 1.5 s further, no fatal error). The audio heard changes too: WebAudio
//     (createMediaElementSource → AnalyserNode) finds the dominant frequency near 440 Hz
//     before the switch and near 880 Hz after it;
//  3. GET /api/videos/SUBS/captions lists the extracted track (`embedded: true`, "English");
//     (EMBEDDED_CAPTION_TEXT) on the watch page the captions menu lists "English" and, once
//     it is chosen, the cue is shown (active, in the showing track) at its time;
//  4. private embed: SUBS made private (PATCH), POST /api/videos/SUBS/embed-link answers an
//     /embed/SUBS?grant=… URL, its <iframe> and an expiry ~30 days ahead; the API reads the
//     video with that grant signed out (200), not without it or with a bogus one (404). In a
//     fresh browser (no cookies), a page on another origin whose <iframe> is that URL plays the
//     video (currentTime advances); the same <iframe> without ?grant= shows the embed page's
//     error and plays nothing; after POST /api/videos/SUBS/revoke-links the API answers 403
//     for the grant and the grant's <iframe> shows an error instead of playing;
//  5. the owner's Share dialog on the watch page of the private video: the owner's note and a
//     "Create embed link (works for 30 days)" button (the viewers' note hidden); pressing it
//     fills the embed code with an <iframe> whose src is /embed/SUBS?grant=…, says until when
//     in the live status line and the note under the code, moves the focus to the code; the
//     new grant reads the video signed out; no CSP violation so far; axe-core finds no serious
//     or critical violation in the open dialog (what Chromium logs about axe's own inline
//     styles, which the CSP refuses, is dropped from the page log);
//  6. no Content-Security-Policy violation on any page of the run.
// Prints a JSON summary on stdout in every case; exits 1 (naming the failed check) on failure.

import http from 'node:http';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { CheckError, browserVersion, createHarness, pageFetch, sleep } from './common.mjs';
import { assertNoErrors, readState, waitFor, waitForCue, watchCsp } from './player-state.mjs';

const [baseArg, audioId, subsId, token] = process.argv.slice(2);
if (!baseArg || !audioId || !subsId || !token) {
  console.error('usage: node tracks.mjs BASE_URL AUDIO_VIDEO_ID SUBS_VIDEO_ID TOKEN');
  process.exit(2);
}
const base = baseArg.replace(/\/+$/, '');
const captionText = process.env.EMBEDDED_CAPTION_TEXT || '';
const ownerLogin = process.env.OWNER_LOGIN || '';
const require = createRequire(import.meta.url);
const AXE_SOURCE = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');

const PLAYER_TIMEOUT_MS = 30_000; // page loaded → player with parsed levels
const PLAY_TIMEOUT_MS = 30_000; // play() → currentTime moving
const SWITCH_TIMEOUT_MS = 20_000; // audio track chosen → hls.js on it, its segments fetched
const STEP_TIMEOUT_MS = 10_000;
const TONE_TIMEOUT_MS = 10_000; // the analyser's peak at the expected frequency
const CAPTION_TIMEOUT_MS = 60_000;
const ERROR_TIMEOUT_MS = 20_000; // embed page → its error shown
const OVERALL_TIMEOUT_MS = 300_000;
const EMBED_LINK_DAYS = 30;

const summary = { ok: false, base, audioId, subsId, checks: [], notes: [], failed: null };
const { check, newBrowser, pageLog, main } = createHarness({
  summary,
  profilePrefix: 'kino-tracks',
  overallTimeoutMs: OVERALL_TIMEOUT_MS,
  json: 'pretty',
  okSuffix: `for ${base}`,
});

const watchUrl = (id) => `${base}/watch/${encodeURIComponent(id)}`;
const embedUrl = (id) => `${base}/embed/${encodeURIComponent(id)}`;

/** A request to the API from node: as the token's user (`auth`), or signed out. */
async function api(method, path, { body, auth = true } = {}) {
  const headers = { Accept: 'application/json' };
  if (auth) headers.Authorization = `Bearer ${token}`;
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  const res = await fetch(`${base}${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await res.text();
  let json = null;
  try {
    json = JSON.parse(text);
  } catch {
    json = text.slice(0, 300);
  }
  return { status: res.status, body: json };
}





/** Waits for hls.js with parsed levels (or the page's error). */
async function waitForLevels(frame) {
  try {
    await frame.waitForFunction(
      () => !document.getElementById('player-error').hidden || (window.kinoPlayer && window.kinoPlayer.hls && window.kinoPlayer.hls.levels.length > 0),
      null, { timeout: PLAYER_TIMEOUT_MS });
  } catch {
    throw new CheckError(`no player with levels within ${PLAYER_TIMEOUT_MS / 1000} s`);
  }
  assertNoErrors(await readState(frame));
}

/** Opens `url` and waits for hls.js with parsed levels. */
async function openPlayer(page, url) {
  const res = await page.goto(url, { waitUntil: 'load', timeout: PLAYER_TIMEOUT_MS });
  if (!res || !res.ok()) throw new CheckError(`HTTP ${res ? res.status() : 'no response'} for ${url}`);
  await waitForLevels(page);
}

/** Starts playback (muted unless `sound`) and waits for currentTime to move. */
async function play(frame, { sound = false } = {}) {
  await frame.evaluate(async (withSound) => {
    const v = window.kinoPlayer.video;
    v.muted = !withSound;
    if (withSound) v.volume = 1;
    await v.play().catch(() => {});
  }, sound);
  const start = (await readState(frame)).currentTime;
  return waitFor(frame, PLAY_TIMEOUT_MS, (s) => !s.paused && s.currentTime > start + 0.3, 'playback advancing');
}

/** Opens settings → `item` (menu-audio, menu-captions…) and lists its radio items. */
async function openSubmenu(page, item, menu) {
  await page.hover('media-controller');
  await page.click('media-settings-menu-button');
  await page.click(`media-settings-menu-item.${item}`);
  const selector = `${menu} [role="menuitemradio"]`;
  await page.locator(selector).first().waitFor({ timeout: STEP_TIMEOUT_MS }).catch(() => {
    throw new CheckError(`${menu} shows no items`);
  });
  return page.locator(selector).evaluateAll((els) => els.map((e) => ({ value: e.getAttribute('value'), text: e.textContent.trim() })));
}

/**
 * Routes the page's <video> through WebAudio (createMediaElementSource → AnalyserNode →
 * destination) for toneOf. Once per page: an element has one source node.
 */
function listen(page) {
  return page.evaluate(async () => {
    const ctx = new AudioContext();
    const source = ctx.createMediaElementSource(window.kinoPlayer.video);
    const analyser = ctx.createAnalyser();
    analyser.fftSize = 8192;
    analyser.smoothingTimeConstant = 0;
    source.connect(analyser);
    analyser.connect(ctx.destination);
    if (ctx.state !== 'running') await ctx.resume().catch(() => {});
    window.__tone = { ctx, analyser };
    return { state: ctx.state, sampleRate: ctx.sampleRate };
  });
}

/**
 * The dominant frequency heard now: the median of several analyser peaks over ~1 s (only
 * peaks louder than -70 dBFS count), with how many were loud enough.
 */
async function toneOf(page) {
  const samples = [];
  for (let i = 0; i < 8; i += 1) {
    samples.push(await page.evaluate(() => {
      const { ctx, analyser } = window.__tone;
      const data = new Float32Array(analyser.frequencyBinCount);
      analyser.getFloatFrequencyData(data);
      let best = 1; // bin 0 is DC
      for (let k = 2; k < data.length; k += 1) if (data[k] > data[best]) best = k;
      return { hz: (best * ctx.sampleRate) / analyser.fftSize, db: data[best], t: window.kinoPlayer.video.currentTime, state: ctx.state };
    }));
    await sleep(120);
  }
  const loud = samples.filter((s) => Number.isFinite(s.db) && s.db > -70).map((s) => s.hz).sort((a, b) => a - b);
  const hz = loud.length ? loud[Math.floor(loud.length / 2)] : null;
  return { hz: hz === null ? null : Math.round(hz), loud: loud.length, of: samples.length, state: samples[0].state, peakDb: Math.round(Math.max(...samples.map((s) => s.db))) };
}

/** Waits until the dominant frequency is within 5 % of `hz`. */
async function waitForTone(page, hz, describe) {
  const deadline = Date.now() + TONE_TIMEOUT_MS;
  let last = null;
  for (;;) {
    assertNoErrors(await readState(page));
    last = await toneOf(page);
    if (last.hz !== null && Math.abs(last.hz - hz) <= hz * 0.05) return last;
    if (Date.now() > deadline) throw new CheckError(`${describe}: the dominant frequency is not ~${hz} Hz within ${TONE_TIMEOUT_MS / 1000} s (last: ${JSON.stringify(last)})`);
  }
}

/**
 * A small site on another origin (and site) than Kino's: `/NAME` is a page whose only
 * <iframe> shows `frames[NAME]`. Resolves to { origin, close }.
 */
async function otherSite(frames) {
  const server = http.createServer((req, res) => {
    const src = frames[(req.url || '/').slice(1)];
    if (!src) {
      res.writeHead(404).end();
      return;
    }
    const attr = src.replace(/&/g, '&amp;').replace(/"/g, '&quot;');
    res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' });
    res.end(`<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Another site</title></head><body>
<h1>Another site</h1>
<iframe id="kino" src="${attr}" width="640" height="360" title="Kino video" allow="autoplay; fullscreen; picture-in-picture"></iframe>
</body></html>`);
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  // Another site: "localhost" when Kino is at 127.0.0.1, else 127.0.0.1.
  const host = new URL(base).hostname === 'localhost' ? '127.0.0.1' : 'localhost';
  return {
    origin: `http://${host}:${server.address().port}`,
    close() {
      server.close();
      server.closeAllConnections();
    },
  };
}

/** Opens `url` (a page of otherSite) and returns its iframe's frame once it shows the embed page. */
async function embedFrame(page, url, embedAddress) {
  const res = await page.goto(url, { waitUntil: 'load' });
  if (!res || !res.ok()) throw new CheckError(`the outer page ${url} did not load`);
  const frame = await (await page.$('#kino')).contentFrame();
  if (!frame) throw new CheckError('the outer page has no iframe');
  const deadline = Date.now() + PLAYER_TIMEOUT_MS;
  while (!frame.url().startsWith(embedAddress) && !frame.url().startsWith('chrome-error:') && Date.now() < deadline) await sleep(100);
  const shown = !frame.url().startsWith('chrome-error:') && (await frame.evaluate(() => !!document.getElementById('player')).catch(() => false));
  if (!shown) throw new CheckError(`the embed page did not show in the frame (frame URL ${frame.url()})`);
  return frame;
}

/**
 * Waits for the embed page in `frame` to show its error (and play nothing); its text.
 * @returns {Promise<{ error: string, playing: boolean, currentTime: number | null }>}
 */
async function embedError(frame, describe) {
  try {
    await frame.waitForFunction(() => {
      const box = document.getElementById('player-error');
      return box && !box.hidden && box.textContent.trim().length > 0;
    }, null, { timeout: ERROR_TIMEOUT_MS });
  } catch {
    const s = await readState(frame).catch(() => null);
    throw new CheckError(`${describe}: the embed page shows no error within ${ERROR_TIMEOUT_MS / 1000} s (state: ${JSON.stringify(s)})`);
  }
  await sleep(1500); // anything that would play would have started by now
  return frame.evaluate(() => {
    const v = document.getElementById('player');
    return {
      error: document.getElementById('player-error').textContent.trim(),
      playing: !!window.kinoPlayer || (!v.paused && v.currentTime > 0),
      currentTime: v.currentTime,
    };
  });
}

/** Removes the CSP entries of context `ctx` from the page log from index `from` on; how many. */
function dropCspEntries(from, ctx) {
  const kept = pageLog.slice(from).filter((e) => !(e.ctx === ctx && /Content Security Policy/i.test(e.text)));
  const dropped = pageLog.length - from - kept.length;
  pageLog.splice(from, pageLog.length - from, ...kept);
  return dropped;
}

/** The grant of an embed address. */
const grantOf = (url) => new URL(url).searchParams.get('grant') || '';

async function run() {
  let viewer;
  await check('browser starts', async () => {
    viewer = await newBrowser('viewer');
    await watchCsp(viewer.context);
    return { version: browserVersion(viewer.context) };
  });
  const { page } = viewer;

  await check('two audio streams are two audio renditions in the API and the playlist', async () => {
    const r = await api('GET', `/api/videos/${encodeURIComponent(audioId)}`);
    if (r.status !== 200) throw new CheckError(`GET /api/videos/${audioId} answered ${r.status}: ${JSON.stringify(r.body)}`);
    const v = r.body;
    const audio = (v.renditions || []).filter((x) => x.audio_track).map((x) => ({ name: x.name, ...x.audio_track }));
    const video = (v.renditions || []).filter((x) => !('audio_track' in x)).map((x) => x.name);
    const want = [{ name: 'audio_0', language: 'en', label: 'English', default: true }, { name: 'audio_1', language: 'fr', label: 'French', default: false }];
    if (JSON.stringify(audio) !== JSON.stringify(want)) throw new CheckError(`audio renditions ${JSON.stringify(audio)}, expected ${JSON.stringify(want)}`);
    if (!video.length) throw new CheckError(`no video rendition: ${JSON.stringify(v.renditions)}`);
    const playlistUrl = v.hls_url || (v.media && v.media.hls);
    if (!playlistUrl) throw new CheckError(`no hls_url: ${JSON.stringify(v)}`);
    const res = await fetch(new URL(playlistUrl, base));
    const text = await res.text();
    if (!res.ok) throw new CheckError(`GET ${playlistUrl} answered ${res.status}`);
    const media = text.split('\n').filter((l) => l.startsWith('#EXT-X-MEDIA:TYPE=AUDIO'));
    const variants = text.split('\n').filter((l) => l.startsWith('#EXT-X-STREAM-INF:'));
    if (media.length !== 2) throw new CheckError(`${media.length} EXT-X-MEDIA TYPE=AUDIO lines:\n${text}`);
    if (!media.some((l) => /NAME="English",LANGUAGE="en",DEFAULT=YES/.test(l) && /URI="audio_0\/index\.m3u8"/.test(l))) throw new CheckError(`no default English audio rendition:\n${text}`);
    if (!media.some((l) => /NAME="French",LANGUAGE="fr",DEFAULT=NO/.test(l) && /URI="audio_1\/index\.m3u8"/.test(l))) throw new CheckError(`no French audio rendition:\n${text}`);
    if (!variants.length || !variants.every((l) => l.includes('AUDIO="aud"'))) throw new CheckError(`variants without AUDIO="aud":\n${text}`);
    return { video, audio: audio.map((a) => `${a.name} ${a.label} (${a.language})${a.default ? ' default' : ''}`), variants: variants.length };
  });

  await check('the audio menu switches to French: hls.js, audio_1 segments, the tone, playback going on', async () => {
    /** Audio segments requested, with when. */
    const requested = [];
    const onRequest = (req) => {
      const m = /\/(audio_\d+)\/([^/?]+)/.exec(req.url());
      if (m) requested.push({ at: Date.now(), dir: m[1], file: m[2] });
    };
    page.on('request', onRequest);
    try {
      await openPlayer(page, watchUrl(audioId));
      const listening = await listen(page);
      const before = await play(page, { sound: true });
      await waitFor(page, STEP_TIMEOUT_MS, (s) => s.hls && s.hls.audioTracks.length >= 2, 'two hls.js audio tracks');
      const tracks = (await readState(page)).hls.audioTracks;
      const french = tracks.findIndex((t) => t.lang === 'fr');
      const english = tracks.findIndex((t) => t.lang === 'en');
      if (french < 0 || english < 0) throw new CheckError(`hls.js audio tracks: ${JSON.stringify(tracks)}`);
      const start = await waitFor(page, STEP_TIMEOUT_MS, (s) => s.hls.audioTrack === english && s.enabledAudio.join() === 'English', 'English playing first');
      const toneBefore = await waitForTone(page, 440, 'English');

      const items = await openSubmenu(page, 'menu-audio', 'media-audio-track-menu');
      const labels = items.map((i) => i.text);
      if (!labels.includes('English') || !labels.includes('French')) throw new CheckError(`the audio menu lists ${JSON.stringify(labels)}`);
      const item = items.find((i) => i.text === 'French');
      const switchedAt = Date.now();
      const switchTime = (await readState(page)).currentTime;
      await page.click(`media-audio-track-menu [role="menuitemradio"][value="${item.value}"]`);
      const after = await waitFor(page, SWITCH_TIMEOUT_MS, (s) => s.hls.audioTrack === french && s.enabledAudio.join() === 'French', 'French chosen in hls.js and video.audioTracks');
      const deadline = Date.now() + SWITCH_TIMEOUT_MS;
      while (!requested.some((r) => r.at >= switchedAt && r.dir === 'audio_1' && /^seg_.*\.m4s$/.test(r.file))) {
        if (Date.now() > deadline) throw new CheckError(`no audio_1/ segment fetched within ${SWITCH_TIMEOUT_MS / 1000} s of the switch (audio requests: ${JSON.stringify(requested.slice(-10))})`);
        assertNoErrors(await readState(page));
        await sleep(150);
      }
      const toneAfter = await waitForTone(page, 880, 'French');
      const went = await waitFor(page, PLAY_TIMEOUT_MS, (s) => !s.paused && s.currentTime >= switchTime + 1.5, `playback 1.5 s past the switch at ${switchTime.toFixed(2)} s`);
      const selected = await page.evaluate(() => document.querySelector('media-audio-track-menu').getAttribute('mediaaudiotrackenabled'));
      const saved = await page.evaluate(() => localStorage.getItem('kino.player.audioLang'));
      if (saved !== 'fr') throw new CheckError(`the choice is remembered as ${JSON.stringify(saved)}, not "fr"`);
      return {
        menu: labels,
        audioContext: listening,
        startedAt: Math.round(before.currentTime * 100) / 100,
        english: { index: english, audioTrack: start.hls.audioTrack, tone: toneBefore },
        french: { index: french, audioTrack: after.hls.audioTrack, tone: toneAfter, menuSelected: selected },
        switchTime: Math.round(switchTime * 100) / 100,
        currentTime: Math.round(went.currentTime * 100) / 100,
        audio1Segments: requested.filter((r) => r.dir === 'audio_1').map((r) => r.file),
      };
    } finally {
      page.off('request', onRequest);
    }
  });

  await check('the embedded SubRip stream is a caption track', async () => {
    const r = await api('GET', `/api/videos/${encodeURIComponent(subsId)}/captions`);
    if (r.status !== 200) throw new CheckError(`GET captions answered ${r.status}: ${JSON.stringify(r.body)}`);
    const list = r.body.captions || [];
    const track = list.find((c) => c.embedded === true);
    if (!track || track.label !== 'English' || !(track.cues >= 1)) throw new CheckError(`captions: ${JSON.stringify(list)}`);
    if (list.some((c) => typeof c.embedded !== 'boolean')) throw new CheckError(`a caption without a boolean "embedded": ${JSON.stringify(list)}`);
    return { captions: list.map((c) => ({ id: c.id, lang: c.lang, label: c.label, cues: c.cues, embedded: c.embedded })) };
  });

  if (captionText) {
    await check('the captions menu lists English and shows the embedded cue at its time', async () => {
      await openPlayer(page, watchUrl(subsId));
      await play(page);
      const items = await openSubmenu(page, 'menu-captions', 'media-captions-menu');
      const item = items.find((i) => i.text === 'English');
      if (!item) throw new CheckError(`the captions menu lists ${JSON.stringify(items.map((i) => i.text))}`);
      await page.click(`media-captions-menu [role="menuitemradio"][value="${item.value}"]`);
      // Back to the cue's time (0.5–9 s), in case playback has gone past it.
      await page.evaluate(() => {
        window.kinoPlayer.video.currentTime = 1;
      });
      const { cue, seekedTo } = await waitForCue(page, captionText, CAPTION_TIMEOUT_MS);
      // Nothing more from this page while the next check makes the video private.
      await page.evaluate(() => {
        window.kinoPlayer.video.pause();
        window.kinoPlayer.hls.stopLoad();
      });
      if (cue.label !== 'English') throw new CheckError(`the showing track is ${JSON.stringify(cue.label)}`);
      if (!(Math.abs(cue.start - 0.5) < 0.6 && Math.abs(cue.end - 9) < 0.6)) throw new CheckError(`the cue is at ${cue.start}–${cue.end} s, not 0.5–9 s`);
      return { menu: items.map((i) => i.text), cue, seekedTo };
    });
  } else {
    summary.notes.push('embedded cue check skipped: EMBEDDED_CAPTION_TEXT is not set');
  }

  await check('a private video\'s embed link plays on another site; without it, or revoked, it does not', async () => {
    const patched = await api('PATCH', `/api/videos/${encodeURIComponent(subsId)}`, { body: { privacy: 'private' } });
    if (patched.status !== 200 || patched.body.privacy !== 'private') throw new CheckError(`PATCH privacy answered ${patched.status}: ${JSON.stringify(patched.body)}`);
    const made = await api('POST', `/api/videos/${encodeURIComponent(subsId)}/embed-link`, { body: {} });
    if (made.status !== 200) throw new CheckError(`POST embed-link answered ${made.status}: ${JSON.stringify(made.body)}`);
    const { url, html, expires_at: expiresAt } = made.body;
    const u = new URL(url);
    if (u.origin !== new URL(base).origin || u.pathname !== `/embed/${subsId}` || !grantOf(url)) throw new CheckError(`the embed link is ${url}`);
    if (!/^<iframe /.test(html) || !html.includes(`src="${url.replace(/&/g, '&amp;')}"`)) throw new CheckError(`the iframe is ${html}`);
    const days = (Date.parse(expiresAt) - Date.now()) / 86_400_000;
    if (!(Math.abs(days - EMBED_LINK_DAYS) < 0.05)) throw new CheckError(`expires_at ${expiresAt} is ${days.toFixed(2)} days ahead, not ${EMBED_LINK_DAYS}`);
    const grant = grantOf(url);
    const q = (g) => `?grant=${encodeURIComponent(g)}`;
    const idPath = `/api/videos/${encodeURIComponent(subsId)}`;
    const api0 = {
      anonymous: (await api('GET', idPath, { auth: false })).status,
      granted: (await api('GET', `${idPath}${q(grant)}`, { auth: false })).status,
      grantedPlayback: (await api('GET', `${idPath}/playback${q(grant)}`, { auth: false })).status,
      bogus: (await api('GET', `${idPath}${q('not-a-grant')}`, { auth: false })).status,
    };
    if (JSON.stringify(api0) !== JSON.stringify({ anonymous: 404, granted: 200, grantedPlayback: 200, bogus: 404 })) {
      throw new CheckError(`signed-out API answers ${JSON.stringify(api0)}`);
    }

    const plain = embedUrl(subsId);
    const site = await otherSite({ grant: url, plain });
    try {
      const embed = await newBrowser('embed'); // fresh: no cookies
      await watchCsp(embed.context);
      const epage = embed.page;

      let frame = await embedFrame(epage, `${site.origin}/grant`, plain);
      await waitForLevels(frame);
      const s = await play(frame);
      const later = await waitFor(frame, PLAY_TIMEOUT_MS, (x) => x.currentTime > s.currentTime + 1, 'embedded playback advancing');

      frame = await embedFrame(epage, `${site.origin}/plain`, plain);
      const without = await embedError(frame, 'without the grant');
      if (without.playing) throw new CheckError(`without the grant the embed plays: ${JSON.stringify(without)}`);

      const revoked = await api('POST', `/api/videos/${encodeURIComponent(subsId)}/revoke-links`);
      if (revoked.status !== 200) throw new CheckError(`POST revoke-links answered ${revoked.status}: ${JSON.stringify(revoked.body)}`);
      const after = await api('GET', `${idPath}${q(grant)}`, { auth: false });
      if (after.status !== 403 || !(after.body && typeof after.body.error === 'string' && after.body.error)) {
        throw new CheckError(`after revoking, the grant reads ${after.status}: ${JSON.stringify(after.body)}`);
      }
      frame = await embedFrame(epage, `${site.origin}/grant`, plain);
      const gone = await embedError(frame, 'with the revoked grant');
      if (gone.playing) throw new CheckError(`the revoked grant still plays: ${JSON.stringify(gone)}`);
      await assertNoCsp(frame, 'embed page');
      return {
        url: url.replace(grant, `${grant.slice(0, 16)}…`),
        expiresAt,
        api: api0,
        played: Math.round(later.currentTime * 100) / 100,
        withoutGrant: without.error,
        revoked: { api: after.status, message: after.body.error, shown: gone.error },
      };
    } finally {
      site.close();
    }
  });

  await check('the owner\'s Share dialog creates an embed link', async () => {
    const owner = await newBrowser('owner');
    await watchCsp(owner.context);
    const opage = owner.page;
    let signedIn;
    if (ownerLogin) {
      const colon = ownerLogin.indexOf(':');
      if (colon < 1) throw new CheckError('OWNER_LOGIN must read username:password');
      await opage.goto(`${base}/`, { waitUntil: 'load' });
      const r = await pageFetch(opage, '/api/auth/signin', {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
        body: JSON.stringify({ username: ownerLogin.slice(0, colon), password: ownerLogin.slice(colon + 1) }),
      });
      if (r.status !== 200) throw new CheckError(`signing in answered ${r.status}: ${JSON.stringify(r.body)}`);
      signedIn = `session of ${ownerLogin.slice(0, colon)}`;
    } else {
      await owner.context.setExtraHTTPHeaders({ Authorization: `Bearer ${token}` });
      signedIn = 'bearer token';
    }
    await openPlayer(opage, watchUrl(subsId));
    // The video's details are in (the owner's Manage link shows with can_edit).
    await opage.waitForSelector('#manage:not([hidden])', { timeout: STEP_TIMEOUT_MS }).catch(() => {
      throw new CheckError('the watch page does not show the owner\'s controls (can_edit)');
    });
    await opage.click('#share');
    await opage.waitForFunction(() => document.getElementById('share-dialog').open, null, { timeout: STEP_TIMEOUT_MS });
    const shown = await opage.evaluate(() => ({
      viewersNote: !document.getElementById('share-private').hidden,
      ownersNote: !document.getElementById('share-private-owner').hidden,
      embed: /** @type {HTMLTextAreaElement} */ (document.getElementById('share-embed')).value,
    }));
    if (shown.viewersNote || !shown.ownersNote) throw new CheckError(`notes shown: ${JSON.stringify(shown)}`);
    if (shown.embed.includes('grant=')) throw new CheckError(`the embed code has a grant before one was made: ${shown.embed}`);
    const button = opage.getByRole('button', { name: 'Create embed link (works for 30 days)' });
    if (!(await button.isVisible())) throw new CheckError('no visible "Create embed link (works for 30 days)" button in the dialog');

    await button.click();
    await opage.waitForFunction(() => document.getElementById('share-embed').value.includes('grant='), null, { timeout: STEP_TIMEOUT_MS }).catch(async () => {
      const status = await opage.textContent('#share-status');
      throw new CheckError(`the embed code has no grant after pressing the button (status: ${JSON.stringify(status)})`);
    });
    const after = await opage.evaluate(() => {
      const code = /** @type {HTMLTextAreaElement} */ (document.getElementById('share-embed')).value;
      const iframe = new DOMParser().parseFromString(code, 'text/html').querySelector('iframe');
      const status = document.getElementById('share-status');
      const note = document.getElementById('share-embed-note');
      return {
        code,
        src: iframe ? iframe.getAttribute('src') : null,
        status: status.textContent,
        statusLive: status.getAttribute('aria-live') || status.getAttribute('role'),
        note: note.hidden ? null : note.textContent,
        focus: document.activeElement ? document.activeElement.id : null,
        buttonHidden: document.getElementById('share-embed-link').hidden,
      };
    });
    if (!after.src) throw new CheckError(`the embed code is no iframe: ${after.code}`);
    const src = new URL(after.src);
    if (src.origin !== new URL(base).origin || src.pathname !== `/embed/${subsId}` || !src.searchParams.get('grant')) throw new CheckError(`the iframe's src is ${after.src}`);
    if (!/until/.test(after.status) || !after.statusLive) throw new CheckError(`the status line says ${JSON.stringify(after.status)} (live: ${after.statusLive})`);
    if (!after.note || !/until/.test(after.note)) throw new CheckError(`the note under the code is ${JSON.stringify(after.note)}`);
    if (after.focus !== 'share-embed') throw new CheckError(`the focus is on #${after.focus}, not the embed code`);
    // The link made after the revocation works signed out.
    const read = await api('GET', `/api/videos/${encodeURIComponent(subsId)}?grant=${encodeURIComponent(src.searchParams.get('grant'))}`, { auth: false });
    if (read.status !== 200) throw new CheckError(`the new grant reads the video ${read.status}: ${JSON.stringify(read.body)}`);
    // Before axe-core, whose own checks apply inline styles that the page's CSP refuses.
    await assertNoCsp(opage, 'watch page with the Share dialog');
    const axeFrom = pageLog.length;
    const violations = await axeDialog(opage);
    await opage.click('#share-close');
    await sleep(500); // console messages arrive a moment later
    // What Chromium logged about axe's inline styles is axe's, not the page's: out of the log.
    const axeCsp = dropCspEntries(axeFrom, 'owner');
    return { signedIn, src: `${src.origin}${src.pathname}?grant=…`, status: after.status, note: after.note, axe: violations, axeCspEntriesDropped: axeCsp };
  });

  await check('no Content-Security-Policy violation', async () => {
    await assertNoCsp(page, 'watch pages');
    return null;
  });
}

/** axe-core on the open Share dialog: fails on serious or critical violations. */
async function axeDialog(page) {
  const present = await page.evaluate(() => typeof window.axe === 'object');
  if (!present) await page.evaluate(AXE_SOURCE);
  const violations = await page.evaluate(async () => {
    const result = await window.axe.run('#share-dialog', {
      runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa', 'best-practice'] },
      resultTypes: ['violations'],
    });
    return result.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, targets: v.nodes.slice(0, 3).map((n) => n.target.flat().join(' ')) }));
  });
  const bad = violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  if (bad.length) throw new CheckError(`axe-core in the Share dialog: ${JSON.stringify(bad)}`);
  return violations.map((v) => `${v.id} (${v.impact})`);
}

/**
 * Fails on CSP violations the page's listener saw and on those Chromium only logged, on every
 * page of the run (the page log).
 */
async function assertNoCsp(frame, where) {
  const violations = await frame.evaluate(() => window.__cspViolations || []).catch(() => []);
  const logged = pageLog.filter((e) => /Content Security Policy/i.test(e.text) && !/frame-ancestors/.test(e.text)).map((e) => e.text.trim());
  if (violations.length || logged.length) {
    throw new CheckError(`${where}: Content-Security-Policy violations: ${[...violations, ...logged].join('; ')}`);
  }
}

main(run);
