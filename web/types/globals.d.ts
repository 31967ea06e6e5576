// Globals of Kino's pages that no module declares. Type declarations live here, outside
// web/static/ (every file there is served at /assets/NAME).

/** hls.js, loaded by a classic <script src="/assets/hls.min.js"> on the watch page. */
type HlsClass = typeof import('hls.js').default;

interface Window {
  /** hls.js (watch page only; absent when its script did not load). */
  Hls?: HlsClass;
  /** The watch page's player state, for tests and debugging (see player.js). */
  kinoPlayer?: KinoPlayer;
  /** The watch page's progress/views/transcoding statistics, for tests and debugging. */
  kinoWatch?: Record<string, any>;
}

/** What player.js exposes as window.kinoPlayer. */
interface KinoPlayer {
  hls: InstanceType<HlsClass> | null;
  video: HTMLVideoElement;
  fatalErrors: Array<{ type: string; details: string; reason: string | null }>;
  playback: { url?: string; poster_url?: string; expires_at?: string } | null;
  renewals: Array<{ at: string; position: number; reason: string }>;
  wasPlaying?: boolean;
}
