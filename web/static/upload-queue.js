// @ts-check
// The upload page's queue (upload.js is the page): one row per file with its title (when several
// files are queued), progress, state text, pause/resume and cancel. Files are sent one after
// another through resumable tus uploads (uploader.js); after its last byte, each video's
// processing is followed live until it is ready (a link to it) or failed (the reason); once a
// first rendition is published it shows as playable while the rest is encoded (a link to it).
import { applyMaxLength, limitsNow } from './config.js';
import { el } from './dom.js';
import { formatBytes, formatDate } from './format.js';
import {
  createUpload, errorStatus, followProcessing, isSignedOut, uploadErrorText, videoIdOfUrl,
} from './uploader.js';

const queueList = document.getElementById('upload-queue');

/** The link to a video shows as soon as its bytes are in (the watch page follows processing). */
export const LINK_WHILE_PROCESSING = true;
/** After the retries of an interrupted upload ran out: try again this much later. */
const STALLED_RETRY_MS = 30_000;

/**
 * queued: chosen, not yet submitted; waiting: submitted, waits for its turn; uploading;
 * paused (by the user); stalled (the connection failed after all retries: resumes by itself);
 * processing (every byte is in); ready; failed; cancelled.
 * @typedef {'queued' | 'waiting' | 'uploading' | 'paused' | 'stalled' | 'processing' | 'ready' | 'failed' | 'cancelled'} ItemState
 */

/**
 * @typedef {object} Item
 * @property {File} file
 * @property {string} key name, size and date: the same file chosen twice is queued once
 * @property {string} title
 * @property {ItemState} state
 * @property {TusUpload} upload
 * @property {TusPreviousUpload | null} resume an earlier upload of this file to continue
 * @property {boolean} urlKnown the upload exists on the server
 * @property {boolean} cancelPending cancel once the upload exists on the server
 * @property {number} sent
 * @property {number} processing percent
 * @property {boolean} playable processing, but a first rendition can be watched already
 * @property {string | null} videoId
 * @property {string} reason why it failed, stalled or was cancelled
 * @property {(() => void) | null} stopFollowing
 * @property {ReturnType<typeof setTimeout> | undefined} retryTimer
 * @property {{ row: HTMLLIElement, title: HTMLInputElement, bar: HTMLProgressElement, state: HTMLElement, pause: HTMLButtonElement, cancel: HTMLButtonElement }} els
 */

/** @type {Item[]} */
export const items = [];
/** Several files are queued: each row shows its own title field (the form's is disabled). */
let rowTitles = false;

/** What the page does when the queue changes (upload.js sets them with setQueueHooks). */
const hooks = {
  /**
   * An item changed state (after its row was rendered).
   * @type {(item: Item) => void}
   */
  stateChanged: () => {},
  /**
   * Items were removed, or paused together: the form's title mode and every row.
   * @type {() => void}
   */
  listChanged: () => {},
  /**
   * The session ended during an upload.
   * @type {(message: string) => void}
   */
  signedOut: () => {},
};

/** @param {Partial<typeof hooks>} given */
export function setQueueHooks(given) {
  Object.assign(hooks, given);
}

/**
 * "my_holiday.final.mp4" → "my holiday.final", cut to the server's title limit.
 * @param {File} file
 */
export function titleOf(file) {
  const title = file.name.replace(/\.[^.]+$/, '').replace(/[_]+/g, ' ').trim() || file.name;
  const limits = limitsNow();
  return limits && limits.title_chars ? [...title].slice(0, limits.title_chars).join('') : title;
}

/** @param {Item} item */
export function watchHref(item) {
  return `/watch/${encodeURIComponent(item.videoId)}`;
}

/** @param {Item} item */
function uploadPercent(item) {
  const total = item.file.size;
  return total > 0 ? Math.min(100, (item.sent / total) * 100) : 0;
}

// ---------------------------------------------------------------------------------------------
// Rendering: one row per file.

/** @param {Item} item */
export function isPending(item) {
  return item.state === 'queued';
}

/** Bytes still to send (the page warns before it is closed). */
export function isSending(/** @type {Item} */ item) {
  return item.state === 'waiting' || item.state === 'uploading' || item.state === 'stalled';
}

/**
 * The row's state text (and links).
 * @param {Item} item
 * @returns {Array<Node | string>}
 */
function stateParts(item) {
  const pct = Math.floor(uploadPercent(item));
  const link = (text) => el('a', { href: watchHref(item), 'data-id': item.videoId, text });
  switch (item.state) {
    case 'queued':
      if (item.resume) {
        const when = formatDate(new Date(Date.parse(item.resume.creationTime) || Date.now()).toISOString());
        const earlier = item.resume.metadata && item.resume.metadata.title;
        return [`Continues the upload started ${when}${earlier ? ` as “${earlier}”` : ''} (its details stay as first given).`];
      }
      return ['Ready to upload.'];
    case 'waiting':
      return ['Waiting for the file before it…'];
    case 'uploading':
      if (item.cancelPending) return ['Cancelling…'];
      return [item.sent > 0 ? `Uploading: ${pct}% (${formatBytes(item.sent)} of ${formatBytes(item.file.size)})` : (item.resume || item.urlKnown ? 'Resuming…' : 'Starting…')];
    case 'paused':
      return [`Paused at ${pct}%.`];
    case 'stalled':
      return [`Interrupted at ${pct}%: ${item.reason}. It continues by itself when the connection is back, or press Resume.`];
    case 'processing':
      if (item.playable && item.videoId) return [`Playable — still encoding ${Math.floor(item.processing)}%. `, link('Watch it now'), '.'];
      return [`Uploaded; processing ${Math.floor(item.processing)}%…`, ...(LINK_WHILE_PROCESSING && item.videoId ? [' ', link('Open the video page')] : [])];
    case 'ready':
      return ['Ready: ', link('watch it'), '.'];
    case 'failed':
      return [`Failed: ${item.reason}`];
    case 'cancelled':
      return [item.reason ? `Cancelled (${item.reason}).` : 'Cancelled.'];
    default:
      return [];
  }
}

/** @param {Item} item */
function renderItem(item) {
  const { els, state } = item;
  const multi = rowTitles;
  els.row.dataset.state = state;
  els.row.toggleAttribute('data-playable', state === 'processing' && item.playable);
  els.title.hidden = !(isPending(item) && multi);
  if (els.title.hidden && isPending(item)) els.title.value = item.title;
  els.bar.hidden = !['waiting', 'uploading', 'paused', 'stalled', 'processing'].includes(state);
  els.bar.classList.toggle('processing', state === 'processing');
  els.bar.value = state === 'processing' ? item.processing : uploadPercent(item);
  els.state.className = `upload-item-state${state === 'failed' || state === 'stalled' ? ' error' : state === 'ready' ? ' ok' : ''}`;
  els.state.replaceChildren(...stateParts(item));

  const pausable = state === 'waiting' || (state === 'uploading' && item.urlKnown && !item.cancelPending);
  const resumable = state === 'paused' || state === 'stalled';
  els.pause.hidden = !(pausable || resumable);
  els.pause.textContent = resumable ? 'Resume' : 'Pause';
  els.pause.setAttribute('aria-label', `${resumable ? 'Resume' : 'Pause'} ${item.file.name}`);

  const final = state === 'ready' || state === 'failed' || state === 'cancelled';
  els.cancel.hidden = state === 'processing' || item.cancelPending;
  els.cancel.textContent = final ? 'Remove' : 'Cancel';
  els.cancel.title = final ? 'Remove from this list (the video stays)' : (isPending(item) ? 'Remove from the queue' : 'Stop and discard this upload');
  els.cancel.setAttribute('aria-label', `${final ? 'Remove' : 'Cancel'} ${item.file.name}`);
}

/**
 * Every row, with or without its own title field (several files queued), and the list itself.
 * @param {boolean} multi
 */
export function renderQueue(multi) {
  rowTitles = multi;
  queueList.hidden = items.length === 0;
  for (const item of items) renderItem(item);
  guardUnload();
}

/** @param {BeforeUnloadEvent} e */
function onBeforeUnload(e) {
  e.preventDefault();
  e.returnValue = '';
}
let unloadGuarded = false;

/** Warns before the page is closed while bytes are still to send (only then: bfcache). */
function guardUnload() {
  const sending = items.some(isSending);
  if (sending && !unloadGuarded) window.addEventListener('beforeunload', onBeforeUnload);
  if (!sending && unloadGuarded) window.removeEventListener('beforeunload', onBeforeUnload);
  unloadGuarded = sending;
}

// ---------------------------------------------------------------------------------------------
// The queue.

/**
 * @param {Item} item
 * @param {ItemState} state
 */
function setState(item, state) {
  item.state = state;
  renderItem(item);
  hooks.stateChanged(item);
  guardUnload();
}

/** Starts the next waiting file when none is uploading (one upload at a time). */
export function pump() {
  if (items.some((i) => i.state === 'uploading')) return;
  const next = items.find((i) => i.state === 'waiting');
  if (next) startItem(next);
}

/** @param {Item} item */
function startItem(item) {
  clearTimeout(item.retryTimer);
  setState(item, 'uploading');
  item.upload.start();
}

/** @param {Item} item */
function followItem(item) {
  if (!item.videoId) {
    item.reason = 'the server did not say which video this is';
    setState(item, 'failed');
    return;
  }
  item.processing = 0;
  item.playable = false;
  setState(item, 'processing');
  item.stopFollowing = followProcessing(item.videoId, {
    onProgress: (p) => {
      item.processing = p;
      if (item.state !== 'processing') return;
      renderItem(item);
      if (item.playable) hooks.stateChanged(item); // the page's status line tells the percent too
    },
    onPlayable: () => {
      item.playable = true;
      if (item.state === 'processing') setState(item, 'processing');
    },
    onReady: () => setState(item, 'ready'),
    onFailed: (reason) => {
      item.reason = reason;
      setState(item, 'failed');
    },
  });
}

/** @param {Item} item */
function onUploadError(item, err) {
  if (item.cancelPending) {
    item.cancelPending = false;
    setState(item, 'cancelled');
    pump();
    return;
  }
  if (isSignedOut(err)) {
    // Every other upload would fail the same way: pause them all. Their URLs stay in this
    // browser's storage, so choosing the same files after signing in continues them.
    for (const other of items) {
      if (other.state === 'uploading' || other.state === 'waiting' || other.state === 'stalled') {
        clearTimeout(other.retryTimer);
        if (other !== item) other.upload.abort().catch(() => {});
        other.state = 'paused';
      }
    }
    item.state = 'paused';
    hooks.listChanged();
    hooks.signedOut('Your session has ended: sign in again, then choose the same files to continue their uploads.');
    return;
  }
  const code = errorStatus(err);
  item.reason = uploadErrorText(err);
  if (code === 0 || code >= 500 || code === 409 || code === 423) {
    // The retries ran out (or the browser is offline): try again later, or when back online.
    setState(item, 'stalled');
    clearTimeout(item.retryTimer);
    item.retryTimer = setTimeout(() => resumeItem(item), STALLED_RETRY_MS);
  } else {
    setState(item, 'failed');
  }
  pump();
}

/** @param {Item} item */
function pauseItem(item) {
  if (item.state === 'uploading') item.upload.abort().catch(() => {});
  setState(item, 'paused');
  pump();
}

/** @param {Item} item */
function resumeItem(item) {
  if (item.state !== 'paused' && item.state !== 'stalled') return;
  clearTimeout(item.retryTimer);
  setState(item, 'waiting');
  pump();
}

/** @param {Item} item */
function removeItem(item) {
  const i = items.indexOf(item);
  if (i >= 0) items.splice(i, 1);
  if (item.stopFollowing) item.stopFollowing();
  clearTimeout(item.retryTimer);
  item.els.row.remove();
  hooks.listChanged();
}

/** @param {Item} item */
async function cancelItem(item) {
  const { state } = item;
  if (state === 'queued' || state === 'ready' || state === 'failed' || state === 'cancelled') {
    removeItem(item);
    return;
  }
  if (state === 'processing') return;
  clearTimeout(item.retryTimer);
  if (state === 'uploading' && !item.upload.url) {
    // The upload is being created: cancel it once the server has it (onUrlAvailable / onError).
    item.cancelPending = true;
    renderItem(item);
    return;
  }
  item.reason = '';
  const wasUploading = state === 'uploading';
  setState(item, 'cancelled');
  if (wasUploading) pump();
  if (!item.upload.url) return; // never reached the server
  try {
    await item.upload.abort(true); // DELETE /api/uploads/{id}, and forget it here
  } catch (err) {
    item.reason = `the server could not be told: ${uploadErrorText(err)}; it drops unfinished uploads after a while`;
    renderItem(item);
  }
  pump();
}

/** @param {Item} item */
function buildRow(item) {
  const title = el('input', {
    type: 'text', class: 'upload-item-title', value: item.title, 'aria-label': `Title for ${item.file.name}`, maxlength: '200', hidden: true,
  });
  const limits = limitsNow();
  applyMaxLength(title, limits && limits.title_chars);
  title.addEventListener('input', () => {
    item.title = title.value;
  });
  const bar = el('progress', { max: 100, value: 0, class: 'upload-item-bar', 'aria-label': `Progress of ${item.file.name}` });
  const state = el('div', { class: 'upload-item-state' });
  const pause = el('button', { type: 'button', class: 'secondary small-button', text: 'Pause' });
  const cancel = el('button', { type: 'button', class: 'danger small-button', text: 'Cancel' });
  pause.addEventListener('click', () => {
    if (item.state === 'paused' || item.state === 'stalled') resumeItem(item);
    else pauseItem(item);
  });
  cancel.addEventListener('click', () => cancelItem(item));
  const row = el('li', { class: 'upload-item' },
    el('div', { class: 'upload-item-head' },
      el('span', { class: 'upload-item-name', text: item.file.name }),
      el('span', { class: 'muted small nowrap', text: formatBytes(item.file.size) }),
      el('span', { class: 'upload-item-actions' }, pause, cancel)),
    title, bar, state);
  return { row, title, bar, state, pause, cancel };
}

/**
 * @param {TusModule} tus
 * @param {File} file
 * @returns {Item}
 */
function newItem(tus, file) {
  /** @type {Item} */
  const item = {
    file,
    key: `${file.name}\u0000${file.size}\u0000${file.lastModified}`,
    title: titleOf(file),
    state: 'queued',
    upload: null,
    resume: null,
    urlKnown: false,
    cancelPending: false,
    sent: 0,
    processing: 0,
    playable: false,
    videoId: null,
    reason: '',
    stopFollowing: null,
    retryTimer: undefined,
    els: null,
  };
  item.upload = createUpload(tus, file, {
    onProgress: (sent) => {
      item.sent = sent;
      if (item.state === 'uploading') renderItem(item);
    },
    onVideoId: (id) => {
      item.videoId = id;
    },
    onUrlAvailable: () => {
      item.urlKnown = true;
      if (item.cancelPending) {
        item.cancelPending = false;
        item.state = 'uploading';
        cancelItem(item);
        return;
      }
      renderItem(item);
    },
    onSuccess: () => {
      if (item.state === 'cancelled') return;
      item.sent = file.size;
      item.videoId = item.videoId || videoIdOfUrl(item.upload.url);
      followItem(item);
      pump();
    },
    onError: (err) => onUploadError(item, err),
  });
  item.els = buildRow(item);
  return item;
}

/**
 * A new item for the file, at the end of the queue.
 * @param {TusModule} tus
 * @param {File} file
 */
export function addItem(tus, file) {
  const item = newItem(tus, file);
  items.push(item);
  queueList.append(item.els.row);
  return item;
}

// Back online: interrupted uploads continue at once.
window.addEventListener('online', () => {
  for (const item of items) {
    if (item.state === 'stalled') resumeItem(item);
  }
});
