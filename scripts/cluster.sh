#!/usr/bin/env bash
# The scale-out topology from local processes, as the tests use it (see docs/deployment.md):
# two API nodes, two transcode workers and, when nginx is installed, a caching proxy in front.
#
#   scripts/cluster.sh up DIR
#   scripts/cluster.sh down DIR
#
# `up` needs, in the environment:
#   KINO_BIN            the kino binary
#   KINO_DATABASE_URL   postgres://… shared by every node
#   KINO_STORAGE        s3://bucket/prefix shared by every node (with KINO_S3__ENDPOINT etc.)
# and passes every other variable (KINO_NATS_URL, KINO_S3__*, KINO_LOG, AWS_*, …) to every node.
# It starts, each with its own data directory (scratch space) DIR/NAME:
#   api-a, api-b   $KINO_BIN --data-dir DIR/api-X serve --listen 127.0.0.1:0 --rtmp-listen 127.0.0.1:0
#                  --no-workers (each also an RTMP ingest: DIR/api-X.rtmp holds rtmp://ADDR/live)
#   worker-1, -2   $KINO_BIN --data-dir DIR/worker-N worker
#   nginx          the caching proxy of deploy/nginx-kino.conf on a free 127.0.0.1 port, in
#                  front of both API nodes (config, cache and access log under DIR/nginx);
#                  skipped when no nginx is found (CLUSTER_NGINX=/path/to/nginx picks one,
#                  CLUSTER_NGINX=off skips it)
# api-a starts first and is listening (its migrations done) before the others start. It writes
# DIR/api-a.url, DIR/api-b.url and, when the proxy runs, DIR/proxy.url (one line each:
# http://127.0.0.1:PORT), DIR/NAME.pid for each process and DIR/NAME.log with its stdout and
# stderr. When a node fails to start it prints why and the tail of its log, stops what it
# started, and exits 1.
#
# `down` sends TERM to every process named by a DIR/*.pid file (only when that process's
# command line mentions DIR), KILL to those still running 5 s later, and removes the pid files;
# logs, data directories and url files stay.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
proxy_rules="$here/../deploy/nginx-kino.conf"
start_timeout=30

usage() {
  echo "usage: $0 up DIR | down DIR" >&2
  exit 2
}
say() { echo "cluster: $*" >&2; }

[ $# -eq 2 ] || usage
cmd=$1
dir=$2

# DIR as an absolute path (it goes into command lines and nginx's config); created by `up`.
resolve_dir() {
  if [ "$cmd" = up ]; then mkdir -p "$dir"; fi
  dir=$(cd "$dir" && pwd -P)
  if ! [[ $dir =~ ^[A-Za-z0-9_./+@:,=-]+$ ]]; then
    say "DIR must be made of letters, digits and _./+@:,=- only (it goes into nginx's config): $dir"
    exit 2
  fi
}

# The command line of PID, as one string.
cmdline_of() {
  if [ -r "/proc/$1/cmdline" ]; then
    tr '\0' ' ' <"/proc/$1/cmdline"
  else
    ps -o args= -p "$1" 2>/dev/null || true
  fi
}

# PID exists and is not a zombie.
running() {
  kill -0 "$1" 2>/dev/null || return 1
  if [ -r "/proc/$1/stat" ]; then
    local stat
    stat=$(<"/proc/$1/stat")
    stat=${stat##*) }
    [ "${stat%% *}" != Z ]
  fi
}

# PID is running and is one of this cluster's processes (guards against a reused PID).
ours() { running "$1" && [[ "$(cmdline_of "$1")" == *"$dir"* ]]; }

# TERM every process of DIR/*.pid, KILL the rest after 5 s, remove the pid files.
stop_all() {
  local f pid pids=() i
  for f in "$dir"/*.pid; do
    [ -e "$f" ] || continue
    pid=$(<"$f")
    if [[ $pid =~ ^[0-9]+$ ]] && ours "$pid"; then
      kill -TERM "$pid" 2>/dev/null || true
      pids+=("$pid")
    fi
  done
  for ((i = 0; i < 50; i++)); do
    local left=0
    for pid in "${pids[@]}"; do
      running "$pid" && left=1
    done
    [ "$left" -eq 1 ] || break
    sleep 0.1
  done
  for pid in "${pids[@]}"; do
    if running "$pid"; then
      say "pid $pid still running after 5 s: KILL"
      kill -KILL "$pid" 2>/dev/null || true
    fi
  done
  rm -f "$dir"/*.pid
  [ ${#pids[@]} -eq 0 ] || say "stopped ${#pids[@]} process(es) of $dir"
}

# Reports why NAME failed with the tail of its log, stops everything started, exits 1.
fail() {
  local name=$1
  shift
  say "$name failed to start: $*"
  if [ -f "$dir/$name.log" ]; then
    echo "--- last lines of $dir/$name.log:" >&2
    tail -n 40 "$dir/$name.log" >&2
    echo "---" >&2
  fi
  stop_all
  exit 1
}

# Starts NAME in the background: $KINO_BIN --data-dir DIR/NAME ARGS…
start_node() {
  local name=$1
  shift
  mkdir -p "$dir/$name"
  # KINO_BIN is this script's own input, not a Kino setting (Kino refuses unknown KINO_* keys).
  env -u KINO_BIN "$KINO_BIN" --data-dir "$dir/$name" "$@" </dev/null >"$dir/$name.log" 2>&1 &
  echo $! >"$dir/$name.pid"
}

# Waits for NAME's "kino listening on http://ADDR" line; writes DIR/NAME.url.
wait_listening() {
  local name=$1 pid line deadline=$((SECONDS + start_timeout))
  pid=$(<"$dir/$name.pid")
  while :; do
    line=$(grep -a -m1 -o 'kino listening on http://[^[:space:]]*' "$dir/$name.log" || true)
    [ -z "$line" ] || break
    running "$pid" || fail "$name" "it exited before listening"
    [ "$SECONDS" -lt "$deadline" ] || fail "$name" "no 'kino listening on' line within ${start_timeout} s"
    sleep 0.1
  done
  printf '%s\n' "${line#kino listening on }" >"$dir/$name.url"
  line=$(grep -a -m1 -o 'kino RTMP ingest on rtmp://[^[:space:]]*' "$dir/$name.log" || true)
  [ -z "$line" ] || printf '%s\n' "${line#kino RTMP ingest on }" >"$dir/$name.rtmp"
}

# A free TCP port on 127.0.0.1 (free when asked: nginx's start is checked below).
free_port() {
  if command -v python3 >/dev/null; then
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
    return
  fi
  local port
  while :; do
    port=$((20000 + RANDOM % 40000))
    (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null || { echo "$port"; return; }
  done
}

# Sets `nginx` to the nginx to run, or to "" for none.
find_nginx() {
  local want=${CLUSTER_NGINX:-}
  nginx=""
  if [ "$want" = off ]; then
    return
  elif [ -n "$want" ]; then
    nginx=$(command -v "$want") || { say "CLUSTER_NGINX=$want is not an executable"; exit 2; }
  elif command -v nginx >/dev/null; then
    nginx=$(command -v nginx)
  elif [ -x /usr/sbin/nginx ]; then
    nginx=/usr/sbin/nginx
  fi
}

# Writes DIR/nginx/nginx.conf: the shared proxy rules, upstream = both API nodes, on PORT.
write_nginx_conf() {
  local port=$1 ngx="$dir/nginx" user_line=""
  mkdir -p "$ngx/cache" "$ngx/tmp"
  cp "$proxy_rules" "$ngx/nginx-kino.conf"
  # As root, nginx's workers would run as nobody, who cannot enter DIR: run them as us.
  [ "$(id -u)" -ne 0 ] || user_line="user $(id -un) $(id -gn);"
  cat >"$ngx/nginx.conf" <<EOF
# Written by scripts/cluster.sh for $dir; the rules are in nginx-kino.conf.
daemon off;
$user_line
worker_processes 1;
pid "$ngx/nginx.pid";
error_log stderr warn;
events {
    worker_connections 1024;
}
http {
    log_format kino '\$remote_addr "\$request" \$status \$body_bytes_sent \$request_time '
                    'cache=\$upstream_cache_status upstream=\$upstream_addr';
    access_log "$ngx/access.log" kino;
    client_body_temp_path "$ngx/tmp/body";
    proxy_temp_path "$ngx/tmp/proxy";
    fastcgi_temp_path "$ngx/tmp/fastcgi";
    uwsgi_temp_path "$ngx/tmp/uwsgi";
    scgi_temp_path "$ngx/tmp/scgi";
    map \$http_upgrade \$connection_upgrade {
        default upgrade;
        ""      "";
    }
    proxy_cache_path "$ngx/cache" levels=1:2 keys_zone=kino_cache:16m max_size=4g inactive=1d
                     use_temp_path=off;
    upstream kino_api {
        server $(addr_of api-a) max_fails=2 fail_timeout=5s;
        server $(addr_of api-b) max_fails=2 fail_timeout=5s;
        keepalive 16;
    }
    server {
        listen 127.0.0.1:$port;
        server_name _;
        # Lets start_nginx tell this proxy from anything else that might hold the port.
        location = /.cluster-proxy {
            return 200 "$dir\n";
        }
        include "$ngx/nginx-kino.conf";
    }
}
EOF
}

# HOST:PORT of an API node, from DIR/NAME.url.
addr_of() {
  local url
  url=$(<"$dir/$1.url")
  echo "${url#http://}"
}

# Whether our nginx listens on 127.0.0.1:PORT: it answers GET /.cluster-proxy with DIR.
proxy_answers() {
  # shellcheck disable=SC2016 # $1 is expanded by the inner bash
  timeout 2 bash -c 'exec 3<>"/dev/tcp/127.0.0.1/$1" &&
    printf "GET /.cluster-proxy HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n" >&3 && cat <&3' _ "$1" 2>/dev/null |
    grep -qxF -- "$dir"
}

# Starts the proxy and writes DIR/proxy.url; writes nothing when the port it chose was taken
# meanwhile (try again).
start_nginx() {
  local nginx=$1 port pid deadline
  port=$(free_port)
  write_nginx_conf "$port"
  "$nginx" -t -q -p "$dir/nginx" -e stderr -c "$dir/nginx/nginx.conf" >"$dir/nginx.log" 2>&1 ||
    fail nginx "its configuration $dir/nginx/nginx.conf is refused"
  "$nginx" -p "$dir/nginx" -e stderr -c "$dir/nginx/nginx.conf" </dev/null >>"$dir/nginx.log" 2>&1 &
  pid=$!
  echo "$pid" >"$dir/nginx.pid"
  deadline=$((SECONDS + 10))
  until proxy_answers "$port"; do
    if ! running "$pid"; then
      if grep -q 'Address already in use' "$dir/nginx.log"; then
        rm -f "$dir/nginx.pid"
        return 0
      fi
      fail nginx "it exited"
    fi
    [ "$SECONDS" -lt "$deadline" ] || fail nginx "127.0.0.1:$port not accepting within 10 s"
    sleep 0.1
  done
  printf 'http://127.0.0.1:%s\n' "$port" >"$dir/proxy.url"
}

up() {
  local var
  for var in KINO_BIN KINO_DATABASE_URL KINO_STORAGE; do
    [ -n "${!var:-}" ] || { say "$var is not set (see the top of $0)"; exit 2; }
  done
  local bin
  if ! bin=$(command -v "$KINO_BIN") || [ ! -x "$bin" ]; then
    say "KINO_BIN=$KINO_BIN is not an executable file"
    exit 2
  fi
  case $KINO_DATABASE_URL in
    postgres://* | postgresql://*) ;;
    *) say "KINO_DATABASE_URL must be a postgres:// URL (nodes share it), got $KINO_DATABASE_URL"; exit 2 ;;
  esac
  case $KINO_STORAGE in
    s3://*) ;;
    *) say "KINO_STORAGE must be an s3:// URL (nodes share it), got $KINO_STORAGE"; exit 2 ;;
  esac
  [ -n "${KINO_NATS_URL:-}" ] ||
    say "warning: KINO_NATS_URL unset: live events reach only pages connected to the node that published them"
  KINO_BIN=$(cd "$(dirname "$bin")" && pwd)/$(basename "$bin")
  # The caching proxy runs on 127.0.0.1: believe its X-Forwarded-For (http.trusted_proxies).
  export KINO_HTTP__TRUSTED_PROXIES="${KINO_HTTP__TRUSTED_PROXIES:-[\"127.0.0.1\"]}"

  local f pid
  for f in "$dir"/*.pid; do
    [ -e "$f" ] || continue
    pid=$(<"$f")
    if [[ $pid =~ ^[0-9]+$ ]] && ours "$pid"; then
      say "$dir is already up ($(basename "$f" .pid) runs as pid $pid): run '$0 down $dir' first"
      exit 1
    fi
  done
  rm -f "$dir"/*.pid "$dir/api-a.url" "$dir/api-b.url" "$dir/proxy.url"

  start_node api-a serve --listen 127.0.0.1:0 --rtmp-listen 127.0.0.1:0 --no-workers
  wait_listening api-a
  start_node api-b serve --listen 127.0.0.1:0 --rtmp-listen 127.0.0.1:0 --no-workers
  start_node worker-1 worker
  start_node worker-2 worker
  wait_listening api-b
  sleep 1
  local w
  for w in worker-1 worker-2; do
    running "$(<"$dir/$w.pid")" || fail "$w" "it exited"
  done

  local nginx try
  find_nginx
  if [ -n "$nginx" ]; then
    for try in 1 2 3; do
      start_nginx "$nginx"
      [ ! -f "$dir/proxy.url" ] || break
      [ "$try" -lt 3 ] || fail nginx "no free port after 3 tries"
    done
  else
    say "no nginx found: running without the caching proxy"
  fi

  for f in api-a api-b proxy; do
    [ -f "$dir/$f.url" ] && printf '%-6s %s\n' "$f" "$(<"$dir/$f.url")"
  done
  return 0
}

case $cmd in
  up)
    resolve_dir
    up
    ;;
  down)
    [ -d "$dir" ] || exit 0
    resolve_dir
    stop_all
    ;;
  *) usage ;;
esac
