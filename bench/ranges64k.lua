-- wrk script: each request asks for a random 64 KiB range of the target file, at any byte offset
-- (not aligned), as a player or a browser's media element resuming mid-file would:
--   Range: bytes=a-(a+65535), a uniform in [0, FILE_SIZE - 65536]
-- Usage: wrk ... -s ranges64k.lua URL -- FILE_SIZE_BYTES [SEED]
-- Each wrk thread seeds its own generator with SEED + thread number, so a run with the same
-- thread count asks for the same sequence of ranges on every server.

local LEN = 65536
local counter = 0

-- The done() that prints the parseable BENCH line lives in report.lua, next to this file.
local here = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
dofile(here .. "report.lua")

function setup(thread)
  counter = counter + 1
  thread:set("thread_no", counter)
end

local last_start

function init(args)
  local size = tonumber(args[1])
  local seed = tonumber(args[2] or "20261101")
  if not size or size < LEN then
    error("ranges64k.lua needs the file size in bytes (at least 64 KiB) after --")
  end
  last_start = size - LEN
  math.randomseed(seed + (thread_no or 0))
end

function request()
  local a = math.random(0, last_start)
  return wrk.format("GET", nil, { ["Range"] = string.format("bytes=%d-%d", a, a + LEN - 1) })
end
