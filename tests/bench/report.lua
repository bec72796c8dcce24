-- report.lua — shared by the wrk scripts of make bench (loaded with dofile).
-- done() prints one machine-readable line that run.sh parses:
--   BENCH requests=N seconds=S rps=R p50_ms=A p99_ms=B non2xx=X socket_errors=Y
-- wrk counts every status >= 400 as summary.errors.status (a 501 counts).

function done(summary, latency, requests)
   local e = summary.errors
   io.write(string.format(
      "BENCH requests=%d seconds=%.3f rps=%.1f p50_ms=%.3f p99_ms=%.3f non2xx=%d socket_errors=%d\n",
      summary.requests, summary.duration / 1e6, summary.requests / (summary.duration / 1e6),
      latency:percentile(50) / 1000, latency:percentile(99) / 1000,
      e.status, e.connect + e.read + e.write + e.timeout))
end
