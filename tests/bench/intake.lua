-- intake.lua — POST a realistic intake (the API's intake object, in the vocabulary
-- of the synthetic clinic that run.sh loads). The same body goes to
-- POST /v1/match?limit=5 on allianced and to the echo server (the ceiling).
-- BENCH_PATH (default /v1/match?limit=5) and BENCH_LUA_DIR come from run.sh.

dofile((os.getenv("BENCH_LUA_DIR") or ".") .. "/report.lua")

wrk.method = "POST"
wrk.path = os.getenv("BENCH_PATH") or "/v1/match?limit=5"
wrk.headers["Content-Type"] = "application/json"
-- allianced's admin token (run.sh); the echo server ignores it.
if os.getenv("BENCH_TOKEN") then
   wrk.headers["Authorization"] = "Bearer " .. os.getenv("BENCH_TOKEN")
end
wrk.body = [[{"external_ref": "C-88231", "population": "adult", "languages": ["en"],
 "concerns": [{"tag": "anxiety", "priority": 3}, {"tag": "sleep", "priority": 1}],
 "modalities": {"prefer": ["cbt"], "avoid": ["psychodynamic"], "required": false},
 "formats": ["video"], "sites": [],
 "gender": {"prefer": ["female"], "required": false},
 "identity": {"prefer": ["lgbtq_affirming"], "required": false},
 "style": {"directiveness": 2, "challenge": -1},
 "availability": [{"day": "tue", "from": "17:00", "to": "20:00"},
                  {"day": "thu", "from": "12:00", "to": "14:00"}],
 "wanted_hours": 2,
 "payment": {"payer": "aetna", "self_pay_max": 150}, "exclude_therapists": [12]}]]
