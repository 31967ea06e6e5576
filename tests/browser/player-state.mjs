// The watch and embed pages' player as the browser scripts see it (player.mjs, tracks.mjs):
// one snapshot of its state, the errors that fail a check, polling until a condition holds,
// and the page's Content-Security-Policy violations.
import { CheckError, sleep } from './common.mjs';

/**
 * A snapshot of the player in `frame` (a page or an iframe): hls.js levels and audio tracks,
 * the <video> element's time and picture, errors shown or thrown, fullscreen and scroll.
 */
export function readState(frame) {
  return frame.evaluate(() => {
    const p = window.kinoPlayer;
    const v = (p && p.video) || document.getElementById('player');
    const controller = document.querySelector('media-controller');
    const errBox = document.getElementById('player-error');
    let hls = null;
    try {
      hls = p && p.hls ? {
        currentLevel: p.hls.currentLevel,
        manualLevel: p.hls.manualLevel,
        autoLevelEnabled: p.hls.autoLevelEnabled,
        levels: p.hls.levels.length,
        audioTrack: p.hls.audioTrack,
        audioTracks: p.hls.audioTracks.map((t) => ({ name: t.name, lang: t.lang, default: t.default })),
      } : null;
    } catch {
      hls = null;
    }
    const list = v && v.audioTracks;
    const enabled = list ? [...list].filter((t) => t.enabled).map((t) => t.label) : [];
    return {
      hasPlayer: !!p,
      hls,
      enabledAudio: enabled,
      currentTime: v ? v.currentTime : null,
      duration: v ? v.duration : null,
      paused: v ? v.paused : null,
      muted: v ? v.muted : null,
      volume: v ? v.volume : null,
      videoHeight: v ? v.videoHeight : null,
      videoError: v && v.error ? { code: v.error.code, message: v.error.message } : null,
      fatalErrors: (p && p.fatalErrors) || [],
      playerErrorText: errBox && !errBox.hidden ? errBox.textContent : null,
      fullscreen: !!(controller && controller.hasAttribute('mediaisfullscreen')) || !!document.fullscreenElement,
      scrollY: window.scrollY,
    };
  });
}

/** Fails on a fatal hls.js error, a <video> error or an error the page shows. */
export function assertNoErrors(state) {
  if (state.fatalErrors.length) throw new CheckError(`fatal hls.js error: ${JSON.stringify(state.fatalErrors[0])}`);
  if (state.videoError) throw new CheckError(`video element error ${state.videoError.code}: ${state.videoError.message}`);
  if (state.playerErrorText) throw new CheckError(`the page shows a player error: ${state.playerErrorText}`);
}

/** Polls until `done(state)`; fails on player errors or after `timeoutMs`. */
export async function waitFor(frame, timeoutMs, done, describe) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const state = await readState(frame);
    assertNoErrors(state);
    if (done(state)) return state;
    if (Date.now() > deadline) throw new CheckError(`${describe} not reached within ${timeoutMs / 1000} s (state: ${JSON.stringify(state)})`);
    await sleep(150);
  }
}

/** Records the Content-Security-Policy violations of every page of `context` in `window.__cspViolations`. */
export async function watchCsp(context) {
  await context.addInitScript(() => {
    window.__cspViolations = [];
    document.addEventListener('securitypolicyviolation', (e) => {
      window.__cspViolations.push(`${e.violatedDirective} ${e.blockedURI || ''} ${e.sample || ''}`.trim());
    });
  });
}

/**
 * Waits until a cue containing `text` is active on the showing subtitles/captions track of the
 * player in `page`; once the cue is loaded but not yet active, seeks to its middle instead of
 * waiting for playback to reach it. Fails on player errors or after `timeoutMs`.
 * @returns {Promise<{ cue: { label: string, start: number, end: number, t: number }, seekedTo: number | null }>}
 */
export async function waitForCue(page, text, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  let seekedTo = null;
  for (;;) {
    assertNoErrors(await readState(page));
    const found = await page.evaluate((wanted) => {
      const track = [...window.kinoPlayer.video.textTracks].find((t) => (t.kind === 'subtitles' || t.kind === 'captions') && t.mode === 'showing');
      if (!track) return { state: 'no showing track' };
      const has = (cue) => cue && typeof cue.text === 'string' && cue.text.includes(wanted);
      const active = [...(track.activeCues || [])].find(has);
      if (active) return { state: 'active', label: track.label, start: active.startTime, end: active.endTime, t: window.kinoPlayer.video.currentTime };
      const loaded = [...(track.cues || [])].find(has);
      return loaded ? { state: 'loaded', label: track.label, start: loaded.startTime, end: loaded.endTime } : { state: 'waiting', label: track.label, cues: track.cues ? track.cues.length : 0 };
    }, text);
    if (found.state === 'active') return { cue: found, seekedTo };
    if (found.state === 'loaded' && seekedTo === null) {
      // Its time is known: go there rather than wait for it.
      seekedTo = (found.start + found.end) / 2;
      await page.evaluate((t) => {
        window.kinoPlayer.video.currentTime = t;
      }, seekedTo);
    }
    if (Date.now() > deadline) throw new CheckError(`the cue "${text}" did not become active within ${timeoutMs / 1000} s (last: ${JSON.stringify(found)})`);
    await sleep(250);
  }
}
