// When segments and parts appear, seen from outside: Kino's media playlist of one variant,
// polled over HTTP every `everyMs` (plain reloads, no blocking). Segments and parts already
// listed at the first poll are not timed.
//
// For each new segment:
//   - kino gaps: time between successive new segments in Kino's playlist (≈ the segment
//     duration when all is well; a long gap is a stall viewers see);
//   - after PDT: Kino listing it − its end by EXT-X-PROGRAM-DATE-TIME (PDT + duration), i.e.
//     after its last frame by Kino's clock (Kino's PDT assumes the publisher keeps real time).
// For each new low-latency part (EXT-X-PART, when the playlist has them):
//   - part gaps: time between successive new parts (≈ PART-TARGET when all is well);
//   - parts after PDT: Kino listing it − its end by PDT (the segment's PDT + the durations of
//     the parts before it and its own): what a low-latency player can be fed at the earliest.
//
// The ffmpeg column is gone with the pipe packager. Kino's ffmpeg used to write its own
// playlists into a scratch directory (`<data>/scratch/live-<id>-<session>/<variant>/index.m3u8`)
// and Kino polled them, so this breakdown also timed segments in ffmpeg's playlist (ffmpeg gaps,
// ffmpeg after PDT, and the packager delay between the two). ffmpeg now writes fragmented MP4
// to pipes and Kino cuts parts and segments as the bytes arrive: there is no ffmpeg playlist.
// The code that reads one is kept (`scratch`; skipped when absent, as it now always is) so
// older binaries can still be measured; those fields are null otherwise.

import http from 'node:http';
import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function get(agent, url) {
  return new Promise((resolve) => {
    const req = http.get(url, { agent, timeout: 10_000 }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode, body: Buffer.concat(chunks).toString() }));
      res.on('error', () => resolve({ status: 0, body: '' }));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', () => resolve({ status: 0, body: '' }));
  });
}

/** Segments of a media playlist: [{ seq, uri, endMs (by PDT, or null) }]. */
export function parseSegments(text) {
  const out = [];
  let seq = 0;
  let pdt = null;
  let duration = 0;
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line.startsWith('#EXT-X-MEDIA-SEQUENCE:')) seq = Number(line.split(':')[1]);
    else if (line.startsWith('#EXT-X-SKIP:')) seq += Number((line.match(/SKIPPED-SEGMENTS=(\d+)/) || [0, 0])[1]);
    else if (line.startsWith('#EXT-X-PROGRAM-DATE-TIME:')) pdt = Date.parse(line.slice(25));
    else if (line.startsWith('#EXTINF:')) duration = Number.parseFloat(line.slice(8));
    else if (line && !line.startsWith('#')) {
      const endMs = pdt != null ? pdt + duration * 1000 : null;
      out.push({ seq, uri: line, endMs });
      if (pdt != null) pdt = endMs;
      seq++;
    }
  }
  return out;
}

/**
 * Low-latency parts of a media playlist: [{ msn, index, uri, independent, endMs (by PDT, or
 * null) }], `msn` the segment they belong to (the open one's for parts after the last EXTINF).
 */
export function parseParts(text) {
  const out = [];
  let seq = 0;
  let pdt = null; // start of the current segment
  let offset = 0; // seconds of parts of the current segment so far
  let index = 0;
  let duration = 0;
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line.startsWith('#EXT-X-MEDIA-SEQUENCE:')) seq = Number(line.split(':')[1]);
    else if (line.startsWith('#EXT-X-SKIP:')) seq += Number((line.match(/SKIPPED-SEGMENTS=(\d+)/) || [0, 0])[1]);
    else if (line.startsWith('#EXT-X-PROGRAM-DATE-TIME:')) pdt = Date.parse(line.slice(25));
    else if (line.startsWith('#EXT-X-PART:')) {
      const d = Number.parseFloat((line.match(/DURATION=([\d.]+)/) || [0, 'NaN'])[1]);
      const uri = (line.match(/URI="([^"]*)"/) || [0, null])[1];
      offset += d;
      out.push({ msn: seq, index, uri, independent: /INDEPENDENT=YES/.test(line), endMs: pdt != null ? pdt + offset * 1000 : null });
      index++;
    } else if (line.startsWith('#EXTINF:')) duration = Number.parseFloat(line.slice(8));
    else if (line && !line.startsWith('#')) {
      if (pdt != null) pdt += duration * 1000;
      seq++;
      offset = 0;
      index = 0;
    }
  }
  return out;
}

/** ffmpeg's playlist of `variant` for video `id` (the newest session), or null. */
async function ffmpegPlaylist(scratch, id, variant) {
  if (!scratch) return null;
  try {
    const dirs = (await readdir(scratch)).filter((d) => d.startsWith(`live-${id}-`));
    dirs.sort((a, b) => Number(a.split('-').pop()) - Number(b.split('-').pop()));
    if (!dirs.length) return null;
    return join(scratch, dirs[dirs.length - 1], variant, 'index.m3u8');
  } catch {
    return null;
  }
}

function quantile(sorted, q) {
  if (!sorted.length) return null;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))];
}

export function summary(values) {
  const s = values.filter((x) => x != null && Number.isFinite(x)).sort((a, b) => a - b);
  return { n: s.length, p50: quantile(s, 0.5), p95: quantile(s, 0.95), p99: quantile(s, 0.99), min: s[0] ?? null, max: s[s.length - 1] ?? null };
}

/**
 * Starts watching. `t0` (ms) is the start of the run, for the times of long gaps.
 * Returns { stop(): Promise<result> }.
 */
export function watchListing({ url, scratch, id, variant, everyMs = 50, t0 = Date.now(), longGapMs = 2000 }) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const kinoSeen = new Map(); // seq -> { at, endMs }
  const partsSeen = new Map(); // uri -> { at, endMs }
  let partsKnown = null;
  const ffmpegSeen = new Map(); // seq -> at
  let kinoKnown = null;
  let ffmpegKnown = null;
  let stopped = false;
  let ffmpegPath;
  const loop = (async () => {
    while (!stopped) {
      const began = Date.now();
      const res = await get(agent, url);
      const at = Date.now();
      if (res.status === 200) {
        const segs = parseSegments(res.body);
        if (!kinoKnown) kinoKnown = new Set(segs.map((s) => s.seq));
        for (const s of segs) if (!kinoKnown.has(s.seq) && !kinoSeen.has(s.seq)) kinoSeen.set(s.seq, { at, endMs: s.endMs });
        const parts = parseParts(res.body);
        if (!partsKnown) partsKnown = new Set(parts.map((p) => p.uri));
        for (const p of parts) if (!partsKnown.has(p.uri) && !partsSeen.has(p.uri)) partsSeen.set(p.uri, { at, endMs: p.endMs });
      }
      if (ffmpegPath === undefined || ffmpegPath === null) ffmpegPath = await ffmpegPlaylist(scratch, id, variant);
      if (ffmpegPath) {
        try {
          const segs = parseSegments(await readFile(ffmpegPath, 'utf8'));
          const fat = Date.now();
          if (!ffmpegKnown) ffmpegKnown = new Set(segs.map((s) => s.seq));
          for (const s of segs) if (!ffmpegKnown.has(s.seq) && !ffmpegSeen.has(s.seq)) ffmpegSeen.set(s.seq, fat);
        } catch { /* between sessions, or renamed under us */ }
      }
      await sleep(Math.max(0, everyMs - (Date.now() - began)));
    }
  })();
  const gaps = (times) => {
    const t = [...times].sort((a, b) => a - b);
    const g = [];
    const long = [];
    for (let i = 1; i < t.length; i++) {
      g.push(t[i] - t[i - 1]);
      if (t[i] - t[i - 1] > longGapMs) long.push([Math.round((t[i] - t0) / 1000), t[i] - t[i - 1]]);
    }
    return { ...summary(g), long };
  };
  return {
    async stop() {
      stopped = true;
      await loop;
      agent.destroy();
      const kinoTimes = [...kinoSeen.values()].map((x) => x.at);
      const packager = [];
      const ffmpegAfterPdt = [];
      for (const [seq, x] of kinoSeen) {
        if (!ffmpegSeen.has(seq)) continue;
        packager.push(x.at - ffmpegSeen.get(seq));
        if (x.endMs != null) ffmpegAfterPdt.push(ffmpegSeen.get(seq) - x.endMs);
      }
      return {
        variant,
        every_ms: everyMs,
        segments: kinoSeen.size,
        kino_gaps_ms: gaps(kinoTimes),
        ffmpeg_gaps_ms: ffmpegSeen.size ? gaps([...ffmpegSeen.values()]) : null,
        packager_delay_ms: packager.length ? summary(packager) : null,
        after_pdt_ms: summary([...kinoSeen.values()].map((x) => (x.endMs != null ? x.at - x.endMs : null))),
        ffmpeg_after_pdt_ms: ffmpegAfterPdt.length ? summary(ffmpegAfterPdt) : null,
        ffmpeg_playlist: ffmpegSeen.size > 0,
        parts: partsSeen.size,
        part_gaps_ms: partsSeen.size ? gaps([...partsSeen.values()].map((x) => x.at)) : null,
        parts_after_pdt_ms: partsSeen.size ? summary([...partsSeen.values()].map((x) => (x.endMs != null ? x.at - x.endMs : null))) : null,
        long_gap_ms: longGapMs,
      };
    },
  };
}

/** The variant with the highest BANDWIDTH in a multivariant playlist: its URI. */
export function topVariant(masterText) {
  const v = [...masterText.matchAll(/BANDWIDTH=(\d+)[^\n]*\n([^#\s][^\n]*)/g)].map((m) => ({ bw: Number(m[1]), uri: m[2].trim() }));
  v.sort((a, b) => b.bw - a.bw);
  return v.length ? v[0].uri : null;
}
