#!/usr/bin/env bash
# Low-latency HLS: 1,000 concurrent blocking playlist reloads on one node. How long after a part
# lands are they all answered (p99 wake-up delay), what does holding them cost in memory, and
# does every one get a playlist that lists the part it asked for?
#
# How: a fresh data directory and `kino serve` (RTMP on a free loopback port), one public live
# stream, the publisher ffmpeg -re from lavfi testsrc2 1280x720 30 fps + sine (x264 zerolatency,
# keyframe every 1 s) to rtmp://127.0.0.1:PORT/live/KEY (bench/live/common.sh). Once the
# stream plays, bench/live/reloads.mjs (plain node:http, keep-alive connections) takes one
# rendition's LL-HLS media playlist and runs LL_ROUNDS rounds of:
#   1. one blocking reload for the next part (?_HLS_msn=M&_HLS_part=P+1): the round starts just
#      after a part landed;
#   2. LL_RELOADS blocking reloads for the part after that, sent at once on as many connections
#      opened beforehand, plus a watcher request on its own connection. The part landed, as seen
#      from the client, at the round's first answer; wake-up delay = answer − first answer, per
#      request, pooled over the rounds: p50, p99, max. Requests not yet flushed to their socket
#      when the first answer came were never held and are counted apart ("late");
#   3. the anchor: the same number of plain playlist GETs (no directives) at once on the same
#      connections: the spread of their answers is what answering that many requests at once
#      costs with no waiting, to set the wake-up figure against.
# LL_WARMUP_ROUNDS rounds (default 1) run first and are not counted.
# Kino's RSS (VmRSS of the kino process) is read before the connections are opened, with them
# open and idle, before each burst and every 2 ms while it is held: (peak − before) / N is the
# memory of one held reload. Also: answers by status, answers that do not list the part asked
# for, how long the requests were held, Kino's file descriptors, CPU over the rounds.
#
# Settings for Kino: its defaults, except
# - live.encoded_rungs = LL_ENCODED_RUNGS (default 0: the copied source only). The reloads do
#   not care how many rungs there are, and on a 2-core machine two x264 encoders would take
#   the CPU the figure is about; LL_ENCODED_RUNGS=2 gives Kino's default ladder.
# - http.max_streams / http.max_connections raised only if LL_RELOADS would not fit under
#   them: every answer's body takes a stream slot while it is written (default 1,024), every
#   connection a connection slot (default 4,096). Neither limit is per address; nothing else
#   limits plain HTTP requests from one address.
# The open-file limit (ulimit -n) is raised for Kino and the driver when the hard limit allows.
#
# Known limits of the method:
# - The client is one node process: the spread of N answers includes the time it takes to read
#   N responses one after the other (the anchor has the same cost, which is why it is there).
# - "The part landed" is the first answer seen, not the moment Kino stored it: the time from
#   storing the part to the first answer (the live.part event, waking the first request,
#   reading the playlist, writing it) is not in the wake-up figure. The part's arrival after
#   the sync reload (≈ PART-TARGET) is printed as a check.
# - Memory is Kino's RSS: glibc may keep freed memory, and Kino trims it only when streaming
#   goes idle; the per-round deltas (printed) show whether the first round's peak is reused.
# - Loopback only; the publisher, Kino's ffmpeg and the driver share the machine's cores (CPU
#   printed).
#
# Run:
#   bench/ll-reloads.sh                           # 1,000 reloads, 20 rounds
#   LL_RELOADS=200 LL_ROUNDS=5 bench/ll-reloads.sh    # a quick check
#   KINO_BIN=/path/to/kino bench/ll-reloads.sh
#
# Environment (all optional):
#   KINO_BIN              the server (default /var/tmp/kino-ci-target/release/kino, else the debug build)
#   LL_RELOADS=1000       concurrent blocking reloads per round
#   LL_ROUNDS=20          measured rounds
#   LL_WARMUP_ROUNDS=1    rounds run first and left out of the figures (the driver's code not yet
#                         compiled, Kino's buffers not yet allocated); the memory of the very
#                         first held burst is printed apart
#   LL_RENDITION          the rendition whose playlist is reloaded (default: the highest BANDWIDTH)
#   LL_ENCODED_RUNGS=0    live.encoded_rungs of Kino (see above)
#   LIVE_PUBLISHER_PRESET=ultrafast  x264 preset of the publisher (ultrafast here: CPU for Kino)
#   LIVE_SERVER_ENV       more KEY=VALUE settings for kino serve (e.g. KINO_LIVE__PART_SECS=0.5)
#   LL_KEEP_TMP=1         keep the data directory and logs
#
# Results: the report on stdout; one JSON line appended to bench/.results/ll-reloads.jsonl.
set -euo pipefail

LOG_TAG=ll-reloads
KEEP_TMP=${LL_KEEP_TMP:-0}
source "$(dirname "${BASH_SOURCE[0]}")/live/common.sh"

RELOADS=${LL_RELOADS:-1000}
ROUNDS=${LL_ROUNDS:-20}
WARMUP_ROUNDS=${LL_WARMUP_ROUNDS:-1}
RUNGS=${LL_ENCODED_RUNGS:-0}
[[ $RELOADS =~ ^[1-9][0-9]*$ ]] || die "LL_RELOADS must be a whole number ≥ 1: $RELOADS"
[[ $ROUNDS =~ ^[1-9][0-9]*$ ]] || die "LL_ROUNDS must be a whole number ≥ 1: $ROUNDS"
[[ $WARMUP_ROUNDS =~ ^[0-9]+$ ]] || die "LL_WARMUP_ROUNDS must be a whole number: $WARMUP_ROUNDS"
[[ $RUNGS =~ ^[0-9]+$ ]] || die "LL_ENCODED_RUNGS must be a whole number: $RUNGS"
export LIVE_PUBLISHER_PRESET=${LIVE_PUBLISHER_PRESET:-ultrafast}

# Kino's settings (see the header). The slots needed: N burst connections + the driver's sync
# and watcher connection + a few for the scripts' own requests.
NEED=$((RELOADS + 16))
SERVER_ENV="KINO_LIVE__ENCODED_RUNGS=$RUNGS"
if [ "$NEED" -gt 1024 ]; then
    SERVER_ENV="$SERVER_ENV KINO_HTTP__MAX_STREAMS=$((RELOADS + 256))"
    log "http.max_streams raised to $((RELOADS + 256)) (default 1024: up to $RELOADS answers are written at once)"
fi
if [ "$NEED" -gt 4096 ]; then
    SERVER_ENV="$SERVER_ENV KINO_HTTP__MAX_CONNECTIONS=$((RELOADS + 256))"
    log "http.max_connections raised to $((RELOADS + 256)) (default 4096)"
fi
LIVE_SERVER_ENV="$SERVER_ENV${LIVE_SERVER_ENV:+ $LIVE_SERVER_ENV}"

# Open files: Kino (started from this shell) and the driver each hold N sockets.
want_fds=$((2 * RELOADS + 1024))
if [ "$(ulimit -n)" -lt "$want_fds" ]; then
    ulimit -n "$want_fds" 2>/dev/null || ulimit -n "$(ulimit -Hn)"
fi
[ "$(ulimit -n)" -ge $((RELOADS + 256)) ] ||
    die "open-file limit $(ulimit -n) is too low for $RELOADS connections (hard limit $(ulimit -Hn))"

live_preflight
live_start_server
log "kino settings: $LIVE_SERVER_ENV; open-file limit $(ulimit -n)"
live_create_stream "LL-HLS reloads bench"
# Long enough for start-up and the rounds (about 1 s each); the clean-up stops it early.
live_publish $(((ROUNDS + WARMUP_ROUNDS) * 3 + 180))
live_wait_playable
# A few segments in the playlist before the first round.
sleep 3
awk '$1 > 1.0 {exit 1}' /proc/loadavg ||
    log "warning: load average is $(cut -d' ' -f1-3 /proc/loadavg) before the run; other work on this machine delays the answers"

RUN_LINE=$TMP/run.json
status=0
node "$LIVE_DIR/reloads.mjs" --base "$BASE" --id "$VIDEO_ID" --kino-pid "$SERVER_PID" \
    --publisher-pid "$PUBLISHER_PID" --reloads "$RELOADS" --rounds "$ROUNDS" --warmup-rounds "$WARMUP_ROUNDS" \
    ${LL_RENDITION:+--rendition "$LL_RENDITION"} --server-env "$LIVE_SERVER_ENV" \
    --version "$KINO_VERSION ($KINO_BUILD)" --binary "$KINO_BIN" --publisher "$PUBLISHER_DESC" >"$RUN_LINE" || status=1
log "publisher: $(live_publisher_progress)"
kill -0 "$PUBLISHER_PID" 2>/dev/null || { log "the publisher had exited:"; tail -n 5 "$TMP/publisher.log" >&2; status=1; }
kill -0 "$SERVER_PID" 2>/dev/null || { log "kino had exited:"; tail -n 20 "$TMP/server.log" >&2; SERVER_PID=""; status=1; }
[ -s "$RUN_LINE" ] || die "the driver printed nothing"
cat "$RUN_LINE" >>"$RESULTS_DIR/ll-reloads.jsonl"
echo
if grep -q '"wake_ms":{' "$RUN_LINE"; then
    node "$LIVE_DIR/report.mjs" reloads "$RUN_LINE"
else
    cat "$RUN_LINE"
fi
live_server_log_summary
echo
log "JSON line appended to $RESULTS_DIR/ll-reloads.jsonl"
exit $status
