// @ts-check
// The upload page: a queue of files sent one after another through resumable tus uploads
// (uploader.js), each row with its progress, pause/resume and cancel; after its last byte, each
// video's processing is followed live until it is ready (a link to it) or failed (the reason).
//
// Files come from the file input (several at once) or are dropped onto the form. With one file
// the Title field names it; with several, the Title field is disabled and each row has its own
// title (the file name unless changed). Description, tags and privacy apply to every file of an
// upload. #upload-status follows the first file of the latest upload: a link to /watch/{id} once
// its bytes are in (the watch page shows the processing too), the class "error" with the reason
// when it fails.
import { currentUser, signInHref } from './api.js';
import { applyMaxLength, limitsNow, loadConfig } from './config.js';
import { el } from './dom.js';
import { formatBytes, formatDate } from './format.js';
import { initHeader } from './header.js';
import { parseTags } from './tags.js';
import {
  createUpload, errorStatus, followProcessing, isSignedOut, previousUpload, tusClient, uploadErrorText,
  videoIdOfUrl,
} from './uploader.js';

const form = /** @type {HTMLFormElement} */ (document.getElementById('upload-form'));
const fields = /** @type {HTMLFieldSetElement} */ (document.getElementById('upload-fields'));
const fileInput = /** @type {HTMLInputElement} */ (document.getElementById('file'));
const queueList = document.getElementById('upload-queue');
const titleInput = /** @type {HTMLInputElement} */ (document.getElementById('title'));
const titleHint = document.getElementById('title-hint');
const batchHint = document.getElementById('batch-hint');
const descriptionInput = /** @type {HTMLTextAreaElement} */ (document.getElementById('description'));
const tagsInput = /** @type {HTMLInputElement} */ (document.getElementById('tags'));
const button = /** @type {HTMLButtonElement} */ (document.getElementById('upload-button'));
const status = document.getElementById('upload-status');
const privacyInput = /** @type {HTMLSelectElement} */ (document.getElementById('privacy'));
const privacyHint = document.getElementById('privacy-hint');
const signinRequired = document.getElementById('signin-required');
const roleNote = document.getElementById('upload-role-note');

const PRIVACY_HINTS = {
  public: 'Listed in the library for everyone.',
  unlisted: 'Not listed: anyone with the link can watch.',
  private: 'Only you (and admins) can watch.',
};

/** The link to a video shows as soon as its bytes are in (the watch page follows processing). */
const LINK_WHILE_PROCESSING = true;
/** After the retries of an interrupted upload ran out: try again this much later. */
const STALLED_RETRY_MS = 30_000;
/** Dropped files that are not video/audio by type are still taken when their name says so. */
const MEDIA_NAME = /\.(mp4|m4v|mov|mkv|webm|avi|wmv|flv|mpe?g|ts|mts|m2ts|3gp|ogv|mp3|m4a|aac|wav|flac|ogg|oga|opus)$/i;

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
 * @property {string | null} videoId
 * @property {string} reason why it failed, stalled or was cancelled
 * @property {(() => void) | null} stopFollowing
 * @property {ReturnType<typeof setTimeout> | undefined} retryTimer
 * @property {{ row: HTMLLIElement, title: HTMLInputElement, bar: HTMLProgressElement, state: HTMLElement, pause: HTMLButtonElement, cancel: HTMLButtonElement }} els
 */

/** @type {Item[]} */
const items = [];
/** The first file of the latest upload: #upload-status follows it. */
/** @type {Item | null} */
let lead = null;
/** @type {Item[]} */
let batch = [];
let titleFromFile = '';
let wasMulti = false;
let canUpload = true;

function setStatus(kind, ...parts) {
  status.className = kind === 'error' ? 'error' : kind === 'ok' ? 'ok' : '';
  status.replaceChildren(...parts);
}

function showPrivacyHint() {
  privacyHint.textContent = PRIVACY_HINTS[privacyInput.value] || '';
}

/** Signed out: the form gives way to a "Sign in to upload" notice. */
function showSignedOut(message) {
  form.hidden = true;
  roleNote.hidden = true;
  /** @type {HTMLAnchorElement} */ (signinRequired.querySelector('#signin-to-upload')).href = signInHref('/upload');
  if (message) signinRequired.firstChild.textContent = `${message} `;
  signinRequired.hidden = false;
}

/**
 * "my_holiday.final.mp4" → "my holiday.final", cut to the server's title limit.
 * @param {File} file
 */
function titleOf(file) {
  const title = file.name.replace(/\.[^.]+$/, '').replace(/[_]+/g, ' ').trim() || file.name;
  const limits = limitsNow();
  return limits && limits.title_chars ? [...title].slice(0, limits.title_chars).join('') : title;
}

/** @param {Item} item */
function watchHref(item) {
  return `/watch/${encodeURIComponent(item.videoId)}`;
}

/** @param {Item} item */
function uploadPercent(item) {
  const total = item.file.size;
  return total > 0 ? Math.min(100, (item.sent / total) * 100) : 0;
}

// ---------------------------------------------------------------------------------------------
// Rendering: one row per file, the form's title mode, #upload-status.

/** @param {Item} item */
function isPending(item) {
  return item.state === 'queued';
}

/** Bytes still to send (the page warns before it is closed). */
function isSending(/** @type {Item} */ item) {
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
  const multi = wasMulti;
  els.row.dataset.state = state;
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

/** #upload-status: the first file of the latest upload (and a count when there were several). */
function renderStatus() {
  if (!lead) return;
  const item = lead;
  const name = batch.length > 1 ? `“${item.file.name}”: ` : '';
  let others = '';
  if (batch.length > 1) {
    const readyCount = batch.filter((i) => i.state === 'ready').length;
    const failedCount = batch.filter((i) => i.state === 'failed').length;
    others = ` (${batch.length} files: ${readyCount} ready${failedCount ? `, ${failedCount} failed` : ''}; see each file above.)`;
  }
  const link = (text) => el('a', { href: watchHref(item), id: 'uploaded-link', 'data-id': item.videoId, text });
  switch (item.state) {
    case 'waiting':
    case 'uploading':
      setStatus('info', `${name}Uploading ${item.file.name}…${others}`);
      break;
    case 'paused':
      setStatus('info', `${name}Upload paused.${others}`);
      break;
    case 'stalled':
      setStatus('error', `${name}Upload interrupted: ${item.reason}. It continues when the connection is back.${others}`);
      break;
    case 'processing':
      setStatus('info', `${name}Uploaded; processing…`, ...(LINK_WHILE_PROCESSING && item.videoId ? [' ', link('Open the video page'), '.'] : []), others);
      break;
    case 'ready':
      setStatus('ok', `${name}Ready: `, link('watch the video'), ' or ', el('a', { href: '/', text: 'go to the library' }), `.${others}`);
      break;
    case 'failed':
      setStatus('error', `${name}${item.stopFollowing ? 'Processing failed' : 'Upload failed'}: ${item.reason}${others}`);
      break;
    case 'cancelled':
      setStatus('error', `${name}Upload cancelled.${others}`);
      break;
    default:
      break;
  }
}

/** The title field for one queued file; the rows' titles for several. */
function renderTitleMode() {
  const pending = items.filter(isPending);
  const multi = pending.length > 1;
  if (multi && !wasMulti) {
    // The title typed for the first file goes with it into its row.
    const typed = titleInput.value.trim();
    if (typed && pending[0]) pending[0].title = typed;
  } else if (!multi && wasMulti && pending.length === 1) {
    titleInput.value = pending[0].title;
    titleFromFile = pending[0].title;
  }
  wasMulti = multi;
  titleInput.disabled = multi;
  titleHint.hidden = !multi;
  batchHint.hidden = !multi;
  for (const item of pending) {
    if (multi) item.els.title.value = item.title;
  }
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
  if (batch.includes(item)) renderStatus();
  guardUnload();
}

/** Starts the next waiting file when none is uploading (one upload at a time). */
function pump() {
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
  setState(item, 'processing');
  item.stopFollowing = followProcessing(item.videoId, {
    onProgress: (p) => {
      item.processing = p;
      if (item.state === 'processing') renderItem(item);
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
    renderTitleMode();
    showSignedOut('Your session has ended: sign in again, then choose the same files to continue their uploads.');
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
  renderTitleMode();
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
 * Adds files to the queue (skipping those already in it, empty ones and, for drops, what is
 * clearly not video or audio); an earlier unfinished upload of a file is found in this browser's
 * storage and continued.
 * @param {File[]} files
 * @param {{ dropped?: boolean }} [options]
 */
function addFiles(files, { dropped = false } = {}) {
  if (!files.length) return;
  const tus = tusClient();
  if (!tus) {
    setStatus('error', 'The uploader did not load: reload the page.');
    return;
  }
  /** @type {string[]} */
  const skipped = [];
  let added = 0;
  const hadPending = items.some(isPending);
  for (const file of files) {
    const key = `${file.name}\u0000${file.size}\u0000${file.lastModified}`;
    if (items.some((i) => i.key === key && i.state !== 'cancelled' && i.state !== 'failed')) {
      skipped.push(`${file.name} (already in the list)`);
      continue;
    }
    if (file.size === 0) {
      skipped.push(`${file.name} (empty, or a folder)`);
      continue;
    }
    if (dropped && !/^(video|audio)\//.test(file.type) && !MEDIA_NAME.test(file.name)) {
      skipped.push(`${file.name} (not a video or audio file)`);
      continue;
    }
    const item = newItem(tus, file);
    items.push(item);
    queueList.append(item.els.row);
    added += 1;
    previousUpload(item.upload).then((prev) => {
      if (!prev || item.state !== 'queued') return;
      item.resume = prev;
      const earlier = prev.metadata && prev.metadata.title;
      if (earlier) {
        const single = items.filter(isPending).length === 1;
        if (single && (!titleInput.value.trim() || titleInput.value === titleFromFile)) {
          titleInput.value = earlier;
          titleFromFile = earlier;
        }
        if (item.title === titleOf(file)) item.title = earlier;
      }
      renderTitleMode();
    });
  }
  // One file chosen: suggest its name as the title, unless the user typed one.
  const pending = items.filter(isPending);
  if (added && !hadPending && pending.length === 1) {
    const suggestion = pending[0].title;
    if (!titleInput.value.trim() || titleInput.value === titleFromFile) {
      titleInput.value = suggestion;
      titleFromFile = suggestion;
    }
  }
  renderTitleMode();
  if (skipped.length) setStatus(added ? 'info' : 'error', `Not added: ${skipped.join(', ')}.`);
  else if (added && (!lead || !isSending(lead))) setStatus('info', '');
}

fileInput.addEventListener('change', () => {
  const files = [...(fileInput.files || [])];
  fileInput.value = ''; // the queue holds them; choosing the same file again is noticed there
  addFiles(files);
});

// Drag and drop onto the form; elsewhere on the page a dropped file must not replace the page.
const hasFiles = (/** @type {DragEvent} */ e) => Boolean(e.dataTransfer && [...e.dataTransfer.types].includes('Files'));
for (const type of ['dragenter', 'dragover']) {
  form.addEventListener(type, (/** @type {DragEvent} */ e) => {
    if (!hasFiles(e)) return;
    e.preventDefault();
    e.dataTransfer.dropEffect = canUpload ? 'copy' : 'none';
    if (canUpload) form.classList.add('drop-active');
  });
}
form.addEventListener('dragleave', (e) => {
  if (!(e.relatedTarget instanceof Node) || !form.contains(e.relatedTarget)) form.classList.remove('drop-active');
});
form.addEventListener('drop', (e) => {
  if (!hasFiles(e)) return;
  e.preventDefault();
  form.classList.remove('drop-active');
  if (canUpload) addFiles([...e.dataTransfer.files], { dropped: true });
});
for (const type of ['dragover', 'drop']) {
  document.addEventListener(type, (/** @type {DragEvent} */ e) => {
    if (!hasFiles(e) || (e.target instanceof Node && form.contains(e.target))) return;
    e.preventDefault();
    e.dataTransfer.dropEffect = 'none';
  });
}

form.addEventListener('submit', async (event) => {
  event.preventDefault();
  if (!canUpload) return;
  let pending = items.filter(isPending);
  if (!pending.length) {
    setStatus('error', 'Choose a file to upload.');
    fileInput.focus();
    return;
  }
  if (!tusClient()) {
    setStatus('error', 'The uploader did not load: reload the page.');
    return;
  }

  const limits = limitsNow();
  const tooLarge = limits && limits.max_upload_bytes ? pending.filter((i) => i.file.size > limits.max_upload_bytes) : [];
  if (tooLarge.length) {
    const which = tooLarge.map((i) => `${i.file.name} has ${formatBytes(i.file.size)}`).join('; ');
    setStatus('error', `Too large: at most ${formatBytes(limits.max_upload_bytes)} per file (${which}). Remove ${tooLarge.length > 1 ? 'them' : 'it'} from the list.`);
    tooLarge[0].els.cancel.focus();
    return;
  }
  if (pending.length === 1) {
    pending[0].title = titleInput.value.trim();
    if (!pending[0].title) {
      setStatus('error', 'Give the video a title.');
      titleInput.focus();
      return;
    }
  } else {
    for (const item of pending) {
      item.title = item.title.trim();
      if (!item.title) {
        setStatus('error', `Give “${item.file.name}” a title.`);
        item.els.title.focus();
        return;
      }
    }
  }
  const parsed = parseTags(tagsInput.value, limits);
  if (parsed.error !== undefined) {
    setStatus('error', parsed.error);
    tagsInput.focus();
    return;
  }
  const { tags } = parsed;
  const description = descriptionInput.value;
  const privacy = privacyInput.value;

  button.disabled = true;
  setStatus('info', 'Checking your session…');
  // Renew an expired access cookie before sending the bytes (uploader.js also renews it during
  // the upload, on a 401).
  try {
    if (!(await currentUser({ reload: true }))) {
      button.disabled = false;
      setStatus('info', '');
      showSignedOut('Your session has ended: sign in again to upload.');
      return;
    }
  } catch {
    // The server did not answer /api/me; the upload itself will say what is wrong.
  }
  button.disabled = false;

  pending = pending.filter(isPending); // one may have been removed meanwhile
  if (!pending.length) {
    setStatus('info', '');
    return;
  }
  for (const item of pending) {
    /** @type {Record<string, string>} */
    const metadata = { filename: item.file.name, title: item.title, privacy };
    if (description.trim()) metadata.description = description;
    if (tags.length) metadata.tags = tags.join(',');
    // Used when the upload is created; an earlier upload being continued keeps its own.
    item.upload.options.metadata = metadata;
    if (item.resume) item.upload.resumeFromPreviousUpload(item.resume);
    item.state = 'waiting';
  }
  lead = pending[0];
  batch = pending;
  titleInput.value = '';
  titleFromFile = '';
  descriptionInput.value = '';
  tagsInput.value = '';
  renderTitleMode();
  renderStatus();
  pump();
});

// Back online: interrupted uploads continue at once.
window.addEventListener('online', () => {
  for (const item of items) {
    if (item.state === 'stalled') resumeItem(item);
  }
});

privacyInput.addEventListener('change', showPrivacyHint);
showPrivacyHint();

// The server's limits: the fields' maxlength and the tags hint follow them.
loadConfig().then((config) => {
  if (!config) return;
  const { limits } = config;
  applyMaxLength(titleInput, limits.title_chars);
  applyMaxLength(descriptionInput, limits.description_chars);
  for (const item of items) applyMaxLength(item.els.title, limits.title_chars);
  if (limits.max_tags && limits.tag_chars) {
    document.getElementById('tags-hint').textContent = `Comma-separated, at most ${limits.max_tags}, each up to ${limits.tag_chars} characters.`;
  }
});

initHeader();
currentUser().then((user) => {
  if (!user) {
    showSignedOut();
    return;
  }
  form.hidden = false;
  if (!user.can_upload) {
    // The reason stays in view; the form is there but inactive.
    canUpload = false;
    fields.disabled = true;
    form.classList.add('inactive');
    roleNote.textContent = 'Your account is a viewer account, which cannot upload videos: ask an admin for uploader access.';
    roleNote.hidden = false;
  }
}, () => {
  // The server did not answer /api/me: show the form; the upload itself will say what is wrong.
  form.hidden = false;
});
