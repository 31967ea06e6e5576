// Shared helpers for Kino's pages (plain ES module, no build step).
// Server data (titles, descriptions, errors) is user input: it only ever goes into textContent.

/** Creates an element: el('a', { class: 'card', href: '/x', text: 'hi' }, child, ...). */
export function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === 'text') node.textContent = String(value);
    else if (key === 'class') node.className = value;
    else if (key in node && typeof value !== 'string') node[key] = value;
    else node.setAttribute(key, value === true ? '' : String(value));
  }
  for (const child of children) {
    if (child !== undefined && child !== null && child !== false) node.append(child);
  }
  return node;
}

/** Seconds → "m:ss", or "h:mm:ss" from one hour on; "" when unknown. */
export function formatDuration(seconds) {
  if (typeof seconds !== 'number' || !Number.isFinite(seconds) || seconds < 0) return '';
  const total = Math.round(seconds);
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = String(total % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${s}` : `${m}:${s}`;
}

/** Bytes → "12.3 MB". */
export function formatBytes(bytes) {
  if (!Number.isFinite(bytes) || bytes < 0) return '';
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let value = bytes;
  let i = 0;
  while (value >= 1000 && i < units.length - 1) {
    value /= 1000;
    i += 1;
  }
  return `${i === 0 ? value : value.toFixed(value < 10 ? 1 : 0)} ${units[i]}`;
}

/** Bits per second → "2.1 Mbit/s" or "850 kbit/s". */
export function formatBitrate(bps) {
  if (!Number.isFinite(bps) || bps <= 0) return '';
  if (bps >= 1e6) return `${(bps / 1e6).toFixed(1)} Mbit/s`;
  return `${Math.round(bps / 1e3)} kbit/s`;
}

/** ISO date → short local date. */
export function formatDate(iso) {
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? '' : d.toLocaleDateString(undefined, { year: 'numeric', month: 'short', day: 'numeric' });
}

/** Clamps a progress value to 0..100. */
export function percent(progress) {
  const p = Number(progress);
  return Number.isFinite(p) ? Math.max(0, Math.min(100, p)) : 0;
}

/** The `error` message of a JSON error body, or a fallback built from the HTTP status. */
export function errorMessage(status, statusText, bodyText) {
  try {
    const body = JSON.parse(bodyText);
    if (body && typeof body.error === 'string' && body.error) return body.error;
  } catch {
    // not JSON: fall through
  }
  if (status === 413) return 'The file is too large.';
  return `Request failed (HTTP ${status}${statusText ? ` ${statusText}` : ''})`;
}

/** GETs JSON; throws an Error carrying the server's message (and `.status`) on failure. */
export async function getJSON(url) {
  let res;
  try {
    res = await fetch(url, { headers: { Accept: 'application/json' }, cache: 'no-store' });
  } catch {
    const err = new Error('Cannot reach the server.');
    err.status = 0;
    throw err;
  }
  const text = await res.text();
  if (!res.ok) {
    const err = new Error(errorMessage(res.status, res.statusText, text));
    err.status = res.status;
    throw err;
  }
  return JSON.parse(text);
}

/** Status badge element for a video. */
export function statusBadge(video) {
  const labels = { processing: 'Processing', ready: 'Ready', failed: 'Failed' };
  return el('span', { class: `badge badge-${video.status}`, text: labels[video.status] || video.status });
}

/** Marks the header link of the current page. */
export function markNav() {
  const path = location.pathname;
  for (const a of document.querySelectorAll('.site-nav a')) {
    const href = a.getAttribute('href');
    if (href === path || (href !== '/' && path.startsWith(href))) a.setAttribute('aria-current', 'page');
  }
}
