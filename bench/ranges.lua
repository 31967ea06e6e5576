-- wrk script: each request asks for a random 1 MiB-aligned 1 MiB range of the target file,
--   Range: bytes=a-(a+1048575)
-- Usage: wrk ... -s ranges.lua URL -- FILE_SIZE_BYTES [SEED]
-- Each wrk thread seeds its own generator with SEED + thread number, so a run with the same
-- thread count asks for the same sequence of ranges on every server.

local MIB = 1048576
local counter = 0

-- The done() that prints the parseable BENCH line lives in report.lua, next to this file.
local here = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
dofile(here .. "report.lua")

function setup(thread)
  counter = counter + 1
  thread:set("thread_no", counter)
end

local blocks

function init(args)
  local size = tonumber(args[1])
  local seed = tonumber(args[2] or "20261101")
  if not size or size < MIB then
    error("ranges.lua needs the file size in bytes (at least 1 MiB) after --")
  end
  blocks = math.floor(size / MIB)
  math.randomseed(seed + (thread_no or 0))
end

function request()
  local a = (math.random(blocks) - 1) * MIB
  return wrk.format("GET", nil, { ["Range"] = string.format("bytes=%d-%d", a, a + MIB - 1) })
end
