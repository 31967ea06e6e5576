#!/usr/bin/env bash
# Live soak: one live stream for MINUTES with VIEWERS simulated players, on loopback. Is Kino's
# memory flat, does every listed segment arrive, do file descriptors come back?
#
# What it measures, over the run:
# - Kino's RSS (VmRSS of the kino process itself, not its ffmpeg child) every 10 s: start, end,
#   max, and the change between the mean of the first minute and of the last minute;
# - requests/s served (counted by the viewers: completed responses) and MB/s;
# - errors (any answer but 200, failed or timed-out requests) by kind;
# - segments missing: a viewer saw a segment listed but its GET failed, or media sequence
#   numbers were skipped; also playlists going back, and playlist stalls (nothing new for more
#   than 3 target durations);
# - Kino's open file descriptors (/proc/PID/fd) before the viewers, once they are all
#   connected, at the end, and a few seconds after they left;
# - CPU (% of one core) of kino, its ffmpeg, the publisher and the viewers' node process.
#
# How: a fresh data directory and `kino serve` (default config, RTMP on a free loopback port);
# the publisher is ffmpeg -re from lavfi testsrc2 1280x720 30 fps + sine (x264 veryfast
# zerolatency, keyframe every 1 s, 2.5 Mbit/s; AAC) to rtmp://127.0.0.1:PORT/live/KEY, so Kino
# serves a copied 720p source and two encoded rungs (480p, 360p). Once the multivariant playlist
# answers, bench/live/viewers.mjs runs VIEWERS players in one node process (each with its own
# keep-alive connection, variants round-robin): every target duration a media playlist reload,
# then each new segment, like hls.js at its live edge (see the header of viewers.mjs).
#
# Known limits of the method:
# - Viewers are not browsers: no decoding, no ABR; they fetch every segment of one variant in
#   order. The request mix (≈ 1 playlist + 1 segment per viewer per second) is a player's.
# - Loopback only: no bandwidth limit, loss or RTT. Publisher, Kino, its ffmpeg and the viewers
#   share this machine's cores; the machine's busy % and everyone else's CPU are printed.
# - Kino's live playlist keeps a DVR window (live.dvr_secs, default 2 h), so for the first two
#   hours the media playlist, the in-memory index and the live_segments rows grow with the run
#   (its size at start and end is printed): RSS is expected to creep by that, and playlist
#   reloads get heavier.
# - RSS is sampled every 10 s (a spike between samples can be missed; VmHWM would catch it but
#   counts start-up too).
#
# Run:
#   bench/live-soak.sh                 # 30 minutes, 200 viewers
#   bench/live-soak.sh 3 200           # MINUTES VIEWERS
#   LIVE_SOAK_RENDITION=source bench/live-soak.sh 10 200    # everyone on one variant
#
# Environment (all optional):
#   KINO_BIN              the server (default /var/tmp/kino-ci-target/release/kino, else the debug build)
#   LIVE_PUBLISHER_PRESET=veryfast  x264 preset of the publisher (ultrafast leaves more CPU to the rest)
#   LIVE_SOAK_RENDITION   all (round-robin, default) or a variant name (source, 480p, 360p)
#   LIVE_SOAK_KEEP_TMP=1  keep the data directory and logs
#
# Results: the report on stdout; one JSON line appended to bench/.results/live-soak.jsonl.
set -euo pipefail

LOG_TAG=live-soak
KEEP_TMP=${LIVE_SOAK_KEEP_TMP:-0}
source "$(dirname "${BASH_SOURCE[0]}")/live/common.sh"

MINUTES=${1:-30}
VIEWERS=${2:-200}
[[ $MINUTES =~ ^[0-9]+(\.[0-9]+)?$ ]] || die "MINUTES must be a number: $MINUTES"
[[ $VIEWERS =~ ^[0-9]+$ ]] || die "VIEWERS must be a whole number: $VIEWERS"
SECS=$(awk -v m="$MINUTES" 'BEGIN { printf "%d", m * 60 }')

live_preflight
live_start_server
live_create_stream "Live soak bench"
live_publish $((SECS + 180))
live_wait_playable
# Let the window fill a little (viewers start three segments behind the newest).
sleep 5
awk '$1 > 1.0 {exit 1}' /proc/loadavg ||
    log "warning: load average is $(cut -d' ' -f1-3 /proc/loadavg) before the run; other work on this machine competes with Kino"

RUN_LINE=$TMP/run.json
status=0
node "$LIVE_DIR/viewers.mjs" --base "$BASE" --id "$VIDEO_ID" --viewers "$VIEWERS" --secs "$SECS" \
    --kino-pid "$SERVER_PID" --publisher-pid "$PUBLISHER_PID" --rendition "${LIVE_SOAK_RENDITION:-all}" \
    --version "$KINO_VERSION ($KINO_BUILD)" --binary "$KINO_BIN" --publisher "$PUBLISHER_DESC" --scratch "$TMP/data/scratch" >"$RUN_LINE" || status=1
log "publisher: $(live_publisher_progress)"
kill -0 "$PUBLISHER_PID" 2>/dev/null || { log "the publisher had exited:"; tail -n 5 "$TMP/publisher.log" >&2; status=1; }
[ -s "$RUN_LINE" ] || die "the viewers printed nothing"
cat "$RUN_LINE" >>"$RESULTS_DIR/live-soak.jsonl"
echo
if grep -q '"requests"' "$RUN_LINE"; then
    node "$LIVE_DIR/report.mjs" soak "$RUN_LINE"
else
    cat "$RUN_LINE"
fi
live_server_log_summary
echo
log "JSON line appended to $RESULTS_DIR/live-soak.jsonl"
exit $status
