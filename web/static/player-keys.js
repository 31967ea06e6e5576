// @ts-check
// The player's keyboard shortcuts, anywhere on the page but in a text field: space or k
// play/pause, j/l 10 s back/on, ←/→ 5 s, ↑/↓ volume, f fullscreen, m mute, c captions,
// t theater mode (watch page), 0–9 jump to 0–90 %, ? lists them in a dialog. Media Chrome's
// own shortcuts are off (`nohotkeys`): they work only with the focus inside the player and
// seek 10 s with the arrows. Keys meant for the focused control stay its own: Space and Enter
// on a button or link, arrows on a slider or in a menu, anything with a modifier.
import { el } from './dom.js';

const SEEK_ARROW_S = 5;
const SEEK_JL_S = 10;
const VOLUME_STEP = 0.05;

/**
 * What the dialog lists: keys (alternatives; "0–9" a range) → what they do; `theater` rows only
 * where there is a theater mode.
 * @type {Array<{ keys: string[], what: string, range?: boolean, theater?: boolean }>}
 */
const SHORTCUTS = [
  { keys: ['Space', 'k'], what: 'Play or pause' },
  { keys: ['j'], what: 'Back 10 seconds' },
  { keys: ['l'], what: 'Forward 10 seconds' },
  { keys: ['←'], what: 'Back 5 seconds' },
  { keys: ['→'], what: 'Forward 5 seconds' },
  { keys: ['↑'], what: 'Volume up' },
  { keys: ['↓'], what: 'Volume down' },
  { keys: ['m'], what: 'Mute or unmute' },
  { keys: ['f'], what: 'Fullscreen on or off' },
  { keys: ['c'], what: 'Captions on or off' },
  { keys: ['t'], what: 'Theater mode on or off', theater: true },
  { keys: ['0', '9'], what: 'Jump to 0 %, 10 %, … 90 % of the video', range: true },
  { keys: ['?'], what: 'Show these shortcuts' },
];

/**
 * The element an event really started at (inside shadow roots too).
 * @param {Event} event
 * @returns {Element | null}
 */
function origin(event) {
  const first = event.composedPath()[0];
  return first instanceof Element ? first : null;
}

/**
 * A text field (or anything that takes typed text) is focused: keys are text there.
 * @param {Element | null} node
 */
function isTextEntry(node) {
  if (!node) return false;
  if (node instanceof HTMLTextAreaElement || node instanceof HTMLSelectElement) return true;
  if (node instanceof HTMLInputElement) {
    return !['button', 'checkbox', 'radio', 'range', 'reset', 'submit', 'color', 'file', 'image'].includes(node.type);
  }
  return node instanceof HTMLElement && node.isContentEditable;
}

/**
 * The focused element (or one of its ancestors, across shadow roots) has this role or tag.
 * @param {Element | null} node
 * @param {(n: Element) => boolean} test
 */
function within(node, test) {
  for (let n = node; n; n = n.parentElement || /** @type {any} */ (n.getRootNode()).host || null) {
    if (test(n)) return true;
  }
  return false;
}

const ROLE_ACTIVATES = new Set(['button', 'link', 'menuitem', 'menuitemradio', 'menuitemcheckbox', 'option', 'tab', 'checkbox', 'radio', 'switch']);
const ROLE_ARROWS = new Set(['slider', 'menu', 'menubar', 'menuitem', 'menuitemradio', 'menuitemcheckbox', 'listbox', 'option', 'radiogroup', 'radio', 'tablist', 'tab', 'spinbutton', 'scrollbar']);

/** @param {Element} n */
const activatesOnSpace = (n) =>
  n instanceof HTMLButtonElement || n instanceof HTMLAnchorElement || n.localName === 'summary' ||
  (n instanceof HTMLInputElement) || ROLE_ACTIVATES.has(n.getAttribute('role') || '');

/** @param {Element} n */
const takesArrows = (n) => n instanceof HTMLInputElement || ROLE_ARROWS.has(n.getAttribute('role') || '');

/**
 * The dialog listing the shortcuts (appended to the body; a modal <dialog> shows above a
 * fullscreen player too).
 * @param {{ theater: boolean }} options
 */
function shortcutsDialog({ theater }) {
  const rows = SHORTCUTS.filter((row) => theater || !row.theater).map(({ keys, what, range }) =>
    el('tr', {},
      el('th', { scope: 'row' }, ...keys.flatMap((k, i) => [i ? (range ? ' to ' : ' or ') : '', el('kbd', { text: k })])),
      el('td', { text: what })));
  const close = el('button', { type: 'button', class: 'secondary small-button', text: 'Close' });
  const dialog = el('dialog', { id: 'shortcuts-dialog', class: 'dialog', 'aria-labelledby': 'shortcuts-heading' },
    el('h2', { id: 'shortcuts-heading', text: 'Keyboard shortcuts' }),
    el('table', { class: 'shortcuts' },
      el('thead', { class: 'visually-hidden' }, el('tr', {}, el('th', { scope: 'col', text: 'Key' }), el('th', { scope: 'col', text: 'Action' }))),
      el('tbody', {}, ...rows)),
    el('div', { class: 'dialog-actions' }, close));
  close.addEventListener('click', () => dialog.close());
  // A click on the backdrop (outside the dialog's box) closes it too.
  dialog.addEventListener('click', (event) => {
    if (event.target === dialog) {
      const r = dialog.getBoundingClientRect();
      const inside = event.clientX >= r.left && event.clientX <= r.right && event.clientY >= r.top && event.clientY <= r.bottom;
      if (!inside) dialog.close();
    }
  });
  document.body.append(dialog);
  return dialog;
}

/**
 * Turns the shortcuts on for the page.
 * @param {object} options
 * @param {HTMLElement} options.controller the <media-controller>
 * @param {HTMLVideoElement} options.video
 * @param {() => boolean} [options.active] whether there is something to control now
 * @param {(() => void) | null} [options.toggleTheater] the watch page's theater mode
 * @returns {{ dialog: HTMLDialogElement, handled: string[] }}
 */
export function initShortcuts({ controller, video, active = () => true, toggleTheater = null }) {
  const dialog = shortcutsDialog({ theater: !!toggleTheater });
  /** For tests and debugging: the shortcuts acted on, in order. */
  const handled = [];

  /**
   * A Media Chrome request to the controller (it keeps its buttons in step).
   * @param {string} type
   * @param {unknown} [detail]
   */
  const request = (type, detail) => controller.dispatchEvent(new CustomEvent(type, { bubbles: true, composed: true, detail }));

  /** Where playback can go: [start, end] of the seekable range (a live window), or of the video. */
  function bounds() {
    const s = video.seekable;
    if (s && s.length) return [s.start(0), s.end(s.length - 1)];
    return [0, Number.isFinite(video.duration) ? video.duration : Infinity];
  }

  /** @param {number} t */
  function seekTo(t) {
    const [start, end] = bounds();
    video.currentTime = Math.max(start, Math.min(end, t));
  }

  /** @param {number} delta */
  function volumeBy(delta) {
    const volume = Math.max(0, Math.min(1, Math.round((video.volume + delta) * 100) / 100));
    if (delta > 0 && video.muted) video.muted = false;
    video.volume = volume;
  }

  function togglePlay() {
    if (video.paused || video.ended) video.play().catch(() => {});
    else video.pause();
  }

  function toggleFullscreen() {
    // The document knows first; the controller's attribute follows a moment later.
    const doc = /** @type {any} */ (document);
    const on = !!(document.fullscreenElement || doc.webkitFullscreenElement) || controller.hasAttribute('mediaisfullscreen');
    request(on ? 'mediaexitfullscreenrequest' : 'mediaenterfullscreenrequest');
  }

  /**
   * @param {KeyboardEvent} event
   * @returns {string | null} what was done
   */
  function act(event) {
    const key = event.key;
    const lower = key.length === 1 ? key.toLowerCase() : key;
    if (key === '?' || (key === '/' && event.shiftKey)) {
      if (!dialog.open) dialog.showModal();
      return 'help';
    }
    if (!active()) return null;
    if (key === ' ' || lower === 'k') {
      togglePlay();
      return 'play-pause';
    }
    if (lower === 'j') {
      seekTo(video.currentTime - SEEK_JL_S);
      return 'back-10';
    }
    if (lower === 'l') {
      seekTo(video.currentTime + SEEK_JL_S);
      return 'forward-10';
    }
    if (key === 'ArrowLeft') {
      seekTo(video.currentTime - SEEK_ARROW_S);
      return 'back-5';
    }
    if (key === 'ArrowRight') {
      seekTo(video.currentTime + SEEK_ARROW_S);
      return 'forward-5';
    }
    if (key === 'ArrowUp') {
      volumeBy(VOLUME_STEP);
      return 'volume-up';
    }
    if (key === 'ArrowDown') {
      volumeBy(-VOLUME_STEP);
      return 'volume-down';
    }
    if (lower === 'm') {
      video.muted = !video.muted;
      return 'mute';
    }
    if (lower === 'f') {
      toggleFullscreen();
      return 'fullscreen';
    }
    if (lower === 'c') {
      request('mediatogglesubtitlesrequest');
      return 'captions';
    }
    if (lower === 't' && toggleTheater) {
      toggleTheater();
      return 'theater';
    }
    if (/^[0-9]$/.test(key) && Number.isFinite(video.duration) && video.duration > 0) {
      seekTo((Number(key) / 10) * video.duration);
      return `jump-${key}0`;
    }
    return null;
  }

  document.addEventListener('keydown', (event) => {
    if (event.defaultPrevented || event.ctrlKey || event.metaKey || event.altKey || event.isComposing) return;
    const target = origin(event);
    if (isTextEntry(target)) return;
    // Another dialog is open (the share dialog): its keys are its own.
    const openModal = document.querySelector('dialog[open]');
    if (openModal && openModal !== dialog) return;
    if (dialog.open) return; // Escape (the browser's) closes it; other keys do nothing meanwhile
    const key = event.key;
    if ((key === ' ' || key === 'Enter') && within(target, activatesOnSpace)) return;
    if (key === 'Enter') return;
    if (key.startsWith('Arrow') && within(target, takesArrows)) return;
    const done = act(event);
    if (!done) return;
    event.preventDefault(); // space and the arrows would scroll the page
    handled.push(done);
  });

  return { dialog, handled };
}
