// @ts-check
// The Go live page's encoder box for one live stream: the RTMP server address and the stream
// key (hidden until "Show"), each with a Copy button; "Replace key" (after a confirmation), and
// the OBS settings as a short how-to. The key is a secret shown only in the answers that create
// or replace it: it lives in this page's memory, never in storage, and after a reload it can only
// be replaced. The server address and the encoder settings are no secret: the last ones seen are
// kept in localStorage, so that a reloaded page still shows them.
import { api } from './api.js';
import { el } from './dom.js';

/**
 * POST /api/live (and POST /api/live/{id}/key): a stream key and where to use it.
 * @typedef {{
 *   id: string, stream_key: string, rtmp_url: string, hls_url?: string,
 *   obs_settings?: { keyframe_interval_secs?: number, rate_control?: string, tune?: string, video_codec?: string, audio_codec?: string },
 * }} StreamKeyView
 */

const INGEST_STORAGE = 'kino.live.ingest';
const HIDDEN_KEY = 'Hidden';
const HIDDEN_HINT = 'Kino shows a key only when it is made or replaced: to see one, replace it (the old one then stops working).';

/** The server address and settings seen last ({rtmp_url, obs_settings}), or null. */
function rememberedIngest() {
  try {
    const saved = JSON.parse(localStorage.getItem(INGEST_STORAGE) || 'null');
    return saved && typeof saved.rtmp_url === 'string' ? saved : null;
  } catch {
    return null;
  }
}

/**
 * The keyframe interval the server recommends (s, `obs_settings.keyframe_interval_secs`), as
 * the OBS how-to shows it; null when this browser has not seen it.
 * @returns {number | null}
 */
export function recommendedKeyframeSecs() {
  const ingest = rememberedIngest();
  const secs = Number(ingest && ingest.obs_settings && ingest.obs_settings.keyframe_interval_secs);
  return Number.isFinite(secs) && secs > 0 ? secs : null;
}

/** @param {StreamKeyView} view */
function rememberIngest(view) {
  try {
    localStorage.setItem(INGEST_STORAGE, JSON.stringify({ rtmp_url: view.rtmp_url, obs_settings: view.obs_settings || null }));
  } catch {
    // storage unavailable: a reloaded page does not show the address
  }
}

/**
 * Copies `input`'s value: the Clipboard API where the page may use it, else the selection
 * (a password field is turned into text for the moment of the copy). Resolves to success.
 * @param {HTMLInputElement} input
 */
async function copyValue(input) {
  try {
    if (navigator.clipboard && window.isSecureContext) {
      await navigator.clipboard.writeText(input.value);
      return true;
    }
  } catch {
    // fall back to the selection
  }
  const type = input.type;
  input.type = 'text';
  input.focus();
  input.select();
  let ok = false;
  try {
    ok = document.execCommand('copy');
  } catch {
    ok = false;
  }
  input.type = type;
  return ok;
}

/**
 * A list item of the how-to: text with `code` parts ([text, code, text, …]).
 * @param {...string} parts
 */
function step(...parts) {
  return el('li', {}, ...parts.map((part, i) => (i % 2 ? el('code', { text: part }) : part)));
}

/**
 * The encoder box (#rtmp-url, #stream-key and their buttons, #replace-key, #obs-steps).
 * `onReplaced(view)` is called with each new key.
 * @param {{ onReplaced?: (view: StreamKeyView) => void }} [options]
 */
export function createKeyBox({ onReplaced = () => {} } = {}) {
  const server = /** @type {HTMLInputElement} */ (document.getElementById('rtmp-url'));
  const key = /** @type {HTMLInputElement} */ (document.getElementById('stream-key'));
  const show = /** @type {HTMLButtonElement} */ (document.getElementById('show-key'));
  const copyServer = /** @type {HTMLButtonElement} */ (document.getElementById('copy-rtmp'));
  const copyKey = /** @type {HTMLButtonElement} */ (document.getElementById('copy-key'));
  const hint = document.getElementById('key-hint');
  const replace = /** @type {HTMLButtonElement} */ (document.getElementById('replace-key'));
  const confirmBox = document.getElementById('replace-confirm');
  const confirmYes = /** @type {HTMLButtonElement} */ (document.getElementById('replace-yes'));
  const confirmNo = /** @type {HTMLButtonElement} */ (document.getElementById('replace-no'));
  const status = document.getElementById('key-status');
  const steps = document.getElementById('obs-steps');

  /** @type {string | null} */
  let streamId = null;
  let usable = true; // false once the stream is a replay: its key can no longer publish
  let latencyHint = null;

  /**
   * @param {string} kind
   * @param {string} text
   */
  const setStatus = (kind, text) => {
    status.className = `row-status${kind ? ` ${kind}` : ''}`;
    status.textContent = text;
  };

  /** @param {boolean} visible */
  function reveal(visible) {
    key.type = visible ? 'text' : 'password';
    show.textContent = visible ? 'Hide' : 'Show';
    show.setAttribute('aria-pressed', String(visible));
  }

  function renderSteps() {
    const ingest = rememberedIngest();
    const obs = (ingest && ingest.obs_settings) || {};
    const keyframes = recommendedKeyframeSecs();
    steps.replaceChildren(
      step('In OBS, open Settings → Stream. Service: ', 'Custom…', '; Server: the address above; Stream Key: the key above.'),
      step('Settings → Output, Output Mode ', 'Advanced', ', Streaming tab: Video Encoder ', `x264 (${obs.video_codec || 'H.264'})`,
        ', Rate Control ', obs.rate_control || 'CBR',
        ', Keyframe Interval ', keyframes ? `${keyframes} s` : 'the server\u2019s segment length',
        ', Tune ', obs.tune || 'zerolatency', '. Audio Encoder: ', obs.audio_codec || 'AAC', '.'),
      step(`Start Streaming. This page says LIVE within seconds${latencyHint ? `; viewers see you about ${latencyHint} s later` : ''}. Any other RTMP encoder works the same way: publish to `,
        'SERVER/STREAM_KEY', '.'));
  }

  function renderServer() {
    const ingest = rememberedIngest();
    server.value = ingest ? ingest.rtmp_url : '';
    server.placeholder = ingest ? '' : 'Replace the key to see the server address.';
    copyServer.disabled = !server.value;
  }

  /**
   * Shows `view`'s key (hidden until "Show"), or, with null, that the key cannot be shown.
   * @param {StreamKeyView | null} view
   */
  function showKey(view) {
    if (view) {
      rememberIngest(view);
      renderServer();
      renderSteps();
    }
    key.value = view ? view.stream_key : '';
    key.placeholder = view ? '' : HIDDEN_KEY;
    reveal(false);
    show.disabled = !view;
    copyKey.disabled = !view;
    hint.textContent = view ? 'Keep it secret: whoever has it can broadcast on this stream. Kino shows it this once.' : HIDDEN_HINT;
  }

  show.addEventListener('click', () => reveal(key.type === 'password'));
  copyServer.addEventListener('click', async () => {
    const ok = await copyValue(server);
    setStatus(ok ? 'ok' : 'error', ok ? 'Server address copied.' : 'Select the address and press Ctrl+C (⌘C) to copy it.');
  });
  copyKey.addEventListener('click', async () => {
    const ok = await copyValue(key);
    setStatus(ok ? 'ok' : 'error', ok ? 'Stream key copied.' : 'Select the key and press Ctrl+C (⌘C) to copy it.');
    if (!ok) reveal(true);
  });

  replace.addEventListener('click', () => {
    confirmBox.hidden = false;
    replace.hidden = true;
    confirmYes.focus();
  });
  confirmNo.addEventListener('click', () => {
    confirmBox.hidden = true;
    replace.hidden = false;
  });
  confirmYes.addEventListener('click', async () => {
    if (!streamId) return;
    const id = streamId;
    confirmYes.disabled = true;
    setStatus('', 'Replacing the key…');
    try {
      const view = await api('POST', `/api/live/${encodeURIComponent(id)}/key`);
      if (streamId !== id) return; // another stream was chosen meanwhile
      showKey(view);
      setStatus('ok', 'New key: the old one no longer starts a broadcast. Put this one in OBS.');
      onReplaced(view);
    } catch (err) {
      setStatus('error', `Could not replace the key: ${err.message}`);
    } finally {
      confirmYes.disabled = false;
      confirmBox.hidden = true;
      replace.hidden = !usable;
    }
  });

  return {
    /**
     * The stream the box is for, with its key when this page has it (just made or replaced).
     * @param {string} id
     * @param {StreamKeyView | null} view
     */
    setStream(id, view) {
      if (id !== streamId) setStatus('', '');
      streamId = id;
      renderServer();
      showKey(view);
      renderSteps();
    },

    /**
     * Whether the key can still be used (not once the stream is a replay), and the latency
     * viewers have (s), for the how-to.
     * @param {boolean} canPublish
     * @param {number | null} latency
     */
    setUsable(canPublish, latency) {
      usable = canPublish;
      replace.hidden = !canPublish || !confirmBox.hidden;
      if (!canPublish) {
        confirmBox.hidden = true;
        showKey(null);
        key.placeholder = 'None';
        hint.textContent = 'This stream is over: create a new live stream to go live again.';
      }
      const hintSecs = Number.isFinite(latency) && latency > 0 ? Math.round(latency) : null;
      if (hintSecs !== latencyHint) {
        latencyHint = hintSecs;
        renderSteps();
      }
    },
  };
}
