#!/usr/bin/env bash
# Time to playable: from the last uploaded byte to (a) the multivariant playlist answering 200,
# (b) hls.js in headless Chromium showing its first frame, (c) status `ready` (whole ladder).
# See bench/README.md ("Time to playable"). One command:
#
#   bench/time-to-playable.sh
#
# Environment (all optional):
#   TTP_CASES="10s 2m vp9-2m"   cases to run; `all` = 10s 2m 10m 60m vp9-2m
#   KINO_BIN=target/release/kino  the server (built with `cargo build --release --locked` when
#                                 missing and KINO_BIN is not set)
#   TTP_CACHE=bench/.cache/ttp    generated sources (kept between runs, keyed by their recipe)
#   TTP_VP9_HEIGHT=1080           height of the VP9 source (720 if 1080p generation is too slow)
#   TTP_CHUNK_MIB=50              tus PATCH size (the web uploader's chunk size)
#   TTP_TIMEOUT_SECS=             per-case limit (default 300 s + 6 × the source's duration)
#   TTP_KEEP_TMP=1                keep the data directory and logs
#   TTP_GENERATE_ONLY=1           only generate (cache) the sources of TTP_CASES
#   CHROMIUM=/usr/bin/chromium
#
# Results: a table on stdout, and one JSON line per case appended to
# bench/.results/time-to-playable.jsonl.
set -euo pipefail

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=bench/lib.sh
. "$BENCH_DIR/lib.sh"
REPO=$(cd "$BENCH_DIR/.." && pwd)
CACHE=${TTP_CACHE:-$BENCH_DIR/.cache/ttp}
RESULTS_DIR=$BENCH_DIR/.results
RESULTS=$RESULTS_DIR/time-to-playable.jsonl
VP9_HEIGHT=${TTP_VP9_HEIGHT:-1080}
CASES=${TTP_CASES:-10s 2m vp9-2m}
[ "$CASES" = all ] && CASES="10s 2m 10m 60m vp9-2m"
DRIVER=$BENCH_DIR/ttp/ttp.mjs

log() { printf '[ttp] %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

# ---------------------------------------------------------------- sources --------------------
# case -> "codec seconds"
case_spec() {
    case $1 in
        10s) echo "h264 10" ;;
        2m) echo "h264 120" ;;
        10m) echo "h264 600" ;;
        60m) echo "h264 3600" ;;
        vp9-2m) echo "vp9 120" ;;
        *) die "unknown case '$1' (known: 10s 2m 10m 60m vp9-2m, or all)" ;;
    esac
}

# The ffmpeg arguments of a case's source (they also name its cache file).
source_args() {
    local codec=$1 secs=$2 h w
    local audio=(-f lavfi -i "sine=frequency=440:sample_rate=48000")
    if [ "$codec" = h264 ]; then
        printf '%s\n' -f lavfi -i "testsrc2=size=1920x1080:rate=30" "${audio[@]}" -t "$secs" \
            -map 0:v -map 1:a -c:v libx264 -preset ultrafast -pix_fmt yuv420p \
            -b:v 5M -maxrate 5M -bufsize 10M -g 60 -keyint_min 60 -sc_threshold 0 \
            -c:a aac -b:a 128k -ac 2 -movflags +faststart
    else
        h=$VP9_HEIGHT
        w=$((h * 16 / 9))
        printf '%s\n' -f lavfi -i "testsrc2=size=${w}x${h}:rate=30" "${audio[@]}" -t "$secs" \
            -map 0:v -map 1:a -c:v libvpx-vp9 -deadline realtime -cpu-used 8 -row-mt 1 \
            -threads "$(nproc)" -pix_fmt yuv420p -b:v 5M -maxrate 5M -bufsize 10M -g 60 -keyint_min 60 \
            -c:a libopus -b:a 128k -ac 2
    fi
}

# make_source CASE -> prints the file's path (generating it once)
make_source() {
    local codec secs ext args key out
    read -r codec secs <<<"$(case_spec "$1")"
    ext=mp4
    [ "$codec" = vp9 ] && ext=webm
    mapfile -t args < <(source_args "$codec" "$secs")
    key=$(printf '%s\n' "${args[@]}" | sha256sum | cut -c1-10)
    out="$CACHE/$1-$key.$ext"
    if [ ! -s "$out" ]; then
        mkdir -p "$CACHE"
        log "generating the $1 source ($codec, ${secs} s) into $out"
        local t0=$SECONDS
        ffmpeg -nostdin -hide_banner -loglevel error -y "${args[@]}" "$out.part.$ext" ||
            { rm -f "$out.part.$ext"; die "ffmpeg could not generate the $1 source"; }
        mv "$out.part.$ext" "$out"
        log "  done in $((SECONDS - t0)) s ($(du -h "$out" | cut -f1))"
    fi
    echo "$out"
}

# ---------------------------------------------------------------- server ---------------------
SERVER_PID=""
TMP=""
cleanup() {
    local rc=$?
    if [ -n "$SERVER_PID" ]; then
        kill -TERM "$SERVER_PID" 2>/dev/null || true
        local i
        for i in $(seq 1 150); do kill -0 "$SERVER_PID" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$SERVER_PID" 2>/dev/null || true
        wait "$SERVER_PID" 2>/dev/null || true
    fi
    if [ -n "$TMP" ] && [ -d "$TMP" ]; then
        if [ "${TTP_KEEP_TMP:-0}" = 1 ]; then log "kept $TMP"; else rm -rf "$TMP"; fi
    fi
    exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM



# ---------------------------------------------------------------- main -----------------------
command -v ffmpeg >/dev/null || die "ffmpeg is missing"
command -v node >/dev/null || die "node is missing"
[ -d "$REPO/tests/browser/node_modules/playwright-core" ] ||
    die "tests/browser/node_modules is missing: (cd tests/browser && npm ci)"
[ -f "$REPO/web/node_modules/hls.js/dist/hls.min.js" ] || die "web/node_modules is missing: (cd web && npm ci)"
[ -x "${CHROMIUM:-/usr/bin/chromium}" ] || die "no Chromium at ${CHROMIUM:-/usr/bin/chromium} (apt-get install chromium)"

if [ "${TTP_GENERATE_ONLY:-0}" = 1 ]; then
    KINO_BIN=/bin/true   # not needed
elif [ -z "${KINO_BIN:-}" ]; then
    KINO_BIN=$REPO/target/release/kino
    if [ ! -x "$KINO_BIN" ]; then
        log "building $KINO_BIN (cargo build --release --locked)"
        (cd "$REPO" && cargo build --release --locked) || die "cargo build failed"
    fi
fi
[ -x "$KINO_BIN" ] || die "KINO_BIN=$KINO_BIN is not an executable"
KINO_BIN=$(cd "$(dirname "$KINO_BIN")" && pwd)/$(basename "$KINO_BIN")

# Sources first: generation is not part of any figure.
declare -A SRC
for c in $CASES; do SRC[$c]=$(make_source "$c"); done
[ "${TTP_GENERATE_ONLY:-0}" = 1 ] && { log "sources ready in $CACHE"; exit 0; }

TMP=$(mktemp -d "${TMPDIR:-/tmp}/kino-ttp.XXXXXX")
mkdir -p "$TMP/data" "$RESULTS_DIR"
log "account and token in $TMP/data"
(cd "$TMP" && echo 'ttp-bench-password-1' | env $(kino_env_unset) "$KINO_BIN" --data-dir "$TMP/data" \
    users create ttp --role admin --password-stdin) >"$TMP/users.log" 2>&1 ||
    { cat "$TMP/users.log" >&2; die "kino users create failed"; }
TOKEN=$(cd "$TMP" && env $(kino_env_unset) "$KINO_BIN" --data-dir "$TMP/data" \
    tokens create ttp --scope read,upload 2>"$TMP/tokens.log") ||
    { cat "$TMP/tokens.log" >&2; die "kino tokens create failed"; }

PORT=$(free_port)
# From $TMP (no stray ./kino.toml) and without the caller's KINO_* settings; default ladder.
(cd "$TMP" && exec env $(kino_env_unset) KINO_LOG=info "$KINO_BIN" --data-dir "$TMP/data" serve \
    --listen "127.0.0.1:$PORT") >"$TMP/server.log" 2>&1 &
SERVER_PID=$!
BASE="http://127.0.0.1:$PORT"
for i in $(seq 1 300); do
    kill -0 "$SERVER_PID" 2>/dev/null || { SERVER_PID=""; cat "$TMP/server.log" >&2; die "kino exited at start"; }
    curl -sf -o /dev/null "$BASE/healthz" && break
    [ "$i" = 300 ] && die "kino did not answer on $BASE/healthz within 30 s"
    sleep 0.1
done
KINO_VERSION=$("$KINO_BIN" --version 2>/dev/null | head -1 || echo kino)
log "$KINO_VERSION at $BASE ($KINO_BIN)"
awk '$1 > 0.5 {exit 1}' /proc/loadavg ||
    log "warning: load average is $(cut -d' ' -f1-3 /proc/loadavg); other work on this machine slows the transcode"

RUN_LINES="$TMP/run.jsonl"
: >"$RUN_LINES"
for c in $CASES; do
    read -r codec secs <<<"$(case_spec "$c")"
    timeout=${TTP_TIMEOUT_SECS:-$((300 + 6 * secs))}
    height=1080
    [ "$codec" = vp9 ] && height=$VP9_HEIGHT
    log "case $c: uploading $(du -h "${SRC[$c]}" | cut -f1) over tus"
    node "$DRIVER" --base "$BASE" --token "$TOKEN" --file "${SRC[$c]}" --case "$c" --codec "$codec" \
        --seconds "$secs" --height "$height" --timeout "$timeout" --chunk-mib "${TTP_CHUNK_MIB:-50}" \
        --binary "$KINO_BIN" --version "$KINO_VERSION" >"$TMP/case.json" || {
        log "case $c failed; the end of the server log:"
        tail -n 15 "$TMP/server.log" >&2
    }
    if [ -s "$TMP/case.json" ]; then
        cat "$TMP/case.json" >>"$RUN_LINES"
    else
        printf '{"case":"%s","codec":"%s","source_secs":%s,"source_bytes":%s,"error":"the driver printed nothing"}\n' \
            "$c" "$codec" "$secs" "$(stat -c %s "${SRC[$c]}")" >>"$RUN_LINES"
    fi
done

cat "$RUN_LINES" >>"$RESULTS"
echo
node "$BENCH_DIR/ttp/report.mjs" "$RUN_LINES"
echo
log "JSON lines appended to $RESULTS"
grep -q '"error":"' "$RUN_LINES" && exit 1
exit 0
