// @ts-check
// The Go live page (/live): a signed-in uploader creates a live stream (title, description, tags,
// privacy) and gets the RTMP server and stream key for OBS (stream-key.js). The page then follows
// the broadcast over the stream's live channel and GET /api/videos/{id}: Starting soon, LIVE
// (with its viewers), Ended, and at last its replay. `?id=ID` picks one of the user's live
// streams, listed beside (GET /api/me/videos): after a reload its key can only be replaced.
// While live, the ingest's `live.health` figures show under the state (ingest-health.js).
import { api, currentUser, getJSON, signInHref } from './api.js';
import { privacyBadge, statusBadge } from './cards.js';
import { applyMaxLength, limitsNow, loadConfig } from './config.js';
import { el } from './dom.js';
import { initHeader } from './header.js';
import { createIngestHealth } from './ingest-health.js';
import { isLiveStream, liveBadge, liveStateOf } from './live-status.js';
import { liveChannel } from './live.js';
import { createKeyBox, recommendedKeyframeSecs } from './stream-key.js';
import { parseTags } from './tags.js';

/** @typedef {import('./cards.js').Video} Video */
/** @typedef {import('./stream-key.js').StreamKeyView} StreamKeyView */

const POLL_MS = 5000; // the stream's state while its live channel is not open
const SLOW_POLL_MS = 20_000; // …and while it is: its events do the work
const MY_VIDEOS = 100;

const PRIVACY_HINTS = {
  public: 'Listed under “Live now” and in the library for everyone.',
  unlisted: 'Not listed: anyone with the link can watch.',
  private: 'Only you (and admins) can watch.',
};

const $ = (/** @type {string} */ id) => document.getElementById(id);
const page = $('live-page');
const pageError = $('live-error');
const form = /** @type {HTMLFormElement} */ ($('live-form'));
const fields = /** @type {HTMLFieldSetElement} */ ($('live-fields'));
const titleInput = /** @type {HTMLInputElement} */ ($('live-title'));
const descriptionInput = /** @type {HTMLTextAreaElement} */ ($('live-description'));
const tagsInput = /** @type {HTMLInputElement} */ ($('live-tags'));
const privacyInput = /** @type {HTMLSelectElement} */ ($('live-privacy'));
const createStatus = $('create-status');
const streamPanel = $('stream');
const note = $('stream-note');
const myList = $('my-streams');

/**
 * The stream this page follows: its id, what GET said last, its live channel (and how to stop
 * listening to it), the reason of the latest `live.state`, and whether it was seen live (then a
 * `ready` answer is its replay).
 */
const followed = {
  /** @type {string | null} */ id: null,
  /** @type {Video | null} */ video: null,
  /** @type {import('./live.js').LiveChannel | null} */ channel: null,
  /** @type {Array<() => void>} */ unsubscribe: [],
  /** @type {string | null} */ reason: null,
  wasLive: false,
  /** @type {ReturnType<typeof setTimeout> | undefined} */ timer: undefined,
  looks: 0,
};

const keyBox = createKeyBox({ onReplaced: () => refresh() });
const health = createIngestHealth({ recommendedKeyframeSecs });

/** @param {string} id */
const streamHref = (id) => `${location.pathname}?id=${encodeURIComponent(id)}`;

/**
 * @param {string} kind
 * @param {string} text
 */
function setCreateStatus(kind, text) {
  createStatus.className = `form-status${kind ? ` ${kind}` : ''}`;
  createStatus.textContent = text;
}

/** Signed out (or the session ended): a "Sign in to go live" notice instead of the page. */
function showSignedOut() {
  page.hidden = true;
  /** @type {HTMLAnchorElement} */ ($('signin-to-live')).href = signInHref();
  $('signin-required').hidden = false;
}

// ---------------------------------------------------------------------------------------------
// The followed stream: its state, viewers and what to do now.

/**
 * "3 viewers" on the watch page (this page's own live connection is not one).
 * @param {number} count sockets open on the stream, this page's included while connected
 */
function showViewers(count) {
  const own = followed.channel && followed.channel.state() === 'open' ? 1 : 0;
  const n = Math.max(0, (Number(count) || 0) - own);
  const node = $('stream-viewers');
  node.textContent = `${n.toLocaleString()} viewer${n === 1 ? '' : 's'}`;
  node.dataset.count = String(n);
}

/**
 * What the streamer should know now, by state.
 * @param {Video} v
 * @returns {Array<Node | string>}
 */
function noteFor(v) {
  const state = liveStateOf(v);
  const reason = followed.reason ? ` (${followed.reason})` : '';
  const latency = v.live && Number(v.live.latency_hint_secs) > 0 ? Math.round(Number(v.live.latency_hint_secs)) : null;
  if (state === 'idle') {
    return [followed.reason
      ? `Nothing usable arrived${reason}. Check the OBS settings below and start streaming again.`
      : 'Waiting for your broadcast: start streaming in OBS with the server and key below. This page says LIVE within seconds.'];
  }
  if (state === 'live' && !v.playable) return ['Receiving your broadcast: its first seconds are being packaged…'];
  if (state === 'live') return [`You are live${latency ? `: viewers see you about ${latency} s later` : ''}.`];
  if (state === 'ended') {
    return [`Your broadcast stopped${reason}. If OBS reconnects soon it goes on; otherwise it becomes a video.`];
  }
  return ['The broadcast is over and is now a video: ',
    el('a', { id: 'replay-link', href: `/watch/${encodeURIComponent(v.id)}`, text: 'watch the replay' }), '.'];
}

/**
 * Shows the followed stream as GET /api/videos/{id} describes it.
 * @param {Video} v
 */
function render(v) {
  const live = isLiveStream(v);
  if (live) followed.wasLive = true;
  if (!live && !(followed.wasLive || (v.status === 'ready' && !(Number(v.source_bytes) > 0)))) {
    streamPanel.hidden = true;
    health.setLive(false);
    pageError.textContent = 'That video is not a live stream: pick one of yours, or create one.';
    pageError.hidden = false;
    return;
  }
  const before = followed.video ? liveStateOf(followed.video) || followed.video.status : null;
  followed.video = v;
  const state = liveStateOf(v) || v.status;
  $('stream-title').textContent = v.title || 'Untitled';
  const privacy = privacyBadge(v);
  $('stream-state').replaceChildren(live ? liveBadge(state) : statusBadge(v), ...(privacy ? [' ', privacy] : []));
  streamPanel.dataset.state = state;
  note.dataset.state = state;
  note.replaceChildren(...noteFor(v));
  health.setLive(state === 'live');
  const viewers = $('stream-viewers');
  viewers.hidden = !live;
  if (live) showViewers(v.live ? Number(v.live.viewers) : 0);
  const started = v.live && v.live.started_at ? new Date(v.live.started_at) : null;
  const startedNode = $('stream-started');
  startedNode.textContent = started && !Number.isNaN(started.getTime())
    ? `Started at ${started.toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit' })}`
    : '';
  startedNode.hidden = !startedNode.textContent;
  keyBox.setUsable(live, v.live ? Number(v.live.latency_hint_secs) : null);
  if (before !== null && before !== state) listMine(); // the list's badges follow
}

/** GET the followed stream and show it; again in a while (sooner while the channel is down). */
async function refresh() {
  clearTimeout(followed.timer);
  const id = followed.id;
  if (!id) return;
  const look = ++followed.looks;
  try {
    const v = await getJSON(`/api/videos/${encodeURIComponent(id)}`);
    if (look !== followed.looks || id !== followed.id) return;
    pageError.hidden = true;
    render(v);
  } catch (err) {
    if (look !== followed.looks || id !== followed.id) return;
    if (err.status === 404) {
      if (followed.channel) followed.channel.stop(); // its socket would be refused as well
      streamPanel.hidden = true;
      health.setLive(false);
      pageError.textContent = 'This live stream does not exist (any more), or it is not yours to see.';
      pageError.hidden = false;
      return;
    }
    note.textContent = `Could not check the stream: ${err.message} Trying again…`;
  }
  const open = followed.channel && followed.channel.state() === 'open';
  followed.timer = setTimeout(refresh, open ? SLOW_POLL_MS : POLL_MS);
}

/**
 * Follows stream `id` (one at a time): its panel, its key when this page has it, its live
 * channel (live.state, live.health, video.playable, video.ready, viewers).
 * @param {string} id
 * @param {StreamKeyView | null} view
 */
function follow(id, view) {
  if (followed.id !== id) {
    for (const off of followed.unsubscribe) off();
    if (followed.channel) followed.channel.stop();
    Object.assign(followed, { id, video: null, channel: null, unsubscribe: [], reason: null, wasLive: false });
    health.reset();
    const channel = liveChannel(id);
    followed.channel = channel;
    followed.unsubscribe = [
      channel.on('live.state', (msg) => {
        followed.reason = typeof msg.reason === 'string' && msg.reason ? msg.reason : null;
        refresh();
      }),
      channel.on('video.playable', () => refresh()),
      channel.on('video.ready', () => refresh()),
      channel.on('live.health', (msg) => health.update(msg)),
      channel.on('viewers', (msg) => {
        if (Number.isFinite(msg.count)) showViewers(msg.count);
      }),
      channel.onState((state) => {
        if (state === 'open') refresh(); // news may have been missed meanwhile
      }),
    ];
    channel.start();
  }
  pageError.hidden = true;
  streamPanel.hidden = false;
  /** @type {HTMLAnchorElement} */ ($('stream-watch')).href = `/watch/${encodeURIComponent(id)}`;
  keyBox.setStream(id, view);
  for (const a of myList.querySelectorAll('a[data-id]')) {
    if (/** @type {HTMLElement} */ (a).dataset.id === id) a.setAttribute('aria-current', 'true');
    else a.removeAttribute('aria-current');
  }
  refresh();
}

// ---------------------------------------------------------------------------------------------
// The user's live streams, and making a new one.

/** Lists the user's live streams not yet replayed (GET /api/me/videos), newest first. */
async function listMine() {
  const error = $('my-streams-error');
  let body;
  try {
    body = await getJSON(`/api/me/videos?page=1&per_page=${MY_VIDEOS}`);
  } catch (err) {
    if (err.status === 401) {
      showSignedOut();
      return;
    }
    error.textContent = `Could not list your live streams: ${err.message}`;
    error.hidden = false;
    return;
  }
  error.hidden = true;
  /** @type {Video[]} */
  const streams = (Array.isArray(body && body.videos) ? body.videos : []).filter(isLiveStream);
  myList.replaceChildren(...streams.map((v) => el('li', {},
    el('a', { href: streamHref(v.id), 'data-id': v.id, 'aria-current': v.id === followed.id ? 'true' : null },
      liveBadge(liveStateOf(v) || 'idle'),
      el('span', { class: 'stream-title', text: v.title || 'Untitled', title: v.title || 'Untitled' })))));
  $('my-streams-empty').hidden = streams.length > 0;
}

function showPrivacyHint() {
  $('live-privacy-hint').textContent = PRIVACY_HINTS[privacyInput.value] || '';
}

form.addEventListener('submit', async (event) => {
  event.preventDefault();
  const title = titleInput.value.trim();
  if (!title) {
    setCreateStatus('error', 'Give the live stream a title.');
    titleInput.focus();
    return;
  }
  const parsed = parseTags(tagsInput.value, limitsNow());
  if (parsed.error !== undefined) {
    setCreateStatus('error', parsed.error);
    tagsInput.focus();
    return;
  }
  /** @type {Record<string, unknown>} */
  const body = { title, privacy: privacyInput.value };
  if (descriptionInput.value.trim()) body.description = descriptionInput.value;
  if (parsed.tags.length) body.tags = parsed.tags;
  fields.disabled = true;
  setCreateStatus('', 'Creating…');
  try {
    /** @type {StreamKeyView} */
    const view = await api('POST', '/api/live', body);
    form.reset();
    showPrivacyHint();
    setCreateStatus('ok', 'Created: its server address and stream key for OBS are above.');
    history.replaceState(null, '', streamHref(view.id));
    follow(view.id, view);
    listMine();
    streamPanel.scrollIntoView({ block: 'start', behavior: 'smooth' });
  } catch (err) {
    if (err.status === 401) showSignedOut();
    else setCreateStatus('error', `Could not create the live stream: ${err.message}`);
  } finally {
    fields.disabled = false;
  }
});
privacyInput.addEventListener('change', showPrivacyHint);
showPrivacyHint();

loadConfig().then((config) => {
  if (!config) return;
  const { limits } = config;
  applyMaxLength(titleInput, limits.title_chars);
  applyMaxLength(descriptionInput, limits.description_chars);
  if (limits.max_tags && limits.tag_chars) {
    $('live-tags-hint').textContent = `Comma-separated, at most ${limits.max_tags}, each up to ${limits.tag_chars} characters.`;
  }
});

initHeader();
currentUser().then((user) => {
  if (!user) {
    showSignedOut();
    return;
  }
  if (!user.can_upload) {
    $('live-role-note').hidden = false;
    return;
  }
  page.hidden = false;
  listMine();
  const id = new URLSearchParams(location.search).get('id');
  if (id) follow(id, null);
}, (err) => {
  pageError.textContent = `Could not reach the server: ${err.message}`;
  pageError.hidden = false;
});
