-- status.lua: post.lua's request, and a tally of the answers (make
-- bench's overload run).  Every answer must be 200, or 503 with a
-- Retry-After header and a JSON error body; done() prints one line per
-- status ("status 200 N") and the 503s that broke that rule
-- ("bad503 N"), which bench.mjs reads.
wrk.method = "POST"
wrk.body = os.getenv("BENCH_BODY") or '{"room":"acme:doc-1"}'
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Cookie"] = os.getenv("BENCH_COOKIE")

local threads = {}
function setup(thread) table.insert(threads, thread) end

function init(args)
  counts = {}
  bad503 = 0
end

function response(status, headers, body)
  counts[status] = (counts[status] or 0) + 1
  if status == 503 then
    local retry = false
    for k, v in pairs(headers) do
      if string.lower(k) == "retry-after" and string.match(v, "^%d+$") then retry = true end
    end
    if not retry or not string.match(body or "", '^%s*{.*"error"%s*:') then bad503 = bad503 + 1 end
  end
end

function done(summary, latency, requests)
  local total, bad = {}, 0
  for _, t in ipairs(threads) do
    for s, n in pairs(t:get("counts")) do total[s] = (total[s] or 0) + n end
    bad = bad + t:get("bad503")
  end
  for s, n in pairs(total) do io.write(string.format("status %d %d\n", s, n)) end
  io.write(string.format("bad503 %d\n", bad))
end
