// @ts-check
// The player's controls: Media Chrome (media-chrome.js, its web components bundled from npm)
// around the page's <video>, which hls.js (player.js) plays. A control bar with play, mute and
// volume, the time, captions, a settings menu (speed, quality, audio language, captions),
// theater mode (watch page), picture-in-picture and fullscreen; a seek bar with previews from
// the video's storyboard; the keyboard shortcuts of player-keys.js. Shared by the watch page and
// the embed page. Without Media Chrome (its script did not load) the browser's own controls
// show instead.
import { el } from './dom.js';
import { initShortcuts } from './player-keys.js';
import { installTrackLists } from './player-tracks.js';

const THEATER_KEY = 'kino.player.theater';
const RATES = '0.5 0.75 1 1.25 1.5 1.75 2';
const SVG = 'http://www.w3.org/2000/svg';

/**
 * An inline SVG icon (paths in a 24×24 box).
 * @param {string[]} paths
 */
function icon(...paths) {
  const svg = document.createElementNS(SVG, 'svg');
  svg.setAttribute('viewBox', '0 0 24 24');
  svg.setAttribute('aria-hidden', 'true');
  for (const d of paths) {
    const path = document.createElementNS(SVG, 'path');
    path.setAttribute('d', d);
    svg.append(path);
  }
  return svg;
}

/**
 * A settings-menu entry with its submenu.
 * @param {string} label
 * @param {HTMLElement} submenu
 * @param {string} name class of the entry (`menu-NAME`), for styles and tests
 */
function settingsItem(label, submenu, name) {
  submenu.setAttribute('slot', 'submenu');
  submenu.hidden = true;
  submenu.append(el('div', { slot: 'title', text: label }));
  return el('media-settings-menu-item', { class: `menu-${name}` }, label, submenu);
}

/** @param {string} key */
function loadFlag(key) {
  try {
    return localStorage.getItem(key) === '1';
  } catch {
    return false;
  }
}

/**
 * @param {string} key
 * @param {boolean} on
 */
function saveFlag(key, on) {
  try {
    localStorage.setItem(key, on ? '1' : '0');
  } catch {
    // not remembered
  }
}

/**
 * What mountPlayer hands back.
 * @typedef {object} PlayerUi
 * @property {HTMLElement | null} controller the <media-controller> (null: the browser's controls)
 * @property {(url: string | null | undefined) => void} setStoryboard the WebVTT thumbnails track
 *   of the seek-bar previews (null: none)
 * @property {HTMLDialogElement | null} shortcuts the keyboard shortcuts dialog
 * @property {string[]} handledKeys the shortcuts acted on (tests, debugging)
 */

/**
 * Puts the player's controls around `video` (which must have no source yet).
 * @param {HTMLVideoElement} video
 * @param {object} [options]
 * @param {HTMLElement | null} [options.theaterTarget] the element that takes the `theater`
 *   class in theater mode (the watch page's layout); no theater button without it
 * @param {HTMLElement | null} [options.topChrome] shown at the top of the player with the
 *   controls (the embed page's title)
 * @param {() => boolean} [options.active] whether the player plays something now (the shortcuts
 *   act only then)
 * @returns {PlayerUi}
 */
export function mountPlayer(video, { theaterTarget = null, topChrome = null, active = () => !!video.currentSrc } = {}) {
  /** @type {PlayerUi} */
  const ui = { controller: null, setStoryboard: (url) => setStoryboard(video, url), shortcuts: null, handledKeys: [] };
  if (!window.customElements || !customElements.get('media-controller')) {
    video.controls = true; // media-chrome.js did not load: the browser's controls
    return ui;
  }
  // Before the controller takes the element: it subscribes to these lists when it does.
  if (window.Hls && window.Hls.isSupported()) installTrackLists(video);

  const controller = el('media-controller', { class: 'kino-player' });
  controller.setAttribute('nohotkeys', ''); // player-keys.js has the page's shortcuts
  controller.setAttribute('breakpoints', 'sm:384 md:576 lg:768 xl:960');
  video.removeAttribute('controls');
  video.slot = 'media';
  video.parentNode.insertBefore(controller, video);

  const settings = el('media-settings-menu', { hidden: true, anchor: 'auto' },
    settingsItem('Speed', el('media-playback-rate-menu', { rates: RATES }), 'speed'),
    settingsItem('Quality', el('media-rendition-menu'), 'quality'),
    settingsItem('Audio', el('media-audio-track-menu'), 'audio'),
    settingsItem('Captions', el('media-captions-menu'), 'captions'));

  /** @type {HTMLElement | null} */
  let theaterButton = null;
  if (theaterTarget) {
    theaterButton = el('media-chrome-button', { class: 'theater-button', 'aria-label': 'Theater mode', 'aria-pressed': 'false' },
      icon('M3 6h18a1 1 0 0 1 1 1v10a1 1 0 0 1-1 1H3a1 1 0 0 1-1-1V7a1 1 0 0 1 1-1zm1 2v8h16V8H4z'));
    theaterButton.append(el('span', { slot: 'tooltip-content', text: 'Theater mode (t)' }));
  }

  const captionsButton = el('media-captions-button');
  const bar = el('media-control-bar', {},
    el('media-play-button'),
    el('media-mute-button'),
    el('media-volume-range'),
    // Not a button (Media Chrome's toggles to the remaining time, named "playback time" apart
    // from the time it shows): a timer, named for what it is.
    el('media-time-display', { showduration: true, notoggle: true, role: 'timer' }),
    el('span', { class: 'spacer' }),
    captionsButton,
    el('media-settings-menu-button'),
    theaterButton,
    el('media-pip-button'),
    el('media-fullscreen-button'));

  controller.append(
    video,
    el('media-loading-indicator', { slot: 'centered-chrome', noautohide: true }),
    ...(topChrome ? [topChrome] : []),
    settings, // in the flow above the seek bar (app.css lifts it over the bar when open)
    el('media-time-range'),
    bar);
  if (topChrome) topChrome.slot = 'top-chrome';
  // Media Chrome makes the captions toggle a button with aria-checked, which ARIA allows on a
  // switch (a button would take aria-pressed); its styles follow aria-checked, so: a switch.
  captionsButton.setAttribute('role', 'switch');
  ui.controller = controller;

  /** @param {boolean} on */
  function setTheater(on) {
    if (!theaterTarget) return;
    theaterTarget.classList.toggle('theater', on);
    theaterButton.setAttribute('aria-pressed', String(on));
    saveFlag(THEATER_KEY, on);
  }
  const toggleTheater = theaterTarget ? () => setTheater(!theaterTarget.classList.contains('theater')) : null;
  if (theaterTarget) {
    if (loadFlag(THEATER_KEY)) setTheater(true);
    theaterButton.addEventListener('click', toggleTheater);
  }

  const keys = initShortcuts({ controller, video, active, toggleTheater });
  ui.shortcuts = keys.dialog;
  ui.handledKeys = keys.handled;
  window.kinoPlayerUi = ui;
  return ui;
}

/**
 * Sets (or, with null, removes) the storyboard: a WebVTT track of sprite-sheet cues
 * (`sprite_000.jpg#xywh=X,Y,W,H`, relative to the track's URL) that Media Chrome's seek bar
 * shows as previews on hover and drag.
 * @param {HTMLVideoElement} video
 * @param {string | null | undefined} url
 */
export function setStoryboard(video, url) {
  const current = /** @type {HTMLTrackElement | null} */ (video.querySelector('track[label="thumbnails"]'));
  const href = url ? new URL(url, location.href).href : null;
  if (current && current.src === href) return;
  if (current) current.remove();
  if (!href) return;
  const track = el('track', { kind: 'metadata', label: 'thumbnails', default: true, src: href });
  video.append(track);
  track.track.mode = 'hidden'; // load its cues without showing anything
}
