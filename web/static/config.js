// @ts-check
// The server's limits and settings (GET /api/config), fetched once per page. Forms take their
// maxlength, counters and messages from here instead of restating the server's rules; the
// server still checks everything and has the last word.
import { getJSON } from './api.js';

/**
 * @typedef {{
 *   title_chars: number, description_chars: number, comment_chars: number,
 *   max_tags: number, tag_chars: number, max_upload_bytes: number,
 * }} Limits
 * @typedef {{ limits: Limits, registration_open: boolean }} Config
 */

/** @type {Promise<Config | null> | null} */
let configPromise = null;
/** @type {Config | null} */
let loaded = null;

/** A positive whole number, else null (a missing or malformed limit is not enforced here). */
function count(/** @type {unknown} */ value) {
  return typeof value === 'number' && Number.isFinite(value) && value > 0 ? Math.floor(value) : null;
}

/**
 * GET /api/config, once (the promise is shared). Resolves to null when the server cannot say:
 * the page then leaves the limits to the server's answers. A failed request is tried again by
 * the next caller.
 * @returns {Promise<Config | null>}
 */
export function loadConfig() {
  if (!configPromise) {
    const promise = getJSON('/api/config').then((body) => {
      const raw = body && typeof body === 'object' && body.limits && typeof body.limits === 'object' ? body.limits : {};
      loaded = {
        limits: {
          title_chars: count(raw.title_chars),
          description_chars: count(raw.description_chars),
          comment_chars: count(raw.comment_chars),
          max_tags: count(raw.max_tags),
          tag_chars: count(raw.tag_chars),
          max_upload_bytes: count(raw.max_upload_bytes),
        },
        registration_open: !(body && body.registration_open === false),
      };
      return loaded;
    }, () => {
      if (configPromise === promise) configPromise = null;
      return null;
    });
    configPromise = promise;
  }
  return configPromise;
}

/** The limits, once loaded (null before, or when the server could not say). */
export function limitsNow() {
  return loaded ? loaded.limits : null;
}

/**
 * Sets `input.maxLength` to a limit when the limit is known (else leaves the page's default).
 * @param {HTMLInputElement | HTMLTextAreaElement | null} input
 * @param {number | null | undefined} limit
 */
export function applyMaxLength(input, limit) {
  if (input && limit) input.maxLength = limit;
}
