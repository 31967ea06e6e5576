#!/usr/bin/env bash
# A local S3-compatible server for tests: moto's server mode (PyPI `moto[server]`), kept in a
# virtualenv under ${KINO_TOOLS_DIR:-$HOME/.cache/kino-tools}/moto-venv and installed only when
# missing.
#
#   scripts/s3-server.sh start PORT STATEDIR [BUCKET...]
#       Starts `moto_server -H 127.0.0.1 -p PORT` in the background (PID in STATEDIR/moto.pid,
#       output in STATEDIR/moto.log) and returns once it answers HTTP (30 s at most). If moto
#       already answers on PORT, starts nothing. Then creates each BUCKET that is missing.
#       Point Kino at it with KINO_S3__ENDPOINT=http://127.0.0.1:PORT and any access key.
#   scripts/s3-server.sh stop PORT STATEDIR
#       Stops the server whose PID is in STATEDIR/moto.pid (TERM, KILL after 5 s).
#
# moto keeps every object in the server process: state is gone when it stops.
set -euo pipefail
# shellcheck source=lib/pyvenv.sh
source "$(dirname "$0")/lib/pyvenv.sh"

MOTO_SPEC='moto[server]==5.*'

usage() {
  echo "usage: $0 start PORT STATEDIR [BUCKET...] | stop PORT STATEDIR" >&2
  exit 2
}
die() {
  echo "s3-server: $*" >&2
  exit 1
}

[ $# -ge 3 ] || usage
cmd=$1
port=$2
state_dir=$3
shift 3
buckets=("$@")
if ! [[ $port =~ ^[0-9]+$ ]] || [ "$port" -lt 1 ] || [ "$port" -gt 65535 ]; then
  die "PORT must be a TCP port number, got '$port'"
fi
pid_file="$state_dir/moto.pid"
log_file="$state_dir/moto.log"
base_url="http://127.0.0.1:$port"

# HTTP status of METHOD URL ("000" when nothing answers).
http_status() {
  local method=$1 url=$2
  if command -v curl >/dev/null; then
    curl -s -o /dev/null -w '%{http_code}' --max-time 5 -X "$method" "$url" || true
  else
    python3 - "$method" "$url" <<'PY' || echo 000
import sys, urllib.request, urllib.error
req = urllib.request.Request(sys.argv[2], method=sys.argv[1])
try:
    with urllib.request.urlopen(req, timeout=5) as r:
        print(r.status)
except urllib.error.HTTPError as e:
    print(e.code)
except Exception:
    print("000")
PY
  fi
}

# moto answers its own API (not only S3) at /moto-api/; anything else on the port is not ours.
# An S3 server answers an unsigned ListBuckets (moto does; /moto-api/data.json is not used:
# it fails with 500 once the server holds many objects).
moto_answers() {
  python3 - "$base_url/" <<'PY' 2>/dev/null
import sys, urllib.request
with urllib.request.urlopen(sys.argv[1], timeout=5) as r:
    sys.exit(0 if b"ListAllMyBucketsResult" in r.read() else 1)
PY
}
something_answers() { [ "$(http_status GET "$base_url/")" != 000 ]; }

# The PID in the pid file, if that process is alive and is a moto server.
running_pid() {
  local pid cmdline
  [ -f "$pid_file" ] || return 1
  pid=$(<"$pid_file")
  [[ $pid =~ ^[0-9]+$ ]] || return 1
  kill -0 "$pid" 2>/dev/null || return 1
  if [ -r "/proc/$pid/cmdline" ]; then
    cmdline=$(tr '\0' ' ' <"/proc/$pid/cmdline")
  else
    cmdline=$(ps -o args= -p "$pid" 2>/dev/null || true)
  fi
  [[ $cmdline == *moto_server* ]] || return 1
  echo "$pid"
}


create_buckets() {
  local b status
  for b in "${buckets[@]}"; do
    # moto accepts unsigned requests; 200 = created (or already ours in us-east-1), 409 = exists.
    status=$(http_status PUT "$base_url/$b")
    case $status in
      200 | 409) ;;
      *) die "creating bucket '$b' failed: HTTP $status" ;;
    esac
  done
}

start() {
  mkdir -p "$state_dir"
  if moto_answers; then
    echo "s3-server: moto already answers on $base_url"
    create_buckets
    return
  fi
  something_answers && die "port $port is taken by something that is not moto"
  ensure_pyvenv moto "$MOTO_SPEC" moto_server
  echo "--- $(date -u +%FT%TZ) moto_server -H 127.0.0.1 -p $port" >>"$log_file"
  "$venv/bin/moto_server" -H 127.0.0.1 -p "$port" </dev/null >>"$log_file" 2>&1 &
  local pid=$!
  echo "$pid" >"$pid_file"
  local deadline=$((SECONDS + 30))
  until moto_answers; do
    if ! kill -0 "$pid" 2>/dev/null; then
      tail -n 20 "$log_file" >&2
      die "moto_server exited before answering on $base_url (log: $log_file)"
    fi
    if [ "$SECONDS" -ge "$deadline" ]; then
      kill "$pid" 2>/dev/null || true
      tail -n 20 "$log_file" >&2
      die "moto_server did not answer on $base_url within 30 s (log: $log_file)"
    fi
    sleep 0.2
  done
  create_buckets
  echo "s3-server: moto listening on $base_url (pid $pid)"
}

stop() {
  local pid
  if ! pid=$(running_pid); then
    rm -f "$pid_file"
    echo "s3-server: not running (no live moto pid in $pid_file)"
    return
  fi
  kill -TERM "$pid" 2>/dev/null || true
  local i
  for ((i = 0; i < 50; i++)); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  if kill -0 "$pid" 2>/dev/null; then
    kill -KILL "$pid" 2>/dev/null || true
  fi
  rm -f "$pid_file"
  echo "s3-server: stopped moto (pid $pid)"
}

case $cmd in
  start) start ;;
  stop)
    [ ${#buckets[@]} -eq 0 ] || usage
    stop
    ;;
  *) usage ;;
esac
