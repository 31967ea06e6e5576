// @ts-check
// The Go live page's ingest health: what the ingest node measures of the broadcast it receives,
// from the stream's `live.health` events (every 2 s while live): bitrate, frame rate, keyframe
// interval and frames missing against the declared frame rate. Warns (role=status) when the
// keyframes are further apart than the recommended interval or frames go missing before Kino;
// "Last update N s ago" ticks, and the figures grey out after STALE_MS without news. Shown only
// while the stream is live. Figures go into textContent only.
import { formatBitrate } from './format.js';

const STALE_MS = 6000;
const TICK_MS = 1000;
const KEYFRAME_SLACK = 1.05; // timestamps in ms and 29.97 fps: 1.001 s is still "1 s"

/**
 * One `live.health` event as received, `at` the local time it came.
 * @typedef {{ bitrate: number, frameRate: number, keyframeSecs: number | null, missing: number, at: number }} Sample
 */

/** @param {unknown} v */
const finite = (v) => (typeof v === 'number' && Number.isFinite(v) && v >= 0 ? v : null);

/** 29.97 → "30", 2.5 → "2.5" (locale digits, one decimal at most). @param {number} v */
const decimal = (v) => v.toLocaleString(undefined, { maximumFractionDigits: 1 });

/**
 * The health box (#ingest-health): `update(msg)` with each `live.health` message, `setLive()`
 * as the stream's state changes, `reset()` for another stream. `recommendedKeyframeSecs()` is
 * the interval the OBS how-to recommends (null when unknown: no keyframe warning then).
 * @param {{ recommendedKeyframeSecs: () => number | null }} options
 */
export function createIngestHealth({ recommendedKeyframeSecs }) {
  const $ = (/** @type {string} */ id) => document.getElementById(id);
  const box = $('ingest-health');
  const age = $('health-age');
  const warnings = $('health-warnings');
  const figures = {
    bitrate: $('health-bitrate'),
    frameRate: $('health-frame-rate'),
    keyframes: $('health-keyframes'),
    missing: $('health-missing'),
  };

  let live = false;
  /** @type {Sample | null} */
  let sample = null;
  /** @type {ReturnType<typeof setInterval> | undefined} */
  let ticker;

  /**
   * @param {HTMLElement} node
   * @param {string} text
   * @param {number | null} value the raw figure (data-value, for tests), null when none
   * @param {boolean} [warn]
   */
  function figure(node, text, value, warn = false) {
    node.textContent = text;
    node.dataset.value = value === null ? '' : String(value);
    node.parentElement.dataset.warn = String(warn);
  }

  /** @param {string[]} lines the warnings; the live region changes only when they do */
  function warn(lines) {
    if (warnings.dataset.shown === lines.join('\n')) return;
    warnings.dataset.shown = lines.join('\n');
    warnings.replaceChildren(...lines.map((line) => {
      const p = document.createElement('p');
      p.textContent = line;
      return p;
    }));
  }

  function render() {
    box.hidden = !live;
    if (!live) {
      clearInterval(ticker);
      ticker = undefined;
    } else if (ticker === undefined) {
      ticker = setInterval(render, TICK_MS);
    }
    const s = live ? sample : null;
    const secs = s ? Math.max(0, Math.floor((Date.now() - s.at) / 1000)) : 0;
    const stale = !s || Date.now() - s.at >= STALE_MS;
    box.dataset.stale = String(stale);
    if (!s) {
      age.textContent = live ? 'Waiting for the first figures from the ingest…' : '';
      for (const node of Object.values(figures)) figure(node, '—', null);
      warn([]);
      return;
    }
    age.textContent = secs < 1 ? 'Last update just now' : `Last update ${secs} s ago`;
    const recommended = recommendedKeyframeSecs();
    const slowKeys = s.keyframeSecs !== null && recommended !== null && s.keyframeSecs > recommended * KEYFRAME_SLACK;
    figure(figures.bitrate, formatBitrate(s.bitrate) || '0 kbit/s', s.bitrate);
    figure(figures.frameRate, `${decimal(s.frameRate)} fps`, s.frameRate);
    figure(figures.keyframes, s.keyframeSecs === null ? 'Not seen yet' : `Every ${decimal(s.keyframeSecs)} s`, s.keyframeSecs, slowKeys && !stale);
    figure(figures.missing, s.missing.toLocaleString(), s.missing, s.missing > 0 && !stale);
    if (stale) {
      warn([`No figures for more than ${STALE_MS / 1000} s: those shown are out of date. Is OBS still streaming, and this page still connected?`]);
      return;
    }
    /** @type {string[]} */
    const lines = [];
    if (slowKeys) {
      lines.push(`Keyframes come every ${decimal(s.keyframeSecs)} s, more than the recommended ${decimal(recommended)} s: viewers wait longer and lag further behind. Set OBS's keyframe interval to ${decimal(recommended)} s.`);
    }
    if (s.missing > 0) {
      lines.push(`${s.missing.toLocaleString()} frame${s.missing === 1 ? '' : 's'} missing since the last update: frames are being dropped before they reach Kino. Lower the bitrate or check the uplink.`);
    }
    warn(lines);
  }

  return {
    /** @param {{ [field: string]: any }} msg a `live.health` message */
    update(msg) {
      const bitrate = finite(msg.bitrate);
      const frameRate = finite(msg.frame_rate);
      if (bitrate === null || frameRate === null) return;
      sample = {
        bitrate,
        frameRate,
        keyframeSecs: finite(msg.keyframe_interval_secs),
        missing: Math.floor(finite(msg.frames_missing) || 0),
        at: Date.now(),
      };
      render();
    },
    /** @param {boolean} isLive whether the stream is live now (the box shows only then) */
    setLive(isLive) {
      if (isLive === live) return;
      live = isLive;
      if (!live) sample = null; // a new broadcast starts afresh
      render();
    },
    /** Forgets the figures (another stream is followed). */
    reset() {
      sample = null;
      live = false;
      render();
    },
  };
}
