# Shared by bench/live-latency.sh, bench/live-soak.sh and bench/ll-reloads.sh (sourced, not
# run): the Kino binary, a fresh data directory with an admin and one public live stream, `kino
# serve` with RTMP ingest on free loopback ports, the RTMP publisher (ffmpeg -re from lavfi),
# and the clean-up (every process this script started is stopped by its PID).
#
# The caller sets LOG_TAG (e.g. "live-latency") and KEEP_TMP (1 keeps the data directory and
# logs), then calls: live_preflight; live_start_server; live_create_stream; live_publish ...;
# live_wait_playable.

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=bench/lib.sh
. "$BENCH_DIR/lib.sh"
REPO=$(cd "$BENCH_DIR/.." && pwd)
LIVE_DIR=$BENCH_DIR/live
RESULTS_DIR=$BENCH_DIR/.results

log() { printf '[%s] %s\n' "$LOG_TAG" "$*" >&2; }
die() { log "error: $*"; exit 1; }

SERVER_PID=""
PUBLISHER_PID=""
TMP=""

live_stop_pid() { # PID [SECONDS]: SIGTERM, wait, SIGKILL
    local pid=$1 tenths=$(( ${2:-15} * 10 )) i
    [ -n "$pid" ] || return 0
    kill -TERM "$pid" 2>/dev/null || return 0
    for i in $(seq 1 "$tenths"); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
}

live_cleanup() {
    local rc=$?
    live_stop_pid "$PUBLISHER_PID" 5
    live_stop_pid "$SERVER_PID" 15   # its live ffmpeg dies with it (PR_SET_PDEATHSIG)
    if [ -n "$TMP" ] && [ -d "$TMP" ]; then
        if [ "${KEEP_TMP:-0}" = 1 ]; then log "kept $TMP"; else rm -rf "$TMP"; fi
    fi
    exit $rc
}
trap live_cleanup EXIT
trap 'exit 130' INT TERM



# Checks the tools and picks the binary: KINO_BIN, else the release build, else the debug build.
live_preflight() {
    command -v ffmpeg >/dev/null || die "ffmpeg is missing"
    command -v node >/dev/null || die "node is missing"
    command -v curl >/dev/null || die "curl is missing"
    if [ -n "${KINO_BIN:-}" ]; then
        [ -x "$KINO_BIN" ] || die "KINO_BIN=$KINO_BIN is not an executable"
    elif [ -x /var/tmp/kino-ci-target/release/kino ]; then
        KINO_BIN=/var/tmp/kino-ci-target/release/kino
    elif [ -x /var/tmp/kino-ci-target/debug/kino ]; then
        KINO_BIN=/var/tmp/kino-ci-target/debug/kino
        log "warning: no release build; using the DEBUG build $KINO_BIN (Kino's own CPU figures are pessimistic)"
    else
        die "no Kino binary: set KINO_BIN or cargo build --release"
    fi
    KINO_BIN=$(cd "$(dirname "$KINO_BIN")" && pwd)/$(basename "$KINO_BIN")
    KINO_VERSION=$("$KINO_BIN" --version 2>/dev/null | head -1 || echo kino)
    case $KINO_BIN in
        */debug/*) KINO_BUILD=debug ;;
        */release/*) KINO_BUILD=release ;;
        *) KINO_BUILD=unknown ;;
    esac
    TMP=$(mktemp -d "${TMPDIR:-/tmp}/kino-$LOG_TAG.XXXXXX")
    mkdir -p "$TMP/data" "$RESULTS_DIR"
}

kino() { (cd "$TMP" && env $(kino_env_unset) KINO_LIVE__RTMP_LISTEN="127.0.0.1:$RTMP_PORT" "$KINO_BIN" --data-dir "$TMP/data" "$@"); }

# Starts `kino serve` (default config but the RTMP address; from $TMP, without the caller's
# KINO_* settings; plus LIVE_SERVER_ENV, the calling script's own `KEY=VALUE ...` settings, if
# set). Sets SERVER_PID, BASE, RTMP_PORT.
live_start_server() {
    RTMP_PORT=$(free_port)
    HTTP_PORT=$(free_port)
    echo 'secretpass1' | kino users create alice --password-stdin >"$TMP/users.log" 2>&1 ||
        { cat "$TMP/users.log" >&2; die "kino users create failed"; }
    # shellcheck disable=SC2086 # LIVE_SERVER_ENV is a list of KEY=VALUE words
    (cd "$TMP" && exec env $(kino_env_unset) KINO_LOG=info KINO_LIVE__RTMP_LISTEN="127.0.0.1:$RTMP_PORT" ${LIVE_SERVER_ENV:-} \
        "$KINO_BIN" --data-dir "$TMP/data" serve --listen "127.0.0.1:$HTTP_PORT") >"$TMP/server.log" 2>&1 &
    SERVER_PID=$!
    BASE="http://127.0.0.1:$HTTP_PORT"
    local i
    for i in $(seq 1 300); do
        kill -0 "$SERVER_PID" 2>/dev/null || { SERVER_PID=""; cat "$TMP/server.log" >&2; die "kino exited at start"; }
        if curl -sf -o /dev/null "$BASE/healthz" && grep -q 'RTMP ingest on' "$TMP/server.log"; then break; fi
        [ "$i" = 300 ] && die "kino did not answer on $BASE/healthz (with RTMP ingest) within 30 s"
        sleep 0.1
    done
    log "$KINO_VERSION ($KINO_BUILD, $KINO_BIN) at $BASE, RTMP on 127.0.0.1:$RTMP_PORT, pid $SERVER_PID"
}

# Creates the public live stream. Sets STREAM_KEY and RTMP_URL.
live_create_stream() {
    local out
    out=$(kino live create alice --title "$1" --privacy public 2>"$TMP/live-create.log") ||
        { cat "$TMP/live-create.log" >&2; die "kino live create failed"; }
    STREAM_KEY=$(printf '%s\n' "$out" | sed -n 2p)
    [ -n "$STREAM_KEY" ] || die "kino live create printed no stream key: $out"
    RTMP_URL="rtmp://127.0.0.1:$RTMP_PORT/live/$STREAM_KEY"
}

# live_publish SECONDS [FILTER_GRAPH]: ffmpeg -re from lavfi testsrc2 1280x720 30 fps + a 440 Hz
# sine, x264 veryfast (LIVE_PUBLISHER_PRESET) + zerolatency, keyframe every 30 frames (1 s), 2.5 Mbit/s CBR-ish, AAC
# 128k, to RTMP_URL, for SECONDS. FILTER_GRAPH (from strip.mjs) maps [0:v] to [v]. Sets
# PUBLISHER_PID; its log is $TMP/publisher.log. One lavfi input for both streams, so ffmpeg
# reads it on its main thread (no input thread reading ahead of -re).
live_publish() {
    local secs=$1 graph=${2:-'[0:v]null[v]'}
    ffmpeg -hide_banner -nostdin -loglevel warning -re \
        -f lavfi -i "testsrc2=size=1280x720:rate=30[out0];sine=frequency=440:sample_rate=48000[out1]" \
        -filter_complex "$graph" -map '[v]' -map 0:a -t "$secs" \
        -c:v libx264 -preset "${LIVE_PUBLISHER_PRESET:-veryfast}" -tune zerolatency -pix_fmt yuv420p -g 30 -keyint_min 30 -sc_threshold 0 \
        -b:v 2500k -maxrate 2500k -bufsize 2500k \
        -c:a aac -b:a 128k -ac 2 -ar 48000 \
        -progress "$TMP/publisher.progress" -f flv "$RTMP_URL" >"$TMP/publisher.log" 2>&1 &
    PUBLISHER_PID=$!
    PUBLISHER_DESC="ffmpeg -re lavfi testsrc2 1280x720 30 fps + sine, x264 ${LIVE_PUBLISHER_PRESET:-veryfast} zerolatency, keyframe every 1 s, 2.5 Mbit/s, AAC 128k, RTMP to 127.0.0.1"
}

# Waits until the stream is listed live and its multivariant playlist answers 200. Sets VIDEO_ID.
live_wait_playable() {
    local i
    VIDEO_ID=""
    for i in $(seq 1 300); do
        kill -0 "$PUBLISHER_PID" 2>/dev/null || { cat "$TMP/publisher.log" >&2; die "the publisher (ffmpeg) exited"; }
        if [ -z "$VIDEO_ID" ]; then
            VIDEO_ID=$(curl -sf "$BASE/api/videos?live=true" |
                node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{const v=(JSON.parse(s).videos||[])[0];process.stdout.write(v?v.id:"")})' || true)
        fi
        if [ -n "$VIDEO_ID" ] && curl -sf -o /dev/null "$BASE/hls/$VIDEO_ID/master.m3u8"; then
            log "live: $BASE/watch/$VIDEO_ID after $((i / 10)).$((i % 10)) s"
            return 0
        fi
        sleep 0.1
    done
    tail -n 20 "$TMP/server.log" >&2
    die "the stream did not become playable within 30 s"
}

# The publisher's frame count and speed so far (ffmpeg -progress): "frame=N speed=1.00x".
live_publisher_progress() {
    local f=$TMP/publisher.progress
    [ -s "$f" ] || { echo "no progress"; return; }
    echo "frame=$(grep '^frame=' "$f" | tail -1 | cut -d= -f2) speed=$(grep '^speed=' "$f" | tail -1 | cut -d= -f2 | tr -d ' ')"
}

# Kino's ffmpeg (the packager's child), or nothing.
live_kino_ffmpeg_pid() {
    local c
    for c in $(cat /proc/"$SERVER_PID"/task/*/children 2>/dev/null); do
        [ "$(cat /proc/"$c"/comm 2>/dev/null)" = ffmpeg ] && { echo "$c"; return; }
    done
}

# Warnings and errors in the server log: "N WARN, M ERROR" and the first few distinct ones.
live_server_log_summary() {
    local warn err
    warn=$(grep -c ' WARN ' "$TMP/server.log" || true)
    err=$(grep -c ' ERROR ' "$TMP/server.log" || true)
    echo "server log: $warn WARN, $err ERROR lines"
    # No such line is the good case: grep's status 1 must not fail the script (pipefail).
    { grep -E ' (WARN|ERROR) ' "$TMP/server.log" || true; } | sed -E 's/^[^ ]+ +//' | sort | uniq -c | sort -rn | head -5 | sed 's/^/  /'
}
