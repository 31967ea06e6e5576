// The capture-clock strip of bench/live-latency.sh: one definition of the layout, used to draw
// it (the publisher's ffmpeg filter) and to read it (the page in Chromium, and the calibration
// below).
//
// Layout, on a 1280x720 picture: the top 40 rows, 32 cells of 40 px. Cell i (0 = leftmost)
// holds bit 31-i of the frame's capture time in Unix ms modulo 2^32 (wraps every 49.7 days; the
// reader takes the value nearest below its own clock). Top half (rows 0-19): white for 1, black
// for 0; bottom half (rows 20-39): the complement, so a cell reads only when its halves clearly
// disagree and a misread needs both halves wrong.
//
// The capture time: `settb=AVTB,setpts=RTCTIME` (the wall clock in µs, CLOCK_REALTIME, when the
// frame enters the filter graph), then one drawbox per half-cell enabled by that bit of `t`, then
// `setpts=N/(FPS*TB)` gives the stream its regular timestamps back. The filter graph runs on
// ffmpeg's main thread after `-re` released the frame, so the stamp is the moment the frame was
// "captured" (paced out), before the encoder; see `calibrate` below for a check.
//
//   node strip.mjs filter [FPS]    prints the -filter_complex graph ([0:v] -> [v])
//   ffmpeg ... -f rawvideo - | node strip.mjs calibrate
//       reads gray 1280x40 frames (the strip, cropped out of the publisher's graph) and prints
//       JSON: how long after its stamp each frame came out of ffmpeg (median, p95, max), frames
//       and cells that did not read.

export const WIDTH = 1280;
export const HEIGHT = 720;
export const CELLS = 32;
export const CELL_W = WIDTH / CELLS; // 40
export const STRIP_H = 40; // two halves of 20
export const MOD = 2 ** 32;

/** The filter graph: [0:v] -> [v], 1280x720 in, the strip drawn, timestamps regular again. */
export function filterGraph(fps = 30) {
  const bit = (k) => `mod(floor(mod(floor(t*1000),${MOD})/${2 ** k}),2)`;
  const boxes = [`drawbox=x=0:y=0:w=${WIDTH}:h=${STRIP_H}:color=black:t=fill`];
  for (let i = 0; i < CELLS; i++) {
    const k = CELLS - 1 - i;
    const x = i * CELL_W;
    boxes.push(`drawbox=x=${x}:y=0:w=${CELL_W}:h=${STRIP_H / 2}:color=white:t=fill:enable='${bit(k)}'`);
    boxes.push(`drawbox=x=${x}:y=${STRIP_H / 2}:w=${CELL_W}:h=${STRIP_H / 2}:color=white:t=fill:enable='1-${bit(k)}'`);
  }
  return `[0:v]settb=AVTB,setpts=RTCTIME,${boxes.join(',')},setpts=N/(${fps}*TB)[v]`;
}

/**
 * Reads the strip from luminance samples: `top(i)` and `bottom(i)` give cell i's mean
 * brightness (0-255) in each half. Returns the 32-bit value, or null when a cell is unclear
 * (halves closer than `minContrast`).
 */
export function readBits(top, bottom, minContrast = 100) {
  let v = 0;
  for (let i = 0; i < CELLS; i++) {
    const a = top(i);
    const b = bottom(i);
    if (Math.abs(a - b) < minContrast) return null;
    v = v * 2 + (a > b ? 1 : 0);
  }
  return v;
}

/** The Unix ms that `v` (ms mod 2^32) stands for: the nearest at or before `now`. */
export function unwrap(v, now) {
  return now - ((((now - v) % MOD) + MOD) % MOD);
}

function quantile(sorted, q) {
  if (!sorted.length) return null;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))];
}

async function calibrate() {
  const frame = WIDTH * STRIP_H;
  let buf = Buffer.alloc(0);
  const delays = [];
  let bad = 0;
  for await (const chunk of process.stdin) {
    const now = Date.now();
    buf = Buffer.concat([buf, chunk]);
    while (buf.length >= frame) {
      const f = buf.subarray(0, frame);
      buf = buf.subarray(frame);
      const px = (i, y) => f[y * WIDTH + i * CELL_W + CELL_W / 2];
      const v = readBits((i) => px(i, 10), (i) => px(i, 30));
      if (v == null) bad++;
      else delays.push(now - unwrap(v, now));
    }
  }
  delays.sort((a, b) => a - b);
  process.stdout.write(`${JSON.stringify({
    frames: delays.length + bad,
    unreadable: bad,
    median_ms: quantile(delays, 0.5),
    p95_ms: quantile(delays, 0.95),
    min_ms: delays[0] ?? null,
    max_ms: delays[delays.length - 1] ?? null,
  })}\n`);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const cmd = process.argv[2];
  if (cmd === 'filter') process.stdout.write(`${filterGraph(Number(process.argv[3] || 30))}\n`);
  else if (cmd === 'calibrate') await calibrate();
  else {
    process.stderr.write('usage: node strip.mjs filter [FPS] | calibrate\n');
    process.exit(2);
  }
}
