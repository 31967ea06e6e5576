// The upload form: multipart POST through XMLHttpRequest, for a real upload progress bar.
import { el, errorMessage, formatBytes, markNav } from './app.js';

const form = document.getElementById('upload-form');
const fileInput = document.getElementById('file');
const titleInput = document.getElementById('title');
const descriptionInput = document.getElementById('description');
const button = document.getElementById('upload-button');
const box = document.getElementById('upload-progress-box');
const bar = document.getElementById('upload-progress');
const percentText = document.getElementById('upload-percent');
const bytesText = document.getElementById('upload-bytes');
const status = document.getElementById('upload-status');

let titleFromFile = '';

function setStatus(kind, ...parts) {
  status.className = kind === 'error' ? 'error' : '';
  status.replaceChildren(...parts);
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

form.addEventListener('submit', (event) => {
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

  // Text parts first, the file last, so the server knows the metadata before the bytes.
  const data = new FormData();
  data.append('title', titleInput.value.trim());
  data.append('description', descriptionInput.value);
  data.append('file', file, file.name);

  const xhr = new XMLHttpRequest();
  xhr.open('POST', '/api/videos');
  xhr.setRequestHeader('Accept', 'application/json');
  xhr.upload.onprogress = (e) => showProgress(e.loaded, e.lengthComputable ? e.total : file.size);
  xhr.upload.onload = () => {
    showProgress(file.size, file.size);
    setStatus('info', 'Upload complete, the server is saving the file…');
  };
  xhr.onload = () => {
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
        ...(id ? [' or ', el('a', { href: `/watch/${encodeURIComponent(id)}`, text: 'open the video' })] : []),
        '.');
      form.reset();
      titleFromFile = '';
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
});

markNav();
