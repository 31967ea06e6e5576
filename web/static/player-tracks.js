// @ts-check
// The player's quality and audio-language menus (Media Chrome's <media-rendition-menu> and
// <media-audio-track-menu>) driven by hls.js. Media Chrome reads and sets
// `video.videoRenditions` and `video.audioTracks` (the media-tracks interfaces that
// hls-video-element provides); with hls.js in a plain <video> there are none, so this module
// puts them on the element, backed by hls.js's levels and audio tracks. Safari's native HLS
// needs none of this (its own audioTracks; no manual quality choice).
//
// The quality the viewer picks is remembered in this browser (localStorage, by the rendition's
// short side: "720" is 720p whether 1280×720 or 720×1280) and applied to the next video that
// loads; "auto" is remembered too. The audio language picked is remembered the same way.

const QUALITY_KEY = 'kino.player.quality';
const AUDIO_KEY = 'kino.player.audioLang';

/** @typedef {InstanceType<HlsClass>} Hls */

/**
 * @param {string} key
 * @returns {string | null}
 */
function load(key) {
  try {
    return localStorage.getItem(key);
  } catch {
    return null; // storage refused (privacy settings, sandboxed frame)
  }
}

/**
 * @param {string} key
 * @param {string} value
 */
function save(key, value) {
  try {
    localStorage.setItem(key, value);
  } catch {
    // not remembered
  }
}

/** The remembered quality: a short side in px, 'auto', or null (never chosen). */
export function savedQuality() {
  const value = load(QUALITY_KEY);
  if (value === 'auto') return 'auto';
  const n = Number(value);
  return Number.isInteger(n) && n > 0 ? n : null;
}

/**
 * The short side of a level (its height when the width is unknown).
 * @param {{ width?: number, height?: number }} level
 */
export function shortSide(level) {
  const sides = [level.width, level.height].filter((n) => Number.isFinite(n) && n > 0);
  return sides.length ? Math.min(...sides) : 0;
}

/**
 * The level to play for a remembered short side: the best one of that size, else the largest
 * below it, else the smallest; -1 (automatic) for 'auto', nothing remembered or no levels.
 * @param {Array<{ width?: number, height?: number, bitrate: number }>} levels
 * @param {number | 'auto' | null} wanted
 */
export function levelForQuality(levels, wanted) {
  if (wanted === null || wanted === 'auto' || !levels.length) return -1;
  const ranked = levels
    .map((level, index) => ({ index, side: shortSide(level), bitrate: level.bitrate || 0 }))
    .sort((a, b) => b.side - a.side || b.bitrate - a.bitrate);
  const pick = ranked.find((l) => l.side === wanted) || ranked.find((l) => l.side < wanted) || ranked[ranked.length - 1];
  return pick.index;
}

/**
 * An array-like list with events, as Media Chrome expects of videoRenditions / audioTracks.
 * @template T
 */
class TrackList extends EventTarget {
  /** @type {T[]} */
  items = [];

  get length() {
    return this.items.length;
  }

  [Symbol.iterator]() {
    return this.items[Symbol.iterator]();
  }

  /**
   * @param {T[]} items
   * @param {string} addType
   * @param {string} removeType
   */
  replace(items, addType, removeType) {
    const self = /** @type {any} */ (this);
    for (let i = 0; i < this.items.length; i += 1) delete self[i];
    const removed = this.items.length > 0;
    this.items = items;
    items.forEach((item, i) => {
      Object.defineProperty(self, i, { value: item, configurable: true, enumerable: true });
    });
    if (removed) this.dispatchEvent(new Event(removeType));
    if (items.length) this.dispatchEvent(new Event(addType));
  }

  /** @param {string} id */
  getTrackById(id) {
    return this.items.find((item) => /** @type {any} */ (item).id === id) || null;
  }
}

/**
 * @typedef {{ id: string, width: number, height: number, bitrate: number, codec?: string, frameRate?: number }} Rendition
 */

/** video.videoRenditions: hls.js's levels; selectedIndex -1 is automatic. */
class RenditionList extends TrackList {
  /** @type {Hls | null} */
  hls = null;
  #selected = -1;

  get selectedIndex() {
    return this.#selected;
  }

  /** A choice from the menu: play that level (remembered), or -1: automatic. */
  set selectedIndex(index) {
    const i = Number(index);
    const rendition = i >= 0 ? this.items[i] : null;
    this.#selected = rendition ? i : -1;
    if (this.hls) this.hls.currentLevel = rendition ? Number(rendition.id) : -1;
    save(QUALITY_KEY, rendition ? String(shortSide(rendition)) : 'auto');
    this.dispatchEvent(new Event('change'));
  }

  /**
   * The manifest's levels (a new source), with the remembered choice applied.
   * @param {Hls} hls
   */
  fill(hls) {
    this.hls = hls;
    /** @type {Rendition[]} */
    const items = hls.levels.map((level, index) => ({
      id: String(index),
      width: level.width || 0,
      height: level.height || 0,
      bitrate: level.bitrate || 0,
      codec: level.videoCodec || undefined,
      frameRate: level.frameRate || undefined,
    }));
    this.replace(items, 'addrendition', 'removerendition');
    const level = items.length > 1 ? levelForQuality(hls.levels, savedQuality()) : -1;
    this.#selected = level;
    // A new source starts automatic; switch only when the viewer chose a level.
    if (level >= 0 || hls.manualLevel !== -1) hls.currentLevel = level;
    this.dispatchEvent(new Event('change'));
  }
}

/** One of video.audioTracks: an hls.js audio track; enabling it switches hls.js to it. */
class AudioTrack {
  /** (private: Media Chrome compares tracks as JSON, which must not hold the list) */
  #list;
  #index;

  /**
   * @param {AudioTrackList} list
   * @param {number} index
   * @param {{ name?: string, lang?: string, default?: boolean }} track
   */
  constructor(list, index, track) {
    this.#list = list;
    this.#index = index;
    this.id = String(index);
    this.kind = index === 0 || track.default ? 'main' : 'alternative';
    this.label = track.name || track.lang || `Track ${index + 1}`;
    this.language = track.lang || '';
  }

  get enabled() {
    return this.#list.hls !== null && this.#list.hls.audioTrack === this.#index;
  }

  set enabled(on) {
    if (on) this.#list.select(this.#index, { remember: true });
  }

  toJSON() {
    return { id: this.id, kind: this.kind, label: this.label, language: this.language, enabled: this.enabled };
  }
}

/** video.audioTracks: hls.js's audio tracks (alternate renditions, EXT-X-MEDIA TYPE=AUDIO). */
class AudioTrackList extends TrackList {
  /** @type {Hls | null} */
  hls = null;

  /**
   * @param {number} index
   * @param {{ remember?: boolean }} [options]
   */
  select(index, { remember = false } = {}) {
    if (!this.hls || this.hls.audioTrack === index) return;
    this.hls.audioTrack = index;
    const track = this.items[index];
    if (remember && track && track.language) save(AUDIO_KEY, track.language);
  }

  /** @param {Hls} hls */
  fill(hls) {
    this.hls = hls;
    const tracks = hls.audioTracks || [];
    this.replace(tracks.map((t, i) => new AudioTrack(this, i, t)), 'addtrack', 'removetrack');
    // The language picked before, when this video has it and does not play it already.
    const lang = load(AUDIO_KEY);
    const current = tracks[hls.audioTrack];
    if (lang && tracks.length > 1 && !(current && current.lang === lang)) {
      const index = tracks.findIndex((t) => t.lang === lang);
      if (index >= 0) this.select(index);
    }
  }
}

/** @type {WeakMap<HTMLVideoElement, { renditions: RenditionList, audio: AudioTrackList }>} */
const installed = new WeakMap();

/**
 * Puts `videoRenditions` and `audioTracks` on the element (hls.js playback). Call before the
 * element is given to its <media-controller>, which subscribes to them when it takes the media.
 * @param {HTMLVideoElement} video
 */
export function installTrackLists(video) {
  if (installed.has(video)) return;
  const renditions = new RenditionList();
  const audio = new AudioTrackList();
  Object.defineProperty(video, 'videoRenditions', { value: renditions, configurable: true });
  Object.defineProperty(video, 'audioTracks', { value: audio, configurable: true });
  installed.set(video, { renditions, audio });
}

/**
 * Follows an hls.js instance playing in `video` (each source it loads): the quality and audio
 * menus list its levels and tracks. Does nothing when installTrackLists was not called.
 * @param {HTMLVideoElement} video
 * @param {Hls} hls
 */
export function followHls(video, hls) {
  const lists = installed.get(video);
  if (!lists) return;
  const Hls = window.Hls;
  hls.on(Hls.Events.MANIFEST_PARSED, () => lists.renditions.fill(hls));
  hls.on(Hls.Events.AUDIO_TRACKS_UPDATED, () => lists.audio.fill(hls));
  hls.on(Hls.Events.AUDIO_TRACK_SWITCHED, () => lists.audio.dispatchEvent(new Event('change')));
  hls.on(Hls.Events.DESTROYING, () => {
    lists.renditions.hls = null;
    lists.renditions.replace([], 'addrendition', 'removerendition');
    lists.audio.hls = null;
    lists.audio.replace([], 'addtrack', 'removetrack');
  });
}
