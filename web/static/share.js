// @ts-check
// The watch page's Share dialog: the video's link (optionally starting where the player is:
// `?t=1m30s`) and the code that embeds its player in another site (`/embed/{id}` in an iframe),
// each with a Copy button. A private video plays embedded only for its owner (and admins)
// unless the owner creates an embed link (`POST /api/videos/{id}/embed-link`): an iframe whose
// address carries a playback grant, good for anyone who has it for 30 days (or until the
// video's links are revoked); the dialog offers that to a viewer who may edit the video.
import { api } from './api.js';
import { formatDate, formatDuration } from './format.js';
import { formatStartTime } from './timecode.js';

/** Days a private video's embed link made here works (the button says so). */
export const EMBED_LINK_DAYS = 30;

/**
 * POST /api/videos/{id}/embed-link: the embed address (with `?grant=` for a private video),
 * its iframe, and when it stops working (null: never).
 * @typedef {{ url: string, html: string, expires_at: string | null }} EmbedLink
 */

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
 * @param {string | null} [address] the embed page's address to use (a private video's embed
 *   link, whose query carries its grant) instead of /embed/{id}
 */
export function embedCode(v, seconds = null, address = null) {
  const src = new URL(address || `/embed/${encodeURIComponent(v.id)}`, location.origin);
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
  const ownerNote = document.getElementById('share-private-owner');
  const embedNote = document.getElementById('share-embed-note');
  const createLink = /** @type {HTMLButtonElement} */ (document.getElementById('share-embed-link'));
  let seconds = 0;
  /**
   * The embed link created in this page view (kept while the dialog is closed and opened
   * again), with the privacy it was made for.
   * @type {(EmbedLink & { privacy: string }) | null}
   */
  let created = null;

  /** The embed link made for the video as it is now (none once it is no longer private). */
  function currentLink() {
    const v = getVideo();
    return created && v && v.privacy === created.privacy ? created : null;
  }

  function fill() {
    const start = at.checked ? seconds : null;
    link.value = watchLink(id, start);
    const v = getVideo() || { id };
    const made = currentLink();
    // The server's iframe as it is; with a start time, the same address plus `t`.
    embed.value = made && start === null ? made.html : embedCode({ ...v, id }, start, made ? made.url : null);
  }

  /** The note under the embed code: when the embed link stops working. */
  function showExpiry() {
    const made = currentLink();
    const until = made && made.expires_at ? formatDate(made.expires_at) : '';
    embedNote.textContent = until ? `This embed code plays for anyone until ${until}.` : '';
    embedNote.hidden = !until;
  }

  button.addEventListener('click', () => {
    seconds = Math.floor(Number.isFinite(video.currentTime) ? video.currentTime : 0);
    atTime.textContent = formatDuration(seconds) || '0:00';
    at.checked = false;
    at.disabled = !(seconds > 0) || !Number.isFinite(video.duration);
    const v = getVideo();
    const isPrivate = !!(v && v.privacy === 'private');
    const mayEdit = !!(v && v.can_edit === true);
    privateNote.hidden = !isPrivate || mayEdit;
    ownerNote.hidden = !(isPrivate && mayEdit);
    createLink.hidden = !(isPrivate && mayEdit) || currentLink() !== null;
    createLink.disabled = false;
    status.textContent = '';
    showExpiry();
    fill();
    dialog.showModal();
    link.select();
  });
  at.addEventListener('change', fill);

  createLink.addEventListener('click', async () => {
    const privacy = (getVideo() || { privacy: '' }).privacy || '';
    createLink.disabled = true;
    status.textContent = 'Creating the embed link…';
    try {
      /** @type {EmbedLink} */
      const made = await api('POST', `/api/videos/${encodeURIComponent(id)}/embed-link`, { days: EMBED_LINK_DAYS });
      if (!made || typeof made.html !== 'string' || typeof made.url !== 'string') throw new Error('The server sent no embed link.');
      created = { ...made, privacy };
      fill();
      showExpiry();
      const until = made.expires_at ? formatDate(made.expires_at) : '';
      status.textContent = until
        ? `Embed link created: the embed code now plays for anyone until ${until}.`
        : 'Embed link created.';
      // The button is done with: the focus goes to what it made, ready to copy.
      createLink.hidden = true;
      embed.focus();
      embed.select();
    } catch (err) {
      createLink.disabled = false;
      status.textContent = `Could not create the embed link: ${err && err.message ? err.message : err}`;
    }
  });

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
