// @ts-check
// The watch page's aside: "More from NAME", the uploader's other ready videos.
import { getJSON } from './api.js';
import { userHref } from './cards.js';
import { el } from './dom.js';
import { formatDate, formatDuration, formatViews } from './format.js';

const MORE_FROM = 6;

/**
 * "More from NAME": the uploader's other videos (GET /api/users/NAME/videos).
 * @param {import('./cards.js').Video} v
 */
export async function loadMoreFrom(v) {
  const aside = document.getElementById('more-from');
  if (!v.owner) return;
  let body;
  try {
    // One more than shown, since this video may be among them.
    body = await getJSON(`/api/users/${encodeURIComponent(v.owner)}/videos?sort=newest&page=1&per_page=${MORE_FROM + 1}`);
  } catch {
    return; // the aside stays hidden
  }
  const videos = (Array.isArray(body && body.videos) ? body.videos : [])
    .filter((other) => other.id !== v.id && other.status === 'ready')
    .slice(0, MORE_FROM);
  const ownerLink = /** @type {HTMLAnchorElement} */ (document.getElementById('more-from-owner'));
  ownerLink.textContent = v.owner;
  ownerLink.href = userHref(v.owner);
  const all = /** @type {HTMLAnchorElement} */ (document.getElementById('more-from-all'));
  all.href = userHref(v.owner);
  all.hidden = !(Number(body.total) > videos.length + 1);
  document.getElementById('more-from-list').replaceChildren(...videos.map((other) => {
    const thumb = el('span', { class: 'side-thumb' });
    if (other.poster_url) thumb.append(el('img', { src: other.poster_url, alt: '', loading: 'lazy', decoding: 'async' }));
    const d = formatDuration(other.duration);
    if (d) thumb.append(el('span', { class: 'duration', text: d }));
    return el('li', { 'data-id': other.id },
      el('a', { class: 'side-item', href: `/watch/${encodeURIComponent(other.id)}` },
        thumb,
        el('span', { class: 'side-text' },
          el('span', { class: 'side-title', text: other.title || 'Untitled' }),
          el('span', { class: 'side-meta', text: [formatViews(other.views), formatDate(other.created_at)].filter(Boolean).join(' · ') }))));
  }));
  aside.hidden = videos.length === 0;
  aside.closest('.watch').classList.toggle('with-side', !aside.hidden);
}
