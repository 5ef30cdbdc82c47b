-- wrk script for scripts/bench-pages.sh: every response must be a 200 whose body contains
-- the marker given after `--` (the signed-in user's email, or "authkit-sign-in" for a
-- signed-out page); the ones that are not are counted and printed at the end, with the
-- latency percentiles in microseconds and the request and error counts.
--   wrk ... -s benches/pages/check.lua URL -- MARKER
local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  marker = args[1] or ""
  unexpected = 0
end

function response(status, headers, body)
  if status ~= 200 or not string.find(body, marker, 1, true) then
    unexpected = unexpected + 1
  end
end

function done(summary, latency, requests)
  local bad = 0
  for _, t in ipairs(threads) do
    bad = bad + t:get("unexpected")
  end
  local e = summary.errors
  io.write(string.format(
    "RESULT requests=%d seconds=%.3f rps=%.1f p50_us=%d p90_us=%d p99_us=%d unexpected=%d " ..
    "connect=%d read=%d write=%d status=%d timeout=%d\n",
    summary.requests, summary.duration / 1e6, summary.requests / (summary.duration / 1e6),
    latency:percentile(50), latency:percentile(90), latency:percentile(99), bad,
    e.connect, e.read, e.write, e.status, e.timeout))
end
