-- wrk script for scripts/bench. Settings come from the environment:
--   BENCH_METHOD      GET (default) or POST
--   BENCH_HEADERS     "Name: value" lines, newline-separated
--   BENCH_EMAILS      file with one e-mail per line: POST bodies {"company_id","email"}
--   BENCH_COMPANY_ID  the company id for those bodies
--   BENCH_BODY        otherwise, one body sent with every request (e.g. a urlencoded form)
-- done() prints one line "BENCH_JSON {...}" with latency percentiles in microseconds.

wrk.method = os.getenv("BENCH_METHOD") or "GET"
wrk.body = os.getenv("BENCH_BODY")
for line in (os.getenv("BENCH_HEADERS") or ""):gmatch("[^\n]+") do
  local name, value = line:match("^([^:]+):%s*(.*)$")
  if name then wrk.headers[name] = value end
end

local emails = {}
local company = os.getenv("BENCH_COMPANY_ID") or ""
local threads = 0

setup = function(thread)
  thread:set("offset", threads * 7919)
  threads = threads + 1
end

init = function(args)
  local file = os.getenv("BENCH_EMAILS")
  if file then
    for line in io.lines(file) do emails[#emails + 1] = line end
  end
  math.randomseed(os.time() + (offset or 0))
end

request = function()
  if #emails > 0 then
    -- A different customer each time, as real sign-in requests would be.
    local email = emails[math.random(#emails)]
    local body = string.format('{"company_id":"%s","email":"%s"}', company, email)
    return wrk.format(nil, nil, nil, body)
  end
  return wrk.format()
end

done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'BENCH_JSON {"requests":%d,"duration_us":%d,"bytes":%d,"status_errors":%d,' ..
    '"socket_errors":%d,"timeouts":%d,"p50":%d,"p95":%d,"p99":%d,"mean":%.1f,"max":%d}\n',
    summary.requests, summary.duration, summary.bytes, e.status,
    e.connect + e.read + e.write, e.timeout,
    latency:percentile(50), latency:percentile(95), latency:percentile(99),
    latency.mean, latency.max))
end
