// Prints the report of one run of bench/live-latency.sh, bench/live-soak.sh or
// bench/ll-reloads.sh from its JSON line:
//   node report.mjs latency RUN.json
//   node report.mjs soak RUN.json
//   node report.mjs reloads RUN.json
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
  const cap = (x) => (x && x.p50 != null && pdtMinusCapture != null ? ` (≈ ${ms(x.p50 + pdtMinusCapture)} after capture)` : '');
  const out = [];
  const a = l.after_pdt_ms;
  // ffmpeg's own playlists (scratch directory) existed only with the old packager.
  const ff = l.ffmpeg_gaps_ms != null || l.packager_delay_ms != null;
  out.push(`Segments of ${l.variant} (${ff ? "its playlist and ffmpeg's" : 'its playlist'} polled every ${l.every_ms} ms; ${l.segments} new segments${l.parts ? `, ${l.parts} new parts` : ''}):`);
  out.push(`  segments listed by Kino after their last frame's PROGRAM-DATE-TIME: p50 ${ms(a && a.p50)}${cap(a)}, p95 ${ms(a && a.p95)}, max ${ms(a && a.max)}`);
  const pa = l.parts_after_pdt_ms;
  if (pa) out.push(`  parts listed by Kino after their last frame's PROGRAM-DATE-TIME: p50 ${ms(pa.p50)}${cap(pa)}, p95 ${ms(pa.p95)}, max ${ms(pa.max)}`);
  if (ff) {
    const pk = l.packager_delay_ms;
    const fa = l.ffmpeg_after_pdt_ms;
    if (fa) out.push(`  listed by ffmpeg after their last frame's PROGRAM-DATE-TIME: p50 ${ms(fa.p50)}, p95 ${ms(fa.p95)}, max ${ms(fa.max)} (large: the publisher or Kino's ffmpeg fell behind real time)`);
    out.push(`  listed by Kino after ffmpeg listed them (Kino's packager): ${pk ? `p50 ${ms(pk.p50)}, p95 ${ms(pk.p95)}, max ${ms(pk.max)}` : '—'}`);
    out.push(`  gaps between new segments — Kino: ${g(l.kino_gaps_ms)}; ffmpeg: ${g(l.ffmpeg_gaps_ms)}`);
    out.push(`  gaps over ${s(l.long_gap_ms, 0)} — Kino: ${long(l.kino_gaps_ms)}; ffmpeg: ${long(l.ffmpeg_gaps_ms)}`);
  } else {
    out.push(`  gaps between new segments: ${g(l.kino_gaps_ms)}${l.part_gaps_ms ? `; between new parts: ${g(l.part_gaps_ms)}` : ''}`);
    out.push(`  gaps over ${s(l.long_gap_ms, 0)} — segments: ${long(l.kino_gaps_ms)}${l.part_gaps_ms ? `; parts: ${long(l.part_gaps_ms)}` : ''}`);
  }
  return out;
}

if (kind === 'latency') {
  // Lines written before the player modes had one player (hls.js with liveSyncDurationCount 3
  // and hls.js's default lowLatencyMode): shown as one mode.
  const modes = r.modes || { [r.mode || 'player']: { ...r, starts: r.starts, listing: r.listing } };
  const order = r.mode_order || Object.keys(modes);
  const n = r.starts_n || 1;
  console.log(`Live glass-to-glass latency (bench/live-latency.sh): ${order.length > 1 ? `player modes ${order.join(', ')} taking turns, ` : ''}${n} start${n > 1 ? 's' : ''}${order.length > 1 ? ' each' : ''}, ${r.window_secs} s window after ${r.warmup_secs} s of playback`);
  console.log(`${r.kino} (${r.binary}), Chromium ${r.chromium}, hls.js ${r.hls_js}; ${r.at}`);
  if (r.publisher) console.log(`Publisher: ${r.publisher}`);
  if (r.server_env) console.log(`Kino settings: ${r.server_env}`);
  for (const mode of order) {
    const c = (r.hls_configs || {})[mode];
    if (c) console.log(`  ${mode}: new Hls(${JSON.stringify(c).replace(/"/g, '').replace(/,/g, ', ').replace(/:/g, ': ')})`);
  }
  if (r.error) console.log(`ERROR: ${r.error}`);
  console.log();
  const floorText = (m) => {
    if (m.floor_ms == null) return '—';
    return m.floor_basis === 'part_target' ? `${s(m.floor_ms)} (3 × PART-TARGET ${m.part_target_s} s)` : `${s(m.floor_ms)} (3 × TARGETDURATION ${m.target_duration_s} s)`;
  };
  const floorShort = (m) => (m.floor_ms == null ? '—' : `${s(m.floor_ms)} (3 × ${m.floor_basis === 'part_target' ? 'part' : 'target'})`);
  const rows = [['capture → display', 'median', 'p95', 'min', 'max', 'hls.latency p50', 'targetLatency', 'floor', 'waiting', 'first frame', 'hls.js errors']];
  for (const mode of order) {
    const m = modes[mode] || {};
    const x = m.measured_ms || {};
    const errs = m.hls_errors || [];
    const fatal = errs.filter((e) => e.startsWith('FATAL')).length;
    rows.push([
      mode, s(x.median), s(x.p95), s(x.min), s(x.max),
      s((m.hls_latency_ms || {}).median), m.hls_target_latency_s != null ? `${m.hls_target_latency_s.toFixed(2)} s` : '—',
      floorShort(m), int(m.waiting_events), m.first_frame_secs != null ? `${m.first_frame_secs} s` : '—',
      `${errs.length}${fatal ? ` (${fatal} fatal)` : ''}`,
    ]);
  }
  table(rows);
  console.log();
  console.log('Anchors, same frames (hls.latency: behind the edge of its last playlist, by hls.js; display − PDT: by Kino\'s EXT-X-PROGRAM-DATE-TIME of the frame shown):');
  for (const mode of order) {
    const m = modes[mode] || {};
    const h = m.hls_latency_ms || {};
    const p = m.pdt_latency_ms || {};
    const x = m.measured_ms || {};
    console.log(`  ${mode}: ${int(x.n)} frames (${int(m.unreadable)} unreadable); hls.latency median ${s(h.median)}, p95 ${s(h.p95)}; display − PDT median ${s(p.median)}, p95 ${s(p.p95)}; floor ${floorText(m)}; hls.js targetLatency ${m.hls_target_latency_s != null ? `${m.hls_target_latency_s.toFixed(2)} s` : '—'}`);
  }
  console.log();
  const ll = modes.ll;
  if (ll && ll.measured_ms && ll.measured_ms.median != null) {
    const x = ll.measured_ms;
    const okMed = x.median <= 2000;
    const okP95 = x.p95 <= 3000;
    const part = (ok, v, goal) => (ok ? `${s(v)} ✓` : `${s(v)} ✗ (over by ${s(v - goal)})`);
    console.log(`Goal (issue, low-latency HLS): median ≤ 2 s and p95 ≤ 3 s — ll: median ${part(okMed, x.median, 2000)}, p95 ${part(okP95, x.p95, 3000)}: ${okMed && okP95 ? 'meets it' : 'misses it'}.`);
  }
  for (const mode of order.filter((k) => k !== 'll')) {
    const x = (modes[mode] || {}).measured_ms || {};
    if (x.median == null) continue;
    const verdict = x.median <= 4000 ? 'meets it' : `misses it by ${s(x.median - 4000)}`;
    console.log(`${mode === 'standard' ? 'Standard HLS' : mode}${ll ? ', for comparison' : ''}: median ${s(x.median)}, p95 ${s(x.p95)} (the earlier goal for standard HLS, median ≤ 4 s: ${verdict})${ll && ll.measured_ms && ll.measured_ms.median != null ? `; ll is ${s(x.median - ll.measured_ms.median)} lower at the median` : ''}.`);
  }
  const pcAll = r.pdt_minus_capture_all_ms || r.pdt_minus_capture_ms || {};
  console.log(`Kino's EXT-X-PROGRAM-DATE-TIME − true capture time, same frames: median ${ms(pcAll.median)} (min ${ms(pcAll.min)}, max ${ms(pcAll.max)}).`);
  const ls = r.listing || [];
  const st = r.starts || [];
  ls.forEach((l, i) => {
    const lines = listingLines(l, pcAll.median);
    const who = l && l.mode ? `${l.mode}, ` : '';
    if ((ls.length > 1 || who) && lines.length) lines[0] = `Start ${l && l.start ? l.start : i + 1} (${who}window): ${lines[0]}`;
    for (const line of lines) console.log(line);
  });
  // Per start (pooled medians of different starts do not add up). hls.js's edge is the end of
  // the last part when the playlist has parts (in either mode), else of the last segment.
  const per = st.map((x, i) => {
    const l = ls[i];
    if (!l || x.measured_median_ms == null || x.hls_latency_median_ms == null || pcAll.median == null) return null;
    const listed = l.parts_after_pdt_ms && l.parts_after_pdt_ms.p50 != null ? l.parts_after_pdt_ms : l.after_pdt_ms;
    if (!listed || listed.p50 == null) return null;
    const kinoPart = listed.p50 + pcAll.median;
    return `${x.mode ? `${x.mode}: ` : ''}${s(x.measured_median_ms)} − ${s(x.hls_latency_median_ms)} − ${ms(kinoPart)} = ${ms(x.measured_median_ms - x.hls_latency_median_ms - kinoPart)}`;
  });
  if (per.some(Boolean)) console.log(`Rest: measured − hls.js behind its playlist's edge − capture→listed (the newest part, else segment)${per.length > 1 ? ', per start' : ''}: ${per.map((x) => x || '—').join('; ')} (how stale the playlist was when hls.js loaded it, decode, display).`);
  if (st.length > 1) console.log(`Per start, in run order (fresh page and hls.js each): ${st.map((x, i) => `${i + 1}${x.mode ? ` ${x.mode}` : ''}: measured median ${s(x.measured_median_ms)}, hls.latency ${s(x.hls_latency_median_ms)}, first frame ${x.first_frame_secs} s`).join('; ')}.`);
  for (const mode of order) {
    const m = modes[mode] || {};
    const wt = m.warmup_timeline || [];
    if (wt.length) console.log(`${mode}: hls.js behind its edge (hls.latency) during the ${m.starts_n > 1 || n > 1 ? 'first ' : ''}warm-up: ${wt.filter((_, i) => i % Math.ceil(wt.length / 8) === 0 || i === wt.length - 1).map((x) => `${x[0]} s: ${x[1].toFixed(2)}`).join(', ')}.`);
  }
  for (const mode of order) {
    const m = modes[mode] || {};
    if (!m.measured_ms) continue;
    const levels = m.levels ? Object.entries(m.levels).sort((a, b) => b[1] - a[1]).map(([h, c]) => `${h}p ${Math.round((100 * c) / (m.measured_ms.n || 1))} %`).join(', ') : '—';
    console.log(`${mode}: drift — measured median ${s(m.measured_first10_ms)} over the first 10 s of the window, ${s(m.measured_last10_ms)} over the last 10 s. Playback in the window: ${levels}; ${int(m.level_switches)} level switches, ${int(m.waiting_events)} 'waiting' events (${int(m.waiting_events_before)} before the window), ${int(m.dropped_frames)} dropped frames; first frame ${(m.first_frame_secs_each || [m.first_frame_secs]).join(', ')} s after loading.`);
  }
  const spread = Math.max(...order.map((k) => ((modes[k] || {}).capture_minus_media_spread_ms ?? -Infinity)));
  console.log(`Check: capture − media time, p1–p99 range over a window (widest): ${ms(Number.isFinite(spread) ? spread : null)} (≲ 60 ms: the publisher kept real time; more: it fell behind by up to that much and caught up — a starved machine — or strips were misread).`);
  if (Number.isFinite(spread) && spread > 250) console.log(`WARNING: the publisher fell behind real time by up to ${s(spread)} during a window: the measured latency includes that lag, Kino's PDT and the listing times are skewed by it, and the figures above are not to be trusted. Rerun on an idle machine.`);
  if (r.calibration) {
    const c = r.calibration;
    console.log(`Calibration (publisher graph alone, raw out): stamp → frame out of ffmpeg median ${ms(c.median_ms)}, p95 ${ms(c.p95_ms)}, max ${ms(c.max_ms)} over ${c.frames} frames (${c.unreadable} unreadable) — included in "measured".`);
  }
  console.log();
  console.log(`CPU over the windows, % of one core: ${cpuLine(r.cpu, [['kino', 'kino (own process)'], ['kino_ffmpeg', "kino's ffmpeg"], ['publisher', 'publisher ffmpeg'], ['browser', 'Chromium + driver']])}.`);
  if (r.rss_kib) console.log(`Kino RSS: ${mib(r.rss_kib.start)} at the start of the first window, ${mib(r.rss_kib.end)} at the end of the last, max ${mib(r.rss_kib.max)} (VmHWM ${mib(r.rss_kib.hwm)}).`);
  for (const mode of order) {
    const e = (modes[mode] || {}).hls_errors || [];
    if (e.length) console.log(`hls.js errors (${mode}): ${e.join(', ')}`);
  }
  if (r.start_errors && r.start_errors.length) console.log(`Starts that failed: ${r.start_errors.join('; ')}`);
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
} else if (kind === 'reloads') {
  const N = r.reloads;
  console.log(`LL-HLS blocking reloads (bench/ll-reloads.sh): ${int(N)} concurrent blocking reloads of one media playlist on one node, ${(r.rounds || []).filter((x) => !x.warmup).length} of ${r.rounds_n} rounds${r.warmup_rounds ? ` after ${r.warmup_rounds} warm-up round${r.warmup_rounds > 1 ? 's' : ''}` : ''}`);
  console.log(`${r.kino} (${r.binary}); ${r.at}`);
  if (r.publisher) console.log(`Publisher: ${r.publisher}`);
  if (r.server_env) console.log(`Kino settings: ${r.server_env}`);
  const pl = r.playlist || {};
  console.log(`Playlist: ${pl.url ?? '—'} (${r.rendition ?? '—'} of ${(r.variants || []).join(', ') || '—'}; ${int(pl.bytes)} B; PART-TARGET ${pl.part_target_s ?? '—'} s, TARGETDURATION ${pl.target_duration_s ?? '—'} s; ${pl.server_control ?? 'no SERVER-CONTROL'}); ${int(r.sockets_open)} connections kept open`);
  if (r.error) console.log(`ERROR: ${r.error}`);
  console.log();
  const d = (x) => (x == null ? '—' : `${x.toFixed(1)} ms`);
  const w = r.wake_ms || {};
  const wa = r.wake_all_ms || {};
  const a = (r.anchor || {}).spread_ms || {};
  const ar = (r.anchor || {}).response_ms || {};
  const h = r.held_ms || {};
  table([
    ['', 'p50', 'p99', 'max', 'requests', ''],
    ['wake-up: answer − first answer of the round', d(w.p50), d(w.p99), d(w.max), int(w.n), 'held reloads (flushed before the part landed)'],
    ['  every burst request', d(wa.p50), d(wa.p99), d(wa.max), int(wa.n), `incl. ${int(r.late)} sent too late to be held`],
    ['anchor: plain reloads, answer − first answer', d(a.p50), d(a.p99), d(a.max), int(a.n), `${int(N)} at once, no directives, same connections`],
    ['held: answer − sent', d(h.p50), d(h.p99), d(h.max), int(h.n), 'how long a held reload waited'],
    ['anchor: plain reload answer − sent', d(ar.p50), d(ar.p99), d(ar.max), int(ar.n), ''],
  ]);
  console.log();
  const st = (o) => (o ? Object.entries(o).map(([k, n]) => `${k} ×${int(n)}`).join(', ') : '—');
  const non200 = (o) => (o ? Object.entries(o).filter(([k]) => k !== '200').reduce((x, [, n]) => x + n, 0) : 0);
  console.log(`Answers to the held reloads (every round): ${st(r.statuses)} (${int(non200(r.statuses))} not 200); answers not listing the part asked for: ${int(r.wrong_answers)}. Plain reloads: ${st((r.anchor || {}).statuses)}.`);
  const wt = r.watcher_wake_ms || {};
  const pi = r.part_interval_ms || {};
  const ss = r.send_spread_ms || {};
  console.log(`The watcher (own connection, sent first): answered p50 ${d(wt.p50)} after the round's first answer (max ${d(wt.max)}). The part came p50 ${d(pi.p50)} after the sync reload's answer (min ${d(pi.min)}, max ${d(pi.max)}; ≈ PART-TARGET when all is well); sending the ${int(N)} requests took p50 ${d(ss.p50)} (max ${d(ss.max)}).`);
  const rs = r.rss_kib || {};
  const kib = (x) => (x == null ? '—' : `${x.toFixed(1)} KiB`);
  console.log();
  console.log(`Kino RSS: ${mib(rs.before_sockets)} before the ${int(N)} connections, ${mib(rs.sockets_idle)} with them open and idle (${kib(rs.per_connection_kib)} per connection); before a burst median ${mib(rs.before_burst_median)}, peak while held ${mib(rs.held_peak_max)} (VmHWM ${mib(rs.hwm)}).`);
  console.log(`  held − before, per round: median ${int(rs.held_delta_median)} KiB, max ${int(rs.held_delta_max)} KiB; the very first held burst (warm-up) ${int(rs.held_delta_first)} KiB → per held reload: ${kib(rs.per_held_request_kib)} (median round), ${kib(rs.per_held_request_max_kib)} (worst round).`);
  const f = r.fds || {};
  const k = (x) => (x ? Object.entries(x).filter(([, n]) => n).map(([name, n]) => `${name} ${n}`).join(', ') : '—');
  console.log(`Kino file descriptors — before: ${k(f.before)}; connections open: ${k(f.idle)}; held (first burst): ${k(f.held)}.`);
  const rows = (r.rounds || []).filter((x) => !x.warmup);
  const ww = r.warmup_wake_ms;
  if (ww && ww.n) console.log(`Warm-up (not counted): wake-up p50 ${d(ww.p50)}, p99 ${d(ww.p99)}, max ${d(ww.max)}.`);
  if (rows.length) {
    const col = (key) => rows.map((x) => x[key]);
    const fmt = (xs) => xs.map((x) => (x == null ? '—' : Math.round(x))).join(' ');
    console.log(`Per round, wake-up p99 (ms): ${fmt(col('wake_p99_ms'))}`);
    console.log(`           anchor p99 (ms):  ${fmt(col('anchor_p99_ms'))}`);
    console.log(`           RSS held − before (KiB): ${fmt(rows.map((x) => x.rss_held_peak_kib - x.rss_before_kib))}`);
  }
  console.log(`CPU over the rounds, % of one core: ${cpuLine(r.cpu, [['kino', 'kino (own process)'], ['kino_ffmpeg', "kino's ffmpeg"], ['publisher', 'publisher ffmpeg'], ['driver', 'driver (node)']])}.`);
} else {
  console.error('usage: node report.mjs latency|soak|reloads RUN.json');
  process.exit(2);
}
