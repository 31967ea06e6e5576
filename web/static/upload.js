// @ts-check
// The upload page: a queue of files sent one after another through resumable tus uploads, each
// row with its progress, pause/resume and cancel (upload-queue.js, over uploader.js); after its
// last byte, each video's processing is followed live until it is ready (a link to it) or failed
// (the reason).
//
// Files come from the file input (several at once) or are dropped onto the form (upload-drop.js).
// With one file the Title field names it; with several, the Title field is disabled and each row
// has its own title (the file name unless changed). Description, tags and privacy apply to every
// file of an upload. #upload-status follows the first file of the latest upload: a link to
// /watch/{id} once its bytes are in (the watch page shows the processing too), the class "error"
// with the reason when it fails.
import { currentUser, signInHref } from './api.js';
import { applyMaxLength, limitsNow, loadConfig } from './config.js';
import { el } from './dom.js';
import { formatBytes } from './format.js';
import { initHeader } from './header.js';
import { parseTags } from './tags.js';
import { initFilePicking, isMediaFile } from './upload-drop.js';
import {
  LINK_WHILE_PROCESSING, addItem, isPending, isSending, items, pump, renderQueue, setQueueHooks, titleOf,
  watchHref,
} from './upload-queue.js';
import { previousUpload, tusClient } from './uploader.js';

/** @typedef {import('./upload-queue.js').Item} Item */

const form = /** @type {HTMLFormElement} */ (document.getElementById('upload-form'));
const fields = /** @type {HTMLFieldSetElement} */ (document.getElementById('upload-fields'));
const fileInput = /** @type {HTMLInputElement} */ (document.getElementById('file'));
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

// ---------------------------------------------------------------------------------------------
// Rendering: the form's title mode, #upload-status.

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
      if (item.playable && item.videoId) {
        setStatus('info', `${name}Playable — still encoding ${Math.floor(item.processing)}%: `, link('watch it now'), `.${others}`);
        break;
      }
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
  renderQueue(multi);
}

setQueueHooks({
  stateChanged: (item) => {
    if (batch.includes(item)) renderStatus();
  },
  listChanged: renderTitleMode,
  signedOut: showSignedOut,
});

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
    if (dropped && !isMediaFile(file)) {
      skipped.push(`${file.name} (not a video or audio file)`);
      continue;
    }
    const item = addItem(tus, file);
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

initFilePicking({ form, fileInput, canDrop: () => canUpload, onFiles: addFiles });

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
