// Globals of Kino's pages that no module declares. Type declarations live here, outside
// web/static/ (every file there is served at /assets/NAME).

/** hls.js, loaded by a classic <script src="/assets/hls.min.js"> on the watch page. */
type HlsClass = typeof import('hls.js').default;

/**
 * tus-js-client (its UMD bundle), loaded by a classic <script src="/assets/tus.min.js"> on the
 * upload page; the types are the package's own (web/node_modules/tus-js-client/lib/index.d.ts).
 */
type TusModule = typeof import('tus-js-client');
type TusUpload = import('tus-js-client').Upload;
type TusUploadOptions = import('tus-js-client').UploadOptions;
type TusPreviousUpload = import('tus-js-client').PreviousUpload;
type TusHttpStack = import('tus-js-client').HttpStack;
type TusHttpRequest = import('tus-js-client').HttpRequest;
type TusHttpResponse = import('tus-js-client').HttpResponse;
type TusDetailedError = import('tus-js-client').DetailedError;

interface Window {
  /** hls.js (watch page only; absent when its script did not load). */
  Hls?: HlsClass;
  /** tus-js-client (upload page only; absent when its script did not load). */
  tus?: TusModule;
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
  /** Sources loaded in place of the first (the full ladder replacing the first rendition). */
  reloads: Array<{ at: string; position: number; wasPlaying: boolean; url: string }>;
  /** True while a reloaded source has not yet come back to where playback was. */
  reloading: boolean;
  wasPlaying?: boolean;
}
