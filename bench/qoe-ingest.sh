#!/usr/bin/env bash
# QoE beacon ingestion over HTTP, the whole append path on one core: a release `kino serve`
# pinned to one core (SQLite, the embedded default) takes POST /api/qoe/beacons from wrk on the
# other core — 20 events per request, each request a new view, as players flush them — for
# BENCH_SECS (default 20) with BENCH_CONNS connections (default 32). Then it waits until the
# beacon writer has stored everything it accepted, and prints
#   - events/s accepted (202) and events/s stored (accepted events over the run plus the time
#     the writer needed to catch up), 503s (queue full) and other errors, p50/p99 latency;
#   - the anchor in the same run: GET /api/config (a small JSON answer, no database) on the
#     same server and core, i.e. what one core does per HTTP request before any beacon work.
# Target (issue #19): ≥ 10,000 events/s stored on one core.
#   BENCH_SERVER_CPU=0 BENCH_CLIENT_CPU=1   cores for the server and for wrk
#   BENCH_KEEP_TMP=1                        keep the temporary directory
set -euo pipefail
cd "$(dirname "$0")/.."
BENCH_DIR=$(pwd)/bench
export BENCH_DIR
# shellcheck source=bench/lib.sh
. "$BENCH_DIR/lib.sh"

SECS=${BENCH_SECS:-20}
CONNS=${BENCH_CONNS:-32}
SERVER_CPU=${BENCH_SERVER_CPU:-0}
CLIENT_CPU=${BENCH_CLIENT_CPU:-1}

need=()
command -v wrk >/dev/null || need+=(wrk)
command -v ffmpeg >/dev/null || need+=(ffmpeg)
if [ ${#need[@]} -gt 0 ]; then
    SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO=sudo
    $SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need[@]}" >/dev/null
fi

cargo build --release --locked --bin kino >&2
KINO_BIN=${CARGO_TARGET_DIR:-target}/release/kino
TMP=$(mktemp -d /tmp/kino-bench-qoe.XXXXXX)
SERVER_PID=""
cleanup() {
    stop_pid "$SERVER_PID" kino
    if [ -n "${BENCH_KEEP_TMP:-}" ]; then echo "[bench] kept $TMP" >&2; else rm -rf "$TMP"; fi
}
trap cleanup EXIT

PORT=$(free_port)
DATA="$TMP/kino-data"
# The per-address beacon limit would stop one wrk address at once: lifted for the run.
kino() { (cd "$TMP" && env $(kino_env_unset) KINO_ANALYTICS__BEACONS_PER_MINUTE=100000000 "$KINO_BIN" "$@"); }
echo "admin-password-1" | kino users create admin --role admin --password-stdin --data-dir "$DATA" >/dev/null
TOKEN=$(kino tokens create admin --scope read,write,upload,admin --data-dir "$DATA")
(cd "$TMP" && exec env $(kino_env_unset) KINO_ANALYTICS__BEACONS_PER_MINUTE=100000000 \
    taskset -c "$SERVER_CPU" "$KINO_BIN" serve --listen "127.0.0.1:$PORT" --data-dir "$DATA" \
    --no-workers --rtmp-listen "") >"$TMP/server.log" 2>&1 &
SERVER_PID=$!
for _ in $(seq 1 300); do
    curl -fs "http://127.0.0.1:$PORT/healthz" >/dev/null 2>&1 && break
    sleep 0.1
done
ffmpeg -nostdin -loglevel error -f lavfi -i testsrc2=size=320x240:rate=30:duration=1 -pix_fmt yuv420p "$TMP/clip.mp4"
VIDEO=$(curl -fs -H "Authorization: Bearer $TOKEN" -F "file=@$TMP/clip.mp4" "http://127.0.0.1:$PORT/api/videos" |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
export QOE_VIDEO=$VIDEO

field() { sed -n "s/.*[ ]$1=\([0-9]*\).*/\1/p" "$2" | tail -1; }

run_wrk() { # NAME SCRIPT PATH
    taskset -c "$CLIENT_CPU" wrk -t1 -c"$CONNS" -d"${SECS}s" --latency -s "$2" "http://127.0.0.1:$PORT$3" >"$TMP/$1.txt" 2>&1
}

views_stored() {
    curl -fs -H "Authorization: Bearer $TOKEN" "http://127.0.0.1:$PORT/api/qoe?from=2000-01-01T00:00:00Z" |
        python3 -c 'import json,sys; print(json.load(sys.stdin)["summary"]["views"])'
}

echo "[bench] anchor: GET /api/config for ${SECS}s" >&2
run_wrk anchor "$BENCH_DIR/report.lua" /api/config
echo "[bench] beacons: POST /api/qoe/beacons for ${SECS}s" >&2
start=$(date +%s.%N)
run_wrk beacons "$BENCH_DIR/qoe-ingest.lua" /api/qoe/beacons
wrk_end=$(date +%s.%N)
requests=$(field requests "$TMP/beacons.txt")
errors=$(field err_status "$TMP/beacons.txt")
accepted=$((requests - errors))
# Drained: every accepted request (one view each) is stored, or the count has not moved for
# 5 s (a report reads at most 20,000 views not yet rolled up, so it may first read low).
last=-1
same_since=$(date +%s)
for _ in $(seq 1 1200); do
    now=$(views_stored)
    [ "$now" -ge "$accepted" ] && break
    if [ "$now" != "$last" ]; then last=$now; same_since=$(date +%s); fi
    [ $(($(date +%s) - same_since)) -ge 5 ] && break
    sleep 0.2
done
stored_end=$(date +%s.%N)
stored=$(views_stored)

python3 - "$TMP" "$SECS" "$start" "$wrk_end" "$stored_end" "$accepted" "$stored" "$errors" <<'PY'
import re, sys
tmp, secs, start, wrk_end, stored_end, accepted, stored, errors = sys.argv[1:]
secs = float(secs); start, wrk_end, stored_end = float(start), float(wrk_end), float(stored_end)
accepted, stored, errors = int(accepted), int(stored), int(errors)
def bench(name):
    text = open(f"{tmp}/{name}.txt").read()
    line = [l for l in text.splitlines() if l.startswith("BENCH ")][-1]
    return {k: int(v) for k, v in re.findall(r"(\w+)=(\d+)", line)}
a, b = bench("anchor"), bench("beacons")
dur = b["duration_us"] / 1e6
print(f"QoE ingestion over HTTP, server on one core, {secs:.0f} s, 20 events per request")
print(f"{'case':<36} {'req/s':>9} {'events/s':>10} {'p50 ms':>8} {'p99 ms':>8} {'errors':>7}")
print(f"{'anchor: GET /api/config':<36} {a['requests']/(a['duration_us']/1e6):>9.0f} {'':>10} {a['p50_us']/1000:>8.2f} {a['p99_us']/1000:>8.2f} {a['err_status']:>7}")
print(f"{'POST /api/qoe/beacons (accepted)':<36} {accepted/dur:>9.0f} {accepted*20/dur:>10.0f} {b['p50_us']/1000:>8.2f} {b['p99_us']/1000:>8.2f} {errors:>7}")
total = (stored_end - start)
print(f"{'stored (incl. catching up)':<36} {stored/total:>9.0f} {stored*20/total:>10.0f}   {stored} of {accepted} views, the writer done {stored_end - wrk_end:.1f} s after the load")
print(f"beacon request / anchor request cost: {(a['requests']/(a['duration_us']/1e6)) / max(accepted/dur, 1):.2f}×")
PY
grep -E "WARN|ERROR" "$TMP/server.log" | head -5 >&2 || true
