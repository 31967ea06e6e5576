// Prints the report of one run of bench/live-latency.sh or bench/live-soak.sh from its JSON line:
//   node report.mjs latency RUN.json
//   node report.mjs soak RUN.json
import { readFileSync } from 'node:fs';

const [kind, file] = process.argv.slice(2);
const r = JSON.parse(readFileSync(file, 'utf8').trim().split('\n').pop());

const s = (ms, digits = 2) => (ms == null ? '—' : `${(ms / 1000).toFixed(digits)} s`);
const ms = (x) => (x == null ? '—' : `${x >= 0 ? '+' : ''}${Math.round(x)} ms`);
const pct = (x) => (x == null || !Number.isFinite(x) ? '—' : `${x.toFixed(1)} %`);
const mib = (kib) => (kib == null ? '—' : `${(kib / 1024).toFixed(1)} MiB`);
const int = (n) => (n == null ? '—' : Math.round(n).toLocaleString('en-US'));

function table(rows) {
  const width = rows[0].map((_, i) => Math.max(...rows.map((row) => [...String(row[i])].length)));
  const line = (row) => row.map((c, i) => String(c) + ' '.repeat(width[i] - [...String(c)].length)).join('  ').trimEnd();
  console.log(line(rows[0]));
  console.log(line(width.map((w) => '-'.repeat(w))));
  for (const row of rows.slice(1)) console.log(line(row));
}

function cpuLine(cpu, names) {
  if (!cpu) return '—';
  const listed = names.map(([k]) => cpu[k] || 0).reduce((a, b) => a + b, 0);
  const others = cpu.machine_busy_pct * cpu.cores - listed;
  return `${names.map(([k, label]) => `${label} ${pct(cpu[k])}`).join(', ')}; machine ${pct(cpu.machine_busy_pct)} busy of ${cpu.cores} cores ` +
    `(everything else ≈ ${pct(Math.max(0, others))} of a core${cpu.machine_steal_pct > 1 ? `, steal ${pct(cpu.machine_steal_pct)}` : ''})`;
}

/** The segment-listing breakdown (listing.mjs): lines to print. */
function listingLines(l, pdtMinusCapture) {
  if (!l) return [];
  const g = (x) => (x ? `p50 ${s(x.p50)}, p99 ${s(x.p99)}, max ${s(x.max)}` : '—');
  const long = (x) => (x && x.long.length ? x.long.map(([t, ms_]) => `${s(ms_, 1)} at t=${t} s`).join(', ') : 'none');
  const out = [];
  const a = l.after_pdt_ms;
  const cap = a && a.p50 != null && pdtMinusCapture != null ? ` (≈ ${ms(a.p50 + pdtMinusCapture)} after capture)` : '';
  out.push(`Segments of ${l.variant} (its playlist and ffmpeg's polled every ${l.every_ms} ms; ${l.segments} new segments):`);
  out.push(`  listed by Kino after their last frame's PROGRAM-DATE-TIME: p50 ${ms(a && a.p50)}${cap}, p95 ${ms(a && a.p95)}, max ${ms(a && a.max)}`);
  const pk = l.packager_delay_ms;
  const fa = l.ffmpeg_after_pdt_ms;
  if (fa) out.push(`  listed by ffmpeg after their last frame's PROGRAM-DATE-TIME: p50 ${ms(fa.p50)}, p95 ${ms(fa.p95)}, max ${ms(fa.max)} (large: the publisher or Kino's ffmpeg fell behind real time)`);
  out.push(`  listed by Kino after ffmpeg listed them (Kino's packager): ${pk ? `p50 ${ms(pk.p50)}, p95 ${ms(pk.p95)}, max ${ms(pk.max)}` : "— (ffmpeg's playlist not found)"}`);
  out.push(`  gaps between new segments — Kino: ${g(l.kino_gaps_ms)}; ffmpeg: ${g(l.ffmpeg_gaps_ms)}`);
  out.push(`  gaps over ${s(l.long_gap_ms, 0)} — Kino: ${long(l.kino_gaps_ms)}; ffmpeg: ${long(l.ffmpeg_gaps_ms)}`);
  return out;
}

if (kind === 'latency') {
  const n = r.starts_n || 1;
  console.log(`Live glass-to-glass latency (bench/live-latency.sh), ${n > 1 ? `${n} player starts, each ` : ''}${r.window_secs} s window after ${r.warmup_secs} s of playback`);
  console.log(`${r.kino} (${r.binary}), Chromium ${r.chromium}, hls.js ${r.hls_js}; ${r.at}`);
  if (r.publisher) console.log(`Publisher: ${r.publisher}`);
  if (r.error) console.log(`ERROR: ${r.error}`);
  console.log();
  const m = r.measured_ms || {};
  const row = (label, x, note) => [label, s(x.median), s(x.p95), s(x.min), s(x.max), note];
  table([
    ['', 'median', 'p95', 'min', 'max', 'samples'],
    row('measured: capture → display', m, `${int(m.n)} frames (${int(r.unreadable)} unreadable)`),
    row('anchor: hls.js hls.latency', r.hls_latency_ms || {}, 'behind the edge of its last playlist'),
    row('anchor: display − PROGRAM-DATE-TIME', r.pdt_latency_ms || {}, "Kino's PDT of the frame shown"),
    ['anchor: floor 3 × target duration', s(r.floor_ms), '', '', '', `EXT-X-TARGETDURATION ${r.target_duration_s ?? '—'} s; hls.js targetLatency ${r.hls_target_latency_s ?? '—'} s`],
  ]);
  console.log();
  if (m.median != null) {
    const verdict = m.median <= 4000 ? 'meets it' : `misses it by ${s(m.median - 4000)}`;
    console.log(`Goal (issue): median ≤ 4 s — ${verdict}.`);
  }
  const pc = r.pdt_minus_capture_ms || {};
  console.log(`Kino's EXT-X-PROGRAM-DATE-TIME − true capture time, same frames: median ${ms(pc.median)} (min ${ms(pc.min)}, max ${ms(pc.max)}).`);
  const ls = r.listing || [];
  ls.forEach((l, i) => {
    const lines = listingLines(l, pc.median);
    if (ls.length > 1 && lines.length) lines[0] = `Start ${i + 1}: ${lines[0]}`;
    for (const line of lines) console.log(line);
  });
  // Per start (pooled medians of different starts do not add up).
  const per = (r.starts || [{ measured_median_ms: m.median, hls_latency_median_ms: (r.hls_latency_ms || {}).median }]).map((x, i) => {
    const l = ls[i];
    if (!l || l.after_pdt_ms.p50 == null || x.measured_median_ms == null || x.hls_latency_median_ms == null || pc.median == null) return null;
    const kinoPart = l.after_pdt_ms.p50 + pc.median;
    return `${s(x.measured_median_ms)} − ${s(x.hls_latency_median_ms)} − ${ms(kinoPart)} = ${ms(x.measured_median_ms - x.hls_latency_median_ms - kinoPart)}`;
  });
  if (per.some(Boolean)) console.log(`Rest: measured − hls.js behind its playlist's edge − capture→listed${per.length > 1 ? ', per start' : ''}: ${per.map((x) => x || '—').join('; ')} (how stale the playlist was when hls.js loaded it, decode, display).`);
  if (n > 1 && r.starts) console.log(`Per start (fresh page and hls.js each): measured median ${r.starts.map((x) => s(x.measured_median_ms)).join(', ')}; hls.latency median ${r.starts.map((x) => s(x.hls_latency_median_ms)).join(', ')}.`);
  const wt = r.warmup_timeline || [];
  if (wt.length) console.log(`hls.js behind its edge (hls.latency) during the ${n > 1 ? 'first ' : ''}warm-up: ${wt.filter((_, i) => i % Math.ceil(wt.length / 8) === 0 || i === wt.length - 1).map((x) => `${x[0]} s: ${x[1].toFixed(2)}`).join(', ')}.`);
  console.log(`Drift: measured median ${s(r.measured_first10_ms)} over the first 10 s of the window, ${s(r.measured_last10_ms)} over the last 10 s.`);
  const levels = r.levels ? Object.entries(r.levels).sort((a, b) => b[1] - a[1]).map(([h, c]) => `${h}p ${Math.round((100 * c) / (m.n || 1))} %`).join(', ') : '—';
  console.log(`Playback in the window: ${levels}; ${int(r.level_switches)} level switches, ${int(r.waiting_events)} 'waiting' events (${int(r.waiting_events_before)} before the window), ${int(r.dropped_frames)} dropped frames; first frame ${r.first_frame_secs} s after loading.`);
  const spread = r.capture_minus_media_spread_ms;
  console.log(`Check: capture − media time, p1–p99 range over the window: ${ms(spread)} (≲ 60 ms: the publisher kept real time; more: it fell behind by up to that much and caught up — a starved machine — or strips were misread).`);
  if (r.calibration) {
    const c = r.calibration;
    console.log(`Calibration (publisher graph alone, raw out): stamp → frame out of ffmpeg median ${ms(c.median_ms)}, p95 ${ms(c.p95_ms)}, max ${ms(c.max_ms)} over ${c.frames} frames (${c.unreadable} unreadable) — included in "measured".`);
  }
  console.log();
  console.log(`CPU over the window, % of one core: ${cpuLine(r.cpu, [['kino', 'kino (own process)'], ['kino_ffmpeg', "kino's ffmpeg"], ['publisher', 'publisher ffmpeg'], ['browser', 'Chromium + driver']])}.`);
  if (r.rss_kib) console.log(`Kino RSS: ${mib(r.rss_kib.start)} at the start of the window, ${mib(r.rss_kib.end)} at the end, max ${mib(r.rss_kib.max)} (VmHWM ${mib(r.rss_kib.hwm)}).`);
  if (r.hls_errors && r.hls_errors.length) console.log(`hls.js errors: ${r.hls_errors.join(', ')}`);
} else if (kind === 'soak') {
  console.log(`Live soak (bench/live-soak.sh): one stream, ${r.viewers} simulated viewers for ${(r.secs / 60).toFixed(1)} min (${r.renditions})`);
  console.log(`${r.kino} (${r.binary}); ${r.at}`);
  if (r.publisher) console.log(`Publisher: ${r.publisher}`);
  if (r.error) console.log(`ERROR: ${r.error}`);
  console.log();
  const q = r.requests;
  console.log(`Requests served: ${int(q.total)} in ${r.secs.toFixed(0)} s = ${int(q.total / r.secs)} req/s (${int(q.playlist / r.secs)} playlist, ${int(q.segment / r.secs)} segment, rest master/init), ${(r.bytes / r.secs / 1e6).toFixed(1)} MB/s.`);
  console.log(`Errors: ${int(r.errors.total)} (${Object.entries(r.errors.by_kind).map(([k, n]) => `${k} ${n}`).join(', ') || 'none'}).`);
  console.log(`Segments missing: ${int(r.missing.total)} — listed but GET failed ${int(r.missing.failed_get)}, sequence numbers skipped ${int(r.missing.skipped)}; playlist went back ${int(r.missing.went_back)}, name ≠ sequence ${int(r.missing.name_mismatch)}.`);
  console.log(`Playlist stalls (a viewer went > 3 × target duration between two playlist loads that brought new segments): ${int(r.stalls.count)}; longest such gap ${s(r.stalls.longest_ms, 1)}.`);
  const at = Object.entries(r.stalls.at || {}).sort((a, b) => b[1] - a[1]).slice(0, 6).map(([t, n]) => `t=${t} s ×${n}`).join(', ');
  if (at) console.log(`  stalls ended at (second of the run × viewers): ${at}.`);
  for (const line of listingLines(r.listing, null)) console.log(line);
  console.log(`Segment GET time: p50 ${ms(r.segment_ms.p50)}, p99 ${ms(r.segment_ms.p99)}, max ${ms(r.segment_ms.max)}; viewers' distance to the newest listed segment at the end: median ${r.behind_end.median ?? '—'} segments.`);
  const rs = r.rss;
  console.log();
  table([
    ['Kino RSS', 'start (t=0)', 'end', 'max', 'first minute (mean)*', 'last minute (mean)', 'change'],
    ['', mib(rs.start), mib(rs.end), mib(rs.max), mib(rs.first_minute), mib(rs.last_minute), pct(rs.change_pct)],
  ]);
  console.log(`  * the first minute after every viewer joined (they join over the first ${r.ramp_secs ?? '—'} s).`);
  console.log(`  ${rs.samples.length} samples every ${r.rss_every_secs} s (MiB): ${rs.samples.map((x) => (x / 1024).toFixed(0)).join(' ')}`);
  console.log(`  Kino's ffmpeg RSS: ${mib(r.ffmpeg_rss.start)} → ${mib(r.ffmpeg_rss.end)}.`);
  console.log(`File descriptors of kino: ${r.fds.before} before the viewers, ${r.fds.start} with them at the start, ${r.fds.end} at the end, ${r.fds.after} ${r.fds_after_secs} s after they left.`);
  if (r.fd_kinds) {
    const k = (x) => (x ? Object.entries(x).filter(([, n]) => n).map(([name, n]) => `${name} ${n}`).join(', ') : '—');
    console.log(`  by kind — before: ${k(r.fd_kinds.before)}; end: ${k(r.fd_kinds.end)}; after: ${k(r.fd_kinds.after)}.`);
  }
  console.log(`Media playlist size: ${int(r.playlist_bytes.start)} B at the start, ${int(r.playlist_bytes.end)} B at the end (${int(r.playlist_segments.start)} → ${int(r.playlist_segments.end)} segments listed).`);
  console.log(`CPU over the run, % of one core: ${cpuLine(r.cpu, [['kino', 'kino (own process)'], ['kino_ffmpeg', "kino's ffmpeg"], ['publisher', 'publisher ffmpeg'], ['viewers', 'viewers (node)']])}.`);
} else {
  console.error('usage: node report.mjs latency|soak RUN.json');
  process.exit(2);
}
