// Media Chrome's elements (media-chrome.js, the package's IIFE bundle loaded by a classic
// <script> on the watch and embed pages), as player-ui.js creates them with dom.js's el().
// Only their tag names are declared: the pages set their attributes and read their state from
// attributes, as Media Chrome documents.

interface HTMLElementTagNameMap {
  'media-controller': HTMLElement;
  'media-control-bar': HTMLElement;
  'media-play-button': HTMLElement;
  'media-mute-button': HTMLElement;
  'media-volume-range': HTMLElement;
  'media-time-display': HTMLElement;
  'media-time-range': HTMLElement;
  'media-captions-button': HTMLElement;
  'media-pip-button': HTMLElement;
  'media-fullscreen-button': HTMLElement;
  'media-loading-indicator': HTMLElement;
  'media-chrome-button': HTMLElement;
  'media-settings-menu': HTMLElement;
  'media-settings-menu-item': HTMLElement;
  'media-settings-menu-button': HTMLElement;
  'media-playback-rate-menu': HTMLElement;
  'media-rendition-menu': HTMLElement;
  'media-audio-track-menu': HTMLElement;
  'media-captions-menu': HTMLElement;
}
