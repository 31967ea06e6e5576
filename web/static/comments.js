// The comments of the watch page: a paginated list (top level newest first, one level of
// replies oldest first), a post box, reply/edit/delete, the owner's on/off switch, and live
// updates from the WebSocket /api/videos/{id}/live (reconnecting with backoff).
// Comment bodies and author names are user input: they only ever go into textContent.
import { api, currentUser, el, formatDate, getJSON, signInHref, timeAgo, userHref } from './app.js';

const PER_PAGE = 20;
const MAX_BODY = 2000;
const LENGTH_HINT_FROM = 1800; // show "n / 2000" from here on
const FRESH_MS = 4000; // how long a comment that arrived live stays highlighted
const BACKOFF_MIN_MS = 1000;
const BACKOFF_MAX_MS = 30_000;
const STABLE_MS = 20_000; // a socket open this long resets the backoff

const $ = (id) => document.getElementById(id);

/** The author's username of a comment (a string; tolerates {username}). */
function authorOf(c) {
  if (!c) return null;
  if (typeof c.author === 'string') return c.author;
  return c.author && typeof c.author.username === 'string' ? c.author.username : null;
}

/** The given nodes without the null/false placeholders (replaceChildren would print "null"). */
const nodes = (...items) => items.filter((x) => x !== null && x !== undefined && x !== false);

const sameId = (a, b) => a !== null && a !== undefined && b !== null && b !== undefined && String(a) === String(b);

/**
 * Sets up the comments section. `video` is the video JSON (owner, can_edit, comments_enabled),
 * `user` the signed-in user or null. `onVideo(v)` is called with the video after the owner
 * switches comments on or off; `onViewers(n)` with the live viewer count.
 */
export function initComments({ videoId, video, user, onVideo = () => {}, onViewers = () => {}, onJob = () => {} }) {
  const section = $('comments');
  const list = $('comments-list');
  const countNode = $('comments-count');
  const emptyNode = $('comments-empty');
  const errorNode = $('comments-error');
  const more = $('comments-more');
  const toggle = $('comments-toggle');
  const offNote = $('comments-off');
  const signin = $('comments-signin');
  const form = $('comment-form');
  const textarea = $('comment-body');
  const submit = $('comment-submit');
  const formStatus = $('comment-status');
  const lengthHint = $('comment-length');

  const base = `/api/videos/${encodeURIComponent(videoId)}`;
  let me = user || null;
  let vid = video || {};
  let enabled = vid.comments_enabled !== false;
  /** id (string) → entry {data, node, head, bodyNode, actions, parent (entry|null), replies (Set), repliesList, replyForm, editing} */
  const entries = new Map();
  let total = 0; // top-level comments on the server, as far as known
  let nextPage = 1;
  let hasMore = false;
  let deletedTop = 0; // top-level comments removed since the pages were fetched
  let loaded = false;
  const pending = []; // live events that arrived before the first page

  section.hidden = false;
  $('comments-signin-link').href = `${signInHref()}`;

  // -------------------------------------------------------------------------------------------
  // Permissions (the flags of pushed comments are computed for nobody: recompute them here).

  const isMine = (c) => !!me && authorOf(c) === me.username;
  const canEdit = (c) => c.can_edit === true || isMine(c);
  const canDelete = (c) => c.can_delete === true || isMine(c) || vid.can_edit === true || (!!me && me.role === 'admin');
  const canReply = () => !!me && enabled;

  // -------------------------------------------------------------------------------------------
  // Rendering

  function showCount() {
    countNode.textContent = total > 0 ? `· ${total.toLocaleString()}` : '';
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
    for (const entry of entries.values()) {
      fillActions(entry);
      if (!canReply() && entry.replyForm) closeReply(entry);
    }
  }

  function timeNode(iso) {
    return el('time', { datetime: iso || '', 'data-ts': iso || '', title: iso ? new Date(iso).toLocaleString() : '', text: timeAgo(iso) });
  }

  function fillHead(entry) {
    const c = entry.data;
    const name = authorOf(c);
    entry.head.replaceChildren(...nodes(
      name ? el('a', { class: 'comment-author', href: userHref(name), text: name }) : el('span', { class: 'comment-author muted', text: 'Deleted account' }),
      vid.owner && name === vid.owner ? el('span', { class: 'badge badge-owner', text: 'Uploader' }) : null,
      timeNode(c.created_at),
      c.edited_at ? el('span', { class: 'comment-edited muted', title: `Edited ${formatDate(c.edited_at)}`, text: '(edited)' }) : null));
  }

  function actionButton(role, text, onClick) {
    const b = el('button', { type: 'button', class: 'link-button comment-action', 'data-role': role, text });
    b.addEventListener('click', onClick);
    return b;
  }

  function fillActions(entry) {
    const c = entry.data;
    const thread = entry.parent || entry;
    entry.actions.replaceChildren(...nodes(
      canReply() ? actionButton('reply', 'Reply', () => openReply(thread, entry.parent ? authorOf(c) : null)) : null,
      canEdit(c) ? actionButton('edit', 'Edit', () => startEdit(entry)) : null,
      canDelete(c) ? actionButton('delete', 'Delete', () => removeComment(entry)) : null));
    entry.actions.hidden = Boolean(entry.editing) || !entry.actions.firstChild;
  }

  function fill(entry) {
    fillHead(entry);
    if (entry.bodyNode.textContent !== String(entry.data.body ?? '')) entry.bodyNode.textContent = String(entry.data.body ?? '');
    fillActions(entry);
  }

  function makeEntry(c, parent) {
    const key = String(c.id);
    const node = el('li', { class: parent ? 'comment reply' : 'comment', id: `comment-${key}`, 'data-id': key });
    const entry = {
      data: c,
      node,
      parent,
      head: el('div', { class: 'comment-head' }),
      bodyNode: el('p', { class: 'comment-body' }),
      actions: el('div', { class: 'comment-actions' }),
      replies: new Set(),
      repliesList: null,
      replyForm: null,
      editing: null,
    };
    node.append(entry.head, entry.bodyNode, entry.actions);
    if (!parent) {
      entry.repliesList = el('ol', { class: 'replies' });
      node.append(entry.repliesList);
    }
    entries.set(key, entry);
    fill(entry);
    return entry;
  }

  function flash(entry) {
    entry.node.classList.add('fresh');
    setTimeout(() => entry.node.classList.remove('fresh'), FRESH_MS);
  }

  /**
   * Adds or updates a comment (and, for a top-level one from a page, its replies).
   * `where`: 'top' (a new comment: first in the list) or 'end' (a page of older ones).
   */
  function upsert(c, { where = 'top', live = false } = {}) {
    if (!c || c.id === undefined || c.id === null) return null;
    if (c.video_id !== undefined && c.video_id !== null && String(c.video_id) !== String(videoId)) return null;
    let entry = entries.get(String(c.id));
    if (entry) {
      const { replies: _r, ...fields } = c;
      entry.data = { ...entry.data, ...fields };
      fill(entry);
    } else if (c.parent_id === null || c.parent_id === undefined) {
      entry = makeEntry(c, null);
      if (where === 'top') {
        list.prepend(entry.node);
        total += 1;
      } else {
        list.append(entry.node);
      }
      if (live) flash(entry);
    } else {
      let parent = entries.get(String(c.parent_id));
      if (parent && parent.parent) parent = parent.parent; // a reply to a reply belongs to its thread
      if (!parent) return null; // its thread is on a page not loaded yet
      entry = makeEntry(c, parent);
      parent.replies.add(entry);
      // Replies are oldest first; one that arrives late goes to its place by id order of arrival.
      parent.repliesList.append(entry.node);
      if (live) flash(entry);
    }
    if (!entry.parent && Array.isArray(c.replies)) {
      for (const r of c.replies) upsert({ ...r, parent_id: c.id }, { where: 'end' });
    }
    return entry;
  }

  function removeEntry(key) {
    const entry = entries.get(String(key));
    if (!entry) return;
    entry.node.remove();
    entries.delete(String(key));
    if (entry.parent) {
      entry.parent.replies.delete(entry);
    } else {
      for (const r of entry.replies) entries.delete(String(r.data.id));
      total = Math.max(0, total - 1);
      deletedTop += 1;
    }
    showCount();
  }

  // -------------------------------------------------------------------------------------------
  // Loading

  function applyEnabled(value) {
    if (typeof value !== 'boolean' || value === enabled) return;
    enabled = value;
    vid = { ...vid, comments_enabled: value };
    showState();
  }

  async function fetchPage(page) {
    return getJSON(`${base}/comments?page=${page}&per_page=${PER_PAGE}`);
  }

  function takePage(body) {
    applyEnabled(body && body.comments_enabled);
    const comments = Array.isArray(body && body.comments) ? body.comments : [];
    for (const c of comments) upsert(c, { where: 'end' });
    const page = Number(body && body.page) || nextPage;
    const perPage = Number(body && body.per_page) || PER_PAGE;
    if (Number.isFinite(body && body.total)) total = body.total;
    hasMore = page * perPage < total;
    nextPage = page + 1;
  }

  async function loadMore() {
    more.disabled = true;
    errorNode.hidden = true;
    try {
      // Comments removed since the last page moved later ones up: read the previous page again
      // so that none is skipped (the shown ones are not duplicated).
      if (deletedTop > 0 && nextPage > 1) {
        takePage(await fetchPage(nextPage - 1));
        deletedTop = 0;
      }
      takePage(await fetchPage(nextPage));
    } catch (err) {
      errorNode.textContent = `Could not load more comments: ${err.message}`;
      errorNode.hidden = false;
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
      errorNode.textContent = `Could not load the comments: ${err.message}`;
      errorNode.hidden = false;
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
    const comments = Array.isArray(body && body.comments) ? body.comments : [];
    if (Number.isFinite(body && body.total)) total = body.total;
    const seen = new Set();
    const newest = [...entries.values()].filter((e) => !e.parent).map((e) => Date.parse(e.data.created_at)).filter(Number.isFinite);
    const newestShown = newest.length ? Math.max(...newest) : -Infinity;
    // New ones first in the list: add the oldest of them first.
    for (const c of [...comments].reverse()) {
      seen.add(String(c.id));
      const known = entries.has(String(c.id));
      if (!known && loaded && Date.parse(c.created_at) < newestShown) continue; // belongs further down
      const entry = upsert(c, { where: 'top', live: !known });
      if (entry && Array.isArray(c.replies)) {
        const replyIds = new Set(c.replies.map((r) => String(r.id)));
        for (const r of [...entry.replies]) if (!replyIds.has(String(r.data.id))) removeEntry(r.data.id);
      }
    }
    // Shown comments in the span of the first page that it no longer has were deleted.
    if (comments.length) {
      const oldest = Math.min(...comments.map((c) => Date.parse(c.created_at)).filter(Number.isFinite));
      for (const entry of [...entries.values()]) {
        if (entry.parent || seen.has(String(entry.data.id))) continue;
        if (Date.parse(entry.data.created_at) >= oldest) removeEntry(entry.data.id);
      }
    }
    if (Number.isFinite(body && body.total)) total = body.total; // upsert counted the new ones again
    hasMore = hasMore || (Number(body.page) || 1) * (Number(body.per_page) || PER_PAGE) < total;
    showCount();
  }

  // -------------------------------------------------------------------------------------------
  // Posting, replying, editing, deleting

  let cooldown = null;

  /** Shows why a write failed; adjusts the page for 401 (signed out) and 403 (comments off). */
  function writeFailed(err, show, button) {
    if (err.status === 401) {
      me = null;
      showState();
      show('Your session has ended: sign in again to comment.');
      return;
    }
    if (err.status === 403 && /comment/i.test(err.message || '')) {
      applyEnabled(false);
    }
    if (err.status === 429) {
      let left = Number.isFinite(err.retryAfter) && err.retryAfter > 0 ? Math.ceil(err.retryAfter) : null;
      if (left === null) {
        show('You are commenting too fast. Wait a moment and try again.');
        return;
      }
      clearInterval(cooldown);
      const tick = () => {
        if (left <= 0) {
          clearInterval(cooldown);
          button.disabled = false;
          show('');
          return;
        }
        button.disabled = true;
        show(`You are commenting too fast. Try again in ${left} s.`);
        left -= 1;
      };
      tick();
      cooldown = setInterval(tick, 1000);
      return;
    }
    show(err.message);
  }

  function checkBody(text) {
    if (!text) return 'Write something first.';
    if ([...text].length > MAX_BODY) return `A comment has at most ${MAX_BODY} characters.`;
    return null;
  }

  function showLength(node, text) {
    const n = [...text].length;
    node.textContent = n >= LENGTH_HINT_FROM ? `${n} / ${MAX_BODY}` : '';
    node.classList.toggle('bad', n > MAX_BODY);
  }

  function submitOnCtrlEnter(area, formNode) {
    area.addEventListener('keydown', (e) => {
      if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) {
        e.preventDefault();
        formNode.requestSubmit();
      }
    });
  }

  const setFormStatus = (kind, text) => {
    formStatus.className = `form-status${kind ? ` ${kind}` : ''}`;
    formStatus.textContent = text;
  };

  textarea.addEventListener('input', () => showLength(lengthHint, textarea.value));
  submitOnCtrlEnter(textarea, form);
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const body = textarea.value.trim();
    const problem = checkBody(body);
    if (problem) {
      setFormStatus('error', problem);
      textarea.focus();
      return;
    }
    submit.disabled = true;
    setFormStatus('', 'Posting…');
    try {
      const c = await api('POST', `${base}/comments`, { body });
      textarea.value = '';
      showLength(lengthHint, '');
      setFormStatus('', '');
      const entry = upsert(c, { where: 'top' });
      if (entry) flash(entry);
      showCount();
    } catch (err) {
      writeFailed(err, (m) => setFormStatus('error', m), submit);
      if (err.status === 429) return; // the countdown enables the button
    }
    submit.disabled = false;
  });

  function closeReply(thread) {
    if (!thread.replyForm) return;
    thread.replyForm.remove();
    thread.replyForm = null;
  }

  /**
   * A small inline form (reply, edit): a textarea, a status line, Cancel and a submit button.
   * `onCancel` runs on Cancel and on Escape (`escapeWhenEmpty`: only while the text is empty).
   */
  function inlineForm({ formClass, area, submitRole, submitText, onCancel, escapeWhenEmpty = false }) {
    const status = el('span', { class: 'row-status', role: 'status', 'aria-live': 'polite' });
    const submit = el('button', { type: 'submit', class: 'small-button', 'data-role': submitRole, text: submitText });
    const cancel = el('button', { type: 'button', class: 'secondary small-button', text: 'Cancel' });
    const formNode = el('form', { class: formClass, novalidate: true }, area, el('div', { class: 'comment-form-row' }, status, cancel, submit));
    const show = (text, kind = 'error') => {
      status.className = `row-status${text ? ` ${kind}` : ''}`;
      status.textContent = text;
    };
    cancel.addEventListener('click', onCancel);
    area.addEventListener('keydown', (e) => {
      if (e.key === 'Escape' && (!escapeWhenEmpty || !area.value.trim())) onCancel();
    });
    submitOnCtrlEnter(area, formNode);
    return { formNode, submit, show };
  }

  function openReply(thread, mention) {
    if (!canReply()) return;
    if (!thread.replyForm) {
      const area = el('textarea', { class: 'reply-body', maxlength: String(MAX_BODY), rows: '2', placeholder: 'Write a reply…', 'aria-label': `Reply to ${authorOf(thread.data) || 'this comment'}` });
      const { formNode, submit: send, show } = inlineForm({
        formClass: 'reply-form', area, submitRole: 'send-reply', submitText: 'Reply',
        onCancel: () => closeReply(thread), escapeWhenEmpty: true,
      });
      formNode.addEventListener('submit', async (event) => {
        event.preventDefault();
        const body = area.value.trim();
        const problem = checkBody(body);
        if (problem) {
          show(problem);
          area.focus();
          return;
        }
        send.disabled = true;
        show('Posting…', '');
        try {
          const c = await api('POST', `${base}/comments`, { body, parent_id: thread.data.id });
          const entry = upsert({ ...c, parent_id: c.parent_id ?? thread.data.id }, { where: 'end' });
          if (entry) flash(entry);
          closeReply(thread);
        } catch (err) {
          writeFailed(err, (m) => show(m), send);
          if (err.status !== 429) send.disabled = false;
        }
      });
      thread.replyForm = formNode;
      thread.node.append(formNode);
    }
    const area = thread.replyForm.querySelector('textarea');
    if (mention && !area.value.trim()) area.value = `@${mention} `;
    area.focus();
    area.setSelectionRange(area.value.length, area.value.length);
  }

  function stopEdit(entry) {
    if (!entry.editing) return;
    entry.editing.remove();
    entry.editing = null;
    entry.bodyNode.hidden = false;
    fillActions(entry);
  }

  function startEdit(entry) {
    if (entry.editing) return;
    const area = el('textarea', { class: 'comment-edit', maxlength: String(MAX_BODY), rows: '3', 'aria-label': 'Edit your comment' });
    area.value = String(entry.data.body ?? '');
    const { formNode, submit: save, show } = inlineForm({
      formClass: 'edit-form', area, submitRole: 'save-edit', submitText: 'Save', onCancel: () => stopEdit(entry),
    });
    formNode.addEventListener('submit', async (event) => {
      event.preventDefault();
      const body = area.value.trim();
      const problem = checkBody(body);
      if (problem) {
        show(problem);
        return;
      }
      if (body === entry.data.body) {
        stopEdit(entry);
        return;
      }
      save.disabled = true;
      show('Saving…', '');
      try {
        const c = await api('PATCH', `/api/comments/${encodeURIComponent(entry.data.id)}`, { body });
        stopEdit(entry);
        upsert({ ...c, parent_id: c.parent_id ?? entry.data.parent_id });
      } catch (err) {
        if (err.status === 404) {
          removeEntry(entry.data.id);
          return;
        }
        writeFailed(err, (m) => show(m), save);
        if (err.status !== 429) save.disabled = false;
      }
    });
    entry.editing = formNode;
    entry.bodyNode.hidden = true;
    entry.bodyNode.after(formNode);
    fillActions(entry);
    area.focus();
  }

  async function removeComment(entry) {
    const mine = isMine(entry.data);
    const question = entry.parent || entry.replies.size === 0
      ? (mine ? 'Delete your comment?' : `Delete this comment by ${authorOf(entry.data) || 'a deleted account'}?`)
      : 'Delete this comment and its replies?';
    if (!window.confirm(question)) return;
    for (const b of entry.actions.querySelectorAll('button')) b.disabled = true;
    try {
      await api('DELETE', `/api/comments/${encodeURIComponent(entry.data.id)}`);
      removeEntry(entry.data.id);
    } catch (err) {
      if (err.status === 404) {
        removeEntry(entry.data.id);
        return;
      }
      for (const b of entry.actions.querySelectorAll('button')) b.disabled = false;
      errorNode.textContent = `Could not delete the comment: ${err.message}`;
      errorNode.hidden = false;
    }
  }

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
      errorNode.textContent = `Could not change the comment setting: ${err.message}`;
      errorNode.hidden = false;
    } finally {
      toggle.disabled = false;
    }
  });

  more.addEventListener('click', loadMore);

  // Relative times ("5 min ago") age while the page is open.
  setInterval(() => {
    for (const t of list.querySelectorAll('time[data-ts]')) t.textContent = timeAgo(t.dataset.ts);
  }, 60_000);

  // -------------------------------------------------------------------------------------------
  // Live updates

  function handleMessage(msg) {
    if (!msg || typeof msg !== 'object') return;
    if (!loaded && msg.type && msg.type.startsWith('comment.')) {
      pending.push(msg);
      return;
    }
    switch (msg.type) {
      case 'comment.created':
        upsert(msg.comment, { where: 'top', live: true });
        break;
      case 'comment.updated':
        if (msg.comment && entries.has(String(msg.comment.id))) upsert(msg.comment);
        break;
      case 'comment.deleted':
        if (msg.video_id === undefined || sameId(msg.video_id, videoId)) removeEntry(msg.id);
        break;
      case 'viewers':
        if (Number.isFinite(msg.count)) onViewers(msg.count);
        break;
      case 'job.progress':
      case 'video.ready':
      case 'video.failed':
        onJob(msg); // transcoding news, from whichever worker runs the job
        break;
      default:
        break; // unknown types are for newer pages
    }
    showCount();
  }

  let socket = null;
  let attempt = 0;
  let openedAt = 0;
  let everOpened = false;
  let retryTimer = null;
  let stopped = false;
  const liveUrl = `${location.protocol === 'https:' ? 'wss:' : 'ws:'}//${location.host}${base}/live`;

  function setLive(state) {
    section.dataset.live = state;
  }

  function connect() {
    clearTimeout(retryTimer);
    if (stopped || (socket && socket.readyState <= WebSocket.OPEN)) return;
    setLive('connecting');
    let ws;
    try {
      ws = new WebSocket(liveUrl);
    } catch {
      scheduleReconnect();
      return;
    }
    socket = ws;
    ws.addEventListener('open', () => {
      if (socket !== ws) return;
      setLive('open');
      openedAt = Date.now();
      onJob({ type: 'live.open' }); // news sent before this moment was missed: look again
      if (everOpened && loaded) resync(); // events may have been missed while away
      everOpened = true;
    });
    ws.addEventListener('message', (e) => {
      if (socket !== ws || typeof e.data !== 'string') return;
      let msg;
      try {
        msg = JSON.parse(e.data);
      } catch {
        return;
      }
      handleMessage(msg);
    });
    ws.addEventListener('close', (e) => {
      if (socket !== ws) return;
      socket = null;
      setLive('closed');
      onJob({ type: 'live.closed' }); // no news until it reopens: the page polls meanwhile
      // 1008: the server closed it because this viewer may no longer watch the video (made
      // private, or deleted); reconnecting would only be refused.
      if (e.code === 1008) stopped = true;
      if (!stopped) scheduleReconnect();
    });
  }

  function scheduleReconnect() {
    clearTimeout(retryTimer);
    if (openedAt && Date.now() - openedAt > STABLE_MS) attempt = 0;
    openedAt = 0;
    const delay = Math.min(BACKOFF_MAX_MS, BACKOFF_MIN_MS * 2 ** attempt);
    attempt += 1;
    setLive('waiting');
    retryTimer = setTimeout(async () => {
      // A refused handshake may be a lapsed access cookie (a private video then "does not
      // exist"): renew the session before trying again.
      if (me && attempt > 1) await currentUser({ reload: true }).catch(() => null);
      connect();
    }, delay * (0.75 + Math.random() * 0.5));
  }

  window.addEventListener('online', () => {
    attempt = 0;
    if (!socket) connect();
  });
  // Leaving the page closes the socket (so that the page can enter the back/forward cache);
  // coming back from that cache reconnects and catches up.
  window.addEventListener('pagehide', () => {
    stopped = true;
    clearTimeout(retryTimer);
    if (socket) socket.close(1000);
    socket = null;
  });
  window.addEventListener('pageshow', (e) => {
    if (!e.persisted) return;
    stopped = false;
    attempt = 0;
    connect();
  });

  showState();
  showCount();
  connect();
  loadFirst();

  return {
    /** The watch page read the video again (can_edit may have changed with the session). */
    setVideo(v) {
      if (!v) return;
      const before = JSON.stringify([vid.can_edit, vid.owner, enabled]);
      vid = { ...vid, ...v };
      if (typeof v.comments_enabled === 'boolean') enabled = v.comments_enabled;
      // Rebuilding every comment's buttons would steal focus: only when something changed.
      if (JSON.stringify([vid.can_edit, vid.owner, enabled]) !== before) {
        showState();
        for (const entry of entries.values()) fillHead(entry);
      }
    },
    setUser(u) {
      if ((u && u.username) === (me && me.username)) return;
      me = u || null;
      showState();
    },
  };
}
