#!/usr/bin/env bash
# File-delivery benchmark: Kino (alone, and behind nginx with X-Accel-Redirect) against nginx
# (sendfile), a minimal hyper server answering from memory (the ceiling for a Rust server) and a
# Node.js Fastify Range endpoint. See bench/README.md. One command:
#
#   bench/run.sh
#
# Environment (all optional):
#   BENCH_SECS=15          measured seconds per case and server
#   BENCH_WARMUP_SECS=2    warm-up seconds before each measured run (same load, not counted)
#   BENCH_SERVERS="nginx fastify hyper kino kino-nginx"   which servers (hyper, kino and
#                          kino-nginx are skipped if their binary is missing, unless named here);
#                          kino-hyper (not run by default) is kino with http.sendfile = false
#   BENCH_CASES="seg585k-c64 ranges64k-c64 seg4m-c64 seg4m-c256 seg200k-c256 ranges1m-c64"
#   BENCH_RANGE_CONNS=64   connections for ranges1m-c64
#   CARGO_TARGET_DIR=/var/tmp/kino-ci-target   where the two binaries below are looked for
#   KINO_BIN=$CARGO_TARGET_DIR/release/kino
#   HYPER_BIN=$CARGO_TARGET_DIR/release/examples/hyper_ceiling
#                          (cargo build --release --example hyper_ceiling)
#   WRK_THREADS=1          wrk threads (all on the client core)
#   BENCH_SERVER_CPU=1 BENCH_CLIENT_CPU=0   cores for the server and for wrk (taskset)
#   BENCH_KINO_ENV="KINO_HTTP__SEGMENT_CACHE_BYTES=0"   settings for the `kino` server (ablations)
#   BENCH_KEEP_TMP=1       keep the temporary directory (files, logs, raw wrk output)
#
# Results: a table per case on stdout, and bench/results/latest.md (+ latest.tsv, raw numbers).
set -euo pipefail

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=bench/lib.sh
. "$BENCH_DIR/lib.sh"
SECS=${BENCH_SECS:-15}
WARMUP=${BENCH_WARMUP_SECS:-2}
TARGET_DIR=${CARGO_TARGET_DIR:-/var/tmp/kino-ci-target}
KINO_BIN=${KINO_BIN:-$TARGET_DIR/release/kino}
HYPER_BIN=${HYPER_BIN:-$TARGET_DIR/release/examples/hyper_ceiling}
SERVERS=${BENCH_SERVERS:-nginx fastify hyper kino kino-nginx}
ALL_CASES="seg585k-c64 ranges64k-c64 seg4m-c64 seg4m-c256 seg200k-c256 ranges1m-c64"
CASES=${BENCH_CASES:-$ALL_CASES}
RANGE_CONNS=${BENCH_RANGE_CONNS:-64}
WRK_THREADS=${WRK_THREADS:-1}
SERVER_CPU=${BENCH_SERVER_CPU:-1}
CLIENT_CPU=${BENCH_CLIENT_CPU:-0}
RESULTS_DIR=$BENCH_DIR/results
NGINX=/usr/sbin/nginx
FASTIFY_DIR=$BENCH_DIR/peers/fastify
MIB=1048576
RANGE_SEED=20261101
SEG585K_BYTES=599040          # 585 KiB: a 4 s segment at ~1.2 Mbit/s
ACCEL_PREFIX=/_kino_media/    # Kino's http.accel_redirect and nginx-accel.conf's internal location

log() { printf '[bench] %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

# ---------------------------------------------------------------- cleanup --------------------
SERVER_PID=""
SAMPLER_PID=""
TMP=""
KINO_PORT=""
CASE_FILE=""
cleanup() {
    local rc=$?
    [ -n "$SAMPLER_PID" ] && kill -TERM "$SAMPLER_PID" 2>/dev/null || true
    [ -n "$SERVER_PID" ] && stop_server || true
    if [ -n "$TMP" ] && [ -d "$TMP" ]; then
        if [ "${BENCH_KEEP_TMP:-0}" = 1 ]; then
            log "kept $TMP"
        else
            rm -rf "$TMP"
        fi
    fi
    exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---------------------------------------------------------------- installs -------------------
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

install_missing() {
    local pkgs=()
    [ -x "$NGINX" ] || pkgs+=(nginx-light)
    command -v wrk >/dev/null || pkgs+=(wrk)
    command -v curl >/dev/null || pkgs+=(curl)
    command -v taskset >/dev/null || pkgs+=(util-linux)
    command -v python3 >/dev/null || pkgs+=(python3)
    if [[ " $SERVERS " == *" fastify "* ]] && ! command -v npm >/dev/null; then pkgs+=(nodejs npm); fi
    if [ ${#pkgs[@]} -gt 0 ]; then
        log "installing ${pkgs[*]} (apt-get)"
        # Keep Debian from starting a system nginx on port 80 while installing it.
        local made_policy=0
        if [ ! -e /usr/sbin/policy-rc.d ]; then
            printf '#!/bin/sh\nexit 101\n' | as_root tee /usr/sbin/policy-rc.d >/dev/null
            as_root chmod 755 /usr/sbin/policy-rc.d
            made_policy=1
        fi
        as_root apt-get update -qq
        if ! as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${pkgs[@]}" >/dev/null; then
            # Debian 13 ships one `nginx` package instead of nginx-light.
            pkgs=("${pkgs[@]/nginx-light/nginx}")
            as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${pkgs[@]}" >/dev/null
        fi
        [ $made_policy = 1 ] && as_root rm -f /usr/sbin/policy-rc.d
    fi
    if [[ " $SERVERS " == *" fastify "* ]]; then
        local stamp="$FASTIFY_DIR/node_modules/.bench-lock-sha256"
        local want
        want=$(sha256sum "$FASTIFY_DIR/package-lock.json" | cut -d' ' -f1)
        if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
            log "installing the Fastify peer (npm ci)"
            (cd "$FASTIFY_DIR" && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
            echo "$want" >"$stamp"
        fi
    fi
}

# ---------------------------------------------------------------- servers --------------------

# start_server SERVER VARIANT -> sets SERVER_PID, PORT, URL_PREFIX (and KINO_PORT for kino-nginx).
# CASE_FILE (set by run_case) names the file the case serves: the hyper server loads only that.
start_server() {
    local server=$1 variant=$2 logf
    PORT=$(free_port)
    logf="$TMP/logs/$server${variant:+-${variant// /-}}.log"
    case $server in
        nginx)
            local prefix="$TMP/nginx"
            rm -rf "$prefix" && mkdir -p "$prefix"
            sed -e "s|@PREFIX@|$prefix|g" -e "s|@PORT@|$PORT|g" -e "s|@ROOT@|$TMP/files|g" \
                -e "s|@TCP_NOPUSH@|${variant#tcp_nopush }|g" \
                "$BENCH_DIR/peers/nginx.conf" >"$prefix/nginx.conf"
            taskset -c "$SERVER_CPU" "$NGINX" -p "$prefix" -e "$prefix/error.log" -c "$prefix/nginx.conf" \
                >>"$logf" 2>&1 &
            SERVER_PID=$!
            URL_PREFIX="http://127.0.0.1:$PORT/files"
            ;;
        fastify)
            NODE_ENV=production taskset -c "$SERVER_CPU" node "$FASTIFY_DIR/server.js" "$PORT" "$TMP/files" \
                >>"$logf" 2>&1 &
            SERVER_PID=$!
            URL_PREFIX="http://127.0.0.1:$PORT/files"
            ;;
        hyper)
            # Reads every file of its directory into memory at start: give it only this case's.
            taskset -c "$SERVER_CPU" "$HYPER_BIN" "127.0.0.1:$PORT" "$TMP/hyper/$CASE_FILE" >>"$logf" 2>&1 &
            SERVER_PID=$!
            URL_PREFIX="http://127.0.0.1:$PORT/files"
            ;;
        kino | kino-hyper)
            # From $TMP (no stray ./kino.toml) and without the caller's KINO_* settings.
            # BENCH_KINO_ENV: settings for this run only, e.g. to measure a fast path switched off.
            # kino-hyper: the same binary with every request through hyper (http.sendfile off).
            local only_hyper=""
            [ "$server" = kino-hyper ] && only_hyper=KINO_HTTP__SENDFILE=false
            # shellcheck disable=SC2086
            (cd "$TMP" && exec env $(kino_env_unset) ${BENCH_KINO_ENV:-} $only_hyper taskset -c "$SERVER_CPU" "$KINO_BIN" serve \
                --listen "127.0.0.1:$PORT" --data-dir "$TMP/kino-data" --no-workers --rtmp-listen "") >>"$logf" 2>&1 &
            SERVER_PID=$!
            URL_PREFIX="http://127.0.0.1:$PORT"
            ;;
        kino-nginx)
            # Kino and nginx on the same core, under one parent process so that rss.py and cpu.py,
            # which follow a process tree, count both.
            KINO_PORT=$(free_port)
            local prefix="$TMP/nginx"
            rm -rf "$prefix" && mkdir -p "$prefix"
            sed -e "s|@PREFIX@|$prefix|g" -e "s|@PORT@|$PORT|g" -e "s|@KINO_PORT@|$KINO_PORT|g" \
                -e "s|@MEDIA@|$TMP/kino-data/media|g" -e "s|@TCP_NOPUSH@|${variant#tcp_nopush }|g" \
                "$BENCH_DIR/peers/nginx-accel.conf" >"$prefix/nginx.conf"
            run_kino_nginx "$prefix" >>"$logf" 2>&1 &
            SERVER_PID=$!
            URL_PREFIX="http://127.0.0.1:$PORT"
            ;;
    esac
    # Through nginx for kino-nginx: Kino answering is part of being ready. -f: a 502 is not ready.
    local ready_url="http://127.0.0.1:$PORT/healthz"
    case $server in nginx | fastify) ready_url="$URL_PREFIX/seg200k.mp4" ;; esac
    local i
    for i in $(seq 1 300); do
        if ! kill -0 "$SERVER_PID" 2>/dev/null; then
            SERVER_PID=""
            log "$server exited at start; its log:"; cat "$logf" >&2
            return 1
        fi
        if curl -sf -o /dev/null "$ready_url" 2>/dev/null; then return 0; fi
        sleep 0.1
    done
    log "$server did not answer on $ready_url within 30 s"
    stop_server
    return 1
}

# run_kino_nginx NGINX_PREFIX (in the background, output to the server log): Kino with
# http.accel_redirect and nginx in front of it, both pinned to the server core; SIGTERM stops
# both, and when either exits the other is stopped too.
run_kino_nginx() {
    local prefix=$1 kpid npid
    trap 'kill -TERM $kpid $npid 2>/dev/null; wait; exit 0' TERM INT
    (cd "$TMP" && exec env $(kino_env_unset) KINO_HTTP__ACCEL_REDIRECT="$ACCEL_PREFIX" \
        taskset -c "$SERVER_CPU" "$KINO_BIN" serve \
        --listen "127.0.0.1:$KINO_PORT" --data-dir "$TMP/kino-data" --no-workers --rtmp-listen "") &
    kpid=$!
    taskset -c "$SERVER_CPU" "$NGINX" -p "$prefix" -e "$prefix/error.log" -c "$prefix/nginx.conf" &
    npid=$!
    wait -n || true
    kill -TERM "$kpid" "$npid" 2>/dev/null || true
    wait || true
    echo "kino-nginx: kino or nginx exited; nginx error log:"
    cat "$prefix/error.log" 2>/dev/null || true
}

stop_server() {
    local pid=$SERVER_PID
    SERVER_PID=""
    stop_pid "$pid" server
}


# url_for SERVER FILE_NAME: Kino serves seg585k.m4s as an HLS segment, the others as originals.
url_for() {
    case $1 in
        kino | kino-hyper | kino-nginx) echo "$URL_PREFIX${KINO_PATH[$2]}" ;;
        *) echo "$URL_PREFIX/$2" ;;
    esac
}

# ---------------------------------------------------------------- checks ---------------------
# A server must answer each case correctly before it is measured (wrk only counts statuses >= 400).
# check_case URL FILE MODE SERVER; MODE: whole, ranges (1 MiB ranges), ranges64k.
check_case() {
    local url=$1 file=$2 mode=$3 server=$4 size got a b len want
    size=$(stat -c %s "$TMP/files/$file")
    if [ "$mode" = whole ]; then
        got=$(curl -s -o "$TMP/check.bin" -w '%{http_code} %{size_download}' "$url")
        [ "$got" = "200 $size" ] || { log "GET $url: expected '200 $size', got '$got'"; return 1; }
        cmp -s "$TMP/check.bin" "$TMP/files/$file" || { log "GET $url: body differs from the file"; return 1; }
        got=$(curl -s -o /dev/null -w '%{http_code} %{size_download}' -H 'Range: bytes=100-199' "$url")
        [ "$got" = "206 100" ] || { log "GET $url Range 100-199: expected '206 100', got '$got'"; return 1; }
    else
        if [ "$mode" = ranges ]; then
            a=$((7 * MIB)) len=$MIB want="$TMP/range7.bin"
        else
            a=$RANGE64K_CHECK_AT len=65536 want="$TMP/range64k.bin"
        fi
        b=$((a + len - 1))
        got=$(curl -s -o "$TMP/check.bin" -w '%{http_code} %{size_download}' -H "Range: bytes=$a-$b" "$url")
        [ "$got" = "206 $len" ] || { log "GET $url Range $a-$b: expected '206 $len', got '$got'"; return 1; }
        cmp -s "$TMP/check.bin" "$want" || { log "GET $url Range $a-$b: wrong bytes"; return 1; }
        got=$(curl -s -D - -o /dev/null -H "Range: bytes=$size-" "$url" | tr -d '\r' |
            awk 'NR==1{s=$2} tolower($1)=="content-range:"{r=$2" "$3} END{print s" "r}')
        [ "$got" = "416 bytes */$size" ] || log "note: $url Range bytes=$size-: got '$got' (expected 416 bytes */$size)"
    fi
    if [ "$server" = kino-nginx ]; then
        # Asked directly, Kino must hand the bytes to nginx rather than send them itself.
        local direct="http://127.0.0.1:$KINO_PORT${KINO_PATH[$file]}" key="$ACCEL_PREFIX${KINO_KEY[$file]}"
        got=$(curl -s -D - -o "$TMP/check.bin" "$direct" | tr -d '\r' |
            awk 'NR==1{s=$2} tolower($1)=="x-accel-redirect:"{x=$2} END{print s" "x}')
        [ "$got" = "200 $key" ] || { log "GET $direct (Kino itself): expected '200 $key', got '$got'"; return 1; }
        [ ! -s "$TMP/check.bin" ] || { log "GET $direct (Kino itself): X-Accel-Redirect with a body"; return 1; }
    fi
    rm -f "$TMP/check.bin"
}

# CPU seconds (user + system) used so far by this shell's finished children: around wrk, wrk's own.
# (`times` must run in this shell itself: a $(...) subshell starts with zeroed counters.)
children_cpu_secs() {
    times >"$TMP/times"
    sed -n 2p "$TMP/times" | awk '{ t = 0; for (i = 1; i <= 2; i++) { split($i, p, /[ms]/); t += p[1] * 60 + p[2] } printf "%.3f\n", t }'
}

# ---------------------------------------------------------------- one measurement ------------
# run_case SERVER VARIANT CASE  -> appends a line to $TSV
run_case() {
    local server=$1 variant=$2 case=$3 file conns mode desc script args=()
    case $case in
        seg585k-c64) file=seg585k.m4s conns=64 mode=whole desc="585 KiB HLS segment, 64 connections" ;;
        ranges64k-c64)
            file=seg585k.m4s conns=64 mode=ranges64k
            desc="random 64 KiB ranges of the 585 KiB segment, 64 connections" ;;
        seg4m-c64) file=seg4m.mp4 conns=64 mode=whole desc="4 MiB segment, 64 connections" ;;
        seg4m-c256) file=seg4m.mp4 conns=256 mode=whole desc="4 MiB segment, 256 connections" ;;
        seg200k-c256) file=seg200k.mp4 conns=256 mode=whole desc="200 KiB segment, 256 connections" ;;
        ranges1m-c64)
            file=big500m.mp4 conns=$RANGE_CONNS mode=ranges
            desc="random 1 MiB ranges of a 500 MiB file, $RANGE_CONNS connections" ;;
        *) die "unknown case $case (known: $ALL_CASES)" ;;
    esac
    CASE_FILE=$file
    local label="$server${variant:+ ($variant)}"
    local row_prefix="$case	$desc	$server	$variant"
    log "$desc: $label"
    if ! start_server "$server" "$variant"; then
        printf '%s\tstart failed\t0\t0\t1\t0\t0\t0\t0\t0\t0\t0\t0\t0\n' "$row_prefix" >>"$TSV"
        return 0
    fi
    local url
    url=$(url_for "$server" "$file")
    if ! check_case "$url" "$file" "$mode" "$server"; then
        stop_server
        printf '%s\tcheck failed\t0\t0\t1\t0\t0\t0\t0\t0\t0\t0\t0\t0\n' "$row_prefix" >>"$TSV"
        return 0
    fi
    script=$BENCH_DIR/ranges.lua
    case $mode in
        whole) script=$BENCH_DIR/report.lua ;;
        ranges) args=(-- "$(stat -c %s "$TMP/files/$file")" "$RANGE_SEED") ;;
        ranges64k) args=(-- "$(stat -c %s "$TMP/files/$file")" "$RANGE_SEED" 65536 any) ;;
    esac
    local raw="$TMP/raw/$case-$server${variant:+-${variant// /-}}.txt"
    local rssf="$TMP/raw/$case-$server${variant:+-${variant// /-}}.rss"
    taskset -c "$CLIENT_CPU" python3 "$BENCH_DIR/rss.py" "$SERVER_PID" "$rssf" &
    SAMPLER_PID=$!
    local wrk=(taskset -c "$CLIENT_CPU" wrk -t "$WRK_THREADS" -c "$conns" --timeout 30s -s "$script")
    if [ "$WARMUP" != 0 ]; then
        "${wrk[@]}" -d "${WARMUP}s" "$url" "${args[@]}" >/dev/null 2>&1 || true
        sleep 0.5
    fi
    local cpu wrk_secs cpu_cmd=(taskset -c "$CLIENT_CPU" python3 "$BENCH_DIR/cpu.py")
    "${cpu_cmd[@]}" before "$TMP/cpu.json" "$SERVER_PID" "$$" "$CLIENT_CPU"
    children_cpu_secs >"$TMP/wrk_before"
    "${wrk[@]}" -d "${SECS}s" --latency "$url" "${args[@]}" >"$raw" 2>&1 || true
    children_cpu_secs >"$TMP/wrk_after"
    wrk_secs=$(awk '{ t[NR] = $1 } END { printf "%.3f", t[2] - t[1] }' "$TMP/wrk_before" "$TMP/wrk_after")
    cpu=$("${cpu_cmd[@]}" after "$TMP/cpu.json" "$SERVER_PID" "$$" "$CLIENT_CPU" "$wrk_secs" || true)
    kill -TERM "$SAMPLER_PID" 2>/dev/null || true
    wait "$SAMPLER_PID" 2>/dev/null || true
    SAMPLER_PID=""
    stop_server

    local line rss
    line=$(grep '^BENCH ' "$raw" || true)
    if [ -z "$line" ]; then
        log "wrk printed no BENCH line; its output:"; cat "$raw" >&2
        printf '%s\twrk failed\t0\t0\t1\t0\t0\t0\t0\t0\t0\t0\t0\t0\n' "$row_prefix" >>"$TSV"
        return 0
    fi
    rss=$(sed -n 's/.*hwm_kib=\([0-9]*\).*/\1/p' "$rssf" 2>/dev/null)
    local peak
    peak=$(sed -n 's/.*peak_rss_kib=\([0-9]*\).*/\1/p' "$rssf" 2>/dev/null)
    [ -n "$rss" ] && [ -n "$peak" ] && [ "$peak" -gt "$rss" ] && rss=$peak
    # shellcheck disable=SC2086
    local $(echo "${line#BENCH }")
    [ -n "$cpu" ] || cpu="server_cpu_pct=0 client_core_pct=0 wrk_cpu_pct=0 other_cpu_pct=0"
    # shellcheck disable=SC2086
    local $(echo "$cpu")
    printf '%s\tok\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$row_prefix" "$requests" "$bytes" "$duration_us" \
        "$p50_us" "$p99_us" "$err_status" "$((err_connect + err_read + err_write + err_timeout))" "${rss:-0}" \
        "$server_cpu_pct	$client_core_pct	$wrk_cpu_pct	$other_cpu_pct" >>"$TSV"
    awk -v r="$requests" -v b="$bytes" -v d="$duration_us" -v p50="$p50_us" -v p99="$p99_us" -v e="$err_status" \
        'BEGIN{printf "[bench]   %.0f req/s  %.0f MB/s  p50 %.2f ms  p99 %.2f ms  non-2xx %d\n", r/(d/1e6), b/(d/1e6)/1e6, p50/1000, p99/1000, e}' >&2
}

# ---------------------------------------------------------------- main -----------------------
for case in $CASES; do
    [[ " $ALL_CASES " == *" $case "* ]] || die "unknown case $case (known: $ALL_CASES)"
done
has_case() { [[ " $CASES " == *" $1 "* ]]; }

# Servers built from this repository: skipped (with a note) when their binary is missing, unless
# BENCH_SERVERS names them.
keep=""
for server in $SERVERS; do
    case $server in
        nginx | fastify) keep+="$server " ;;
        hyper | kino | kino-hyper | kino-nginx)
            if [ "$server" = hyper ]; then
                bin=$HYPER_BIN var=HYPER_BIN build="cargo build --release --example hyper_ceiling"
            else
                bin=$KINO_BIN var=KINO_BIN build="cargo build --release"
            fi
            if [ -x "$bin" ]; then
                keep+="$server "
            elif [ -n "${BENCH_SERVERS:-}" ]; then
                die "$var=$bin is not an executable (build it: $build)"
            else
                log "no binary at $bin: skipping $server (build it with '$build', or set $var)"
            fi
            ;;
        *) die "unknown server $server (known: nginx fastify hyper kino kino-hyper kino-nginx)" ;;
    esac
done
SERVERS=${keep% }
[ -n "$SERVERS" ] || die "no server to run"
want_kino=0
[[ " $SERVERS " == *" kino "* || " $SERVERS " == *" kino-hyper "* || " $SERVERS " == *" kino-nginx "* ]] && want_kino=1

install_missing
[ "$(nproc)" -ge 2 ] || log "warning: fewer than 2 cores; server and wrk will share one"

TMP=$(mktemp -d "${TMPDIR:-/tmp}/kino-bench.XXXXXX")
chmod 755 "$TMP"   # nginx workers run as an unprivileged user and must reach the files
mkdir -p "$TMP/files" "$TMP/logs" "$TMP/raw" "$RESULTS_DIR"
log "making test files in $TMP/files"
# seg200k.mp4 always: nginx and Fastify are probed with it at start.
head -c $SEG585K_BYTES /dev/urandom >"$TMP/files/seg585k.m4s"
head -c $((200 * 1024)) /dev/urandom >"$TMP/files/seg200k.mp4"
if has_case seg4m-c64 || has_case seg4m-c256; then head -c $((4 * MIB)) /dev/urandom >"$TMP/files/seg4m.mp4"; fi
if has_case ranges1m-c64; then
    head -c $((500 * MIB)) /dev/urandom >"$TMP/files/big500m.mp4"
    dd if="$TMP/files/big500m.mp4" of="$TMP/range7.bin" bs=$MIB skip=7 count=1 status=none
fi
chmod 644 "$TMP"/files/*
RANGE64K_CHECK_AT=123457   # an odd offset: the check's 64 KiB range is not aligned either
dd if="$TMP/files/seg585k.m4s" of="$TMP/range64k.bin" iflag=skip_bytes,count_bytes bs=64K \
    skip=$RANGE64K_CHECK_AT count=65536 status=none
cat "$TMP"/files/* >/dev/null   # into the page cache: this measures serving, not the disk
# The hyper server loads its whole directory: one directory per file, holding a hard link.
for f in "$TMP"/files/*; do
    mkdir -p "$TMP/hyper/${f##*/}" && ln "$f" "$TMP/hyper/${f##*/}/"
done

# Kino serves seg585k.m4s as segment 1 of a video's one-rendition (720p) HLS ladder, through the
# segment route, and the other files as originals. KINO_KEY: the blob key, i.e. the path under
# the media directory, which Kino names in X-Accel-Redirect behind nginx.
declare -A KINO_ID=([seg585k.m4s]=seg585k00000 [seg4m.mp4]=seg4m0000000 [seg200k.mp4]=seg200k00000
    [big500m.mp4]=big500m00000)
declare -A KINO_PATH KINO_KEY
for f in "${!KINO_ID[@]}"; do
    id=${KINO_ID[$f]}
    if [ "$f" = seg585k.m4s ]; then
        KINO_PATH[$f]=/hls/$id/720p/seg_00001.m4s KINO_KEY[$f]=videos/$id/hls/720p/seg_00001.m4s
    else
        KINO_PATH[$f]=/media/$id/original KINO_KEY[$f]=sources/$id
    fi
done
if [ $want_kino = 1 ]; then
    log "registering the files in a fresh Kino data directory"
    mkdir -p "$TMP/kino-data"
    (cd "$TMP" && echo 'bench-password-1' | env $(kino_env_unset) "$KINO_BIN" users create bench \
        --password-stdin --data-dir "$TMP/kino-data") >"$TMP/logs/kino-users.log" 2>&1 ||
        { cat "$TMP/logs/kino-users.log" >&2; die "kino users create failed"; }
    seeds=(--hls "${KINO_ID[seg585k.m4s]}=$TMP/files/seg585k.m4s" --rendition 720p)
    for f in "${!KINO_ID[@]}"; do
        [ "$f" = seg585k.m4s ] || [ ! -e "$TMP/files/$f" ] || seeds+=("${KINO_ID[$f]}=$TMP/files/$f")
    done
    python3 "$BENCH_DIR/kino_seed.py" "$TMP/kino-data" "${seeds[@]}"
    chmod -R a+rX "$TMP/kino-data/media"   # kino-nginx: nginx's worker reads the files itself
fi

TSV=$RESULTS_DIR/latest.tsv
printf 'case\tdesc\tserver\tvariant\tstatus\trequests\tbytes\tduration_us\tp50_us\tp99_us\terr_status\terr_socket\trss_kib\tserver_cpu_pct\tclient_core_pct\twrk_cpu_pct\tother_cpu_pct\n' >"$TSV"
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
awk '$1 > 0.5 {exit 1}' /proc/loadavg ||
    log "warning: load average is $load_before; other work on this machine will skew the numbers"

for case in $CASES; do
    for server in $SERVERS; do
        if [ "$server" = nginx ] || [ "$server" = kino-nginx ]; then
            run_case "$server" "tcp_nopush off" "$case"
            run_case "$server" "tcp_nopush on" "$case"
        else
            run_case "$server" "" "$case"
        fi
    done
done

meta="$RESULTS_DIR/latest.meta"
{
    echo "Run $(date -u '+%Y-%m-%d %H:%M UTC') on $(nproc) cores ($(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)), $(uname -r)."
    echo "Each server pinned to core $SERVER_CPU (kino-nginx: Kino and nginx both), wrk ($WRK_THREADS thread) to core $CLIENT_CPU; loopback;"
    echo "files in the page cache. Per case: server restarted, ${WARMUP} s warm-up, ${SECS} s measured."
    echo "Load average before: $load_before; after: $(cut -d' ' -f1-3 /proc/loadavg)."
    echo
    echo "Versions: $($NGINX -v 2>&1 | sed 's/^nginx version: //'), node $(node --version 2>/dev/null || echo -),"
    echo "fastify $(node -p "require('$FASTIFY_DIR/node_modules/fastify/package.json').version" 2>/dev/null || echo -),"
    if [ $want_kino = 1 ]; then
        kv=$("$KINO_BIN" --version 2>/dev/null | head -1 || true)
        echo "${kv:-kino} ($KINO_BIN, sha256 $(sha256sum "$KINO_BIN" | cut -c1-12), modified $(date -u -r "$KINO_BIN" '+%Y-%m-%d %H:%M UTC'));"
    else
        echo "kino not run;"
    fi
    if [[ " $SERVERS " == *" hyper "* ]]; then
        echo "hyper_ceiling ($HYPER_BIN, sha256 $(sha256sum "$HYPER_BIN" | cut -c1-12), modified $(date -u -r "$HYPER_BIN" '+%Y-%m-%d %H:%M UTC'));"
    fi
    echo "$(wrk -v 2>&1 | head -1 | sed 's/ Copyright.*//')."
} >"$meta"
rm -rf "$RESULTS_DIR/raw" && cp -r "$TMP/raw" "$RESULTS_DIR/raw"   # wrk's own reports, per run
echo
python3 "$BENCH_DIR/report.py" "$TSV" "$meta" "$RESULTS_DIR/latest.md"
echo
log "markdown: $RESULTS_DIR/latest.md (raw: $TSV)"
