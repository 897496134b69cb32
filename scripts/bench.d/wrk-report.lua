-- wrk script of scripts/bench: one machine-readable summary line (JVSB ...) with the
-- latency percentiles wrk does not print (p99.9); optional pacing: JVSB_DELAY_MS=N makes
-- every connection wait N ms before each request (a fixed offered rate of about
-- connections * 1000 / N requests per second; latency is measured from send, without the wait).
local d = tonumber(os.getenv("JVSB_DELAY_MS") or "0")
if d > 0 then
  function delay() return d end
end
function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("JVSB requests=%d duration_us=%d err_connect=%d err_read=%d err_write=%d err_status=%d err_timeout=%d p50_us=%.0f p99_us=%.0f p999_us=%.0f\n",
    summary.requests, summary.duration, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(99), latency:percentile(99.9)))
end
