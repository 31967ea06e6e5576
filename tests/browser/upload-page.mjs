#!/usr/bin/env node
// Real-browser check of the Upload page's resumable uploads, in Debian's headless Chromium.
//
//   node upload-page.mjs BASE_URL USERNAME PASSWORD FILE
//
// USERNAME may upload (uploader or admin); FILE is a small video (a few MB: the upload is
// throttled to about a sixth of its size per second, so it takes ~6 s or more).
//
// 1. Signs in through /signin and opens /upload.
// 2. Drops FILE onto the upload form by a real drag-and-drop: dragenter, dragover and drop
//    events carrying a DataTransfer built in the page from the file's bytes (a File with the
//    file's name, type and mtime, so that tus-js-client's fingerprint is the same both times).
// 3. Throttles the upload (CDP Network.emulateNetworkConditions), submits, and once the row
//    shows some progress reloads the page mid-upload (the beforeunload prompt is accepted).
// 4. Checks that the server kept some bytes (HEAD /api/uploads/{id}: 0 < Upload-Offset < size).
// 5. Drops the same file again: the row offers to continue the earlier upload ("Continues the
//    upload started …"); submits, unthrottled.
// 6. The row reaches "ready" (data-state="ready", seen through "processing"/"Playable" when the
//    page shows it long enough); GET /api/videos/{id} says ready; the upload resumed rather than
//    started over: one tus creation POST in all, and the first PATCH after the reload had
//    Upload-Offset equal to the server's offset (> 0), no PATCH from offset 0 after the reload.
// Prints a JSON summary on stdout in every case; exits 1 (naming the failed check) on failure.

import { readFileSync, statSync } from 'node:fs';
import { basename } from 'node:path';
import { CheckError, browserVersion, createHarness, pageFetch, sleep } from './common.mjs';

const [baseArg, username, password, filePath] = process.argv.slice(2);
if (!baseArg || !username || !password || !filePath) {
  console.error('usage: node upload-page.mjs BASE_URL USERNAME PASSWORD FILE');
  process.exit(2);
}
const base = baseArg.replace(/\/+$/, '');

const bytes = readFileSync(filePath);
const fileName = basename(filePath);
const fileType = /\.webm$/i.test(fileName) ? 'video/webm' : /\.mov$/i.test(fileName) ? 'video/quicktime' : 'video/mp4';
const lastModified = Math.floor(statSync(filePath).mtimeMs);
const fileB64 = bytes.toString('base64');

// Upload throughput while throttled: the whole file would take ~6 s at least.
const THROTTLE_BPS = Math.max(16 * 1024, Math.floor(bytes.length / 6));
const RELOAD_AT = 0.2; // reload once the row says this share is sent
const STEP_TIMEOUT_MS = 30_000;
const PROGRESS_TIMEOUT_MS = 60_000;
const READY_TIMEOUT_MS = 240_000;
const OVERALL_TIMEOUT_MS = 420_000;

const summary = { ok: false, base, file: fileName, bytes: bytes.length, throttleBps: THROTTLE_BPS, checks: [], failed: null };
const { check, newBrowser, main } = createHarness({
  summary,
  profilePrefix: 'kino-upload-page',
  overallTimeoutMs: OVERALL_TIMEOUT_MS,
  json: 'pretty',
  okSuffix: `for ${fileName} on ${base}`,
  // The reload mid-upload raises the page's "leave the page?" prompt: leave.
  onDialog: (dialog) => {
    summary.dialogs = [...(summary.dialogs || []), dialog.type()];
    dialog.accept().catch(() => {});
  },
});

/** tus requests seen by the browser, in order: {phase, method, url, offset, status}. */
const tusLog = [];
let phase = 'first'; // 'first' page view, 'second' after the reload

/** The upload row of FILE: its state, playable flag, text, link. */
function rowState(page) {
  return page.evaluate((name) => {
    const rows = [...document.querySelectorAll('#upload-queue li.upload-item')];
    const row = rows.find((r) => {
      const n = r.querySelector('.upload-item-name');
      return n && n.textContent === name;
    });
    if (!row) return { rows: rows.length, found: false };
    const link = row.querySelector('.upload-item-state a[data-id]');
    const bar = row.querySelector('progress');
    return {
      rows: rows.length,
      found: true,
      state: row.dataset.state,
      playable: row.hasAttribute('data-playable'),
      text: row.querySelector('.upload-item-state').textContent,
      bar: bar ? bar.value : null,
      videoId: link ? link.dataset.id : null,
      status: document.getElementById('upload-status').textContent,
    };
  }, fileName);
}

/** Drops FILE onto the upload form: dragenter, dragover, drop with a DataTransfer holding it. */
async function dropFile(page) {
  await page.waitForSelector('#upload-form', { state: 'visible', timeout: STEP_TIMEOUT_MS });
  return page.evaluate(({ b64, name, type, lastModified }) => {
    const raw = atob(b64);
    const buf = new Uint8Array(raw.length);
    for (let i = 0; i < raw.length; i += 1) buf[i] = raw.charCodeAt(i);
    const file = new File([buf], name, { type, lastModified });
    const dt = new DataTransfer();
    dt.items.add(file);
    const form = document.getElementById('upload-form');
    const target = document.getElementById('upload-fields') || form;
    const fire = (kind) => {
      const ev = new DragEvent(kind, { bubbles: true, cancelable: true, composed: true, dataTransfer: dt });
      target.dispatchEvent(ev);
      return ev.defaultPrevented;
    };
    const enter = fire('dragenter');
    const over = fire('dragover');
    const dropActive = form.classList.contains('drop-active');
    const drop = fire('drop');
    return { enterPrevented: enter, overPrevented: over, dropActive, dropPrevented: drop, types: [...dt.types], size: file.size };
  }, { b64: fileB64, name: fileName, type: fileType, lastModified });
}

/**
 * HEAD /api/uploads/{id} with the browser context's cookies (context.request: not one of the
 * page's requests, so it neither shows in the page log nor counts as tus-js-client's): the
 * server's offset.
 */
async function serverOffset(page, uploadUrl) {
  const res = await page.context().request.head(uploadUrl, { headers: { 'Tus-Resumable': '1.0.0' }, timeout: STEP_TIMEOUT_MS });
  const h = res.headers();
  return {
    status: res.status(),
    offset: h['upload-offset'] === undefined ? null : Number(h['upload-offset']),
    length: h['upload-length'] === undefined ? null : Number(h['upload-length']),
  };
}

async function setThrottle(cdp, bps) {
  await cdp.send('Network.emulateNetworkConditions', {
    offline: false,
    latency: 0,
    downloadThroughput: -1,
    uploadThroughput: bps,
  });
}

async function run() {
  const { context, page } = await newBrowser();
  summary.browser = browserVersion(context);

  const entries = new Map(); // request → its tusLog entry
  page.on('request', (req) => {
    const u = req.url();
    if (!u.startsWith(`${base}/api/uploads`)) return;
    const h = req.headers();
    const entry = { phase, method: req.method(), url: u.slice(base.length), offset: h['upload-offset'] !== undefined ? Number(h['upload-offset']) : null };
    entries.set(req, entry);
    tusLog.push(entry);
  });
  page.on('response', (res) => {
    const entry = entries.get(res.request());
    if (!entry) return;
    entry.status = res.status();
    const off = res.headers()['upload-offset'];
    if (off !== undefined) entry.answerOffset = Number(off);
    const loc = res.headers().location;
    if (loc) entry.location = loc;
  });
  page.on('requestfailed', (req) => {
    const entry = entries.get(req);
    if (entry && entry.status === undefined) entry.status = `failed: ${req.failure() && req.failure().errorText}`;
  });

  await check('signs in through /signin', async () => {
    await page.goto(`${base}/signin?next=${encodeURIComponent('/upload')}`, { waitUntil: 'domcontentloaded' });
    await page.fill('#username', username);
    await page.fill('#password', password);
    await Promise.all([
      page.waitForURL((u) => new URL(u).pathname === '/upload', { timeout: STEP_TIMEOUT_MS }).catch(() => null),
      page.click('#signin-button'),
    ]);
    if (new URL(page.url()).pathname !== '/upload') {
      const status = await page.textContent('#form-status').catch(() => null);
      throw new CheckError(`still on ${page.url()} (form status ${JSON.stringify(status)})`);
    }
    const me = await pageFetch(page, '/api/me');
    if (me.status !== 200) throw new CheckError(`GET /api/me answered ${me.status}`);
    const user = (me.body && me.body.user) || me.body || {};
    if (user.can_upload === false) throw new CheckError(`${username} may not upload (role ${user.role})`);
    return { user: user.username || null, role: user.role || null, canUpload: user.can_upload };
  });

  await check('drops the file onto the upload form', async () => {
    const dropped = await dropFile(page);
    if (!dropped.types.includes('Files')) throw new CheckError(`the DataTransfer's types are ${JSON.stringify(dropped.types)}`);
    if (!dropped.dropPrevented) throw new CheckError('the form did not take the drop (drop event not prevented)');
    await page.waitForFunction((name) => [...document.querySelectorAll('#upload-queue li.upload-item .upload-item-name')].some((n) => n.textContent === name), fileName, { timeout: STEP_TIMEOUT_MS });
    const row = await rowState(page);
    if (row.state !== 'queued') throw new CheckError(`the row is ${row.state}: ${row.text}`);
    const title = await page.inputValue('#title');
    return { ...dropped, row, title };
  });

  const cdp = await context.newCDPSession(page);
  await cdp.send('Network.enable');

  const first = await check('throttled upload makes progress, then the page is reloaded mid-upload', async () => {
    await setThrottle(cdp, THROTTLE_BPS);
    await page.click('#upload-button');
    const deadline = Date.now() + PROGRESS_TIMEOUT_MS;
    let row;
    const states = [];
    for (;;) {
      row = await rowState(page);
      if (states[states.length - 1] !== row.state) states.push(row.state);
      if (row.state === 'uploading' && row.bar >= RELOAD_AT * 100) break;
      if (['processing', 'ready', 'failed', 'cancelled', 'stalled'].includes(row.state)) {
        throw new CheckError(`the row went ${row.state} before the reload (throttling ineffective?): ${row.text}`);
      }
      if (Date.now() > deadline) throw new CheckError(`after ${PROGRESS_TIMEOUT_MS / 1000} s the row is ${row.state} at ${row.bar}%: ${row.text}`);
      await sleep(100);
    }
    const creation = tusLog.find((e) => e.method === 'POST');
    if (!creation || !creation.location) throw new CheckError(`no tus creation seen: ${JSON.stringify(tusLog)}`);
    const uploadUrl = new URL(creation.location, `${base}/api/uploads/`).href;
    summary.uploadUrl = uploadUrl;
    const before = await serverOffset(page, uploadUrl).catch((err) => ({ error: String(err) }));
    phase = 'second';
    await page.reload({ waitUntil: 'domcontentloaded' });
    return { rowAtReload: row, states, uploadUrl, headBeforeReload: before };
  });

  const kept = await check('the server kept part of the file', async () => {
    await setThrottle(cdp, -1);
    // The aborted PATCH may take a moment to be written down.
    const deadline = Date.now() + STEP_TIMEOUT_MS;
    let head;
    let lastOffset = -1;
    let stableSince = Date.now();
    for (;;) {
      head = await serverOffset(page, first.uploadUrl);
      if (head.status !== 200) throw new CheckError(`HEAD ${first.uploadUrl} answered ${head.status}`);
      if (head.offset !== lastOffset) {
        lastOffset = head.offset;
        stableSince = Date.now();
      }
      if (head.offset > 0 && Date.now() - stableSince > 1000) break;
      if (Date.now() > deadline) break;
      await sleep(200);
    }
    if (!(head.offset > 0)) throw new CheckError(`the server's offset is ${head.offset} after the reload`);
    if (!(head.offset < bytes.length)) throw new CheckError(`the server already has every byte (${head.offset}): the reload came too late`);
    if (head.length !== null && head.length !== bytes.length) throw new CheckError(`Upload-Length ${head.length}, the file has ${bytes.length}`);
    return { offset: head.offset, length: head.length, share: Math.round((head.offset / bytes.length) * 1000) / 10 };
  });

  await check('the same file dropped again continues the earlier upload', async () => {
    const dropped = await dropFile(page);
    if (!dropped.dropPrevented) throw new CheckError('the form did not take the drop');
    const deadline = Date.now() + STEP_TIMEOUT_MS;
    let row;
    for (;;) {
      row = await rowState(page);
      if (row.found && row.state === 'queued' && /^Continues the upload started/.test(row.text)) break;
      if (Date.now() > deadline) throw new CheckError(`the row does not offer to continue: ${JSON.stringify(row)}`);
      await sleep(100);
    }
    const title = await page.inputValue('#title');
    await page.click('#upload-button');
    return { row, title };
  });

  await check('the row reaches ready after resuming', async () => {
    const deadline = Date.now() + READY_TIMEOUT_MS;
    let row;
    const seen = [];
    let sawPlayable = false;
    let playableText = null;
    for (;;) {
      row = await rowState(page);
      const label = row.playable ? `${row.state}+playable` : row.state;
      if (seen[seen.length - 1] !== label) seen.push(label);
      if (row.playable && !sawPlayable) {
        sawPlayable = true;
        playableText = row.text;
        if (!/^Playable — still encoding \d+%/.test(row.text)) throw new CheckError(`a playable row says ${JSON.stringify(row.text)}`);
      }
      if (row.state === 'ready') break;
      if (['failed', 'cancelled'].includes(row.state)) throw new CheckError(`the row is ${row.state}: ${row.text}`);
      if (Date.now() > deadline) throw new CheckError(`after ${READY_TIMEOUT_MS / 1000} s the row is ${row.state}: ${row.text}`);
      await sleep(100);
    }
    if (!row.videoId) throw new CheckError(`the ready row has no video link: ${row.text}`);
    summary.videoId = row.videoId;
    return { states: seen, sawPlayable, playableText, text: row.text, status: row.status, videoId: row.videoId };
  });

  await check('the server says ready, and the upload resumed rather than started over', async () => {
    const v = await pageFetch(page, `/api/videos/${encodeURIComponent(summary.videoId)}`);
    if (v.status !== 200) throw new CheckError(`GET /api/videos/${summary.videoId} answered ${v.status}`);
    if (v.body.status !== 'ready') throw new CheckError(`the video is ${v.body.status}`);
    const uploadId = decodeURIComponent(new URL(first.uploadUrl).pathname.split('/').filter(Boolean).pop());
    const posts = tusLog.filter((e) => e.method === 'POST');
    if (posts.length !== 1) throw new CheckError(`${posts.length} tus creation POSTs: ${JSON.stringify(posts)}`);
    const secondPatches = tusLog.filter((e) => e.phase === 'second' && e.method === 'PATCH');
    if (!secondPatches.length) throw new CheckError(`no PATCH after the reload: ${JSON.stringify(tusLog)}`);
    const firstAfter = secondPatches[0];
    if (!(firstAfter.offset > 0)) throw new CheckError(`the first PATCH after the reload starts at ${firstAfter.offset}`);
    if (firstAfter.offset !== kept.offset) throw new CheckError(`the first PATCH after the reload starts at ${firstAfter.offset}, the server had ${kept.offset}`);
    if (secondPatches.some((e) => e.offset === 0)) throw new CheckError('a PATCH after the reload starts at 0');
    if (!firstAfter.url.endsWith(`/${encodeURIComponent(uploadId)}`)) throw new CheckError(`the resumed PATCH goes to ${firstAfter.url}, not the first upload`);
    const heads = tusLog.filter((e) => e.phase === 'second' && e.method === 'HEAD' && e.url === firstAfter.url).length;
    const last = [...tusLog].reverse().find((e) => e.method === 'PATCH');
    const stored = await page.evaluate(() => Object.keys(localStorage).filter((k) => k.startsWith('tus::')));
    return {
      status: v.body.status,
      renditions: (v.body.renditions || []).map((r) => (r && r.name) || r),
      uploadIdMatchesVideo: uploadId === summary.videoId,
      creationPosts: posts.length,
      resumedFromOffset: firstAfter.offset,
      headsAfterReload: heads,
      lastPatchAnswer: last ? last.answerOffset : null,
      tusFingerprintsLeft: stored.length,
    };
  });
}

main(async () => {
  try {
    await run();
  } finally {
    summary.tus = tusLog;
  }
});
