// @ts-check
// The comments of the watch page: a paginated list (top level newest first, one level of
// replies oldest first), a post box, reply/edit/delete, the owner's on/off switch, and live
// updates from the page's live channel (live.js). The thread's rendering and controls are in
// comment-thread.js, the post box in comment-composer.js.
import { api, getJSON, signInHref } from './api.js';
import { createWriteFailed, initComposer } from './comment-composer.js';
import { createThread } from './comment-thread.js';
import { limitsNow, loadConfig } from './config.js';

const PER_PAGE = 20;

const $ = (/** @type {string} */ id) => document.getElementById(id);

const sameId = (/** @type {unknown} */ a, /** @type {unknown} */ b) => a !== null && a !== undefined && b !== null && b !== undefined && String(a) === String(b);

/**
 * Sets up the comments section. `video` is the video JSON (owner, can_edit, comments_enabled),
 * `user` the signed-in user or null, `live` the page's live channel (the caller starts it).
 * `onVideo(v)` is called with the video after the owner switches comments on or off.
 * @param {{
 *   videoId: string,
 *   video: import('./cards.js').Video,
 *   user: import('./api.js').User | null,
 *   live: import('./live.js').LiveChannel,
 *   onVideo?: (video: import('./cards.js').Video) => void,
 * }} options
 */
export function initComments({ videoId, video, user, live, onVideo = () => {} }) {
  const section = $('comments');
  const list = /** @type {HTMLOListElement} */ ($('comments-list'));
  const countNode = $('comments-count');
  const emptyNode = $('comments-empty');
  const errorNode = $('comments-error');
  const more = /** @type {HTMLButtonElement} */ ($('comments-more'));
  const toggle = /** @type {HTMLButtonElement} */ ($('comments-toggle'));
  const offNote = $('comments-off');
  const signin = $('comments-signin');
  const form = $('comment-form');

  const base = `/api/videos/${encodeURIComponent(videoId)}`;
  let me = user || null;
  let vid = video || /** @type {import('./cards.js').Video} */ ({});
  let enabled = vid.comments_enabled !== false;
  let nextPage = 1;
  let hasMore = false;
  let loaded = false;
  /** @type {import('./live.js').LiveMessage[]} */
  const pending = []; // live events that arrived before the first page
  const initialLimits = limitsNow();
  let maxBody = initialLimits ? initialLimits.comment_chars : null;

  section.hidden = false;
  /** @type {HTMLAnchorElement} */ ($('comments-signin-link')).href = `${signInHref()}`;

  const canReply = () => !!me && enabled;

  const showError = (/** @type {string} */ message) => {
    errorNode.textContent = message;
    errorNode.hidden = false;
  };

  const writeFailed = createWriteFailed({
    onSignedOut: () => {
      me = null;
      showState();
    },
    onCommentsOff: () => applyEnabled(false),
  });

  const thread = createThread({
    videoId,
    list,
    me: () => me,
    video: () => vid,
    canReply,
    maxBody: () => maxBody,
    writeFailed,
    showError,
    changed: () => showCount(),
  });
  const { counts } = thread;

  const composer = initComposer({
    base,
    maxBody: () => maxBody,
    writeFailed,
    onPosted: (c) => {
      const entry = thread.upsert(c, { where: 'top' });
      if (entry) thread.flash(entry);
      showCount();
    },
  });
  loadConfig().then((config) => {
    if (!config || !config.limits.comment_chars) return;
    maxBody = config.limits.comment_chars;
    composer.setMaxBody(maxBody);
  });

  // -------------------------------------------------------------------------------------------
  // State

  function showCount() {
    countNode.textContent = counts.total > 0 ? `· ${counts.total.toLocaleString()}` : '';
    emptyNode.hidden = !loaded || list.children.length > 0;
    more.hidden = !hasMore;
  }

  function showState() {
    offNote.hidden = enabled;
    form.hidden = !(enabled && me);
    signin.hidden = !(enabled && !me);
    toggle.hidden = vid.can_edit !== true;
    toggle.textContent = enabled ? 'Turn comments off' : 'Turn comments on';
    section.dataset.enabled = String(enabled);
    thread.refreshActions();
  }

  /** @param {unknown} value */
  function applyEnabled(value) {
    if (typeof value !== 'boolean' || value === enabled) return;
    enabled = value;
    vid = { ...vid, comments_enabled: value };
    showState();
  }

  // -------------------------------------------------------------------------------------------
  // Loading

  /** @param {number} page */
  async function fetchPage(page) {
    return getJSON(`${base}/comments?page=${page}&per_page=${PER_PAGE}`);
  }

  /** @param {any} body */
  function takePage(body) {
    applyEnabled(body && body.comments_enabled);
    const comments = Array.isArray(body && body.comments) ? body.comments : [];
    for (const c of comments) thread.upsert(c, { where: 'end' });
    const page = Number(body && body.page) || nextPage;
    const perPage = Number(body && body.per_page) || PER_PAGE;
    if (Number.isFinite(body && body.total)) counts.total = body.total;
    hasMore = page * perPage < counts.total;
    nextPage = page + 1;
  }

  async function loadMore() {
    more.disabled = true;
    errorNode.hidden = true;
    try {
      // Comments removed since the last page moved later ones up: read the previous page again
      // so that none is skipped (the shown ones are not duplicated).
      if (counts.deletedTop > 0 && nextPage > 1) {
        takePage(await fetchPage(nextPage - 1));
        counts.deletedTop = 0;
      }
      takePage(await fetchPage(nextPage));
    } catch (err) {
      showError(`Could not load more comments: ${err.message}`);
    } finally {
      more.disabled = false;
      showCount();
    }
  }

  async function loadFirst() {
    try {
      takePage(await fetchPage(1));
      errorNode.hidden = true;
    } catch (err) {
      showError(`Could not load the comments: ${err.message}`);
      setTimeout(loadFirst, 5000);
      return;
    }
    loaded = true;
    section.dataset.loaded = 'true';
    for (const msg of pending.splice(0)) handleMessage(msg);
    showCount();
  }

  /** After the live connection came back: what changed meanwhile on the first page. */
  async function resync() {
    let body;
    try {
      body = await fetchPage(1);
    } catch {
      return;
    }
    applyEnabled(body && body.comments_enabled);
    /** @type {import('./comment-thread.js').Comment[]} */
    const comments = Array.isArray(body && body.comments) ? body.comments : [];
    if (Number.isFinite(body && body.total)) counts.total = body.total;
    const seen = new Set();
    const newest = [...thread.entries.values()].filter((e) => !e.parent).map((e) => Date.parse(e.data.created_at)).filter(Number.isFinite);
    const newestShown = newest.length ? Math.max(...newest) : -Infinity;
    // New ones first in the list: add the oldest of them first.
    for (const c of [...comments].reverse()) {
      seen.add(String(c.id));
      const known = thread.entries.has(String(c.id));
      if (!known && loaded && Date.parse(c.created_at) < newestShown) continue; // belongs further down
      const entry = thread.upsert(c, { where: 'top', live: !known });
      if (entry && Array.isArray(c.replies)) {
        const replyIds = new Set(c.replies.map((r) => String(r.id)));
        for (const r of [...entry.replies]) if (!replyIds.has(String(r.data.id))) thread.removeEntry(r.data.id);
      }
    }
    // Shown comments in the span of the first page that it no longer has were deleted.
    if (comments.length) {
      const oldest = Math.min(...comments.map((c) => Date.parse(c.created_at)).filter(Number.isFinite));
      for (const entry of [...thread.entries.values()]) {
        if (entry.parent || seen.has(String(entry.data.id))) continue;
        if (Date.parse(entry.data.created_at) >= oldest) thread.removeEntry(entry.data.id);
      }
    }
    if (Number.isFinite(body && body.total)) counts.total = body.total; // upsert counted the new ones again
    hasMore = hasMore || (Number(body.page) || 1) * (Number(body.per_page) || PER_PAGE) < counts.total;
    showCount();
  }

  // -------------------------------------------------------------------------------------------
  // The owner's switch

  toggle.addEventListener('click', async () => {
    toggle.disabled = true;
    errorNode.hidden = true;
    try {
      const v = await api('PATCH', base, { comments_enabled: !enabled });
      if (v && typeof v === 'object') {
        vid = { ...vid, ...v };
        enabled = v.comments_enabled !== false;
        onVideo(v);
      }
      showState();
    } catch (err) {
      showError(`Could not change the comment setting: ${err.message}`);
    } finally {
      toggle.disabled = false;
    }
  });

  more.addEventListener('click', loadMore);

  // -------------------------------------------------------------------------------------------
  // Live updates

  /** @param {import('./live.js').LiveMessage} msg */
  function handleMessage(msg) {
    if (!loaded) {
      pending.push(msg);
      return;
    }
    switch (msg.type) {
      case 'comment.created':
        thread.upsert(msg.comment, { where: 'top', live: true });
        break;
      case 'comment.updated':
        if (msg.comment && thread.entries.has(String(msg.comment.id))) thread.upsert(msg.comment);
        break;
      case 'comment.deleted':
        if (msg.video_id === undefined || sameId(msg.video_id, videoId)) thread.removeEntry(msg.id);
        break;
      default:
        break;
    }
    showCount();
  }

  for (const type of ['comment.created', 'comment.updated', 'comment.deleted']) live.on(type, handleMessage);
  live.onState((state, { reopened }) => {
    section.dataset.live = state;
    if (state === 'open' && reopened && loaded) resync(); // events may have been missed while away
  });

  showState();
  showCount();
  loadFirst();

  return {
    /**
     * The watch page read the video again (can_edit may have changed with the session).
     * @param {import('./cards.js').Video} v
     */
    setVideo(v) {
      if (!v) return;
      const before = JSON.stringify([vid.can_edit, vid.owner, enabled]);
      vid = { ...vid, ...v };
      if (typeof v.comments_enabled === 'boolean') enabled = v.comments_enabled;
      // Rebuilding every comment's buttons would steal focus: only when something changed.
      if (JSON.stringify([vid.can_edit, vid.owner, enabled]) !== before) {
        showState();
        thread.refreshHeads();
      }
    },
    /** @param {import('./api.js').User | null} u */
    setUser(u) {
      if ((u && u.username) === (me && me.username)) return;
      me = u || null;
      showState();
    },
  };
}
