// @ts-check
// The watch page's Share dialog: the video's link (optionally starting where the player is:
// `?t=1m30s`) and the code that embeds its player in another site (`/embed/{id}` in an iframe),
// each with a Copy button.
import { formatDuration } from './format.js';
import { formatStartTime } from './timecode.js';

/**
 * `text` with the characters that matter in an HTML attribute value escaped.
 * @param {string} text
 */
function attr(text) {
  return text.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/**
 * The watch page's address of a video, starting at `seconds` when given.
 * @param {string} id
 * @param {number | null} [seconds]
 */
export function watchLink(id, seconds = null) {
  const url = new URL(`/watch/${encodeURIComponent(id)}`, location.origin);
  if (seconds !== null && seconds > 0) url.searchParams.set('t', formatStartTime(seconds));
  return url.href;
}

/**
 * The HTML that embeds a video's player: an iframe of /embed/{id}, 16:9 (9:16 for a portrait
 * video), starting at `seconds` when given.
 * @param {{ id: string, title?: string, renditions?: Array<{ width?: number | null, height?: number | null }> }} v
 * @param {number | null} [seconds]
 */
export function embedCode(v, seconds = null) {
  const src = new URL(`/embed/${encodeURIComponent(v.id)}`, location.origin);
  if (seconds !== null && seconds > 0) src.searchParams.set('t', formatStartTime(seconds));
  const sized = (v.renditions || []).find((r) => r && r.width > 0 && r.height > 0);
  const portrait = sized ? sized.height > sized.width : false;
  const [width, height] = portrait ? [360, 640] : [640, 360];
  return `<iframe src="${attr(src.href)}" width="${width}" height="${height}" title="${attr(v.title || 'Kino video')}" ` +
    'style="border:0" allow="autoplay; fullscreen; picture-in-picture; encrypted-media" allowfullscreen></iframe>';
}

/**
 * Copies `text` to the clipboard (falling back on selecting `field` and the copy command).
 * @param {string} text
 * @param {HTMLInputElement | HTMLTextAreaElement} field
 */
async function copy(text, field) {
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch {
    field.focus();
    field.select();
    try {
      return document.execCommand('copy');
    } catch {
      return false;
    }
  }
}

/**
 * Sets up the Share button and dialog.
 * @param {object} options
 * @param {string} options.id the video's id
 * @param {HTMLVideoElement} options.video
 * @param {() => import('./cards.js').Video | null} options.getVideo the video's details, once known
 */
export function initShare({ id, video, getVideo }) {
  const button = /** @type {HTMLButtonElement} */ (document.getElementById('share'));
  const dialog = /** @type {HTMLDialogElement} */ (document.getElementById('share-dialog'));
  if (!button || !dialog) return;
  const link = /** @type {HTMLInputElement} */ (document.getElementById('share-link'));
  const at = /** @type {HTMLInputElement} */ (document.getElementById('share-at'));
  const atTime = document.getElementById('share-at-time');
  const embed = /** @type {HTMLTextAreaElement} */ (document.getElementById('share-embed'));
  const status = document.getElementById('share-status');
  const privateNote = document.getElementById('share-private');
  let seconds = 0;

  function fill() {
    const start = at.checked ? seconds : null;
    link.value = watchLink(id, start);
    const v = getVideo() || { id };
    embed.value = embedCode({ ...v, id }, start);
  }

  button.addEventListener('click', () => {
    seconds = Math.floor(Number.isFinite(video.currentTime) ? video.currentTime : 0);
    atTime.textContent = formatDuration(seconds) || '0:00';
    at.checked = false;
    at.disabled = !(seconds > 0) || !Number.isFinite(video.duration);
    const v = getVideo();
    privateNote.hidden = !(v && v.privacy === 'private');
    status.textContent = '';
    fill();
    dialog.showModal();
    link.select();
  });
  at.addEventListener('change', fill);

  /**
   * @param {string} buttonId
   * @param {HTMLInputElement | HTMLTextAreaElement} field
   * @param {string} done
   */
  function copyButton(buttonId, field, done) {
    document.getElementById(buttonId).addEventListener('click', async () => {
      status.textContent = (await copy(field.value, field)) ? done : 'Could not copy: select the text and copy it yourself.';
    });
  }
  copyButton('share-copy', link, 'Link copied.');
  copyButton('share-embed-copy', embed, 'Embed code copied.');
  document.getElementById('share-close').addEventListener('click', () => dialog.close());
}
