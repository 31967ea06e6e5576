#!/usr/bin/env bash
# Live glass-to-glass latency, measured per displayed frame (not computed from settings), for a
# low-latency HLS player and a standard HLS player taking turns on the same broadcast.
#
# What: seconds from the moment a frame is "captured" at the publisher to the moment hls.js in
# headless Chromium presents it, through the whole path: x264 (zerolatency) -> RTMP -> Kino's
# ingest -> Kino's ffmpeg (copied source + encoded rungs, fragmented MP4 to pipes) -> Kino's
# packager (0.2 s LL-HLS parts, 1 s segments, stored in the blob store) -> Kino's media playlist
# (EXT-X-PART, preload hints, blocking reloads) -> hls.js -> decode -> display.
#
# Player modes (LIVE_MODES, default "ll standard"; each start is a fresh page and hls.js, the
# modes take turns: ll, standard, ll, standard, ...):
#   ll        new Hls({ lowLatencyMode: true, maxLiveSyncPlaybackRate: 1.1 }): Kino's watch page
#             (web/static/player.js). It loads parts, reloads with _HLS_msn/_HLS_part, holds
#             back PART-HOLD-BACK (3 parts) and plays up to 10 % faster to get back there. No
#             liveSyncDurationCount: setting it would override PART-HOLD-BACK in hls.js's
#             LatencyController.
#   standard  new Hls({ lowLatencyMode: false, liveSyncDurationCount: 3, maxLiveSyncPlaybackRate: 1.1 }):
#             a standard-HLS player on the same playlists. It loads whole segments only and
#             stays 3 target durations behind; hls.js still uses blocking reloads when the
#             playlist offers them (asking for the next segment), and applies
#             maxLiveSyncPlaybackRate in low-latency mode only, so it never speeds up. Its
#             blocking reloads ask for the last part of the segment being filled (up to a
#             segment away) under a timeout hls.js caps at max(3 x PART-TARGET, 0.8 x
#             TARGETDURATION) = 0.8 s: non-fatal levelLoadTimeOut errors in its row are that
#             (hls.js's doing; it retries).
#
# How: the publisher is ffmpeg -re from lavfi testsrc2 (1280x720, 30 fps) + sine, sent to
# rtmp://127.0.0.1:PORT/live/KEY. Its filter graph stamps every frame with the wall clock at the
# moment -re releases it (setpts=RTCTIME) and draws that time (Unix ms mod 2^32) as 32
# black/white cells across the top 40 rows, each cell with its complement below it
# (bench/live/strip.mjs). A page in Chromium plays /hls/{id}/master.m3u8 with Kino's own
# /assets/hls.min.js; on each presented frame (requestVideoFrameCallback) it draws the strip to a
# canvas, reads the capture time and records display time - capture time. After a warm-up it
# records for a window and prints, per mode, median, p95, min, max and the sample count, next to
# anchors taken from the same frames: what hls.js claims (hls.latency: seconds behind the edge of
# the playlist it loaded; and display time - the frame's EXT-X-PROGRAM-DATE-TIME, which is Kino's
# estimate of the capture time), hls.js's targetLatency, and the floor of its live sync: 3 x
# PART-TARGET for ll (hls.js's levelDetails.partTarget; Kino's PART-HOLD-BACK), 3 x
# EXT-X-TARGETDURATION for standard. Against the issue's goal: ll median <= 2 s and p95 <= 3 s.
# A breakdown from the same windows: when each segment and each part appears in Kino's playlist
# (polled every 50 ms, bench/live/listing.mjs), i.e. capture -> listed. (The old packager's
# second column, when ffmpeg listed a segment in its own scratch playlist, is gone: ffmpeg now
# writes to pipes and there is no ffmpeg playlist to read.) Also Kino's own CPU (its process,
# not its ffmpeg child) and its ffmpeg's, as % of one core over the windows (utime+stime from
# /proc/PID/stat), and Kino's RSS.
#
# Known error of the method:
# - No clock transfer: ffmpeg and Chromium read the same CLOCK_REALTIME on this machine, so
#   there is no T0 to estimate; each frame carries its own capture time (1 ms resolution).
# - The stamp is taken when the frame enters the publisher's filter graph after -re paced it,
#   i.e. before drawing the strip, x264 and RTMP. A calibration run of the same graph (raw
#   output, no encoder) prints how long frames take from the stamp to leaving ffmpeg (≈ 35 ms
#   median on the 2-core machine): that much of the figure is the bench's own publisher
#   plumbing. A real camera + OBS adds capture time this bench does not have (1–3 frames).
# - Display time is requestVideoFrameCallback's expectedDisplayTime (rebased on Date.now()):
#   ±1 compositor frame (16.7 ms). Frames rVFC skips are not sampled.
# - A cell reads only if its two halves differ by ≥ 100/255; frames with an unclear cell are
#   counted as unreadable and left out. The spread of (capture - media time) over a window is
#   printed as a check: on one timeline it moves only by the publisher's pacing jitter.
# - Where hls.js lands when it starts sets its distance to the edge; the ll player plays up to
#   10 % faster to get back to its target, the standard one keeps where it landed for the
#   session: its starts differ by up to ~1 s. LIVE_STARTS=N gives each mode N starts, pooled,
#   and prints each one's median.
# - The modes do not run at the same moment (one Chromium page at a time, so they do not compete
#   for the cores), but alternate on the same broadcast: a change in the machine's load over
#   the run is shared out between them.
# - Everything (publisher encode, Kino's ffmpeg, Chromium decode) shares this machine's cores;
#   the machine's busy % and the other processes' CPU are printed: a saturated machine delays
#   parts and segments and inflates the figure (the capture − media time check shows a starved
#   publisher).
#
# Run:
#   bench/live-latency.sh                        # ll then standard, 20 s warm-up, 60 s window each
#   LIVE_STARTS=3 bench/live-latency.sh          # ll, standard, ll, standard, ll, standard
#   LIVE_MODES=ll LIVE_WINDOW_SECS=120 bench/live-latency.sh
#   KINO_BIN=/path/to/kino bench/live-latency.sh
#
# Environment (all optional):
#   KINO_BIN            the server (default /var/tmp/kino-ci-target/release/kino, else the debug build)
#   LIVE_MODES="ll standard"  player modes, in the order they take turns (ll, standard)
#   LIVE_STARTS=1       player starts per mode (fresh page and hls.js each, its own warm-up and
#                       window), pooled per mode: where hls.js lands at start-up sets its
#                       distance to the edge, and that varies from start to start
#   LIVE_PUBLISHER_PRESET=veryfast  x264 preset of the publisher (ultrafast leaves more CPU to the rest)
#   LIVE_WARMUP_SECS=20 seconds of playback before each window (ABR settles, buffer fills)
#   LIVE_WINDOW_SECS=60 measured seconds per start
#   LIVE_SERVER_ENV     KEY=VALUE ... settings for kino serve (the caller's own KINO_* are not
#                       passed), e.g. KINO_LIVE__LOW_LATENCY=false for plain playlists
#   LIVE_KEEP_TMP=1     keep the data directory and logs (server, publisher, samples.csv)
#   CHROMIUM=/usr/bin/chromium
#
# Results: the report on stdout; one JSON line appended to bench/.results/live-latency.jsonl
# (per mode under "modes"; the top-level figures are the first mode's, "mode").
set -euo pipefail

LOG_TAG=live-latency
KEEP_TMP=${LIVE_KEEP_TMP:-0}
source "$(dirname "${BASH_SOURCE[0]}")/live/common.sh"

WARMUP=${LIVE_WARMUP_SECS:-20}
WINDOW=${LIVE_WINDOW_SECS:-60}
STARTS=${LIVE_STARTS:-1}
MODES=${LIVE_MODES:-ll standard}
read -r -a MODE_LIST <<<"$MODES"
[ "${#MODE_LIST[@]}" -ge 1 ] || die "LIVE_MODES is empty"
for m in "${MODE_LIST[@]}"; do
    case $m in ll | standard) ;; *) die "LIVE_MODES: unknown mode $m (ll, standard)" ;; esac
done
[[ $STARTS =~ ^[1-9][0-9]*$ ]] || die "LIVE_STARTS must be a whole number ≥ 1: $STARTS"

live_preflight
[ -d "$REPO/tests/browser/node_modules/playwright-core" ] ||
    die "tests/browser/node_modules is missing: (cd tests/browser && npm ci)"
[ -f "$REPO/web/node_modules/hls.js/package.json" ] || die "web/node_modules is missing: (cd web && npm ci)"
[ -x "${CHROMIUM:-/usr/bin/chromium}" ] || die "no Chromium at ${CHROMIUM:-/usr/bin/chromium}"

GRAPH=$(node "$LIVE_DIR/strip.mjs" filter 30)

# Calibration: the publisher's filter graph alone for 4 s, raw strip out, read back at once.
log "calibrating the capture stamp (4 s)"
CALIBRATION=$(ffmpeg -hide_banner -nostdin -loglevel error -re \
    -f lavfi -i "testsrc2=size=1280x720:rate=30[out0];sine=frequency=440:sample_rate=48000[out1]" \
    -filter_complex "$GRAPH;[v]crop=1280:40:0:0,format=gray[c]" -map '[c]' -t 4 -f rawvideo - |
    node "$LIVE_DIR/strip.mjs" calibrate)
log "  stamp -> frame out of ffmpeg: $CALIBRATION"

live_start_server
live_create_stream "Live latency bench"
# Long enough for start-up, warm-up and window; the clean-up stops it early.
live_publish $(( (WARMUP + WINDOW + 30) * STARTS * ${#MODE_LIST[@]} + 120 )) "$GRAPH"
log "player modes: ${MODE_LIST[*]}, $STARTS start(s) each, taking turns"
live_wait_playable
awk '$1 > 1.0 {exit 1}' /proc/loadavg ||
    log "warning: load average is $(cut -d' ' -f1-3 /proc/loadavg) before the run; other work on this machine inflates the figure"

RUN_LINE=$TMP/run.json
status=0
node "$LIVE_DIR/latency.mjs" --base "$BASE" --id "$VIDEO_ID" --kino-pid "$SERVER_PID" \
    --publisher-pid "$PUBLISHER_PID" --warmup "$WARMUP" --window "$WINDOW" --starts "$STARTS" --modes "${MODE_LIST[*]}" \
    --calibration "$CALIBRATION" --version "$KINO_VERSION ($KINO_BUILD)" --binary "$KINO_BIN" --publisher "$PUBLISHER_DESC" \
    --samples "$TMP/samples.csv" --scratch "$TMP/data/scratch" --server-env "${LIVE_SERVER_ENV:-}" >"$RUN_LINE" || status=1
log "publisher: $(live_publisher_progress) (speed < 1x: it could not keep up, capture times lag media time)"
kill -0 "$PUBLISHER_PID" 2>/dev/null || log "warning: the publisher had exited: $(tail -n 3 "$TMP/publisher.log")"
[ -s "$RUN_LINE" ] || die "the driver printed nothing"
cat "$RUN_LINE" >>"$RESULTS_DIR/live-latency.jsonl"
echo
node "$LIVE_DIR/report.mjs" latency "$RUN_LINE"
live_server_log_summary
echo
log "JSON line appended to $RESULTS_DIR/live-latency.jsonl"
exit $status
