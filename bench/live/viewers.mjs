// The viewers of bench/live-soak.sh: V simulated HLS players on one live stream for SECS, and a
// sampler of Kino's RSS, file descriptors and CPU.
//
// Each viewer has its own keep-alive connection (an http.Agent with one socket, as a player's
// connection would be), fetches the multivariant playlist, picks a variant (round-robin over
// all of them, or the one named by --rendition), fetches its init segment, then plays like
// hls.js at the live edge: starts three segments behind the newest, reloads the media playlist
// one target duration after the previous load began when it changed (half of one when it did
// not), and fetches every new segment in order. It notes:
//   - errors: any answer but 200, or a failed/timed-out request (by kind and status);
//   - missing segments: listed but the GET failed, or media sequence numbers skipped (the
//     first listed segment is past the next one the viewer needed);
//   - the playlist going back (its newest segment older than one already fetched), a file
//     name that is not the media sequence number (Kino names segments SESSION-NNNNNN.m4s by sequence);
//   - stalls: the playlist gained no segment for more than 3 target durations, as this viewer
//     saw it (between two loads that brought something new; its own slow fetches count too).
//
//   node viewers.mjs --base URL --id VIDEO_ID --viewers N --secs SECS --kino-pid PID
//        --publisher-pid PID [--rendition all|NAME] [--rss-every SECS] [--version TEXT]
//        [--binary PATH] [--scratch DIR (Kino's old scratch directory with ffmpeg's own playlists;
//         absent with the pipe packager, then skipped)]
//
// Prints a JSON line on stdout; progress on stderr.

import http from 'node:http';
import { children, comm, cpuMeter, fdCount, fdKinds, statusKiB } from './proc.mjs';
import { topVariant, watchListing } from './listing.mjs';

const args = {};
for (let i = 2; i < process.argv.length; i += 2) args[process.argv[i].replace(/^--/, '')] = process.argv[i + 1];
const base = args.base;
const viewers = Number(args.viewers || 200);
const secs = Number(args.secs || 1800);
const kinoPid = Number(args['kino-pid']);
const publisherPid = Number(args['publisher-pid']);
const rendition = args.rendition || 'all';
const rssEvery = Number(args['rss-every'] || 10);
const RAMP_MS = Math.min(10_000, (secs * 1000) / 10);
const TIMEOUT_MS = 10_000;
const FDS_AFTER_SECS = 5;

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const log = (m) => process.stderr.write(`[live-soak] ${m}\n`);

const counts = { master: 0, playlist: 0, init: 0, segment: 0 };
let bytes = 0;
const errors = {}; // "segment 404" -> n
let errorTotal = 0;
const missing = { failed_get: 0, skipped: 0, went_back: 0, name_mismatch: 0 };
const stalls = { count: 0, longest_ms: 0, at: {} }; // at: second of the run when a stall ended -> viewers
let t0 = Date.now();
const segmentMs = [];
const behindEnd = [];
const playlistBytes = { start: null, end: null };
const playlistSegments = { start: null, end: null };
let ended = 0; // viewers that saw #EXT-X-ENDLIST
let stopping = false;

function get(agent, url) {
  return new Promise((resolve) => {
    const started = Date.now();
    const req = http.get(url, { agent, timeout: TIMEOUT_MS }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode, body: Buffer.concat(chunks), ms: Date.now() - started }));
      res.on('error', (e) => resolve({ status: 0, error: e.code || e.message, ms: Date.now() - started }));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', (e) => resolve({ status: 0, error: e.code || e.message, ms: Date.now() - started }));
  });
}

/** GET and count; returns the response when it is a 200, else null (counted as an error). */
async function fetchCounted(agent, url, kind) {
  const res = await get(agent, url);
  counts[kind]++;
  if (res.status === 200) {
    bytes += res.body.length;
    if (kind === 'segment') segmentMs.push(res.ms);
    return res;
  }
  const key = `${kind} ${res.status || res.error}`;
  errors[key] = (errors[key] || 0) + 1;
  errorTotal++;
  return null;
}

function parseMedia(text) {
  const out = { target: 1, sequence: 0, map: null, segments: [], ended: false };
  let seq = null;
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line.startsWith('#EXT-X-TARGETDURATION:')) out.target = Number(line.split(':')[1]);
    else if (line.startsWith('#EXT-X-MEDIA-SEQUENCE:')) out.sequence = Number(line.split(':')[1]);
    else if (line.startsWith('#EXT-X-MAP:')) out.map = out.map || (line.match(/URI="([^"]+)"/) || [])[1];
    else if (line === '#EXT-X-ENDLIST') out.ended = true;
    else if (line && !line.startsWith('#')) {
      if (seq == null) seq = out.sequence;
      out.segments.push({ seq, uri: line });
      seq++;
    }
  }
  return out;
}

async function viewer(i) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  try {
    const masterUrl = `${base}/hls/${args.id}/master.m3u8`;
    let master = null;
    while (!master && !stopping) {
      master = await fetchCounted(agent, masterUrl, 'master');
      if (!master) await sleep(1000);
    }
    if (!master) return;
    const variants = master.body.toString().split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));
    const variant = rendition === 'all'
      ? variants[i % variants.length]
      : variants.find((v) => v.startsWith(`${rendition}/`));
    if (!variant) throw new Error(`no variant ${rendition} in ${variants.join(' ')}`);
    const playlistUrl = new URL(variant, masterUrl).href;
    let next = null; // the next media sequence number to fetch
    let newest = null; // the newest sequence number seen listed
    let init = null;
    let lastGain = Date.now();
    let lastTarget = 1;
    while (!stopping) {
      const began = Date.now();
      const res = await fetchCounted(agent, playlistUrl, 'playlist');
      let changed = false;
      let target = 1;
      if (res) {
        const text = res.body.toString();
        const p = parseMedia(text);
        target = p.target || 1;
        if (i === 0) {
          if (playlistBytes.start == null) { playlistBytes.start = res.body.length; playlistSegments.start = p.segments.length; }
          playlistBytes.end = res.body.length;
          playlistSegments.end = p.segments.length;
        }
        if (p.map && p.map !== init) {
          if (await fetchCounted(agent, new URL(p.map, playlistUrl).href, 'init')) init = p.map;
        }
        const last = p.segments.length ? p.segments[p.segments.length - 1].seq : null;
        if (last != null) {
          if (next == null) next = Math.max(p.sequence, last - 2); // three segments behind the newest
          if (newest != null && last < newest) missing.went_back++;
          if (p.segments[0].seq > next) {
            missing.skipped += p.segments[0].seq - next;
            next = p.segments[0].seq;
          }
          changed = newest == null || last > newest;
          newest = Math.max(newest ?? last, last);
          for (const s of p.segments) {
            if (s.seq < next || stopping) continue;
            if (Number.parseInt(s.uri.split("-").pop(), 10) !== s.seq) missing.name_mismatch++;
            if (!(await fetchCounted(agent, new URL(s.uri, playlistUrl).href, 'segment'))) missing.failed_get++;
            next = s.seq + 1;
          }
        }
        if (p.ended) { ended++; break; }
      }
      const now = Date.now();
      if (changed) {
        const gap = now - lastGain;
        if (gap > 3 * target * 1000) {
          stalls.count++;
          const at = Math.round((now - t0) / 1000);
          stalls.at[at] = (stalls.at[at] || 0) + 1;
        }
        stalls.longest_ms = Math.max(stalls.longest_ms, gap);
        lastGain = now;
      }
      lastTarget = target;
      await sleep(Math.max(0, (changed ? target : target / 2) * 1000 - (now - began)));
    }
    const gap = Date.now() - lastGain;
    if (gap > 3 * lastTarget * 1000) stalls.count++;
    stalls.longest_ms = Math.max(stalls.longest_ms, gap);
    if (newest != null && next != null) behindEnd.push(newest - (next - 1));
  } finally {
    agent.destroy();
  }
}

function quantile(sorted, q) {
  if (!sorted.length) return null;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))];
}
const mean = (xs) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : null);

async function main() {
  const kinoFfmpeg = () => children(kinoPid).filter((p) => comm(p) === 'ffmpeg');
  const fdsBefore = fdCount(kinoPid);
  const kindsBefore = fdKinds(kinoPid);
  const meter = cpuMeter(() => ({ kino: [kinoPid], kino_ffmpeg: kinoFfmpeg(), publisher: [publisherPid], viewers: [process.pid] }));
  const samples = []; // { t, rss, fds, ffmpegRss }
  t0 = Date.now();
  const sample = () => {
    const f = kinoFfmpeg()[0];
    samples.push({ t: (Date.now() - t0) / 1000, rss: statusKiB(kinoPid), fds: fdCount(kinoPid), ffmpegRss: f ? statusKiB(f) : null });
  };
  // Kino's side of stalls: when segments and parts appear in the top variant's playlist (and in
  // ffmpeg's own, with binaries from before the pipe packager).
  const masterUrl = `${base}/hls/${args.id}/master.m3u8`;
  const top = topVariant((await get(undefined, masterUrl)).body.toString());
  const monitor = watchListing({ url: new URL(top, masterUrl).href, scratch: args.scratch, id: args.id, variant: top.split('/')[0], everyMs: 100, t0 });
  meter.start();
  sample();
  log(`${viewers} viewers joining over ${RAMP_MS / 1000} s; running ${secs} s; kino RSS ${(samples[0].rss / 1024).toFixed(1)} MiB, ${fdsBefore} fds`);
  const running = [];
  for (let i = 0; i < viewers; i++) {
    running.push(viewer(i).catch((e) => { errors[`viewer ${e.message}`] = (errors[`viewer ${e.message}`] || 0) + 1; errorTotal++; }));
    await sleep(RAMP_MS / viewers);
  }
  let fdsStart = null;
  let lastReport = Date.now();
  let lastRequests = 0;
  while (Date.now() - t0 < secs * 1000) {
    await sleep(Math.min(rssEvery * 1000, secs * 1000 - (Date.now() - t0)));
    sample();
    if (fdsStart == null && Date.now() - t0 >= RAMP_MS) fdsStart = samples[samples.length - 1].fds;
    if (Date.now() - lastReport >= 60_000 || Date.now() - t0 >= secs * 1000) {
      const total = Object.values(counts).reduce((a, b) => a + b, 0);
      const s = samples[samples.length - 1];
      log(`t=${Math.round(s.t)} s: RSS ${(s.rss / 1024).toFixed(1)} MiB, ${s.fds} fds, ${((total - lastRequests) / ((Date.now() - lastReport) / 1000)).toFixed(0)} req/s, ${errorTotal} errors, ${missing.failed_get + missing.skipped} segments missing, ${stalls.count} stalls`);
      lastReport = Date.now();
      lastRequests = total;
    }
    if (!publisherPid || statusKiB(publisherPid) == null) {
      log('the publisher exited before the end');
      break;
    }
  }
  const elapsed = (Date.now() - t0) / 1000;
  const cpu = meter.stop();
  const fdsEnd = samples[samples.length - 1].fds;
  const kindsEnd = fdKinds(kinoPid);
  stopping = true;
  const listing = await monitor.stop();
  await Promise.all(running);
  await sleep(FDS_AFTER_SECS * 1000);
  const fdsAfter = fdCount(kinoPid);
  const kindsAfter = fdKinds(kinoPid);

  const rss = samples.map((s) => s.rss);
  // The first minute once every viewer has joined (the t=0 sample is taken as they start).
  const rampSecs = RAMP_MS / 1000;
  const first = samples.filter((s) => s.t >= rampSecs && s.t < rampSecs + 60).map((s) => s.rss);
  const last = samples.filter((s) => s.t > elapsed - 60).map((s) => s.rss);
  segmentMs.sort((a, b) => a - b);
  behindEnd.sort((a, b) => a - b);
  const result = {
    id: args.id,
    viewers,
    secs: elapsed,
    renditions: rendition === 'all' ? 'round-robin over every variant' : `all on ${rendition}`,
    requests: { ...counts, total: Object.values(counts).reduce((a, b) => a + b, 0) },
    bytes,
    errors: { total: errorTotal, by_kind: errors },
    missing: { total: missing.failed_get + missing.skipped, ...missing },
    stalls,
    listing,
    ended_viewers: ended,
    segment_ms: { p50: quantile(segmentMs, 0.5), p99: quantile(segmentMs, 0.99), max: segmentMs[segmentMs.length - 1] ?? null },
    behind_end: { median: quantile(behindEnd, 0.5), max: behindEnd[behindEnd.length - 1] ?? null },
    rss_every_secs: rssEvery,
    ramp_secs: RAMP_MS / 1000,
    rss: {
      start: rss[0],
      end: rss[rss.length - 1],
      max: Math.max(...rss),
      first_minute: mean(first),
      last_minute: mean(last),
      change_pct: first.length && last.length ? (100 * (mean(last) - mean(first))) / mean(first) : null,
      samples: rss,
    },
    ffmpeg_rss: { start: samples.find((s) => s.ffmpegRss != null)?.ffmpegRss ?? null, end: samples[samples.length - 1].ffmpegRss },
    fds: { before: fdsBefore, start: fdsStart, end: fdsEnd, after: fdsAfter },
    fd_kinds: { before: kindsBefore, end: kindsEnd, after: kindsAfter },
    fds_after_secs: FDS_AFTER_SECS,
    playlist_bytes: playlistBytes,
    playlist_segments: playlistSegments,
    cpu,
    publisher: args.publisher || null,
    kino: args.version || null,
    binary: args.binary || null,
    at: new Date().toISOString(),
    error: null,
  };
  if (!counts.segment) result.error = 'no segment was fetched';
  process.stdout.write(`${JSON.stringify(result)}\n`);
  process.exit(result.error ? 1 : 0);
}

main().catch((e) => {
  process.stdout.write(`${JSON.stringify({ error: String(e && e.message ? e.message : e) })}\n`);
  process.exit(1);
});
