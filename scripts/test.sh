#!/usr/bin/env bash
# Runs every check and test of Kino: formatting, clippy, unit tests and the integration suite
# (real ffmpeg, real HTTP, real Chromium) against ../shared/media — first on the embedded
# default (SQLite + local files), then again on the scale-out set (PostgreSQL + an
# S3-compatible store + NATS), plus the multi-node test.
#
# PostgreSQL (127.0.0.1:5432, trust auth, database `test`) and NATS (127.0.0.1:4222) must be
# running; this script starts the S3-compatible test server (moto, from PyPI) itself.
# Arguments go to the first `cargo nextest run`; with arguments the second run is skipped.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh --test

S3_PORT="${KINO_TEST_S3_PORT:-9100}"
STATE="${KINO_TEST_STATE_DIR:-${TMPDIR:-/tmp}/kino-test-services}"
export KINO_TEST_S3_ENDPOINT="http://127.0.0.1:${S3_PORT}"
./scripts/s3-server.sh start "$S3_PORT" "$STATE"
trap './scripts/s3-server.sh stop "$S3_PORT" "$STATE"' EXIT

# Databases of earlier runs (one per test server, named kino_t_*).
if command -v psql >/dev/null; then
  psql -h 127.0.0.1 -U postgres -d test -Atc "SELECT datname FROM pg_database WHERE datname LIKE 'kino\_t\_%'" 2>/dev/null |
    while read -r db; do psql -h 127.0.0.1 -U postgres -d test -qc "DROP DATABASE \"$db\" WITH (FORCE)" >/dev/null; done || true
fi

cargo fmt --all -- --check
cargo clippy --all-targets --locked -- -D warnings
cargo nextest run --locked --no-fail-fast "$@"
if [ $# -eq 0 ]; then
  echo "== integration suite on PostgreSQL + S3 (moto) + NATS"
  # Not again: the browser test (its pages do not depend on the backend), the local-file
  # streaming limits (they watch local file descriptors) and the cluster test (already
  # scale-out).
  KINO_TEST_BACKEND=postgres cargo nextest run --locked --no-fail-fast \
    -E 'kind(test) & !binary(browser) & !binary(streaming) & !binary(cluster)'
fi
