// @ts-check
// Sending QoE beacons (docs/qoe.md) to POST /api/qoe/beacons: a queue of events, posted in
// batches of at most 200 events and 60,000 bytes, with fetch(…, {keepalive: true}) while the page
// lives and navigator.sendBeacon (a text/plain string) when it goes away. A batch that could not
// be delivered (no network, 5xx, 429) goes back to the front of the queue for the next send (the
// server ignores an event whose seq it already stored); after a 429 or 503 nothing is fetched
// before its Retry-After. A 400 names the first invalid event ("event 3: …", its index in the
// batch): that event is dropped and the rest sent again (the server stores nothing of a rejected
// batch).

export const BEACON_URL = '/api/qoe/beacons';
const MAX_BATCH_EVENTS = 200; // the server's limit per request
const MAX_BATCH_BYTES = 60_000; // under the server's 64 KiB and the browser's 64 KiB keepalive quota
const MAX_QUEUED = 2000; // events waiting; past this new ones are dropped (the server is unreachable)
const DEFAULT_HOLD_MS = 30_000; // after a 429/503 without Retry-After, or a 5xx
const MAX_REJECTION_ROUNDS = 3; // 400 answers per batch before the whole batch is dropped

/**
 * One beacon event: the common fields (view_id, video_id, seq, t, type) and its type's fields.
 * @typedef {{ view_id: string, video_id: string, seq: number, t: number, type: string, [field: string]: unknown }} QoeEvent
 */

/**
 * What the sender did, for tests and debugging.
 * @typedef {object} SenderStats
 * @property {number} requests POSTs made (fetch and sendBeacon)
 * @property {number} rejected events the server refused (400) and that were dropped
 * @property {number} dropped events dropped because the queue was full or a batch unsendable
 * @property {number | null} lastStatus HTTP status of the latest fetch (0: no answer)
 * @property {string | null} lastError the latest error message of the server
 */

/**
 * Splits events into batches within the request limits, each with its JSON body.
 * @param {QoeEvent[]} events
 * @returns {Array<{ events: QoeEvent[], body: string }>}
 */
function toBatches(events) {
  const batches = [];
  /** @type {QoeEvent[]} */
  let current = [];
  /** @type {string[]} */
  let parts = [];
  let bytes = 2; // "[" and "]"
  for (const event of events) {
    const json = JSON.stringify(event);
    const size = new Blob([json]).size + 1; // its bytes and a comma
    if (current.length && (current.length >= MAX_BATCH_EVENTS || bytes + size > MAX_BATCH_BYTES)) {
      batches.push({ events: current, body: `[${parts.join(',')}]` });
      current = [];
      parts = [];
      bytes = 2;
    }
    current.push(event);
    parts.push(json);
    bytes += size;
  }
  if (current.length) batches.push({ events: current, body: `[${parts.join(',')}]` });
  return batches;
}

/**
 * Milliseconds of a Retry-After header (delta-seconds or HTTP date), or `fallback`.
 * @param {string | null} value
 * @param {number} fallback
 */
function retryAfterMs(value, fallback) {
  if (!value) return fallback;
  if (/^\s*\d+\s*$/.test(value)) return Number(value) * 1000;
  const at = Date.parse(value);
  return Number.isNaN(at) ? fallback : Math.max(0, at - Date.now());
}

/**
 * A beacon sender.
 * @param {object} [options]
 * @param {string} [options.url] where to POST (default /api/qoe/beacons)
 * @param {(events: QoeEvent[]) => void} [options.onSent] called with the events of each batch the
 *   server accepted (or the browser queued with sendBeacon)
 */
export function createSender({ url = BEACON_URL, onSent = () => {} } = {}) {
  /** @type {QoeEvent[]} */
  let queue = [];
  /** @type {Promise<void>} */
  let sending = Promise.resolve();
  let holdUntil = 0; // Date.now() ms before which nothing is fetched (after 429/503)
  let stopped = false; // 404: analytics are off on this server (or the video is gone)
  /** @type {SenderStats} */
  const stats = { requests: 0, rejected: 0, dropped: 0, lastStatus: null, lastError: null };

  /**
   * POSTs one batch; resolves to the events to send again later ([] when done with them).
   * @param {QoeEvent[]} events
   * @param {string} body
   * @returns {Promise<QoeEvent[]>}
   */
  async function post(events, body) {
    for (let round = 0; events.length && !stopped; round += 1) {
      let res;
      stats.requests += 1;
      try {
        res = await fetch(url, {
          method: 'POST',
          keepalive: true,
          credentials: 'same-origin',
          headers: { 'Content-Type': 'application/json' },
          body,
        });
      } catch {
        stats.lastStatus = 0;
        return events; // no answer: try again at the next send
      }
      stats.lastStatus = res.status;
      const text = await res.text().catch(() => '');
      if (res.ok) {
        onSent(events);
        return [];
      }
      let message = '';
      try {
        message = String(JSON.parse(text).error || '');
      } catch {
        message = text.slice(0, 200);
      }
      stats.lastError = message || `HTTP ${res.status}`;
      if (res.status === 429 || res.status === 503 || res.status >= 500) {
        holdUntil = Date.now() + retryAfterMs(res.headers.get('Retry-After'), DEFAULT_HOLD_MS);
        return events;
      }
      if (res.status === 404) {
        // analytics.enabled is off, or the video was deleted: nothing more to send.
        stopped = true;
        queue = [];
        stats.dropped += events.length;
        return [];
      }
      const bad = res.status === 400 ? /^event (\d+)\b/.exec(message) : null;
      const index = bad ? Number(bad[1]) : -1;
      if (index < 0 || index >= events.length || round + 1 >= MAX_REJECTION_ROUNDS) {
        // Nothing can be resent as it is (413, another 4xx, or no event named): give the batch up.
        stats.dropped += events.length;
        console.warn(`QoE beacons dropped (HTTP ${res.status}): ${stats.lastError}`);
        return [];
      }
      console.warn(`QoE beacon dropped: ${message}`);
      stats.rejected += 1;
      events = events.filter((_, i) => i !== index);
      body = JSON.stringify(events);
    }
    return [];
  }

  return {
    stats,

    /** Events waiting to be sent. */
    get queued() {
      return queue.length;
    },

    /**
     * Queues an event; false when the queue is full (the event is dropped).
     * @param {QoeEvent} event
     */
    push(event) {
      if (queue.length >= MAX_QUEUED) {
        stats.dropped += 1;
        return false;
      }
      queue.push(event);
      return true;
    },

    /**
     * Sends the queued events with fetch (one send at a time; a later call waits for the one
     * before). Resolves when done; failed batches are queued again.
     * @returns {Promise<void>}
     */
    send() {
      sending = sending.then(async () => {
        if (!queue.length || Date.now() < holdUntil) return;
        const events = queue;
        queue = [];
        const batches = toBatches(events);
        for (let i = 0; i < batches.length; i += 1) {
          const back = await post(batches[i].events, batches[i].body);
          if (back.length) {
            // Keep the order: what failed and the batches after it, then what came meanwhile.
            queue = [...back, ...batches.slice(i + 1).flatMap((b) => b.events), ...queue];
            return;
          }
        }
      }).catch(() => {});
      return sending;
    },

    /**
     * The page is going away: hands every queued event to navigator.sendBeacon (a text/plain
     * string body), falling back to a keepalive fetch when the browser refuses one.
     */
    sendNow() {
      if (stopped) return;
      const events = queue;
      queue = [];
      for (const { events: batch, body } of toBatches(events)) {
        stats.requests += 1;
        let queued = false;
        try {
          queued = typeof navigator.sendBeacon === 'function' && navigator.sendBeacon(url, body);
        } catch {
          queued = false;
        }
        if (queued) {
          onSent(batch);
          continue;
        }
        try {
          fetch(url, { method: 'POST', keepalive: true, credentials: 'same-origin', headers: { 'Content-Type': 'text/plain' }, body })
            .then((res) => {
              if (res.ok) onSent(batch);
            }, () => {});
        } catch {
          stats.dropped += batch.length; // over the keepalive quota: lost
        }
      }
    },
  };
}
