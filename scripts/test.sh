#!/usr/bin/env bash
# Runs every check and test of Kino: formatting, clippy, unit tests and the integration suite
# (real ffmpeg, real HTTP, real Chromium) against ../shared/media.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh --test
cargo fmt --all -- --check
cargo clippy --all-targets --locked -- -D warnings
cargo nextest run --locked --no-fail-fast "$@"
