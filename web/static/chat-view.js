// @ts-check
// The chat panel's message list: one row per message (time, author, text and, for moderators,
// Delete / Time out / Ban), kept scrolled to the newest unless the reader scrolled up (then a
// "New messages" button takes them down). Live, a row shows the clock time it was sent at; in
// the replay, the video time. Message text and names are user input: textContent only.
import { userHref } from './cards.js';
import { el } from './dom.js';
import { formatDuration } from './format.js';

/**
 * A chat message as GET /api/videos/{id}/chat lists it.
 * @typedef {{ id: number, author: string, body: string, offset_secs: number, created_at: string }} ChatMessage
 */

/**
 * What moderators can do to a message's author; each resolves when done (or failed).
 * @typedef {object} ChatActions
 * @property {() => boolean} canModerate
 * @property {(author: string) => boolean} mayKeepOut Time-outs and bans (not the owner, not oneself).
 * @property {(msg: ChatMessage) => Promise<void>} remove
 * @property {(msg: ChatMessage, minutes: number | null) => Promise<void>} keepOut null: ban.
 */

/** Most rows in the list; older ones leave from the top. */
export const MAX_ROWS = 300;
const NEAR_BOTTOM_PX = 48;
const TIME_OUT_MINUTES = 10;

/**
 * Orders messages as they were sent: broadcast time, then id.
 * @param {ChatMessage} a
 * @param {ChatMessage} b
 */
export function bySent(a, b) {
  return a.offset_secs - b.offset_secs || a.id - b.id;
}

/**
 * "14:03" (live) or the video time "1:02:03" (replay).
 * @param {ChatMessage} msg
 * @param {'live' | 'replay'} mode
 */
function timeLabel(msg, mode) {
  if (mode === 'replay') return formatDuration(msg.offset_secs);
  const d = new Date(msg.created_at);
  return Number.isNaN(d.getTime()) ? '' : d.toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit' });
}

/**
 * The list of the chat panel (#chat-list, with #chat-jump and #chat-empty).
 * @param {{ actions: ChatActions }} options
 */
export function createChatList({ actions }) {
  const list = /** @type {HTMLOListElement} */ (document.getElementById('chat-list'));
  const jump = /** @type {HTMLButtonElement} */ (document.getElementById('chat-jump'));
  const empty = document.getElementById('chat-empty');
  /** @type {Map<number, { msg: ChatMessage, row: HTMLLIElement }>} */
  const rows = new Map();
  /** @type {'live' | 'replay'} */
  let mode = 'live';

  const nearBottom = () => list.scrollHeight - list.scrollTop - list.clientHeight < NEAR_BOTTOM_PX;
  const toBottom = () => {
    list.scrollTop = list.scrollHeight;
    jump.hidden = true;
  };
  list.addEventListener('scroll', () => {
    if (nearBottom()) jump.hidden = true;
  });
  jump.addEventListener('click', toBottom);

  /**
   * @param {string} text
   * @param {string} label
   * @param {() => Promise<void>} act
   */
  function actionButton(text, label, act) {
    const button = el('button', { type: 'button', class: 'chat-action', text, 'aria-label': label, title: label });
    button.addEventListener('click', async () => {
      button.disabled = true;
      try {
        await act();
      } finally {
        button.disabled = false;
      }
    });
    return button;
  }

  /** @param {ChatMessage} msg */
  function moderation(msg) {
    if (!actions.canModerate()) return null;
    const who = msg.author;
    return el('span', { class: 'chat-actions' },
      actionButton('Delete', `Delete this message by ${who}`, () => actions.remove(msg)),
      actions.mayKeepOut(who) ? actionButton('Time out', `Keep ${who} out of this chat for ${TIME_OUT_MINUTES} minutes`, () => actions.keepOut(msg, TIME_OUT_MINUTES)) : null,
      actions.mayKeepOut(who) ? actionButton('Ban', `Ban ${who} from this chat`, () => actions.keepOut(msg, null)) : null);
  }

  /** @param {ChatMessage} msg */
  function makeRow(msg) {
    const row = el('li', { class: 'chat-message', id: `chat-${msg.id}`, 'data-id': String(msg.id), 'data-author': msg.author },
      el('span', { class: 'chat-time', text: timeLabel(msg, mode) }),
      el('a', { class: 'chat-author', href: userHref(msg.author), text: msg.author }),
      el('span', { class: 'chat-body', text: msg.body }),
      moderation(msg));
    rows.set(msg.id, { msg, row });
    return row;
  }

  /** Drops the oldest rows past MAX_ROWS. */
  function trim() {
    while (rows.size > MAX_ROWS && list.firstElementChild) {
      const first = /** @type {HTMLElement} */ (list.firstElementChild);
      rows.delete(Number(first.dataset.id));
      first.remove();
    }
  }

  /** After adding rows: follow them when the reader was at the bottom, else offer to. */
  function settle(/** @type {boolean} */ wasNear) {
    trim();
    empty.hidden = rows.size > 0;
    if (wasNear) toBottom();
    else jump.hidden = false;
  }

  return {
    /**
     * Shows exactly `messages` (in the order sent), scrolled to the newest.
     * @param {ChatMessage[]} messages
     */
    show(messages) {
      rows.clear();
      list.replaceChildren(...messages.slice(-MAX_ROWS).map(makeRow));
      settle(true);
    },

    /**
     * Adds a message where it belongs in the order sent (usually last); no duplicates.
     * @param {ChatMessage} msg
     */
    add(msg) {
      if (rows.has(msg.id)) return;
      const wasNear = nearBottom();
      const row = makeRow(msg);
      let before = null;
      for (let node = list.lastElementChild; node; node = node.previousElementSibling) {
        const entry = rows.get(Number(/** @type {HTMLElement} */ (node).dataset.id));
        if (!entry || bySent(entry.msg, msg) <= 0) break;
        before = node;
      }
      list.insertBefore(row, before);
      settle(wasNear);
    },

    /** Scrolls to the newest message (after one's own). */
    toEnd() {
      toBottom();
    },

    /**
     * Removes message `id` (deleted by a moderator); false when it is not shown.
     * @param {number} id
     */
    remove(id) {
      const entry = rows.get(id);
      if (!entry) return false;
      entry.row.remove();
      rows.delete(id);
      empty.hidden = rows.size > 0;
      return true;
    },

    /**
     * 'live' (clock times) or 'replay' (video times): relabels the rows.
     * @param {'live' | 'replay'} next
     */
    setMode(next) {
      mode = next;
      for (const { msg, row } of rows.values()) row.querySelector('.chat-time').textContent = timeLabel(msg, mode);
    },

    /** The moderation buttons follow canModerate() again (after the viewer changed). */
    refreshActions() {
      for (const { msg, row } of rows.values()) {
        const old = row.querySelector('.chat-actions');
        const fresh = moderation(msg);
        if (old) old.remove();
        if (fresh) row.append(fresh);
      }
    },
  };
}
