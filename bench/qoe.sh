#!/usr/bin/env bash
# QoE analytics storage on SQLite and PostgreSQL (benches/qoe.rs): beacon ingestion (events/s,
# p50/p99 of one batched write) and dashboard report latency over 30 days of synthetic views.
# Needs PostgreSQL at KINO_TEST_PG_URL (default postgres://postgres@127.0.0.1:5432, trust auth)
# for its half; QOE_VIDEOS and QOE_VIEWS_PER_DAY change the synthetic traffic. Extra arguments
# go to cargo.
set -euo pipefail
cd "$(dirname "$0")/.."
exec cargo bench --bench qoe "$@"
