#!/usr/bin/env bash
# Delivery soak: 1,024 concurrent connections against one Kino release binary, mixing whole HLS
# segments, random 64 KiB ranges of segments, media and multivariant playlists (soak.lua), while
# Kino's RSS and open file descriptors are sampled. See bench/README.md ("Delivery soak").
#
#   bench/soak.sh                     # 10 min soak + 1 min with http.max_streams=16
#   SOAK_MINUTES=1 bench/soak.sh      # quick check (about 2.5 min in all)
#
# Two phases, each against a fresh `kino serve --no-workers`:
#   1. soak:    SOAK_MINUTES with Kino's default limits (http.max_streams 1024,
#               http.max_connections 4096): RSS and fds at minute 1 against the end.
#   2. limited: SOAK_LIMIT_SECS with KINO_HTTP__MAX_STREAMS=$SOAK_LIMITED_STREAMS (16) so that
#               503s occur: every one must carry Retry-After. Far below the 1,024 connections:
#               a stream permit is held only while Kino writes a body, and on loopback a 585 KiB
#               body fits in the socket buffers, so even 1,024 clients keep only a few dozen
#               bodies in flight (a limit of 64, let alone 512, gave no 503 at all).
#
# Environment (all optional):
#   SOAK_MINUTES=10        length of the soak phase (decimals allowed: 0.5)
#   SOAK_CONNS=1024        wrk connections
#   SOAK_LIMITED_STREAMS=16    KINO_HTTP__MAX_STREAMS in the limited phase
#   SOAK_LIMIT_SECS=60     length of the limited phase (0 skips it)
#   SOAK_SEGMENTS=8        segments in the seeded ladder (585 KiB each, the last 208 KiB)
#   KINO_BIN=$CARGO_TARGET_DIR/release/kino   (CARGO_TARGET_DIR default /var/tmp/kino-ci-target)
#   BENCH_SERVER_CPU=1 BENCH_CLIENT_CPU=0      cores for Kino and for wrk (taskset)
#   SOAK_KEEP_TMP=1        keep the temporary directory (data, Kino's logs)
#
# Results: a summary on stdout, also in bench/results/soak.txt; the 5 s samples (phase, seconds
# since wrk started, RSS KiB, open fds) in bench/results/soak-samples.tsv; wrk's output in
# bench/results/soak-wrk-*.txt. Exit status 1 when a goal is missed.
set -euo pipefail

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=bench/lib.sh
. "$BENCH_DIR/lib.sh"
MINUTES=${SOAK_MINUTES:-10}
CONNS=${SOAK_CONNS:-1024}
LIMITED_STREAMS=${SOAK_LIMITED_STREAMS:-16}
LIMIT_SECS=${SOAK_LIMIT_SECS:-60}
SEGMENTS=${SOAK_SEGMENTS:-8}
KINO_BIN=${KINO_BIN:-${CARGO_TARGET_DIR:-/var/tmp/kino-ci-target}/release/kino}
SERVER_CPU=${BENCH_SERVER_CPU:-1}
CLIENT_CPU=${BENCH_CLIENT_CPU:-0}
RESULTS_DIR=$BENCH_DIR/results
SAMPLE_SECS=5
SEED=20261101
VIDEO_ID=soak00000000
RENDITION=720p
SEG_BYTES=599040
LAST_SEG_BYTES=212992

log() { printf '[soak] %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

SOAK_SECS=$(awk -v m="$MINUTES" 'BEGIN { s = int(m * 60 + 0.5); if (s < 10) exit 1; print s }') ||
    die "SOAK_MINUTES=$MINUTES: give at least 10 seconds' worth (e.g. 1, 0.5)"
[[ $LIMIT_SECS =~ ^[0-9]+$ ]] || die "SOAK_LIMIT_SECS=$LIMIT_SECS is not a whole number of seconds"
[ "$SEGMENTS" -ge 1 ] || die "SOAK_SEGMENTS must be at least 1"
[ "$LIMITED_STREAMS" -lt "$CONNS" ] || log "warning: SOAK_LIMITED_STREAMS=$LIMITED_STREAMS is not below SOAK_CONNS=$CONNS: expect few or no 503s"

# ---------------------------------------------------------------- cleanup --------------------
KINO_PID=""
SAMPLER_PID=""
TMP=""
cleanup() {
    local rc=$?
    [ -z "$SAMPLER_PID" ] || kill -TERM "$SAMPLER_PID" 2>/dev/null || true
    [ -z "$KINO_PID" ] || stop_kino || true
    if [ -n "$TMP" ] && [ -d "$TMP" ]; then
        if [ "${SOAK_KEEP_TMP:-0}" = 1 ]; then log "kept $TMP"; else rm -rf "$TMP"; fi
    fi
    exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---------------------------------------------------------------- setup ----------------------
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }
pkgs=()
command -v wrk >/dev/null || pkgs+=(wrk)
command -v curl >/dev/null || pkgs+=(curl)
command -v taskset >/dev/null || pkgs+=(util-linux)
command -v python3 >/dev/null || pkgs+=(python3)
if [ ${#pkgs[@]} -gt 0 ]; then
    log "installing ${pkgs[*]} (apt-get)"
    as_root apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${pkgs[@]}" >/dev/null
fi
[ -x "$KINO_BIN" ] || die "KINO_BIN=$KINO_BIN is not an executable (build it: cargo build --release)"

# wrk holds CONNS sockets; Kino as many, plus a file per streaming response. Both inherit this.
want_fds=$((4 * CONNS + 1024))
if [ "$(ulimit -n)" -lt "$want_fds" ]; then
    ulimit -n "$want_fds" 2>/dev/null || ulimit -n "$(ulimit -Hn)"
fi
[ "$(ulimit -n)" -ge $((2 * CONNS + 256)) ] ||
    die "open-file limit $(ulimit -n) is too low for $CONNS connections (hard limit $(ulimit -Hn))"



TMP=$(mktemp -d "${TMPDIR:-/tmp}/kino-soak.XXXXXX")
mkdir -p "$TMP/segments" "$TMP/logs" "$RESULTS_DIR"
log "seeding a $SEGMENTS-segment ladder in a fresh Kino data directory ($TMP)"
segs=() sizes=()
for n in $(seq 1 "$SEGMENTS"); do
    size=$SEG_BYTES
    [ "$n" -lt "$SEGMENTS" ] || [ "$SEGMENTS" = 1 ] || size=$LAST_SEG_BYTES   # a shorter last segment
    head -c "$size" /dev/urandom >"$TMP/segments/$n.m4s"
    segs+=("$TMP/segments/$n.m4s") sizes+=("$size")
done
(cd "$TMP" && echo 'soak-password-1' | env $(kino_env_unset) "$KINO_BIN" users create soak \
    --password-stdin --data-dir "$TMP/kino-data") >"$TMP/logs/users.log" 2>&1 ||
    { cat "$TMP/logs/users.log" >&2; die "kino users create failed"; }
python3 "$BENCH_DIR/kino_seed.py" "$TMP/kino-data" --rendition "$RENDITION" \
    --hls "$VIDEO_ID=$(IFS=,; echo "${segs[*]}")"
hls_dir="$TMP/kino-data/media/videos/$VIDEO_ID/hls"
media_bytes=$(stat -c %s "$hls_dir/$RENDITION/index.m3u8")
master_bytes=$(stat -c %s "$hls_dir/master.m3u8")
seg_sizes=$(IFS=,; echo "${sizes[*]}")
cat "${segs[@]}" >/dev/null   # page cache

# ---------------------------------------------------------------- Kino -----------------------
# start_kino PHASE [ENV=VALUE ...] -> KINO_PID, BASE
start_kino() {
    local phase=$1 i
    shift
    local port
    port=$(free_port)
    BASE="http://127.0.0.1:$port"
    # From $TMP (no stray ./kino.toml), without the caller's KINO_* settings.
    (cd "$TMP" && exec env $(kino_env_unset) "$@" taskset -c "$SERVER_CPU" "$KINO_BIN" serve \
        --listen "127.0.0.1:$port" --data-dir "$TMP/kino-data" --no-workers --rtmp-listen "") >"$TMP/logs/kino-$phase.log" 2>&1 &
    KINO_PID=$!
    for i in $(seq 1 300); do
        kill -0 "$KINO_PID" 2>/dev/null || { KINO_PID=""; cat "$TMP/logs/kino-$phase.log" >&2; die "kino exited at start"; }
        if curl -sf -o /dev/null "$BASE/healthz"; then return 0; fi
        sleep 0.1
    done
    die "kino did not answer on $BASE/healthz within 30 s"
}

stop_kino() {
    local pid=$KINO_PID
    KINO_PID=""
    stop_pid "$pid" kino
}

# Each kind of request answers correctly before the load starts.
check_kino() {
    local got url="$BASE/hls/$VIDEO_ID/$RENDITION/seg_00001.m4s"
    got=$(curl -s -o "$TMP/check.bin" -w '%{http_code} %{size_download}' "$url")
    [ "$got" = "200 ${sizes[0]}" ] || die "GET $url: expected '200 ${sizes[0]}', got '$got'"
    cmp -s "$TMP/check.bin" "${segs[0]}" || die "GET $url: body differs from the segment"
    got=$(curl -s -o "$TMP/check.bin" -w '%{http_code} %{size_download}' -H 'Range: bytes=1000-66535' "$url")
    [ "$got" = "206 65536" ] || die "GET $url Range 1000-66535: expected '206 65536', got '$got'"
    cmp -s "$TMP/check.bin" <(dd if="${segs[0]}" iflag=skip_bytes,count_bytes bs=64K skip=1000 count=65536 status=none) ||
        die "GET $url Range 1000-66535: wrong bytes"
    for url in "$BASE/hls/$VIDEO_ID/$RENDITION/index.m3u8" "$BASE/hls/$VIDEO_ID/master.m3u8"; do
        got=$(curl -s -o /dev/null -w '%{http_code} %{size_download}' "$url")
        case $url in *index.m3u8) want="200 $media_bytes" ;; *) want="200 $master_bytes" ;; esac
        [ "$got" = "$want" ] || die "GET $url: expected '$want', got '$got'"
    done
    rm -f "$TMP/check.bin"
}

fd_count() { find "/proc/$1/fd" -mindepth 1 -maxdepth 1 2>/dev/null | wc -l; }
rss_kib() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status" 2>/dev/null || echo 0; }

# sample PHASE PID T0: every SAMPLE_SECS, "phase  secs  rss_kib  fds" (secs since T0).
sample() {
    local phase=$1 pid=$2 t0=$3 now
    while kill -0 "$pid" 2>/dev/null; do
        now=$EPOCHREALTIME
        printf '%s\t%.0f\t%s\t%s\n' "$phase" "$(awk -v a="$now" -v b="$t0" 'BEGIN { print a - b }')" \
            "$(rss_kib "$pid")" "$(fd_count "$pid")"
        sleep "$SAMPLE_SECS"
    done
}

SAMPLES=$RESULTS_DIR/soak-samples.tsv
printf 'phase\tsecs\trss_kib\tfds\n' >"$SAMPLES"
STATS="$TMP/stats"
: >"$STATS"

# run_phase PHASE SECONDS [ENV=VALUE ...]
run_phase() {
    local phase=$1 secs=$2
    shift 2
    log "phase $phase: ${secs} s, $CONNS connections${*:+, $*}"
    start_kino "$phase" "$@"
    check_kino
    local idle_before raw="$RESULTS_DIR/soak-wrk-$phase.txt"
    idle_before=$(fd_count "$KINO_PID")
    sample "$phase" "$KINO_PID" "$EPOCHREALTIME" >>"$SAMPLES" &
    SAMPLER_PID=$!
    taskset -c "$CLIENT_CPU" wrk -t 1 -c "$CONNS" -d "${secs}s" --timeout 30s --latency \
        -s "$BENCH_DIR/soak.lua" "$BASE" -- "$VIDEO_ID" "$RENDITION" "$seg_sizes" "$media_bytes" \
        "$master_bytes" "$SEED" >"$raw" 2>&1 || true
    kill -TERM "$SAMPLER_PID" 2>/dev/null || true
    wait "$SAMPLER_PID" 2>/dev/null || true
    SAMPLER_PID=""
    sleep 5   # closed connections and finished streams let go of their descriptors
    local idle_after line
    idle_after=$(fd_count "$KINO_PID")
    line=$(grep '^SOAK ' "$raw" || true)
    [ -n "$line" ] || { cat "$raw" >&2; die "wrk printed no SOAK line"; }
    stop_kino
    printf '%s %s idle_fds_before=%s idle_fds_after=%s log_lines=%s\n' "$phase" "${line#SOAK }" \
        "$idle_before" "$idle_after" "$(wc -l <"$TMP/logs/kino-$phase.log")" >>"$STATS"
}

[ "$(nproc)" -ge 2 ] || log "warning: fewer than 2 cores; Kino and wrk will share one"
awk '$1 > 0.5 {exit 1}' /proc/loadavg ||
    log "warning: load average is $(cut -d' ' -f1-3 /proc/loadavg); other work on this machine will skew the numbers"
started=$(date -u '+%Y-%m-%d %H:%M UTC')
run_phase soak "$SOAK_SECS"
[ "$LIMIT_SECS" = 0 ] || run_phase limited "$LIMIT_SECS" KINO_HTTP__MAX_STREAMS="$LIMITED_STREAMS"

# ---------------------------------------------------------------- report ---------------------
kv=$("$KINO_BIN" --version 2>/dev/null | head -1 || true)
{
    echo "Kino delivery soak, $started, $(nproc) cores, $(uname -r); ${kv:-kino} ($KINO_BIN,"
    echo "sha256 $(sha256sum "$KINO_BIN" | cut -c1-12)); Kino on core $SERVER_CPU, wrk (1 thread, $CONNS connections) on core $CLIENT_CPU."
    echo "Mix: 50 % whole segments ($SEGMENTS: $seg_sizes bytes), 30 % random 64 KiB ranges of them,"
    echo "15 % the media playlist, 5 % the multivariant playlist (half of playlist loads conditional)."
    echo
    python3 - "$STATS" "$SAMPLES" "$LIMITED_STREAMS" <<'EOF'
import sys

stats_file, samples_file, limited_streams = sys.argv[1], sys.argv[2], sys.argv[3]
phases = {}
for line in open(stats_file):
    name, *pairs = line.split()
    phases[name] = {k: int(v) for k, v in (p.split("=") for p in pairs)}
samples = {}
for i, line in enumerate(open(samples_file)):
    if i == 0:
        continue
    phase, secs, rss, fds = line.split("\t")
    samples.setdefault(phase, []).append((int(secs), int(rss), int(fds)))

failed = []


def verdict(ok, what):
    if not ok:
        failed.append(what)
    return "pass" if ok else "FAIL"


for name, s in phases.items():
    secs = s["duration_us"] / 1e6
    title = "soak (default limits)" if name == "soak" else f"limited (http.max_streams={limited_streams})"
    print(f"== {title}: {secs:.0f} s")
    print(f"  requests      {s['requests']:,} ({s['requests'] / secs:,.0f} req/s)")
    print(f"  latency       p50 {s['p50_us'] / 1000:.2f} ms, p99 {s['p99_us'] / 1000:.2f} ms, "
          f"max {s['max_us'] / 1000:.1f} ms (= the longest gap between two responses on one connection)")
    print(f"  longest time with no response at all: {s['max_gap_us'] / 1000:.1f} ms")
    print(f"  statuses      2xx {s['s2xx']:,}  206 {s['s206']:,}  304 {s['s304']:,}  503 {s['s503']:,}  "
          f"other {s['other']:,}")
    errs = s["err_connect"] + s["err_read"] + s["err_write"] + s["err_timeout"]
    print(f"  socket errors {errs} (connect {s['err_connect']}, read {s['err_read']}, write {s['err_write']}, "
          f"timeout {s['err_timeout']})")
    print(f"  wrong bodies  {s['bad_body']}  {verdict(s['bad_body'] == 0, name + ': wrong bodies')}")
    print(f"  503 without Retry-After: {s['no_retry_after']}  "
          f"{verdict(s['no_retry_after'] == 0, name + ': 503 without Retry-After')}")
    if name == "limited":
        print(f"  503s occurred: {verdict(s['s503'] > 0, 'limited: no 503 at all')}"
              + ("" if s["s503"] else f" (lower SOAK_LIMITED_STREAMS={limited_streams}: fewer bodies than that were ever in flight)"))
    print(f"  other statuses: {verdict(s['other'] == 0, name + ': unexpected statuses')}")
    print(f"  Kino's log: {s['log_lines']:,} lines")
    sm = samples.get(name, [])
    if sm:
        end = sm[-1]
        at = min(60, end[0] // 2)   # minute 1; half-way for runs shorter than 2 minutes
        base = min(sm, key=lambda x: abs(x[0] - at))
        change = 100 * (end[1] - base[1]) / base[1] if base[1] else 0
        print(f"  RSS           {base[1] / 1024:,.1f} MiB at {base[0]} s, {end[1] / 1024:,.1f} MiB at {end[0]} s "
              f"({change:+.1f} %), max {max(x[1] for x in sm) / 1024:,.1f} MiB  "
              + (verdict(abs(change) <= 10, name + ": RSS not flat within 10 %") if name == "soak" else ""))
        # Under load the count includes a file per response in flight, so it moves a little
        # with the load; idle, before and after, it must be the same.
        grew = end[2] > base[2] * 1.02 + 8
        print(f"  open fds      {base[2]} at {base[0]} s, {end[2]} at {end[0]} s, max {max(x[2] for x in sm)}  "
              + (verdict(not grew, name + ": fds grew under load") if name == "soak" else ""))
        print(f"  idle fds      {s['idle_fds_before']} before the load, {s['idle_fds_after']} 5 s after it  "
              + verdict(s["idle_fds_after"] <= s["idle_fds_before"], name + ": fds grew (idle after > idle before)"))
        if name == "soak" and end[0] < 120:
            print("  (a run shorter than 2 minutes compares half-way with the end, not minute 1 with the end)")
    print()
print("Goals: RSS flat within 10 % (minute 1 against the end); no descriptor growth (under load: the end")
print("at most 2 % + 8 above minute 1, as responses in flight come and go; idle: after the load no more")
print("than before it); every 503 with Retry-After; no wrong bodies; no other statuses.")
print("Result: " + ("all goals met" if not failed else "FAILED: " + "; ".join(failed)))
sys.exit(1 if failed else 0)
EOF
} | tee "$RESULTS_DIR/soak.txt"
