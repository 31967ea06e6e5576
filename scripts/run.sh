#!/usr/bin/env bash
# Set up and run Kino on the embedded default (SQLite + ./kino-data), in one command:
#   ./scripts/run.sh [kino serve flags, e.g. --listen 0.0.0.0:8080]
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
cargo build --release --locked
exec ./target/release/kino serve "$@"
