#!/usr/bin/env bash
# Installs what Kino needs on a Debian machine, only where missing:
#   ffmpeg/ffprobe (the media engine), Node.js + npm (bundles hls.js at build time),
#   and with --test also Chromium (browser test) and the npm packages of tests/browser.
# Rust (cargo) must already be installed (https://rustup.rs); cargo-nextest is installed by
# --test when absent.
set -euo pipefail
cd "$(dirname "$0")/.."

want_tests=false
[ "${1:-}" = "--test" ] && want_tests=true

missing=()
command -v ffmpeg >/dev/null && command -v ffprobe >/dev/null || missing+=(ffmpeg)
command -v node >/dev/null || missing+=(nodejs)
command -v npm >/dev/null || missing+=(npm)
if $want_tests; then
  [ -x /usr/bin/chromium ] || missing+=(chromium)
  # The caching proxy of the multi-node test (scripts/cluster.sh).
  command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] || missing+=(nginx-light)
fi
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]} with apt-get"
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi

command -v cargo >/dev/null || { echo "setup: cargo not found; install Rust from https://rustup.rs" >&2; exit 1; }

# Front-end packages, pinned by package-lock.json, bundled into the binary by build.rs.
[ -f web/node_modules/hls.js/dist/hls.min.js ] && [ -f web/node_modules/redoc/bundles/redoc.standalone.js ] && [ -f web/node_modules/tus-js-client/dist/tus.min.js ] && [ -f web/node_modules/uplot/dist/uPlot.iife.min.js ] && [ -f web/node_modules/uplot/dist/uPlot.min.css ] && [ -f web/node_modules/media-chrome/dist/iife/all.js ] && [ -x web/node_modules/.bin/tsc ] || (cd web && npm ci --no-audit --no-fund --loglevel=error)

if $want_tests; then
  [ -d tests/browser/node_modules/playwright-core ] && [ -f tests/browser/node_modules/axe-core/axe.min.js ] || (cd tests/browser && npm ci --no-audit --no-fund --loglevel=error)
  command -v cargo-nextest >/dev/null || cargo install cargo-nextest --locked
fi
echo "setup: ffmpeg $(ffmpeg -version | head -1 | cut -d' ' -f3), node $(node --version) ready"
