#!/usr/bin/env bash
# Search latency on the embedded default (SQLite FTS5): 100,000 synthetic videos, p50/p99 per
# query kind. SEARCH_ROWS=N changes the size.
set -euo pipefail
cd "$(dirname "$0")/.."
exec cargo bench --bench search "$@"
