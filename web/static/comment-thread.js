// @ts-check
// The comment thread of the watch page: top-level comments newest first, one level of replies
// oldest first, and each comment's Reply / Edit / Delete controls with their inline forms.
// Comment bodies and author names are user input: they only ever go into text nodes (and the
// timestamp links of timecode.js, built as elements).
import { api } from './api.js';
import { userHref } from './cards.js';
import { checkBody, submitOnCtrlEnter } from './comment-composer.js';
import { el, nodes } from './dom.js';
import { formatDate, timeAgo } from './format.js';
import { formatStartTime, linkTimestamps } from './timecode.js';

const FRESH_MS = 4000; // how long a comment that arrived live stays highlighted

/**
 * A comment as the API sends it.
 * @typedef {{
 *   id: number | string, video_id?: string, parent_id?: number | string | null,
 *   author?: string | { username?: string } | null, body?: string, created_at?: string,
 *   edited_at?: string | null, can_edit?: boolean, can_delete?: boolean, replies?: Comment[],
 * }} Comment
 */

/**
 * One shown comment.
 * @typedef {{
 *   data: Comment, node: HTMLLIElement, parent: Entry | null, head: HTMLDivElement,
 *   bodyNode: HTMLParagraphElement, actions: HTMLDivElement, replies: Set<Entry>,
 *   repliesList: HTMLOListElement | null, replyForm: HTMLFormElement | null,
 *   editing: HTMLFormElement | null,
 * }} Entry
 */

/**
 * The author's username of a comment (a string; tolerates {username}).
 * @param {Comment | null | undefined} c
 * @returns {string | null}
 */
export function authorOf(c) {
  if (!c) return null;
  if (typeof c.author === 'string') return c.author;
  return c.author && typeof c.author.username === 'string' ? c.author.username : null;
}

/**
 * What the thread needs from the comments section.
 * @typedef {object} ThreadContext
 * @property {string} videoId
 * @property {HTMLOListElement} list
 * @property {() => import('./api.js').User | null} me The signed-in user, or null.
 * @property {() => import('./cards.js').Video} video The video (owner, can_edit).
 * @property {() => boolean} canReply
 * @property {() => number | null} maxBody The server's comment length limit, when known.
 * @property {import('./comment-composer.js').WriteFailed} writeFailed
 * @property {(message: string) => void} showError
 * @property {() => void} changed Counts may have changed.
 */

/** @param {ThreadContext} ctx */
export function createThread(ctx) {
  const { list, videoId } = ctx;
  /** id (string) → entry */
  /** @type {Map<string, Entry>} */
  const entries = new Map();
  const counts = {
    total: 0, // top-level comments on the server, as far as known
    deletedTop: 0, // top-level comments removed since the pages were fetched
  };

  // -------------------------------------------------------------------------------------------
  // Permissions: the server's per-viewer flags (can_edit, can_delete on each comment; can_edit
  // on the video: the viewer manages it, as its owner or an admin). Comments pushed over the
  // live socket carry flags computed for nobody, so the viewer's own comments are recognised
  // by their author, and a video manager may delete any comment of the video.

  const isMine = (/** @type {Comment} */ c) => { const me = ctx.me(); return !!me && authorOf(c) === me.username; };
  const canEdit = (/** @type {Comment} */ c) => c.can_edit === true || isMine(c);
  const canDelete = (/** @type {Comment} */ c) => c.can_delete === true || isMine(c) || ctx.video().can_edit === true;

  // -------------------------------------------------------------------------------------------
  // Rendering

  function timeNode(/** @type {string | undefined} */ iso) {
    return el('time', { datetime: iso || '', 'data-ts': iso || '', title: iso ? new Date(iso).toLocaleString() : '', text: timeAgo(iso) });
  }

  /** @param {Entry} entry */
  function fillHead(entry) {
    const c = entry.data;
    const name = authorOf(c);
    const owner = ctx.video().owner;
    entry.head.replaceChildren(...nodes(
      name ? el('a', { class: 'comment-author', href: userHref(name), text: name }) : el('span', { class: 'comment-author muted', text: 'Deleted account' }),
      owner && name === owner ? el('span', { class: 'badge badge-owner', text: 'Uploader' }) : null,
      timeNode(c.created_at),
      c.edited_at ? el('span', { class: 'comment-edited muted', title: `Edited ${formatDate(c.edited_at)}`, text: '(edited)' }) : null));
  }

  /**
   * @param {string} role
   * @param {string} text
   * @param {() => void} onClick
   */
  function actionButton(role, text, onClick) {
    const b = el('button', { type: 'button', class: 'link-button comment-action', 'data-role': role, text });
    b.addEventListener('click', onClick);
    return b;
  }

  /** @param {Entry} entry */
  function fillActions(entry) {
    const c = entry.data;
    const thread = entry.parent || entry;
    entry.actions.replaceChildren(...nodes(
      ctx.canReply() ? actionButton('reply', 'Reply', () => openReply(thread, entry.parent ? authorOf(c) : null)) : null,
      canEdit(c) ? actionButton('edit', 'Edit', () => startEdit(entry)) : null,
      canDelete(c) ? actionButton('delete', 'Delete', () => removeComment(entry)) : null));
    entry.actions.hidden = Boolean(entry.editing) || !entry.actions.firstChild;
  }

  /** @type {WeakMap<HTMLElement, string>} body node → the text it shows */
  const shownText = new WeakMap();

  /**
   * A comment's text, its timestamps ("1:23") links that seek the player (watch.js handles
   * their clicks; the href opens the video there in a new tab or without scripts).
   * @param {HTMLElement} node
   * @param {string} text
   */
  function fillBody(node, text) {
    const duration = Number(ctx.video().duration);
    node.replaceChildren(...linkTimestamps(text, {
      hrefFor: (seconds) => `/watch/${encodeURIComponent(videoId)}?t=${formatStartTime(seconds)}`,
      duration: Number.isFinite(duration) && duration > 0 ? duration : null,
    }));
    shownText.set(node, text);
  }

  /** @param {Entry} entry */
  function fill(entry) {
    fillHead(entry);
    const text = String(entry.data.body ?? '');
    if (shownText.get(entry.bodyNode) !== text) fillBody(entry.bodyNode, text);
    fillActions(entry);
  }

  /**
   * @param {Comment} c
   * @param {Entry | null} parent
   * @returns {Entry}
   */
  function makeEntry(c, parent) {
    const key = String(c.id);
    const node = el('li', { class: parent ? 'comment reply' : 'comment', id: `comment-${key}`, 'data-id': key });
    /** @type {Entry} */
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

  /** @param {Entry} entry */
  function flash(entry) {
    entry.node.classList.add('fresh');
    setTimeout(() => entry.node.classList.remove('fresh'), FRESH_MS);
  }

  /**
   * Adds or updates a comment (and, for a top-level one from a page, its replies).
   * `where`: 'top' (a new comment: first in the list) or 'end' (a page of older ones).
   * @param {Comment} c
   * @param {{ where?: 'top' | 'end', live?: boolean }} [options]
   * @returns {Entry | null}
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
        counts.total += 1;
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

  /** @param {number | string} key */
  function removeEntry(key) {
    const entry = entries.get(String(key));
    if (!entry) return;
    entry.node.remove();
    entries.delete(String(key));
    if (entry.parent) {
      entry.parent.replies.delete(entry);
    } else {
      for (const r of entry.replies) entries.delete(String(r.data.id));
      counts.total = Math.max(0, counts.total - 1);
      counts.deletedTop += 1;
    }
    ctx.changed();
  }

  // -------------------------------------------------------------------------------------------
  // Replying, editing, deleting

  /** @param {Entry} thread */
  function closeReply(thread) {
    if (!thread.replyForm) return;
    thread.replyForm.remove();
    thread.replyForm = null;
  }

  /**
   * A small inline form (reply, edit): a textarea, a status line, Cancel and a submit button.
   * `onCancel` runs on Cancel and on Escape (`escapeWhenEmpty`: only while the text is empty).
   * @param {{ formClass: string, area: HTMLTextAreaElement, submitRole: string, submitText: string, onCancel: () => void, escapeWhenEmpty?: boolean }} options
   */
  function inlineForm({ formClass, area, submitRole, submitText, onCancel, escapeWhenEmpty = false }) {
    const status = el('span', { class: 'row-status', role: 'status', 'aria-live': 'polite' });
    const submit = el('button', { type: 'submit', class: 'small-button', 'data-role': submitRole, text: submitText });
    const cancel = el('button', { type: 'button', class: 'secondary small-button', text: 'Cancel' });
    const formNode = el('form', { class: formClass, novalidate: true }, area, el('div', { class: 'comment-form-row' }, status, cancel, submit));
    const show = (/** @type {string} */ text, kind = 'error') => {
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

  /**
   * @param {Entry} thread
   * @param {string | null} mention
   */
  function openReply(thread, mention) {
    if (!ctx.canReply()) return;
    if (!thread.replyForm) {
      const max = ctx.maxBody();
      const area = el('textarea', { class: 'reply-body', maxlength: max ? String(max) : null, rows: '2', placeholder: 'Write a reply…', 'aria-label': `Reply to ${authorOf(thread.data) || 'this comment'}` });
      const { formNode, submit: send, show } = inlineForm({
        formClass: 'reply-form', area, submitRole: 'send-reply', submitText: 'Reply',
        onCancel: () => closeReply(thread), escapeWhenEmpty: true,
      });
      formNode.addEventListener('submit', async (event) => {
        event.preventDefault();
        const body = area.value.trim();
        const problem = checkBody(body, ctx.maxBody());
        if (problem) {
          show(problem);
          area.focus();
          return;
        }
        send.disabled = true;
        show('Posting…', '');
        try {
          const c = await api('POST', `/api/videos/${encodeURIComponent(videoId)}/comments`, { body, parent_id: thread.data.id });
          const entry = upsert({ ...c, parent_id: c.parent_id ?? thread.data.id }, { where: 'end' });
          if (entry) flash(entry);
          closeReply(thread);
        } catch (err) {
          ctx.writeFailed(err, (m) => show(m), send);
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

  /** @param {Entry} entry */
  function stopEdit(entry) {
    if (!entry.editing) return;
    entry.editing.remove();
    entry.editing = null;
    entry.bodyNode.hidden = false;
    fillActions(entry);
  }

  /** @param {Entry} entry */
  function startEdit(entry) {
    if (entry.editing) return;
    const max = ctx.maxBody();
    const area = el('textarea', { class: 'comment-edit', maxlength: max ? String(max) : null, rows: '3', 'aria-label': 'Edit your comment' });
    area.value = String(entry.data.body ?? '');
    const { formNode, submit: save, show } = inlineForm({
      formClass: 'edit-form', area, submitRole: 'save-edit', submitText: 'Save', onCancel: () => stopEdit(entry),
    });
    formNode.addEventListener('submit', async (event) => {
      event.preventDefault();
      const body = area.value.trim();
      const problem = checkBody(body, ctx.maxBody());
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
        ctx.writeFailed(err, (m) => show(m), save);
        if (err.status !== 429) save.disabled = false;
      }
    });
    entry.editing = formNode;
    entry.bodyNode.hidden = true;
    entry.bodyNode.after(formNode);
    fillActions(entry);
    area.focus();
  }

  /** @param {Entry} entry */
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
      ctx.showError(`Could not delete the comment: ${err.message}`);
    }
  }

  // Relative times ("5 min ago") age while the page is open.
  setInterval(() => {
    const times = /** @type {NodeListOf<HTMLTimeElement>} */ (list.querySelectorAll('time[data-ts]'));
    for (const t of times) t.textContent = timeAgo(t.dataset.ts);
  }, 60_000);

  return {
    entries,
    counts,
    upsert,
    removeEntry,
    flash,
    /** Every comment's head again (the video's owner may have changed). */
    refreshHeads() {
      for (const entry of entries.values()) fillHead(entry);
    },
    /** Every comment's buttons again (the viewer or the comment setting changed). */
    refreshActions() {
      for (const entry of entries.values()) {
        fillActions(entry);
        if (!ctx.canReply() && entry.replyForm) closeReply(entry);
      }
    },
  };
}
