// One time-to-playable case (bench/time-to-playable.sh): uploads FILE to a running Kino over tus
// (POST /api/uploads, then PATCHes of --chunk-mib), takes t0 = the moment the last PATCH body
// has been handed to the kernel (the last upload byte), then measures from t0, polling every
// 100 ms:
//   master_200   GET /hls/{id}/master.m3u8 answers 200 (the video is uploaded public, so the
//                URL is known from the start and needs no grant)
//   playable_api GET /api/videos/{id} says `playable: true` (a missing field counts as false)
//                or `status: "ready"`
//   first_frame  hls.js (web/node_modules/hls.js) in headless Chromium presents its first
//                frame (requestVideoFrameCallback; `timeupdate` with currentTime > 0 as a
//                fallback), muted autoplay, retrying the load every 100 ms until it works
//   ready        GET /api/videos/{id} says `status: "ready"` (the whole ladder)
// Prints one JSON line on stdout (with `error` when something failed); progress on stderr.

import { createRequire } from 'node:module';
import { createReadStream, statSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, basename, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import http from 'node:http';

// Chromium and its flags: the browser tests' own.
import { CHROMIUM, CHROMIUM_ARGS } from '../../tests/browser/common.mjs';

const HERE = dirname(fileURLToPath(import.meta.url));
const REPO = resolve(HERE, '../..');
const require = createRequire(join(REPO, 'tests/browser/package.json'));
const { chromium } = require('playwright-core');
const HLS_JS = join(REPO, 'web/node_modules/hls.js/dist/hls.min.js');
const HLS_VERSION = require(join(REPO, 'web/node_modules/hls.js/package.json')).version;
const POLL_MS = 100;

const args = {};
for (let i = 2; i < process.argv.length; i += 2) args[process.argv[i].replace(/^--/, '')] = process.argv[i + 1];
const base = args.base;
const token = args.token;
const file = args.file;
const timeoutMs = Number(args.timeout || 600) * 1000;
const chunkBytes = Number(args['chunk-mib'] || 50) * 1024 * 1024;

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const log = (m) => process.stderr.write(`[ttp] ${args.case}: ${m}\n`);
const secs = (t, t0) => (t == null ? null : Math.round((t - t0)) / 1000);

const result = {
  case: args.case,
  codec: args.codec,
  source_secs: Number(args.seconds),
  source_height: Number(args.height || 1080),
  source_bytes: statSync(file).size,
  source_file: basename(file),
  upload: 'tus',
  t0: 'last upload byte sent (final PATCH body flushed to the socket)',
  upload_secs: null,
  final_patch_answer_secs: null,
  master_200_secs: null,
  playable_api_secs: null,
  first_frame_secs: null,
  ready_secs: null,
  status_at_first_frame: null,
  variants_at_first_frame: null,
  renditions_at_ready: null,
  hls_js: HLS_VERSION,
  chromium: null,
  kino: args.version || null,
  binary: args.binary || null,
  at: new Date().toISOString(),
  error: null,
};

/** One HTTP request; `body` is a function (req) => void that writes and ends it. */
function request(method, url, headers, body) {
  return new Promise((resolveReq, reject) => {
    const req = http.request(url, { method, headers }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolveReq({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks).toString(), sentAt: req.sentAt }));
    });
    req.on('error', reject);
    req.on('finish', () => { req.sentAt = Date.now(); });
    if (body) body(req);
    else req.end();
  });
}

const auth = { Authorization: `Bearer ${token}` };
const b64 = (s) => Buffer.from(s).toString('base64');

async function upload() {
  const size = result.source_bytes;
  const meta = [
    ['filename', basename(file)],
    ['title', `time-to-playable ${args.case}`],
    ['privacy', 'public'],
  ].map(([k, v]) => `${k} ${b64(v)}`).join(',');
  const created = await request('POST', `${base}/api/uploads`, {
    ...auth, 'Tus-Resumable': '1.0.0', 'Upload-Length': String(size), 'Upload-Metadata': meta, 'Content-Length': '0',
  });
  if (created.status !== 201) throw new Error(`POST /api/uploads: ${created.status} ${created.body}`);
  const id = created.headers['kino-video-id'];
  const location = new URL(created.headers.location, base).href;
  const started = Date.now();
  let offset = 0;
  let last;
  while (offset < size) {
    const end = Math.min(offset + chunkBytes, size);
    last = await request('PATCH', location, {
      ...auth, 'Tus-Resumable': '1.0.0', 'Upload-Offset': String(offset),
      'Content-Type': 'application/offset+octet-stream', 'Content-Length': String(end - offset),
    }, (req) => createReadStream(file, { start: offset, end: end - 1 }).pipe(req));
    if (last.status !== 204) throw new Error(`PATCH at ${offset}: ${last.status} ${last.body}`);
    offset = Number(last.headers['upload-offset']);
  }
  return { id, started, t0: last.sentAt, answered: Date.now() };
}

const PAGE = `<!doctype html><meta charset="utf-8"><title>ttp</title>
<video id="v" muted autoplay playsinline width="640" height="360"></video>
<script src="/__ttp/hls.min.js"></script>
<script>
window.ttp = { frameAt: null, timeupdateAt: null, attempts: 0, variants: null, errors: [] };
window.ttpStart = (src) => {
  const v = document.getElementById('v');
  v.muted = true;
  const noRetry = { default: { maxTimeToFirstByteMs: 10000, maxLoadTimeMs: 20000, timeoutRetry: null, errorRetry: null } };
  const seen = () => { if (window.ttp.variants == null && window.ttp.hls) window.ttp.variants = window.ttp.hls.levels.length; };
  if (v.requestVideoFrameCallback) v.requestVideoFrameCallback(() => { window.ttp.frameAt = Date.now(); seen(); });
  v.addEventListener('timeupdate', () => { if (v.currentTime > 0 && window.ttp.timeupdateAt == null) { window.ttp.timeupdateAt = Date.now(); seen(); } });
  const attempt = () => {
    if (window.ttp.frameAt != null || window.ttp.timeupdateAt != null) return;
    window.ttp.attempts++;
    const hls = new Hls({ manifestLoadPolicy: noRetry });
    window.ttp.hls = hls;
    hls.on(Hls.Events.ERROR, (_e, d) => {
      if (!d.fatal) return;
      if (window.ttp.errors.length < 5 || d.details !== 'manifestLoadError') window.ttp.errors.push(d.details + (d.response ? ' ' + d.response.code : ''));
      if (window.ttp.errors.length > 50) window.ttp.errors.splice(5, 1);
      hls.destroy();
      setTimeout(attempt, ${POLL_MS});
    });
    hls.on(Hls.Events.MANIFEST_PARSED, () => { v.play().catch(() => {}); });
    hls.loadSource(src);
    hls.attachMedia(v);
  };
  attempt();
};
</script>`;

async function main() {
  const deadline = Date.now() + timeoutMs;
  const profile = mkdtempSync(join(tmpdir(), 'kino-ttp-'));
  let context;
  try {
    context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM, args: CHROMIUM_ARGS, headless: true,
    });
    result.chromium = context.browser() ? context.browser().version() : null;
    const page = context.pages()[0] || (await context.newPage());
    // The test page lives at Kino's own origin (no CORS, no CSP of Kino's pages in the way).
    await page.route(`${base}/__ttp/`, (route) => route.fulfill({ contentType: 'text/html', body: PAGE }));
    await page.route(`${base}/__ttp/hls.min.js`, (route) => route.fulfill({ contentType: 'text/javascript', path: HLS_JS }));
    await page.goto(`${base}/__ttp/`);

    const up = await upload();
    const t0 = up.t0;
    result.id = up.id;
    result.upload_secs = secs(t0, up.started);
    result.final_patch_answer_secs = secs(up.answered, t0);
    log(`uploaded in ${result.upload_secs} s as ${up.id}; final PATCH answered ${result.final_patch_answer_secs} s after the last byte`);

    const master = `${base}/hls/${up.id}/master.m3u8`;
    await page.evaluate((src) => window.ttpStart(src), master);

    let frameAt = null;
    let readyAt = null;
    let lastStatus = null;
    while (Date.now() < deadline) {
      const tick = Date.now();
      if (result.master_200_secs == null) {
        const r = await fetch(master, { cache: 'no-store' }).catch(() => null);
        if (r) {
          await r.arrayBuffer();
          if (r.status === 200) result.master_200_secs = secs(Date.now(), t0);
        }
      }
      if (readyAt == null) {
        const r = await fetch(`${base}/api/videos/${up.id}`, { headers: auth });
        const v = await r.json();
        const now = Date.now();
        if (v.status !== lastStatus) log(`status ${v.status}${v.playable ? ' (playable)' : ''} at ${secs(now, t0)} s`);
        lastStatus = v.status;
        if (v.status === 'failed') throw new Error(`the video failed: ${v.error}`);
        if (result.playable_api_secs == null && (v.playable === true || v.status === 'ready')) {
          result.playable_api_secs = secs(now, t0);
          log(`API says playable at ${result.playable_api_secs} s`);
        }
        if (v.status === 'ready') {
          readyAt = now;
          result.ready_secs = secs(now, t0);
          result.renditions_at_ready = (v.renditions || []).map((x) => x.name).join(' ');
        }
      }
      if (frameAt == null) {
        const s = await page.evaluate(() => ({ frameAt: window.ttp.frameAt, timeupdateAt: window.ttp.timeupdateAt, variants: window.ttp.variants }));
        const at = [s.frameAt, s.timeupdateAt].filter((x) => x != null);
        if (at.length) {
          frameAt = Math.min(...at);
          result.first_frame_secs = secs(frameAt, t0);
          result.variants_at_first_frame = s.variants;
          result.status_at_first_frame = readyAt != null && readyAt <= frameAt ? 'ready' : lastStatus;
          log(`first frame at ${result.first_frame_secs} s (${s.variants} variants in the playlist)`);
          await page.goto('about:blank'); // stop decoding: the transcode keeps the CPU
        }
      }
      if (readyAt != null && frameAt != null && result.master_200_secs != null) break;
      // The player gets 60 s past `ready` at most.
      if (readyAt != null && Date.now() - readyAt > 60_000) break;
      await sleep(Math.max(0, POLL_MS - (Date.now() - tick)));
    }
    const missing = ['master_200_secs', 'first_frame_secs', 'ready_secs'].filter((k) => result[k] == null);
    if (missing.length) {
      const errors = await page.evaluate(() => (window.ttp ? window.ttp.errors : [])).catch(() => []);
      result.error = `not reached within the limit: ${missing.join(', ')}${errors.length ? `; hls.js: ${errors.slice(-5).join(', ')}` : ''}`;
    }
  } catch (e) {
    result.error = String(e && e.message ? e.message : e);
  } finally {
    if (context) await context.close().catch(() => {});
    rmSync(profile, { recursive: true, force: true });
  }
  if (result.error) log(`error: ${result.error}`);
  process.stdout.write(`${JSON.stringify(result)}\n`);
  process.exit(result.error ? 1 : 0);
}

main();
