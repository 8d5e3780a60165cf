-- wrk script for bench/webhooks.py: each thread sends its share of the pre-signed events, then stops.
-- The events file has one "signature<TAB>payload" per line; thread k of n sends lines k, k+n, k+2n, ...
local threads = {}
local counter = 0

function setup(thread)
  counter = counter + 1
  thread:set("index", counter)
  table.insert(threads, thread)
end

function init(args)
  local lines = {}
  for line in io.lines(os.getenv("BENCH_EVENTS_FILE")) do
    local tab = line:find("\t")
    table.insert(lines, {line:sub(1, tab - 1), line:sub(tab + 1)})
  end
  local total = tonumber(os.getenv("BENCH_THREADS"))
  mine = {}
  for i = index, #lines, total do table.insert(mine, lines[i]) end
  -- wrk may build one request per thread that it never sends; a leading duplicate absorbs it.
  table.insert(mine, 1, mine[#mine])
  sent, answered, non200 = 0, 0, 0
  started = now()
end

-- wrk keeps running until -d ends even after every thread stopped, so the script keeps its own wall clock.
function now()
  local pipe = io.popen("date +%s.%N")
  local value = tonumber(pipe:read("*l"))
  pipe:close()
  return value
end

function request()
  sent = sent + 1
  local item = mine[math.min(sent, #mine)]
  return wrk.format("POST", "/api/stripe/webhook",
    {["Content-Type"] = "application/json", ["Stripe-Signature"] = item[1]}, item[2])
end

function response(status, headers, body)
  answered = answered + 1
  if status ~= 200 then non200 = non200 + 1 end
  if answered == #mine then
    finished = now()
    wrk.thread:stop()
  end
end

function done(summary, latency, requests)
  local bad, first, last = 0, math.huge, 0
  for _, t in ipairs(threads) do
    bad = bad + (t:get("non200") or 0)
    first = math.min(first, t:get("started"))
    last = math.max(last, t:get("finished") or t:get("started"))
  end
  io.write(string.format("RESULT requests=%d seconds=%.3f p50_ms=%.2f p99_ms=%.2f non200=%d\n",
    summary.requests, last - first, latency:percentile(50) / 1000, latency:percentile(99) / 1000, bad))
end
