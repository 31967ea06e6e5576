#!/usr/bin/env node
// Real-browser check of the watch page's player controls (Media Chrome around hls.js), sharing
// and the embed page, in Debian's headless Chromium.
//
//   node player.mjs BASE_URL VIDEO_ID [TOKEN]
//
// VIDEO_ID: a ready, public video with at least two renditions of different heights, at least
// ~30 s long. TOKEN (optional): an API token allowed to post comments; without it the comment
// check is skipped (noted in the summary). CAPTION_TEXT (env, optional): text of a caption cue of
// the video; when set, the first captions track is turned on and the cue must become active at
// its time.
//
// Checks, in order:
//  1. the page has Media Chrome's controls around the <video> (no browser controls) and hls.js
//     with several levels;
//  2. the quality menu (settings → Quality) lists each level by its short side ("720p" for
//     720×1280 too) and choosing one switches hls.js to it (currentLevel, videoHeight); after a
//     reload the choice still holds;
//  3. keyboard shortcuts with the focus on the page: k pauses and plays, l seeks +10 s, j −10 s,
//     → +5 s, m mutes, ↑/↓ change the volume, 5 jumps to 50 %, space plays/pauses without
//     scrolling the page, f toggles fullscreen (the controller's mediaisfullscreen attribute or
//     document.fullscreenElement), ? opens the shortcuts dialog (Escape closes it);
//  4. Share: with "Start at" ticked the link carries ?t= within a second of where the player
//     is, and opening that link starts playback there;
//  5. (TOKEN) a comment "… 0:02 …" posted through the API shows the timestamp as a link;
//     clicking it seeks the player to 0:02 without leaving the page;
//  6. storyboard: when GET /api/videos/ID has `storyboard`, hovering the seek bar shows a
//     preview image with a non-zero size (skipped, with a note, when it is null or absent);
//  7. (CAPTION_TEXT) captions: the first subtitles/captions track shows the cue at its time;
//  8. the embed page /embed/ID, in an <iframe> of a page served from another origin (a small
//     HTTP server of this script on 127.0.0.1, opened as http://localhost:PORT so it is
//     another site too), plays (currentTime advances) and its title links to the watch page;
//  9. no Content-Security-Policy violation on any page of the run (the pages' own listener and
//     what Chromium logged: Media Chrome's shadow-DOM styles, hls.js's subtitle tracks).
// Prints a JSON summary on stdout in every case; exits 1 (naming the failed check) on failure.

import http from 'node:http';
import { CheckError, browserVersion, createHarness, sleep } from './common.mjs';
import { assertNoErrors, readState, waitFor, waitForCue, watchCsp } from './player-state.mjs';

const [baseArg, videoId, token] = process.argv.slice(2);
if (!baseArg || !videoId) {
  console.error('usage: node player.mjs BASE_URL VIDEO_ID [TOKEN]');
  process.exit(2);
}
const base = baseArg.replace(/\/+$/, '');
const watchUrl = `${base}/watch/${encodeURIComponent(videoId)}`;
const embedUrl = `${base}/embed/${encodeURIComponent(videoId)}`;
const captionText = process.env.CAPTION_TEXT || '';

const PLAYER_TIMEOUT_MS = 30_000; // page loaded → player with parsed levels
const PLAY_TIMEOUT_MS = 30_000; // play() → currentTime moving
const SWITCH_TIMEOUT_MS = 20_000; // quality chosen → videoHeight
const STEP_TIMEOUT_MS = 10_000; // one shortcut → its effect
const CAPTION_TIMEOUT_MS = Number(process.env.CAPTION_TIMEOUT_MS) > 0 ? Number(process.env.CAPTION_TIMEOUT_MS) : 90_000;
const SEEK_SLACK_S = 1.5;
const OVERALL_TIMEOUT_MS = 300_000;

const summary = { ok: false, url: watchUrl, videoId, checks: [], notes: [], failed: null };
const { check, newBrowser, pageLog, main } = createHarness({
  summary,
  profilePrefix: 'kino-player',
  overallTimeoutMs: OVERALL_TIMEOUT_MS,
  json: 'pretty',
  okSuffix: `for ${watchUrl}`,
});

/** GET /api/videos/ID from node (with the token when given). */
async function apiVideo() {
  const res = await fetch(`${base}/api/videos/${encodeURIComponent(videoId)}`, { headers: token ? { Authorization: `Bearer ${token}` } : {} });
  if (!res.ok) throw new CheckError(`GET /api/videos/${videoId} answered ${res.status}`);
  return res.json();
}


/**
 * Fails on the CSP violations the page's listener saw, and on those Chromium only logged (a
 * violation by an element not yet in the document, e.g. hls.js's subtitle <track src="data:…">,
 * fires no event the page can hear).
 */
async function assertNoCsp(frame, where) {
  const violations = await frame.evaluate(() => window.__cspViolations || []);
  const logged = pageLog.filter((e) => /Content Security Policy/i.test(e.text) && !/frame-ancestors/.test(e.text)).map((e) => e.text.trim());
  if (violations.length || logged.length) {
    throw new CheckError(`${where}: Content-Security-Policy violations: ${[...violations, ...logged].join('; ')}`);
  }
}




/** Opens `url`, waits for hls.js with parsed levels. */
async function openPlayer(page, url) {
  const res = await page.goto(url, { waitUntil: 'load', timeout: PLAYER_TIMEOUT_MS });
  if (!res || !res.ok()) throw new CheckError(`HTTP ${res ? res.status() : 'no response'} for ${url}`);
  await waitForLevels(page);
}

async function waitForLevels(frame) {
  try {
    await frame.waitForFunction(
      () => !document.getElementById('player-error').hidden || (window.kinoPlayer && window.kinoPlayer.hls && window.kinoPlayer.hls.levels.length > 0),
      null,
      { timeout: PLAYER_TIMEOUT_MS, polling: 200 },
    );
  } catch {
    throw new CheckError(`no hls.js player with levels within ${PLAYER_TIMEOUT_MS / 1000} s: ${JSON.stringify(await readState(frame))}`);
  }
  assertNoErrors(await readState(frame));
}

/** Starts playback (muted: no user gesture needed) and waits until time moves. */
async function play(frame) {
  await frame.evaluate(async () => {
    const v = window.kinoPlayer.video;
    v.muted = true;
    await v.play().catch(() => {});
  });
  const start = (await readState(frame)).currentTime;
  return waitFor(frame, PLAY_TIMEOUT_MS, (s) => !s.paused && s.currentTime > start + 0.3, 'playback advancing');
}

/** Seeks (in the page) and waits for the element to get there. */
async function seek(page, t) {
  await page.evaluate((to) => {
    window.kinoPlayer.video.currentTime = to;
  }, t);
  return waitFor(page, STEP_TIMEOUT_MS, (s) => Math.abs(s.currentTime - t) < SEEK_SLACK_S, `currentTime ≈ ${t}`);
}

/** Short side of a level, as the menus label it. */
const shortSide = (l) => Math.min(...[l.width, l.height].filter((n) => n > 0));

async function run() {
  let context;
  let page;
  await check('browser starts', async () => {
    ({ context, page } = await newBrowser());
    await watchCsp(context);
    return { version: browserVersion(context) };
  });

  await check('Media Chrome controls around an hls.js player', async () => {
    await openPlayer(page, watchUrl);
    const ui = await page.evaluate(() => {
      const v = document.getElementById('player');
      const c = document.querySelector('media-controller');
      return {
        defined: !!customElements.get('media-controller'),
        videoInController: !!c && v.parentElement === c && v.slot === 'media',
        nativeControls: v.controls,
        controls: ['media-play-button', 'media-time-range', 'media-mute-button', 'media-volume-range', 'media-settings-menu-button', 'media-pip-button', 'media-fullscreen-button', 'media-rendition-menu', 'media-playback-rate-menu', 'media-captions-menu', 'media-audio-track-menu']
          .filter((tag) => !c || !c.querySelector(tag)),
        levels: window.kinoPlayer.hls.levels.map((l, index) => ({ index, width: l.width, height: l.height, bitrate: l.bitrate })),
      };
    });
    if (!ui.defined) throw new CheckError('media-controller is not defined: media-chrome.js did not load');
    if (!ui.videoInController) throw new CheckError('the <video> is not the media of a <media-controller>');
    if (ui.nativeControls) throw new CheckError('the browser\'s own controls are on as well');
    if (ui.controls.length) throw new CheckError(`controls missing: ${ui.controls.join(', ')}`);
    if (ui.levels.length < 2) throw new CheckError(`expected several levels, got ${ui.levels.length}`);
    summary.levels = ui.levels;
    return { levels: ui.levels.length };
  });

  await check('quality menu switches the level and the choice survives a reload', async () => {
    const before = await play(page);
    const heights = new Set(summary.levels.map((l) => l.height));
    if (heights.size < 2) throw new CheckError(`levels of one height only: ${[...heights].join(', ')}`);
    // The lowest level whose height is not the one playing.
    const target = [...summary.levels].filter((l) => l.height !== before.videoHeight).sort((a, b) => a.bitrate - b.bitrate)[0];
    await page.hover('media-controller');
    await page.click('media-settings-menu-button');
    await page.click('media-settings-menu-item.menu-quality');
    const items = await page.locator('media-rendition-menu [role="menuitemradio"]').evaluateAll((els) =>
      els.map((e) => ({ value: e.getAttribute('value'), text: e.textContent.trim() })));
    for (const l of summary.levels) {
      const item = items.find((i) => i.value === String(l.index));
      if (!item) throw new CheckError(`no menu item for level ${l.index} (${l.width}×${l.height}): ${JSON.stringify(items)}`);
      if (!item.text.startsWith(`${shortSide(l)}p`)) throw new CheckError(`level ${l.width}×${l.height} is labelled ${JSON.stringify(item.text)}, not by its short side (${shortSide(l)}p)`);
    }
    if (!items.some((i) => i.value === 'auto')) throw new CheckError(`no Auto item: ${JSON.stringify(items)}`);
    await page.click(`media-rendition-menu [role="menuitemradio"][value="${target.index}"]`);
    const after = await waitFor(page, SWITCH_TIMEOUT_MS, (s) => s.hls.currentLevel === target.index && s.videoHeight === target.height,
      `level ${target.index} (${target.height}p) playing`);
    const saved = await page.evaluate(() => localStorage.getItem('kino.player.quality'));
    if (saved !== String(shortSide(target))) throw new CheckError(`localStorage kino.player.quality is ${JSON.stringify(saved)}, expected ${shortSide(target)}`);

    await openPlayer(page, watchUrl);
    await waitFor(page, STEP_TIMEOUT_MS, (s) => s.hls && s.hls.manualLevel === target.index, `level ${target.index} chosen again after the reload`);
    const replay = await play(page);
    const kept = await waitFor(page, SWITCH_TIMEOUT_MS, (s) => s.videoHeight === target.height && s.hls.currentLevel === target.index, `${target.height}p after the reload`);
    const selected = await page.evaluate(() => document.querySelector('media-rendition-menu').getAttribute('mediarenditionselected'));
    if (selected !== String(target.index)) throw new CheckError(`after the reload the menu shows ${JSON.stringify(selected)} selected, not level ${target.index}`);
    return { from: before.videoHeight, to: after.videoHeight, menu: items.map((i) => i.text), afterReload: kept.videoHeight, replayAt: replay.currentTime };
  });

  await check('keyboard shortcuts act', async () => {
    const done = {};
    // The focus on the page itself (not a control): the title.
    await page.evaluate(() => {
      if (document.activeElement instanceof HTMLElement) document.activeElement.blur();
    });
    await page.click('#title');
    let s = await play(page);
    if (!(s.duration > 30)) throw new CheckError(`the video is ${s.duration} s long; these checks need at least 30 s`);
    s = await seek(page, 8);

    await page.keyboard.press('k');
    s = await waitFor(page, STEP_TIMEOUT_MS, (x) => x.paused, 'paused by k');
    await page.keyboard.press('k');
    s = await waitFor(page, STEP_TIMEOUT_MS, (x) => !x.paused, 'playing again by k');
    done.k = true;

    let from = (await readState(page)).currentTime;
    await page.keyboard.press('l');
    s = await waitFor(page, STEP_TIMEOUT_MS, (x) => Math.abs(x.currentTime - (from + 10)) < SEEK_SLACK_S + 0.5, `l: ${from.toFixed(1)} + 10 s`);
    done.l = [Math.round(from * 10) / 10, Math.round(s.currentTime * 10) / 10];

    from = s.currentTime;
    await page.keyboard.press('j');
    s = await waitFor(page, STEP_TIMEOUT_MS, (x) => Math.abs(x.currentTime - (from - 10)) < SEEK_SLACK_S + 0.5, `j: ${from.toFixed(1)} − 10 s`);
    done.j = [Math.round(from * 10) / 10, Math.round(s.currentTime * 10) / 10];

    from = s.currentTime;
    await page.keyboard.press('ArrowRight');
    s = await waitFor(page, STEP_TIMEOUT_MS, (x) => Math.abs(x.currentTime - (from + 5)) < SEEK_SLACK_S + 0.5, `→: ${from.toFixed(1)} + 5 s`);
    done.right = [Math.round(from * 10) / 10, Math.round(s.currentTime * 10) / 10];

    const muted = s.muted;
    await page.keyboard.press('m');
    s = await waitFor(page, STEP_TIMEOUT_MS, (x) => x.muted !== muted, 'm toggles mute');
    done.m = [muted, s.muted];
    if (s.muted) {
      await page.keyboard.press('m'); // sound on, for the volume keys
      s = await waitFor(page, STEP_TIMEOUT_MS, (x) => !x.muted, 'm again');
    }
    await page.evaluate(() => {
      window.kinoPlayer.video.volume = 0.5;
    });
    await page.keyboard.press('ArrowDown');
    s = await waitFor(page, STEP_TIMEOUT_MS, (x) => x.volume < 0.5, '↓ lowers the volume');
    await page.keyboard.press('ArrowUp');
    await page.keyboard.press('ArrowUp');
    s = await waitFor(page, STEP_TIMEOUT_MS, (x) => x.volume > 0.5, '↑ raises the volume');
    done.volume = s.volume;

    await page.keyboard.press('5');
    s = await waitFor(page, STEP_TIMEOUT_MS, (x) => Math.abs(x.currentTime - x.duration / 2) < SEEK_SLACK_S + 0.5, '5 jumps to 50 %');
    done.five = Math.round(s.currentTime * 10) / 10;

    // Space: play/pause, and the page must not scroll (it is taller than the window).
    await page.evaluate(() => window.scrollTo(0, 0));
    const wasPaused = (await readState(page)).paused;
    await page.keyboard.press(' ');
    s = await waitFor(page, STEP_TIMEOUT_MS, (x) => x.paused !== wasPaused, 'space toggles playback');
    await sleep(300);
    s = await readState(page);
    if (s.scrollY !== 0) throw new CheckError(`space scrolled the page to ${s.scrollY}`);
    done.space = true;
    if (s.paused) await play(page);

    await page.keyboard.press('f');
    s = await waitFor(page, STEP_TIMEOUT_MS, (x) => x.fullscreen, 'f enters fullscreen');
    await page.keyboard.press('f');
    s = await waitFor(page, STEP_TIMEOUT_MS, (x) => !x.fullscreen, 'f leaves fullscreen');
    done.f = true;

    await page.keyboard.press('Shift+Slash'); // "?"
    await page.waitForFunction(() => {
      const d = document.getElementById('shortcuts-dialog');
      return d && d.open;
    }, null, { timeout: STEP_TIMEOUT_MS }).catch(() => {
      throw new CheckError('? did not open the shortcuts dialog');
    });
    const rows = await page.locator('#shortcuts-dialog tbody tr').count();
    await page.keyboard.press('Escape');
    await page.waitForFunction(() => !document.getElementById('shortcuts-dialog').open, null, { timeout: STEP_TIMEOUT_MS }).catch(() => {
      throw new CheckError('Escape did not close the shortcuts dialog');
    });
    done.help = { rows };
    const handled = await page.evaluate(() => (window.kinoPlayerUi ? window.kinoPlayerUi.handledKeys : null));
    return { ...done, handled };
  });

  await check('share link at the current time starts there', async () => {
    let s = await seek(page, 12);
    await page.evaluate(() => window.kinoPlayer.video.pause());
    s = await waitFor(page, STEP_TIMEOUT_MS, (x) => x.paused, 'paused');
    const at = s.currentTime;
    await page.click('#share');
    await page.waitForFunction(() => document.getElementById('share-dialog').open, null, { timeout: STEP_TIMEOUT_MS });
    const plain = await page.inputValue('#share-link');
    await page.check('#share-at');
    const link = await page.inputValue('#share-link');
    const embed = await page.inputValue('#share-embed');
    await page.click('#share-close');
    if (new URL(plain).search) throw new CheckError(`the plain link has a query: ${plain}`);
    const u = new URL(link);
    if (u.origin !== new URL(base).origin || u.pathname !== `/watch/${videoId}`) throw new CheckError(`the link is ${link}`);
    const t = u.searchParams.get('t') || '';
    const m = /^(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$/.exec(t);
    const seconds = m ? Number(m[1] || 0) * 3600 + Number(m[2] || 0) * 60 + Number(m[3] || 0) : NaN;
    if (!(Math.abs(seconds - at) <= 1)) throw new CheckError(`?t=${t} (${seconds} s) is not within 1 s of the player's ${at.toFixed(2)} s`);
    if (!embed.includes(`/embed/${videoId}`) || !/^<iframe /.test(embed)) throw new CheckError(`the embed code is ${embed}`);

    await openPlayer(page, link);
    const start = await readState(page);
    const playing = await play(page);
    if (!(playing.currentTime >= seconds - 0.5 && playing.currentTime < seconds + 4)) {
      throw new CheckError(`opened at ?t=${t}, playback is at ${playing.currentTime.toFixed(2)} s (before play: ${start.currentTime.toFixed(2)} s)`);
    }
    return { link, at: Math.round(at * 100) / 100, startedAt: Math.round(playing.currentTime * 100) / 100 };
  });

  if (token) {
    await check('a comment timestamp links and seeks the player', async () => {
      const body = `Player check ${Date.now()}: look at 0:02 please`;
      const res = await fetch(`${base}/api/videos/${encodeURIComponent(videoId)}/comments`, {
        method: 'POST',
        headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json', Accept: 'application/json' },
        body: JSON.stringify({ body }),
      });
      if (!res.ok) throw new CheckError(`POST comment answered ${res.status}: ${await res.text()}`);
      await openPlayer(page, watchUrl);
      await page.evaluate(() => {
        window.__samePage = true;
      });
      const link = page.locator('#comments-list .comment-body', { hasText: body.slice(0, 20) }).locator('a.timestamp');
      await link.first().waitFor({ timeout: STEP_TIMEOUT_MS }).catch(async () => {
        const shown = await page.locator('#comments-list .comment-body').allTextContents();
        throw new CheckError(`no timestamp link in the comment (comments shown: ${JSON.stringify(shown.slice(0, 5))})`);
      });
      const info = await link.first().evaluate((a) => ({ text: a.textContent, href: a.getAttribute('href'), t: a.dataset.t }));
      if (info.text !== '0:02' || info.t !== '2') throw new CheckError(`the link is ${JSON.stringify(info)}`);
      await play(page);
      await seek(page, 20);
      await link.first().click();
      const s = await waitFor(page, STEP_TIMEOUT_MS, (x) => x.currentTime >= 1.5 && x.currentTime < 5, 'the player at 0:02');
      const same = await page.evaluate(() => window.__samePage === true && location.pathname);
      if (!same) throw new CheckError('clicking the timestamp loaded another page');
      return { link: info, currentTime: Math.round(s.currentTime * 100) / 100, page: same };
    });
  } else {
    summary.notes.push('comment timestamp check skipped: no TOKEN given');
  }

  const v = await apiVideo();
  if (typeof v.storyboard === 'string' && v.storyboard) {
    await check('seek-bar hover shows a storyboard preview', async () => {
      await openPlayer(page, watchUrl);
      await play(page);
      await page.waitForFunction(() => {
        const t = [...document.getElementById('player').textTracks].find((x) => x.kind === 'metadata' && x.label === 'thumbnails');
        return t && t.cues && t.cues.length > 0;
      }, null, { timeout: STEP_TIMEOUT_MS }).catch(() => {
        throw new CheckError('the thumbnails track has no cues (the storyboard VTT did not load?)');
      });
      await page.evaluate(() => window.kinoPlayer.video.pause());
      const box = await page.locator('media-time-range').boundingBox();
      if (!box) throw new CheckError('no seek bar');
      await page.mouse.move(box.x + box.width * 0.3, box.y + box.height / 2);
      await page.mouse.move(box.x + box.width * 0.5, box.y + box.height / 2, { steps: 5 });
      let preview = null;
      const deadline = Date.now() + STEP_TIMEOUT_MS;
      while (Date.now() < deadline) {
        preview = await page.evaluate(() => {
          const range = document.querySelector('media-time-range');
          const thumb = range && range.shadowRoot && range.shadowRoot.querySelector('media-preview-thumbnail');
          const img = thumb && thumb.shadowRoot && thumb.shadowRoot.querySelector('img');
          if (!img) return null;
          const r = img.getBoundingClientRect();
          const box = thumb.getBoundingClientRect();
          return { src: img.currentSrc || img.src, complete: img.complete, natural: img.naturalWidth, width: r.width, height: r.height, boxWidth: box.width, boxHeight: box.height, coords: thumb.getAttribute('mediapreviewcoords') };
        });
        if (preview && preview.complete && preview.natural > 0 && preview.boxWidth > 0 && preview.boxHeight > 0) break;
        await sleep(200);
      }
      if (!preview || !(preview.natural > 0) || !(preview.boxWidth > 0 && preview.boxHeight > 0)) {
        throw new CheckError(`no preview image on hover: ${JSON.stringify(preview)}`);
      }
      return preview;
    });
  } else {
    summary.notes.push(`storyboard check skipped: GET /api/videos/${videoId} has storyboard ${JSON.stringify(v.storyboard ?? null)}`);
  }

  if (captionText) {
    await check('captions show the cue at its time', async () => {
      await openPlayer(page, watchUrl);
      await play(page);
      const turnedOn = await page.evaluate(() => {
        const tracks = [...window.kinoPlayer.video.textTracks].filter((t) => t.kind === 'subtitles' || t.kind === 'captions');
        if (!tracks.length) return null;
        tracks[0].mode = 'showing';
        return { label: tracks[0].label, language: tracks[0].language, count: tracks.length };
      });
      if (!turnedOn) throw new CheckError('the video has no subtitles or captions track');
      await seek(page, 0);
      const { cue, seekedTo } = await waitForCue(page, captionText, CAPTION_TIMEOUT_MS);
      return { ...turnedOn, cue, seekedTo };
    });
  }

  await check('the embed page plays in an iframe on another origin', async () => {
    const outer = http.createServer((req, res) => {
      res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' });
      res.end(`<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Another site</title></head><body>
<h1>Another site</h1>
<iframe id="kino" src="${embedUrl}" width="640" height="360" title="Kino video" allow="autoplay; fullscreen; picture-in-picture"></iframe>
</body></html>`);
    });
    await new Promise((resolve) => outer.listen(0, '127.0.0.1', resolve));
    try {
      const port = outer.address().port;
      // Another origin, and another site: "localhost" when Kino is at 127.0.0.1, else 127.0.0.1.
      const host = new URL(base).hostname === 'localhost' ? '127.0.0.1' : 'localhost';
      const outerUrl = `http://${host}:${port}/`;
      const res = await page.goto(outerUrl, { waitUntil: 'load' });
      if (!res || !res.ok()) throw new CheckError(`the outer page ${outerUrl} did not load`);
      const frame = await (await page.$('#kino')).contentFrame();
      if (!frame) throw new CheckError('the outer page has no iframe');
      const deadline = Date.now() + PLAYER_TIMEOUT_MS;
      while (!frame.url().startsWith(embedUrl) && !frame.url().startsWith('chrome-error:') && Date.now() < deadline) await sleep(100);
      const blocked = frame.url().startsWith('chrome-error:') || (await frame.evaluate(() => !document.getElementById('player')).catch(() => true));
      if (blocked) {
        const log = pageLog.filter((e) => e.text.includes('/embed/') || /frame-ancestors|X-Frame-Options/i.test(e.text)).map((e) => e.text);
        throw new CheckError(`the embed page did not show in the frame (frame URL ${frame.url()}): ${log.join(' | ') || 'no reason logged'}`);
      }
      await waitForLevels(frame);
      const s = await play(frame);
      const later = await waitFor(frame, PLAY_TIMEOUT_MS, (x) => x.currentTime > s.currentTime + 1, 'embedded playback advancing');
      const title = await frame.evaluate(() => {
        const a = document.getElementById('embed-title');
        return { text: a.textContent, href: a.href, target: a.target };
      });
      if (new URL(title.href).pathname !== `/watch/${videoId}`) throw new CheckError(`the title links to ${title.href}`);
      return { outer: outerUrl, currentTime: Math.round(later.currentTime * 100) / 100, title };
    } finally {
      outer.close();
      outer.closeAllConnections();
    }
  });

  // Last, so that the checks above report what they saw whatever this one finds. The page log
  // holds what Chromium logged on every page of the run (the watch and embed pages).
  await check('no Content-Security-Policy violation', async () => {
    await openPlayer(page, watchUrl);
    await play(page);
    await page.hover('media-controller');
    await sleep(500);
    await assertNoCsp(page, 'watch and embed pages');
    return null;
  });
}

main(run);
