// @ts-check
// The watch page's live-stream parts around the player: the "waiting for the broadcast" overlay
// (idle streams), the "Go to live edge" button with how far behind the edge playback is, the note
// while a stopped broadcast waits for a reconnect or its replay, and starting playback by itself
// (muted when the browser refuses sound without a click).
import { liveBadge } from './live-status.js';

const TICK_MS = 1000; // the latency readout
const BEHIND_S = 2; // further than this from the live edge (past hls.js's own distance): "behind"

/** @type {Record<string, { title: string, text: string }>} */
const WAITING = {
  idle: {
    title: 'Waiting for the broadcast',
    text: 'It plays here as soon as it starts.',
  },
  live: {
    title: 'The broadcast is starting',
    text: 'Its first seconds are on their way.',
  },
  ended: {
    title: 'The broadcast has stopped',
    text: 'It goes on here if the streamer reconnects; otherwise its replay follows.',
  },
};

/**
 * The live parts of the watch page. `player()` is the page's player (null before it starts).
 * @param {{ video: HTMLVideoElement, player: () => import('./player.js').PlayerControl | null }} options
 */
export function createLiveBar({ video, player }) {
  const waiting = document.getElementById('live-waiting');
  const waitingBadge = document.getElementById('live-waiting-badge');
  const waitingTitle = document.getElementById('live-waiting-title');
  const waitingText = document.getElementById('live-waiting-text');
  const edgeButton = /** @type {HTMLButtonElement} */ (document.getElementById('live-edge'));
  const latencyNode = document.getElementById('live-latency');
  const note = document.getElementById('live-note');
  /** @type {ReturnType<typeof setInterval> | undefined} */
  let ticker;
  let following = false;
  let mutedNote = false;

  /** How far behind the live edge playback is: the button's look and the readout. */
  function tick() {
    const control = player();
    const edge = control ? control.liveEdge() : null;
    const latency = control ? control.latency() : null;
    const behind = edge !== null && edge - video.currentTime > BEHIND_S;
    edgeButton.dataset.behind = String(behind);
    edgeButton.title = behind ? 'Jump to the newest part of the broadcast' : 'Playing at the live edge';
    latencyNode.textContent = latency !== null && !video.paused ? `${latency.toFixed(1)} s behind live` : '';
    latencyNode.hidden = !latencyNode.textContent;
  }

  for (const type of ['seeked', 'pause', 'playing']) {
    video.addEventListener(type, () => {
      if (following) tick();
    });
  }

  edgeButton.addEventListener('click', () => {
    const control = player();
    const edge = control ? control.liveEdge() : null;
    if (edge !== null) video.currentTime = edge;
    if (video.paused) video.play().catch(() => {});
    tick();
  });

  /** @param {string} text */
  function showNote(text) {
    note.textContent = text;
    note.hidden = !text;
  }

  return {
    /**
     * Nothing to play yet (idle, or live before its first segments): the waiting overlay.
     * @param {'idle' | 'live' | 'ended'} state
     */
    showWaiting(state) {
      const words = WAITING[state] || WAITING.idle;
      waitingBadge.replaceChildren(liveBadge(state));
      waitingTitle.textContent = words.title;
      waitingText.textContent = words.text;
      waiting.hidden = false;
      waiting.dataset.state = state;
    },

    hideWaiting() {
      waiting.hidden = true;
    },

    /**
     * Playing a live stream in `state` (live, or ended while a reconnect may come): the live
     * edge button and readout, and a note once the broadcast stopped.
     * @param {'idle' | 'live' | 'ended'} state
     */
    follow(state) {
      following = true;
      edgeButton.hidden = false;
      if (ticker === undefined) ticker = setInterval(tick, TICK_MS);
      tick();
      if (state === 'ended') showNote(`${WAITING.ended.title}. ${WAITING.ended.text}`);
      else if (!mutedNote) showNote('');
    },

    /** The stream is over (its replay plays, or nothing does): no live controls any more. */
    stop() {
      following = false;
      clearInterval(ticker);
      ticker = undefined;
      edgeButton.hidden = true;
      latencyNode.hidden = true;
      mutedNote = false;
      showNote('');
    },

    /** Starts playback once there is something to play (muted if sound needs a click first). */
    autoplay() {
      const start = () => {
        video.play().catch((err) => {
          if (!err || err.name !== 'NotAllowedError' || video.muted) return;
          video.muted = true;
          video.play().then(() => {
            if (!following) return;
            mutedNote = true;
            showNote('Playing without sound: unmute it with the player\u2019s controls.');
            video.addEventListener('volumechange', () => {
              if (video.muted) return;
              mutedNote = false;
              if (note.textContent.startsWith('Playing without sound')) showNote('');
            });
          }, () => {});
        });
      };
      if (video.readyState >= 3) start();
      else video.addEventListener('canplay', start, { once: true });
    },
  };
}
