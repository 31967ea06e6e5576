// @ts-check
// The library's "Live now" row: the public live streams broadcasting now (GET /api/videos?live=true),
// each a card with its LIVE badge; the row is hidden when nothing is live.
import { getJSON } from './api.js';
import { stableKey, videoCard } from './cards.js';

const MOST = 12;

/** id → { json, node }: cards are rebuilt only when their stream changed. */
const cards = new Map();

/**
 * Reads the live streams and fills the row. Resolves to how many there are (0 when the server
 * could not say: the row is then left as it was).
 * @returns {Promise<number>}
 */
export async function refreshLiveNow() {
  const section = document.getElementById('live-now');
  const row = document.getElementById('live-now-list');
  let list;
  try {
    list = await getJSON(`/api/videos?live=true&page=1&per_page=${MOST}`);
  } catch {
    return 0;
  }
  const videos = Array.isArray(list && list.videos) ? list.videos : [];
  const seen = new Set();
  const nodes = videos.map((video) => {
    seen.add(video.id);
    const json = stableKey(video);
    let entry = cards.get(video.id);
    if (!entry || entry.json !== json) {
      entry = { json, node: videoCard(video) };
      cards.set(video.id, entry);
    }
    return entry.node;
  });
  for (const id of [...cards.keys()]) if (!seen.has(id)) cards.delete(id);
  row.replaceChildren(...nodes);
  section.hidden = nodes.length === 0;
  return nodes.length;
}
