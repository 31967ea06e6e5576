#!/usr/bin/env bash
# User-space instructions per request, Kino against the hyper ceiling, for random 64 KiB ranges
# of a hot 585 KiB HLS segment (bench/run.sh's ranges64k case) under valgrind's callgrind. An
# instruction count does not move with the machine's load, so it compares builds where req/s
# on a shared machine cannot; it leaves out the kernel (the socket writes), which is the same
# work for both servers. See bench/README.md.
#
#   bench/instructions.sh [KINO_BIN...]     # default: the release kino; several to compare builds
#
# Environment: CARGO_TARGET_DIR (/var/tmp/kino-ci-target), HYPER_BIN
# ($CARGO_TARGET_DIR/release/examples/hyper_ceiling), IR_SECS=8 (measured seconds, after 3 s
# of warm-up), IR_CONNS=16.
set -euo pipefail

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=bench/lib.sh
. "$BENCH_DIR/lib.sh"
TARGET_DIR=${CARGO_TARGET_DIR:-/var/tmp/kino-ci-target}
HYPER_BIN=${HYPER_BIN:-$TARGET_DIR/release/examples/hyper_ceiling}
SECS=${IR_SECS:-8}
CONNS=${IR_CONNS:-16}
SEED=20261101
SIZE=599040
[ $# -gt 0 ] || set -- "$TARGET_DIR/release/kino"

log() { printf '[instructions] %s\n' "$*" >&2; }
for tool in valgrind callgrind_control wrk; do
    command -v $tool >/dev/null || { log "$tool is missing: apt-get install -y valgrind wrk"; exit 1; }
done

TMP=$(mktemp -d /tmp/kino-ir.XXXXXX)
PID=""
cleanup() { [ -n "$PID" ] && stop_pid "$PID" callgrind; rm -rf "$TMP"; }
trap cleanup EXIT
mkdir -p "$TMP/files" "$TMP/kino-data"
head -c $SIZE /dev/urandom >"$TMP/files/seg585k.m4s"

# measure NAME URL PORT COMMAND...: starts COMMAND under callgrind, warms it up, zeroes the counters,
# loads it for SECS, dumps them, prints instructions per answered request.
measure() {
    local name=$1 url=$2 port=$3 tag
    shift 3
    tag=$(printf '%s' "$name" | tr -c 'A-Za-z0-9' '_')
    (cd "$TMP" && exec env $(kino_env_unset) valgrind --tool=callgrind \
        --callgrind-out-file="$TMP/cg.$tag.%p" "$@") >"$TMP/$tag.log" 2>&1 &
    PID=$!
    local i
    for i in $(seq 1 300); do curl -sf -o /dev/null "$url" && break; sleep 0.2; done
    curl -sf -o /dev/null "$url" || { cat "$TMP/$tag.log" >&2; log "$name did not answer"; exit 1; }
    wrk -t1 -c"$CONNS" -d3s -s "$BENCH_DIR/ranges.lua" "$url" -- $SIZE $SEED 65536 any >/dev/null
    callgrind_control -z "$PID" >/dev/null 2>&1
    local n
    n=$(wrk -t1 -c"$CONNS" -d"${SECS}s" -s "$BENCH_DIR/ranges.lua" "$url" -- $SIZE $SEED 65536 any |
        awk '/requests in/ {print $1}')
    callgrind_control -d "$PID" >/dev/null 2>&1
    sleep 1
    stop_pid "$PID" callgrind
    PID=""
    local ir
    ir=$(grep -h '^summary:' "$TMP"/cg."$tag".*.1 | awk '{print $2}')
    printf '%-40s %8d requests  %8.1fk instructions/request\n' "$name" "$n" "$(echo "$ir / $n / 1000" | bc -l)"
    rm -f "$TMP"/cg."$tag".*
}

if [ -x "$HYPER_BIN" ]; then
    port=$(free_port)
    measure hyper "http://127.0.0.1:$port/files/seg585k.m4s" "$port" "$HYPER_BIN" "127.0.0.1:$port" "$TMP/files"
else
    log "no hyper ceiling at $HYPER_BIN (cargo build --release --example hyper_ceiling): skipped"
fi
for bin in "$@"; do
    rm -rf "$TMP/kino-data" && mkdir -p "$TMP/kino-data"
    echo 'bench-password-1' | env $(kino_env_unset) "$bin" users create bench --password-stdin \
        --data-dir "$TMP/kino-data" >"$TMP/users.log" 2>&1 || { cat "$TMP/users.log" >&2; exit 1; }
    python3 "$BENCH_DIR/kino_seed.py" "$TMP/kino-data" --hls "seg585k00000=$TMP/files/seg585k.m4s" --rendition 720p
    port=$(free_port)
    measure "kino ($bin)" "http://127.0.0.1:$port/hls/seg585k00000/720p/seg_00001.m4s" "$port" \
        "$bin" serve --listen "127.0.0.1:$port" --data-dir "$TMP/kino-data" --no-workers --rtmp-listen ""
done
