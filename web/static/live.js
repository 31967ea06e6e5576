// @ts-check
// The watch page's live connection: one WebSocket to /api/videos/{id}/live per page, shared by
// whoever wants its news (comments, transcoding progress, viewer count). Messages are JSON text
// frames dispatched by their `type` field to the subscribers of that type; the socket reconnects
// with backoff, and stays closed after a policy-violation close (1008: this viewer may no
// longer watch the video).
import { currentUser } from './api.js';

const BACKOFF_MIN_MS = 1000;
const BACKOFF_MAX_MS = 30_000;
const STABLE_MS = 20_000; // a socket open this long resets the backoff
const POLICY_VIOLATION = 1008;

/**
 * A message from the server: `{"type": "comment.created", …}`.
 * @typedef {{ type: string, [field: string]: any }} LiveMessage
 */

/**
 * 'connecting', 'open', 'closed' (just closed, or closed for good after 1008) or 'waiting'
 * (a reconnect is scheduled). `reopened`: an 'open' after an earlier one (news may have been
 * missed meanwhile).
 * @typedef {'connecting' | 'open' | 'closed' | 'waiting'} LiveState
 * @typedef {(state: LiveState, info: { reopened: boolean, code?: number }) => void} StateListener
 */

/**
 * @typedef {object} LiveChannel
 * @property {(type: string, handler: (msg: LiveMessage) => void) => () => void} on
 *   Calls `handler` with every message of that `type`; returns the unsubscribe function.
 * @property {(listener: StateListener) => () => void} onState
 *   Calls `listener` on every state change; returns the unsubscribe function.
 * @property {() => void} start Connects (once; later calls do nothing while connected).
 * @property {() => void} stop Closes the socket and stays closed (until start is called again).
 * @property {() => LiveState} state
 */

/** @type {Map<string, LiveChannel>} */
const channels = new Map();

/**
 * The live channel of a video: the same one for every caller on this page.
 * @param {string} videoId
 * @returns {LiveChannel}
 */
export function liveChannel(videoId) {
  let channel = channels.get(videoId);
  if (!channel) {
    channel = createChannel(`/api/videos/${encodeURIComponent(videoId)}/live`);
    channels.set(videoId, channel);
  }
  return channel;
}

/**
 * @param {string} path
 * @returns {LiveChannel}
 */
function createChannel(path) {
  const url = `${location.protocol === 'https:' ? 'wss:' : 'ws:'}//${location.host}${path}`;
  /** @type {Map<string, Set<(msg: LiveMessage) => void>>} */
  const handlers = new Map();
  /** @type {Set<StateListener>} */
  const stateListeners = new Set();
  /** @type {WebSocket | null} */
  let socket = null;
  /** @type {LiveState} */
  let current = 'closed';
  let attempt = 0;
  let openedAt = 0;
  let everOpened = false;
  /** @type {ReturnType<typeof setTimeout> | undefined} */
  let retryTimer;
  let started = false;
  let stopped = false;

  /**
   * @param {LiveState} state
   * @param {{ reopened?: boolean, code?: number }} [info]
   */
  function setState(state, info = {}) {
    current = state;
    for (const listener of [...stateListeners]) listener(state, { reopened: false, ...info });
  }

  /** @param {LiveMessage} msg */
  function dispatch(msg) {
    const set = handlers.get(msg.type);
    if (!set) return; // unknown types are for newer pages
    for (const handler of [...set]) handler(msg);
  }

  function connect() {
    clearTimeout(retryTimer);
    if (stopped || (socket && socket.readyState <= WebSocket.OPEN)) return;
    setState('connecting');
    /** @type {WebSocket} */
    let ws;
    try {
      ws = new WebSocket(url);
    } catch {
      scheduleReconnect();
      return;
    }
    socket = ws;
    ws.addEventListener('open', () => {
      if (socket !== ws) return;
      openedAt = Date.now();
      const reopened = everOpened;
      everOpened = true;
      setState('open', { reopened });
    });
    ws.addEventListener('message', (e) => {
      if (socket !== ws || typeof e.data !== 'string') return;
      let msg;
      try {
        msg = JSON.parse(e.data);
      } catch {
        return;
      }
      if (msg && typeof msg === 'object' && typeof msg.type === 'string') dispatch(msg);
    });
    ws.addEventListener('close', (e) => {
      if (socket !== ws) return;
      socket = null;
      // 1008: the server closed it because this viewer may no longer watch the video (made
      // private, or deleted); reconnecting would only be refused.
      if (e.code === POLICY_VIOLATION) stopped = true;
      setState('closed', { code: e.code });
      if (!stopped) scheduleReconnect();
    });
  }

  function scheduleReconnect() {
    clearTimeout(retryTimer);
    if (openedAt && Date.now() - openedAt > STABLE_MS) attempt = 0;
    openedAt = 0;
    const delay = Math.min(BACKOFF_MAX_MS, BACKOFF_MIN_MS * 2 ** attempt);
    attempt += 1;
    setState('waiting');
    retryTimer = setTimeout(async () => {
      // A refused handshake may be a lapsed access cookie (a private video then "does not
      // exist"): a signed-in viewer renews the session before trying again.
      if (attempt > 1) {
        const user = await currentUser().catch(() => null);
        if (user) await currentUser({ reload: true }).catch(() => null);
      }
      connect();
    }, delay * (0.75 + Math.random() * 0.5));
  }

  window.addEventListener('online', () => {
    if (!started) return;
    attempt = 0;
    if (!socket) connect();
  });
  // Leaving the page closes the socket (so that the page can enter the back/forward cache);
  // coming back from that cache reconnects, and subscribers catch up on the 'open' (reopened).
  window.addEventListener('pagehide', () => {
    if (!started) return;
    stopped = true;
    clearTimeout(retryTimer);
    if (socket) socket.close(1000);
    socket = null;
  });
  window.addEventListener('pageshow', (e) => {
    if (!e.persisted || !started) return;
    stopped = false;
    attempt = 0;
    connect();
  });

  return {
    on(type, handler) {
      let set = handlers.get(type);
      if (!set) {
        set = new Set();
        handlers.set(type, set);
      }
      set.add(handler);
      return () => {
        set.delete(handler);
      };
    },
    onState(listener) {
      stateListeners.add(listener);
      return () => {
        stateListeners.delete(listener);
      };
    },
    start() {
      if (!started) {
        started = true;
        stopped = false;
        attempt = 0;
      }
      connect();
    },
    stop() {
      started = false;
      stopped = true;
      clearTimeout(retryTimer);
      const ws = socket;
      socket = null;
      if (ws) ws.close(1000);
      if (current !== 'closed') setState('closed');
    },
    state: () => current,
  };
}
