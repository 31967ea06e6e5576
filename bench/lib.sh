# Helpers shared by the bench scripts (sourced, not run).

# `env` arguments that unset every KINO_* variable of the caller, so a benchmark's Kino reads
# only the settings the script gives it.
kino_env_unset() {
    local v
    for v in $(compgen -e); do
        case $v in KINO_*) printf -- '-u %s ' "$v" ;; esac
    done
}

# A free TCP port on 127.0.0.1.
free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# stop_pid PID NAME: SIGTERM, up to 20 s to exit, then SIGKILL; reaps it.
stop_pid() {
    local pid=$1 name=${2:-process} i
    [ -n "$pid" ] || return 0
    kill -TERM "$pid" 2>/dev/null || return 0
    for i in $(seq 1 200); do
        kill -0 "$pid" 2>/dev/null || { wait "$pid" 2>/dev/null || true; return 0; }
        sleep 0.1
    done
    printf '[bench] %s %s did not stop on SIGTERM; killing it\n' "$name" "$pid" >&2
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
}
