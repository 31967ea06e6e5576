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

/**
 * uPlot (its IIFE bundle), loaded by a classic <script src="/assets/uPlot.iife.min.js"> on the
 * Analytics page; the types are the package's own (web/node_modules/uplot/dist/uPlot.d.ts).
 */
type UPlotClass = typeof import('uplot');
type UPlotOptions = import('uplot').Options;

interface Window {
  /** hls.js (watch page only; absent when its script did not load). */
  Hls?: HlsClass;
  /** tus-js-client (upload page only; absent when its script did not load). */
  tus?: TusModule;
  /** The watch page's player state, for tests and debugging (see player.js). */
  kinoPlayer?: KinoPlayer;
  /** The watch page's progress/views/transcoding statistics, for tests and debugging. */
  kinoWatch?: Record<string, any>;
  /** uPlot (Analytics page only; absent when its script did not load). */
  uPlot?: UPlotClass;
  /** The player's QoE beacons (qoe.js), for tests and debugging. */
  kinoQoe?: KinoQoe;
  /** The player's controls (player-ui.js: Media Chrome), for tests and debugging. */
  kinoPlayerUi?: import('../static/player-ui.js').PlayerUi;
}

/** What qoe.js exposes as window.kinoQoe (and startQoe returns). */
interface KinoQoe {
  /** The view's id (UUID v4); a page restored from the back/forward cache has a new one. */
  readonly viewId: string;
  /** The events the server accepted (or the browser took with sendBeacon), in sending order. */
  sent: Array<{ view_id: string; video_id: string; seq: number; t: number; type: string; [field: string]: unknown }>;
  /** The page's own measurements: startupMs, ms from the play request to the first frame. */
  measured: { startupMs: number | null };
  /** Reports the watch time and dropped frames so far and sends everything queued. */
  flush(): Promise<void>;
  /** Requests made, events rejected or dropped, the latest HTTP status and error. */
  stats: { requests: number; rejected: number; dropped: number; lastStatus: number | null; lastError: string | null };
  /** Ends the view (as when the page goes away) and stops reporting. */
  end(): void;
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
