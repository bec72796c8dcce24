-- scale_intake.lua — POST /v1/match?limit=5 with tests/bench/scale_intake.json, the
-- intake of make bench-scale (in the labels of scale_data.sql).

dofile((os.getenv("BENCH_LUA_DIR") or ".") .. "/report.lua")

local f = assert(io.open((os.getenv("BENCH_LUA_DIR") or ".") .. "/scale_intake.json"))
wrk.body = f:read("*a")
f:close()
wrk.method = "POST"
wrk.path = "/v1/match?limit=5"
wrk.headers["Content-Type"] = "application/json"
if os.getenv("BENCH_TOKEN") then
   wrk.headers["Authorization"] = "Bearer " .. os.getenv("BENCH_TOKEN")
end
