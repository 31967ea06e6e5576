#!/usr/bin/env bash
# Engagement writes on PostgreSQL from two nodes: writes/s of view counting and of a mix of
# views, watch progress and comments, once under the old global advisory lock and once with
# row locks (what Db::count_view uses). Needs PostgreSQL at KINO_TEST_PG_URL (default
# postgres://postgres@127.0.0.1:5432, trust auth). BENCH_SECS and BENCH_TASKS change the run;
# extra arguments go to cargo (e.g. --profile dev for a quick run without a release build).
set -euo pipefail
cd "$(dirname "$0")/.."
exec cargo bench --bench pg_writes "$@"
