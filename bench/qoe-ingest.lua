-- POSTs player beacons to /api/qoe/beacons: each request is one new view's 20 events (the
-- body of one player flush), with a view id unique to this thread and request.
-- Needs the environment variable QOE_VIDEO (an existing video id).
-- Loads report.lua for the BENCH summary line.
local video = os.getenv("QOE_VIDEO")
local thread_no = 0
local counter = 0

function setup(thread)
  thread_no = thread_no + 1
  thread:set("tid", thread_no)
end

local function events(view)
  local out = {}
  local function ev(seq, t, rest)
    out[#out + 1] = string.format('{"view_id":"%s","video_id":"%s","seq":%d,"t":%d,%s}', view, video, seq, t, rest)
  end
  ev(0, 0, '"type":"view_start","player":"kino","player_version":"1.7.4","live":false,"autoplay":false')
  ev(1, 120, '"type":"play_request"')
  ev(2, 540, '"type":"first_frame","startup_ms":420')
  ev(3, 541, '"type":"rendition","bitrate":3000000,"height":720,"width":1280')
  for i = 0, 14 do
    ev(4 + i, 1000 + i * 10000, '"type":"watch","ms":10000,"bitrate":3000000,"height":720')
  end
  ev(19, 160000, '"type":"page_hide"')
  return "[" .. table.concat(out, ",") .. "]"
end

function request()
  counter = counter + 1
  local view = string.format("%08x-%04x-4000-8000-%012x", tid or 0, counter % 65536, counter)
  return wrk.format("POST", "/api/qoe/beacons", { ["Content-Type"] = "application/json" }, events(view))
end

dofile(os.getenv("BENCH_DIR") .. "/report.lua")
