-- wrk script: each request asks for a random range of the target file,
--   Range: bytes=a-(a+LENGTH-1)
-- by default a 1 MiB-aligned 1 MiB range (a player or download manager reading a big file in
-- blocks); with `any`, a range at any byte offset (a media element resuming mid-file).
-- Usage: wrk ... -s ranges.lua URL -- FILE_SIZE_BYTES [SEED] [LENGTH_BYTES] [aligned|any]
-- Each wrk thread seeds its own generator with SEED + thread number, so a run with the same
-- thread count asks for the same sequence of ranges on every server.

local counter = 0

-- The done() that prints the parseable BENCH line lives in report.lua, next to this file.
local here = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
dofile(here .. "report.lua")

function setup(thread)
  counter = counter + 1
  thread:set("thread_no", counter)
end

local len, aligned, blocks, last_start

function init(args)
  local size = tonumber(args[1])
  local seed = tonumber(args[2] or "20261101")
  len = tonumber(args[3] or "1048576")
  aligned = (args[4] or "aligned") == "aligned"
  if not size or not len or size < len then
    error("ranges.lua needs the file size in bytes (at least LENGTH) after --")
  end
  blocks = math.floor(size / len)
  last_start = size - len
  math.randomseed(seed + (thread_no or 0))
end

function request()
  local a
  if aligned then
    a = (math.random(blocks) - 1) * len
  else
    a = math.random(0, last_start)
  end
  return wrk.format("GET", nil, { ["Range"] = string.format("bytes=%d-%d", a, a + len - 1) })
end
