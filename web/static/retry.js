// @ts-check
// Processing again a video whose processing failed (its owner and admins): the watch page's
// "Retry processing" and the Retry action of "My videos".
import { api } from './api.js';
import { el } from './dom.js';

/**
 * POST /api/videos/{id}/retry: the video is queued again. Resolves to the video (status
 * "processing", no error) as the server answers 202 with it; rejects with the server's message
 * (409: it is not failed; 403/404: not the caller's to retry).
 * @param {string} id
 * @returns {Promise<import('./cards.js').Video | null>}
 */
export async function retryProcessing(id) {
  const body = await api('POST', `/api/videos/${encodeURIComponent(id)}/retry`);
  return body && typeof body === 'object' && typeof body.status === 'string' ? body : null;
}

/**
 * The watch page's "Retry processing" button (#retry-processing) with its status line
 * (#retry-status): `onRetried(video)` after the server queued it again, `onStale()` after a 409
 * (it is not failed any more); other errors show the server's message.
 * @param {string} id
 * @param {{ onRetried: (video: import('./cards.js').Video | null) => void, onStale: () => void }} handlers
 */
export function retryBox(id, { onRetried, onStale }) {
  const button = el('button', { type: 'button', id: 'retry-processing', text: 'Retry processing' });
  const status = el('p', { id: 'retry-status', role: 'status' });
  button.addEventListener('click', async () => {
    button.disabled = true;
    status.textContent = 'Retrying…';
    let fresh;
    try {
      fresh = await retryProcessing(id);
    } catch (err) {
      button.disabled = false;
      status.textContent = err.status === 401 ? 'Your session has ended: sign in again to retry.' : `Could not retry: ${err.message}`;
      if (err.status === 409) setTimeout(onStale, 2500); // the message stays a moment
      return;
    }
    status.textContent = 'Queued again.';
    onRetried(fresh);
  });
  return el('div', { class: 'retry' }, button, status);
}
