// @ts-check
// The upload form: multipart POST through XMLHttpRequest, for a real upload progress bar.
// Needs a signed-in uploader or admin; a 401 (expired access cookie) refreshes the session once
// and sends the file again.
import { currentUser, errorMessage, refreshSession, signInHref } from './api.js';
import { applyMaxLength, limitsNow, loadConfig } from './config.js';
import { el } from './dom.js';
import { formatBytes } from './format.js';
import { initHeader } from './header.js';
import { parseTags } from './tags.js';

const form = /** @type {HTMLFormElement} */ (document.getElementById('upload-form'));
const fileInput = /** @type {HTMLInputElement} */ (document.getElementById('file'));
const titleInput = /** @type {HTMLInputElement} */ (document.getElementById('title'));
const descriptionInput = /** @type {HTMLTextAreaElement} */ (document.getElementById('description'));
const tagsInput = /** @type {HTMLInputElement} */ (document.getElementById('tags'));
const button = /** @type {HTMLButtonElement} */ (document.getElementById('upload-button'));
const box = document.getElementById('upload-progress-box');
const bar = /** @type {HTMLProgressElement} */ (document.getElementById('upload-progress'));
const percentText = document.getElementById('upload-percent');
const bytesText = document.getElementById('upload-bytes');
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

let titleFromFile = '';

function setStatus(kind, ...parts) {
  status.className = kind === 'error' ? 'error' : '';
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

function showProgress(loaded, total) {
  const p = total > 0 ? (loaded / total) * 100 : 0;
  bar.value = p;
  percentText.textContent = `${Math.floor(p)}%`;
  bytesText.textContent = total > 0 ? `${formatBytes(loaded)} of ${formatBytes(total)}` : formatBytes(loaded);
}

// Suggest the file name as title, unless the user typed one.
fileInput.addEventListener('change', () => {
  const file = fileInput.files[0];
  if (!file) return;
  const suggestion = file.name.replace(/\.[^.]+$/, '').replace(/[_]+/g, ' ').trim();
  if (!titleInput.value.trim() || titleInput.value === titleFromFile) {
    titleInput.value = suggestion;
    titleFromFile = suggestion;
  }
});

form.addEventListener('submit', async (event) => {
  event.preventDefault();
  const file = fileInput.files[0];
  if (!file) {
    setStatus('error', 'Choose a file to upload.');
    fileInput.focus();
    return;
  }
  if (!titleInput.value.trim()) {
    setStatus('error', 'Give the video a title.');
    titleInput.focus();
    return;
  }

  const limits = limitsNow();
  if (limits && limits.max_upload_bytes && file.size > limits.max_upload_bytes) {
    setStatus('error', `The file is too large: at most ${formatBytes(limits.max_upload_bytes)} (this one has ${formatBytes(file.size)}).`);
    fileInput.focus();
    return;
  }
  const parsed = parseTags(tagsInput.value, limits);
  if (parsed.error !== undefined) {
    setStatus('error', parsed.error);
    tagsInput.focus();
    return;
  }
  const { tags } = parsed;

  // Text parts first, the file last, so the server knows the metadata before the bytes.
  const data = new FormData();
  data.append('title', titleInput.value.trim());
  data.append('description', descriptionInput.value);
  data.append('privacy', privacyInput.value);
  if (tags.length) data.append('tags', tags.join(','));
  data.append('file', file, file.name);

  button.disabled = true;
  setStatus('info', 'Checking your session…');
  // Renew an expired access cookie before sending the bytes, rather than after (a server may
  // answer 401 before reading a large body, which the browser can report as a network error).
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
  send(file, data, false);
});

/** One upload attempt; `retried` is true for the single retry after a session refresh. */
function send(file, data, retried) {
  const xhr = new XMLHttpRequest();
  xhr.open('POST', '/api/videos');
  xhr.setRequestHeader('Accept', 'application/json');
  xhr.upload.onprogress = (e) => showProgress(e.loaded, e.lengthComputable ? e.total : file.size);
  xhr.upload.onload = () => {
    showProgress(file.size, file.size);
    setStatus('info', 'Upload complete, the server is saving the file…');
  };
  xhr.onload = async () => {
    if (xhr.status === 401 && !retried) {
      // The access cookie expired: refresh the session once (shared with any other caller) and
      // send the file again.
      setStatus('info', 'Renewing your session…');
      if (await refreshSession()) {
        send(file, data, true);
        return;
      }
    }
    button.disabled = false;
    if (xhr.status === 201) {
      let video = null;
      try {
        video = JSON.parse(xhr.responseText);
      } catch {
        // keep null
      }
      const id = video && video.id;
      setStatus('ok',
        'Uploaded! Processing has started',
        ...(id ? [' (id ', el('code', { text: id }), ')'] : []),
        '. ',
        el('a', { href: '/', text: 'Go to the library' }),
        ...(id ? [' or ', el('a', { href: `/watch/${encodeURIComponent(id)}`, id: 'uploaded-link', 'data-id': id, text: 'open the video' })] : []),
        '.');
      form.reset();
      showPrivacyHint();
      titleFromFile = '';
    } else if (xhr.status === 401) {
      box.hidden = true;
      setStatus('info', '');
      showSignedOut('Your session has ended: sign in again to upload.');
    } else {
      box.hidden = true;
      setStatus('error', `Upload failed: ${errorMessage(xhr.status, xhr.statusText, xhr.responseText)}`);
    }
  };
  xhr.onerror = () => {
    button.disabled = false;
    box.hidden = true;
    setStatus('error', 'Upload failed: the connection to the server was lost (the server may have refused a file that is too large).');
  };
  xhr.onabort = () => {
    button.disabled = false;
    setStatus('error', 'Upload cancelled.');
  };

  button.disabled = true;
  box.hidden = false;
  showProgress(0, file.size);
  setStatus('info', `Uploading ${file.name}…`);
  xhr.send(data);
}

privacyInput.addEventListener('change', showPrivacyHint);
showPrivacyHint();

// The server's limits: the fields' maxlength and the tags hint follow them.
loadConfig().then((config) => {
  if (!config) return;
  const { limits } = config;
  applyMaxLength(titleInput, limits.title_chars);
  applyMaxLength(descriptionInput, limits.description_chars);
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
    roleNote.textContent = 'Your account is a viewer account, which cannot upload videos: ask an admin for uploader access.';
    roleNote.hidden = false;
  }
}, () => {
  // The server did not answer /api/me: show the form; the upload itself will say what is wrong.
  form.hidden = false;
});
