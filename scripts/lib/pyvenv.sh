# shellcheck shell=bash
# Sourced by scripts that run a Python tool from PyPI (moto, schemathesis).
#
#   ensure_pyvenv NAME SPEC EXECUTABLE
#       Makes sure ${KINO_TOOLS_DIR:-$HOME/.cache/kino-tools}/NAME-venv holds SPEC (a pinned pip
#       requirement) and sets `venv` to that directory. Installs only when EXECUTABLE is missing
#       from the venv's bin/ or a different SPEC was installed; concurrent callers wait on a
#       flock for the first install. Exits with a message saying what to install when python3,
#       venv or pip fail.
ensure_pyvenv() {
  local name=$1 spec=$2 executable=$3
  local tools="${KINO_TOOLS_DIR:-${HOME:-/tmp}/.cache/kino-tools}"
  venv="$tools/$name-venv"
  local marker="$venv/.kino-installed"
  mkdir -p "$tools"
  if command -v flock >/dev/null; then
    exec 9>"$tools/$name-venv.lock"
    flock 9
  fi
  if [ ! -x "$venv/bin/$executable" ] || [ "$(cat "$marker" 2>/dev/null)" != "$spec" ]; then
    command -v python3 >/dev/null || {
      echo "$name: python3 (3.10 or newer) is needed (apt-get install python3 python3-venv)" >&2
      exit 1
    }
    echo "$name: installing $spec into $venv" >&2
    rm -rf "$venv"
    python3 -m venv "$venv" || {
      echo "$name: python3 -m venv failed (on Debian: apt-get install python3-venv)" >&2
      exit 1
    }
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check "$spec" >&2 || {
      echo "$name: pip install '$spec' failed (is PyPI reachable?)" >&2
      exit 1
    }
    printf '%s' "$spec" >"$marker"
  fi
  if command -v flock >/dev/null; then
    exec 9>&-
  fi
}
