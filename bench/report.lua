-- wrk reporting: prints one parseable line after wrk's own report, e.g.
--   BENCH requests=1234 bytes=5678 duration_us=15000000 p50_us=812 p90_us=... p99_us=... max_us=...
--         err_connect=0 err_read=0 err_write=0 err_timeout=0 err_status=0
-- err_status counts responses with a status >= 400 (wrk's definition of a "Non-2xx or 3xx").
-- Used as `wrk -s report.lua` for whole-file cases and loaded by ranges.lua.

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "BENCH requests=%d bytes=%d duration_us=%d mean_us=%.0f p50_us=%d p90_us=%d p99_us=%d max_us=%d " ..
    "err_connect=%d err_read=%d err_write=%d err_timeout=%d err_status=%d\n",
    summary.requests, summary.bytes, summary.duration, latency.mean,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max,
    e.connect, e.read, e.write, e.timeout, e.status))
end
