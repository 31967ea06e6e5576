-- wrk script for bench/soak.sh: a mix of what HLS players ask a Kino node for, on one video's
-- one-rendition ladder (kino_seed.py --hls), and a count of what came back.
--
-- Usage: wrk ... -s soak.lua http://HOST:PORT -- ID RENDITION SEG_SIZES MEDIA_BYTES MASTER_BYTES [SEED]
--   SEG_SIZES: the segments' sizes in bytes, comma-separated (seg_00001.m4s first)
--   MEDIA_BYTES, MASTER_BYTES: sizes of RENDITION/index.m3u8 and master.m3u8
--
-- Mix per request (seeded per thread, so every run asks the same sequence):
--   50 % a whole segment, 30 % a random 64 KiB range of a segment (any offset),
--   15 % the media playlist, 5 % the multivariant playlist; half of the playlist requests carry
--   If-None-Match with the ETag last seen for that playlist (a player's reload), once one is known.
--
-- done() prints one parseable line:
--   SOAK requests=N duration_us=N p50_us=N p99_us=N max_us=N s2xx=N s206=N s304=N s503=N
--        other=N no_retry_after=N bad_body=N max_gap_us=N err_connect=N err_read=N
--        err_write=N err_timeout=N
-- s2xx: 2xx other than 206. no_retry_after: 503s without a Retry-After header. bad_body: a 200
-- whose body is not the size of any file served, or a 206 that is not 64 KiB long.
-- max_gap_us: the longest time a wrk thread went without receiving any response at all (the
-- whole server stalled). The longest gap between two responses on one connection is max_us:
-- wrk sends a connection's next request as soon as its previous response is complete, so that
-- gap is the next request's latency.

local ffi = require("ffi")
ffi.cdef [[
  typedef struct { long tv_sec; long tv_nsec; } soak_timespec;
  int clock_gettime(int clock_id, soak_timespec *tp);
]]
local CLOCK_MONOTONIC = 1
local ts = ffi.new("soak_timespec")
local function now_us()
  ffi.C.clock_gettime(CLOCK_MONOTONIC, ts)
  return tonumber(ts.tv_sec) * 1000000 + math.floor(tonumber(ts.tv_nsec) / 1000)
end

local RANGE = 65536
local threads = {}
local counter = 0

function setup(thread)
  counter = counter + 1
  thread:set("thread_no", counter)
  table.insert(threads, thread)
end

local seg_paths, seg_sizes, media_path, master_path
local media_bytes, master_bytes
local whole_sizes = {}
local etag = {}   -- "media" / "master" -> last ETag seen

-- Per-thread counters, read by done() through thread:get.
s2xx, s206, s304, s503, other, no_retry_after, bad_body, max_gap_us = 0, 0, 0, 0, 0, 0, 0, 0
local last_response_us

function init(args)
  local id, rendition, sizes = args[1], args[2], args[3]
  media_bytes, master_bytes = tonumber(args[4]), tonumber(args[5])
  local seed = tonumber(args[6] or "20261101")
  if not (id and rendition and sizes and media_bytes and master_bytes) then
    error("soak.lua needs ID RENDITION SEG_SIZES MEDIA_BYTES MASTER_BYTES [SEED] after --")
  end
  seg_paths, seg_sizes = {}, {}
  local n = 0
  for s in string.gmatch(sizes, "%d+") do
    n = n + 1
    seg_sizes[n] = tonumber(s)
    seg_paths[n] = string.format("/hls/%s/%s/seg_%05d.m4s", id, rendition, n)
    whole_sizes[seg_sizes[n]] = true
    if seg_sizes[n] < RANGE then error("soak.lua: segments must be at least 64 KiB") end
  end
  if n == 0 then error("soak.lua: no segment sizes") end
  whole_sizes[media_bytes] = true
  whole_sizes[master_bytes] = true
  media_path = string.format("/hls/%s/%s/index.m3u8", id, rendition)
  master_path = string.format("/hls/%s/master.m3u8", id)
  math.randomseed(seed + (thread_no or 0))
end

local function playlist(path, which)
  local h = {}
  if etag[which] and math.random() < 0.5 then h["If-None-Match"] = etag[which] end
  return wrk.format("GET", path, h)
end

function request()
  local r = math.random()
  local n = math.random(#seg_paths)
  if r < 0.50 then
    return wrk.format("GET", seg_paths[n])
  elseif r < 0.80 then
    local a = math.random(0, seg_sizes[n] - RANGE)
    return wrk.format("GET", seg_paths[n], { ["Range"] = string.format("bytes=%d-%d", a, a + RANGE - 1) })
  elseif r < 0.95 then
    return playlist(media_path, "media")
  else
    return playlist(master_path, "master")
  end
end

local function header(headers, name)
  for k, v in pairs(headers) do
    if string.lower(k) == name then return v end
  end
  return nil
end

function response(status, headers, body)
  local t = now_us()
  if last_response_us and t - last_response_us > max_gap_us then max_gap_us = t - last_response_us end
  last_response_us = t
  if status == 206 then
    s206 = s206 + 1
    if #body ~= RANGE then bad_body = bad_body + 1 end
  elseif status >= 200 and status < 300 then
    s2xx = s2xx + 1
    local len = #body
    if not whole_sizes[len] then bad_body = bad_body + 1 end
    if len == media_bytes then
      etag.media = header(headers, "etag")
    elseif len == master_bytes then
      etag.master = header(headers, "etag")
    end
  elseif status == 304 then
    s304 = s304 + 1
  elseif status == 503 then
    s503 = s503 + 1
    if not header(headers, "retry-after") then no_retry_after = no_retry_after + 1 end
  else
    other = other + 1
  end
end

function done(summary, latency, requests)
  local t = { s2xx = 0, s206 = 0, s304 = 0, s503 = 0, other = 0, no_retry_after = 0, bad_body = 0, max_gap_us = 0 }
  for _, thread in ipairs(threads) do
    for k, _ in pairs(t) do
      local v = thread:get(k) or 0
      if k == "max_gap_us" then
        if v > t[k] then t[k] = v end
      else
        t[k] = t[k] + v
      end
    end
  end
  local e = summary.errors
  io.write(string.format(
    "SOAK requests=%d duration_us=%d p50_us=%d p99_us=%d max_us=%d s2xx=%d s206=%d s304=%d s503=%d " ..
    "other=%d no_retry_after=%d bad_body=%d max_gap_us=%d err_connect=%d err_read=%d err_write=%d " ..
    "err_timeout=%d\n",
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99), latency.max,
    t.s2xx, t.s206, t.s304, t.s503, t.other, t.no_retry_after, t.bad_body, t.max_gap_us,
    e.connect, e.read, e.write, e.timeout))
end
