// @ts-check
// The chat beside a live stream on the watch page (GET/POST /api/videos/{id}/chat). Live: the
// messages as they are sent (the page's live channel brings `chat.message` and `chat.deleted`),
// a composer for signed-in viewers while the chat is open (else the reason it is not), and
// Delete / Time out / Ban for the stream's owner and admins. Once the stream is its replay:
// "Chat replay", each message appearing when the video reaches the time it was sent at (and
// leaving again when the video seeks back before it). The list itself is chat-view.js.
import { api, getJSON, signInHref } from './api.js';
import { MAX_ROWS, bySent, createChatList } from './chat-view.js';
import { el } from './dom.js';

/** @typedef {import('./chat-view.js').ChatMessage} ChatMessage */

const PAGE = 500; // messages per GET (the server's most)
const MAX_PAGES = 20; // a chat longer than this many pages is shown up to there
const STATUS_MS = 4000; // how long a moderation note stays

const $ = (/** @type {string} */ id) => document.getElementById(id);

/**
 * A server sentence ("the message is empty") as a sentence ("The message is empty.").
 * @param {string} text
 */
function sentence(text) {
  const t = String(text || '').trim();
  if (!t) return '';
  return `${t[0].toUpperCase()}${t.slice(1)}${/[.!?]$/.test(t) ? '' : '.'}`;
}

/**
 * Shows the chat panel of a live stream (or of the replay of one). Resolves to its control, or
 * to null when the video has no chat (GET answers 404: it never was a live stream). Call before
 * the live channel starts, so that no message falls between the first GET and the channel.
 * @param {{
 *   videoId: string,
 *   video: HTMLVideoElement,
 *   user: import('./api.js').User | null,
 *   owner: string | null,
 *   live: import('./live.js').LiveChannel,
 *   replay: boolean,
 * }} options
 * @returns {Promise<{ toReplay: () => void, setUser: (user: import('./api.js').User | null) => void } | null>}
 */
export async function initChat({ videoId, video, user, owner, live, replay }) {
  const base = `/api/videos/${encodeURIComponent(videoId)}/chat`;
  const panel = $('chat');
  const heading = $('chat-heading');
  const form = /** @type {HTMLFormElement} */ ($('chat-form'));
  const input = /** @type {HTMLInputElement} */ ($('chat-body'));
  const send = /** @type {HTMLButtonElement} */ ($('chat-send'));
  const closed = $('chat-closed');
  const status = $('chat-status');
  const modStatus = $('chat-mod-status');
  const errorNode = $('chat-error');

  let me = user;
  let isReplay = replay;
  let open = false;
  let canModerate = false;
  /** Why posting failed for good (banned meanwhile), shown instead of the composer. */
  let refusal = '';
  /** @type {ChatMessage[]} every message known, in the order sent */
  const messages = [];
  const known = new Set();
  let shown = 0; // replay: messages[0..shown) are due (sent before the video's time)
  let loaded = false;
  /** @type {ReturnType<typeof setTimeout> | undefined} */
  let modTimer;
  /** @type {ReturnType<typeof setInterval> | undefined} */
  let cooldown;

  const view = createChatList({
    actions: {
      canModerate: () => canModerate,
      // Not the owner, not oneself, and not once the chat is closed (the replay): only Delete.
      mayKeepOut: (author) => !isReplay && author !== owner && !(me && me.username === author),
      remove: (msg) => moderate(() => api('DELETE', `${base}/${encodeURIComponent(String(msg.id))}`), () => {
        forget(msg.id);
        return 'Message deleted.';
      }),
      keepOut: (msg, minutes) => moderate(
        () => api('POST', `${base}/bans`, minutes === null ? { user: msg.author } : { user: msg.author, minutes }),
        () => (minutes === null ? `${msg.author} is banned from this chat.` : `${msg.author} is timed out for ${minutes} minutes.`)),
    },
  });

  /**
   * Runs a moderation request and says how it went under the list.
   * @param {() => Promise<any>} request
   * @param {() => string} done
   */
  async function moderate(request, done) {
    try {
      await request();
      showModStatus('ok', done());
    } catch (err) {
      showModStatus('error', sentence(err.message));
    }
  }

  /**
   * @param {string} kind
   * @param {string} text
   */
  function showModStatus(kind, text) {
    clearTimeout(modTimer);
    modStatus.className = `chat-mod-status small${kind ? ` ${kind}` : ''}`;
    modStatus.textContent = text;
    modTimer = setTimeout(() => {
      modStatus.textContent = '';
    }, STATUS_MS);
  }

  /**
   * @param {string} kind
   * @param {string} text
   */
  function setStatus(kind, text) {
    status.className = `form-status${kind ? ` ${kind}` : ''}`;
    status.textContent = text;
  }

  /** The composer, or why there is none: signed out, the replay, kept out. */
  function showComposer() {
    heading.textContent = isReplay ? 'Chat replay' : 'Live chat';
    panel.dataset.mode = isReplay ? 'replay' : 'live';
    /** @type {Array<Node | string>} */
    let reason = [];
    if (isReplay) reason = ['The broadcast is over: its chat is closed. Comments stay open below.'];
    else if (!me) reason = [el('a', { id: 'chat-signin', href: signInHref(), text: 'Sign in' }), ' to chat.'];
    else if (refusal) reason = [refusal];
    else if (!open) reason = ['The stream\u2019s moderators have kept you out of this chat for now.'];
    const usable = reason.length === 0;
    input.disabled = !usable;
    send.disabled = !usable || cooldown !== undefined;
    form.classList.toggle('disabled', !usable);
    closed.replaceChildren(...reason);
    closed.hidden = usable;
    panel.dataset.open = String(usable);
  }

  /** GET every message from the start (page after page). */
  async function fetchAll() {
    /** @type {Map<number, ChatMessage>} */
    const all = new Map();
    let from = 0;
    let body = null;
    for (let page = 0; page < MAX_PAGES; page += 1) {
      body = await getJSON(`${base}?from_secs=${from}&limit=${PAGE}`);
      const batch = Array.isArray(body && body.messages) ? body.messages : [];
      for (const m of batch) all.set(m.id, m);
      if (batch.length < PAGE) break;
      const last = Number(batch[batch.length - 1].offset_secs);
      if (!(last > from)) break; // a page of one instant: no way further
      from = last;
    }
    open = Boolean(body && body.open === true);
    canModerate = Boolean(body && body.can_moderate === true);
    return [...all.values()];
  }

  /**
   * Replaces what is known with `list` (plus what arrived meanwhile) and shows it.
   * @param {ChatMessage[]} list
   */
  function adopt(list) {
    for (const m of list) {
      if (!known.has(m.id)) {
        known.add(m.id);
        messages.push(m);
      }
    }
    messages.sort(bySent);
    loaded = true;
    view.setMode(isReplay ? 'replay' : 'live');
    if (isReplay) {
      shown = -1; // redraw
      syncReplay();
    } else {
      view.show(messages);
    }
    view.refreshActions();
    showComposer();
  }

  /** (Re)reads the chat; a failure is said in the panel. */
  async function reload() {
    try {
      const list = await fetchAll();
      errorNode.hidden = true;
      adopt(list);
    } catch (err) {
      errorNode.textContent = `Could not load the chat: ${err.message}`;
      errorNode.hidden = false;
    }
  }

  /** @param {ChatMessage} msg */
  function receive(msg) {
    if (!msg || typeof msg.id !== 'number' || known.has(msg.id)) return;
    known.add(msg.id);
    messages.push(msg);
    if (messages.length > 1 && bySent(messages[messages.length - 2], msg) > 0) messages.sort(bySent);
    if (!loaded) return; // shown with the first GET's answer
    if (isReplay) syncReplay();
    else view.add(msg);
  }

  /** @param {number} id */
  function forget(id) {
    const index = messages.findIndex((m) => m.id === id);
    if (index >= 0) {
      messages.splice(index, 1);
      if (index < shown) shown -= 1;
    }
    view.remove(id);
  }

  /** Replay: shows the messages sent before the video's time (and only those). */
  function syncReplay() {
    if (!isReplay || !loaded) return;
    const t = video.currentTime;
    let due = 0; // messages[0..due) were sent at or before t
    let lo = 0;
    let hi = messages.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (messages[mid].offset_secs <= t) lo = mid + 1;
      else hi = mid;
    }
    due = lo;
    if (due === shown) return;
    if (shown >= 0 && due > shown && due - shown <= MAX_ROWS) {
      for (const m of messages.slice(shown, due)) view.add(m);
    } else {
      view.show(messages.slice(Math.max(0, due - MAX_ROWS), due));
    }
    shown = due;
    panel.dataset.shown = String(due);
  }

  /** 429: the send button waits out Retry-After. */
  function coolDown(/** @type {number | null} */ seconds) {
    clearInterval(cooldown);
    let left = Number.isFinite(seconds) && seconds > 0 ? Math.ceil(seconds) : 10;
    cooldown = setInterval(() => {
      left -= 1;
      if (left > 0) return;
      clearInterval(cooldown);
      cooldown = undefined;
      setStatus('', '');
      showComposer();
    }, 1000);
    showComposer();
  }

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const body = input.value.trim();
    if (!body || input.disabled) return;
    send.disabled = true;
    try {
      const msg = await api('POST', base, { body });
      input.value = '';
      setStatus('', '');
      receive(msg); // the same message may come over the live channel too: shown once
      view.toEnd();
    } catch (err) {
      if (err.status === 401) {
        me = null;
        setStatus('error', 'Your session has ended: sign in again to chat.');
      } else if (err.status === 403) {
        refusal = sentence(err.message);
        setStatus('', '');
      } else if (err.status === 409) {
        setStatus('error', sentence(err.message));
        open = false;
      } else if (err.status === 429) {
        setStatus('error', sentence(err.message));
        coolDown(err.retryAfter);
        return;
      } else {
        setStatus('error', sentence(err.message));
      }
    }
    showComposer();
    if (!input.disabled) input.focus();
  });

  // Subscribed before the first GET: what arrives meanwhile is merged into its answer.
  live.on('chat.message', (msg) => receive(msg.message));
  live.on('chat.deleted', (msg) => forget(Number(msg.id)));
  live.onState((state, { reopened }) => {
    if (state === 'open' && reopened && loaded) reload(); // messages may have been missed
  });
  for (const type of ['timeupdate', 'seeked', 'seeking', 'emptied']) video.addEventListener(type, syncReplay);

  let first;
  try {
    first = await fetchAll();
  } catch (err) {
    if (err.status === 404) return null;
    first = [];
    errorNode.textContent = `Could not load the chat: ${err.message}`;
    errorNode.hidden = false;
  }
  panel.hidden = false;
  panel.closest('.watch').classList.add('with-chat');
  adopt(first);

  return {
    /** The stream became its replay: "Chat replay", in sync with the video. */
    toReplay() {
      if (isReplay) return;
      isReplay = true;
      open = false;
      clearInterval(cooldown);
      cooldown = undefined;
      setStatus('', '');
      reload();
    },
    /** The viewer changed (signed in meanwhile): the composer and moderation follow. */
    setUser(next) {
      me = next;
      refusal = '';
      reload();
    },
  };
}
