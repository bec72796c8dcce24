-- feedback.lua — POST /v1/episodes/{id}/feedback, every request a new
-- (episode, session): thread t of wrk owns the episodes
-- BENCH_EPISODE_FIRST + t, + t + threads, ... (BENCH_EPISODES in all, see
-- run.sh) and walks them round-robin, so the session number of an episode
-- grows by one per lap and no two requests collide. Each request carries
-- its own Idempotency-Key, as an intake system would send (BENCH_RUN_ID
-- makes the keys of two runs differ; a repeated key would be a replay).

dofile((os.getenv("BENCH_LUA_DIR") or ".") .. "/report.lua")

local first = tonumber(os.getenv("BENCH_EPISODE_FIRST") or "1")
local total = tonumber(os.getenv("BENCH_EPISODES") or "1000")
local threads = tonumber(os.getenv("BENCH_THREADS") or "2")
local run_id = os.getenv("BENCH_RUN_ID") or tostring(os.time())
local auth = os.getenv("BENCH_TOKEN") and ("Bearer " .. os.getenv("BENCH_TOKEN")) or nil

local counter = 1
function setup(thread)
   thread:set("tid", counter - 1)
   counter = counter + 1
end

local n = 0
local mine            -- episodes owned by this thread
local items = {
   [[{"heard": 8, "open": 7, "adapts": 8, "trust": 9, "looking_forward": 6}]],
   [[{"heard": 9, "open": 8, "adapts": 7, "trust": 8, "looking_forward": 8}]],
   [[{"heard": 6, "open": 7, "adapts": 6, "trust": 9, "looking_forward": 5}]],
}

function init(args)
   mine = {}
   for e = first + tid, first + total - 1, threads do
      mine[#mine + 1] = e
   end
end

function request()
   local episode = mine[(n % #mine) + 1]
   local session = math.floor(n / #mine) + 1
   n = n + 1
   local body = string.format(
      '{"session": %d, "instrument": "alliance5", "items": %s, ' ..
      '"flags": {"judged": false, "unsafe": false}, "negative_feelings": %d, ' ..
      '"occurred_at": "2026-11-20T17:00:00Z"}',
      session, items[n % 3 + 1], n % 5)
   return wrk.format("POST", "/v1/episodes/" .. episode .. "/feedback",
      { ["Content-Type"] = "application/json",
        ["Idempotency-Key"] = string.format("bench-%s-%d-%d", run_id, tid, n),
        ["Authorization"] = auth }, body)
end
