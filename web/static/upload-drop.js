// @ts-check
// Choosing files on the upload page (upload.js): the file input (several at once), or dropping
// them onto the form; elsewhere on the page a dropped file must not replace the page.

/** Dropped files that are not video/audio by type are still taken when their name says so. */
const MEDIA_NAME = /\.(mp4|m4v|mov|mkv|webm|avi|wmv|flv|mpe?g|ts|mts|m2ts|3gp|ogv|mp3|m4a|aac|wav|flac|ogg|oga|opus)$/i;

/**
 * Video or audio, by type or else by name (for dropped files, which the input's accept does not
 * filter).
 * @param {File} file
 */
export function isMediaFile(file) {
  return /^(video|audio)\//.test(file.type) || MEDIA_NAME.test(file.name);
}

/**
 * @param {object} options
 * @param {HTMLFormElement} options.form the drop target
 * @param {HTMLInputElement} options.fileInput
 * @param {() => boolean} options.canDrop whether drops are taken (the account may upload)
 * @param {(files: File[], options?: { dropped?: boolean }) => void} options.onFiles
 */
export function initFilePicking({ form, fileInput, canDrop, onFiles }) {
  fileInput.addEventListener('change', () => {
    const files = [...(fileInput.files || [])];
    fileInput.value = ''; // the queue holds them; choosing the same file again is noticed there
    onFiles(files);
  });

  const hasFiles = (/** @type {DragEvent} */ e) => Boolean(e.dataTransfer && [...e.dataTransfer.types].includes('Files'));
  for (const type of ['dragenter', 'dragover']) {
    form.addEventListener(type, (/** @type {DragEvent} */ e) => {
      if (!hasFiles(e)) return;
      e.preventDefault();
      e.dataTransfer.dropEffect = canDrop() ? 'copy' : 'none';
      if (canDrop()) form.classList.add('drop-active');
    });
  }
  form.addEventListener('dragleave', (e) => {
    if (!(e.relatedTarget instanceof Node) || !form.contains(e.relatedTarget)) form.classList.remove('drop-active');
  });
  form.addEventListener('drop', (e) => {
    if (!hasFiles(e)) return;
    e.preventDefault();
    form.classList.remove('drop-active');
    if (canDrop()) onFiles([...e.dataTransfer.files], { dropped: true });
  });
  for (const type of ['dragover', 'drop']) {
    document.addEventListener(type, (/** @type {DragEvent} */ e) => {
      if (!hasFiles(e) || (e.target instanceof Node && form.contains(e.target))) return;
      e.preventDefault();
      e.dataTransfer.dropEffect = 'none';
    });
  }
}
