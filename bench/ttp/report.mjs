// Prints the time-to-playable table of a run: node bench/ttp/report.mjs RUN.jsonl
import { readFileSync } from 'node:fs';

// Mux's published time-to-publish medians by source duration (their figures, not measured here).
const MUX = [
  [60, 2.0, '< 1 min'],
  [300, 3.3, '1–5 min'],
  [1200, 9.0, '5–20 min'],
  [3600, 46.4, '20–60 min'],
  [Infinity, 93.5, '> 1 h'],
];
const mux = (secs) => MUX.find(([upTo]) => secs <= upTo && (upTo !== 60 || secs < 60)) || MUX[MUX.length - 1];
// Kino's goal: playable (first frame) this many seconds after the last byte.
const goal = (codec) => (codec === 'h264' ? 5 : 15);

const rows = readFileSync(process.argv[2], 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l));
const f = (x) => (x == null ? '—' : `${x.toFixed(1)} s`);
const mb = (b) => `${(b / 1e6).toFixed(0)} MB`;
const dur = (s) => (s >= 60 ? `${s / 60} min` : `${s} s`);

const head = ['case', 'source', 'upload', 'master 200 (a)', 'API playable', 'first frame (b)', 'ready (c)', 'Mux median*', 'goal (b)', ''];
const table = [head];
for (const r of rows) {
  const [, anchor, bucket] = mux(r.source_secs);
  const g = goal(r.codec);
  let verdict = r.error ? `ERROR: ${r.error}` : r.first_frame_secs <= g ? 'meets goal' : `misses goal by ${(r.first_frame_secs - g).toFixed(1)} s`;
  if (!r.error && r.status_at_first_frame === 'ready') verdict += ' (first frame only once ready)';
  table.push([
    r.case,
    `${r.codec === 'h264' ? 'H.264/AAC' : r.codec === 'vp9' ? 'VP9/Opus' : r.codec} ${r.source_height || 1080}p ${dur(r.source_secs)}, ${mb(r.source_bytes)}`,
    f(r.upload_secs),
    f(r.master_200_secs),
    f(r.playable_api_secs),
    f(r.first_frame_secs),
    f(r.ready_secs),
    `${anchor.toFixed(1)} s (${bucket})`,
    `≤ ${g} s`,
    verdict,
  ]);
}
const width = head.map((_, i) => Math.max(...table.map((row) => [...row[i]].length)));
const line = (row) => row.map((c, i) => c + ' '.repeat(width[i] - [...c].length)).join('  ').trimEnd();
console.log('Time to playable: seconds from the last upload byte (tus, final PATCH body sent) to');
console.log('(a) GET /hls/{id}/master.m3u8 answering 200, (b) hls.js in headless Chromium presenting its first');
console.log('frame, (c) status "ready" (whole ladder). Polled every 100 ms. "API playable": GET /api/videos/{id} first');
console.log('said playable: true (or ready).');
console.log();
console.log(line(table[0]));
console.log(line(width.map((w) => '-'.repeat(w))));
for (const row of table.slice(1)) console.log(line(row));
console.log();
console.log("* Mux's published time-to-publish medians by source duration (< 1 min 2.0 s, 1–5 min 3.3 s,");
console.log('  5–20 min 9.0 s, 20–60 min 46.4 s, > 1 h 93.5 s): their figures, not measured here, the anchor.');
console.log("  Kino's goal: playable ≤ 5 s after the last byte for H.264/AAC of any length, ≤ 15 s for other codecs.");
const r0 = rows.find((r) => r.kino || r.chromium);
if (r0) console.log(`  ${r0.kino || 'kino'} (${r0.binary}), Chromium ${r0.chromium}, hls.js ${r0.hls_js}; ${new Date().toISOString()}.`);
const extra = rows.filter((r) => r.final_patch_answer_secs != null)
  .map((r) => `${r.case} ${r.final_patch_answer_secs.toFixed(1)} s`).join(', ');
if (extra) console.log(`  Final PATCH answered (chunks joined, transcode queued) after the last byte: ${extra}.`);
const frames = rows.filter((r) => r.variants_at_first_frame != null)
  .map((r) => `${r.case} ${r.variants_at_first_frame} variant(s) at first frame${r.renditions_at_ready ? `, ladder ${r.renditions_at_ready}` : ''}`).join('; ');
if (frames) console.log(`  ${frames}.`);
