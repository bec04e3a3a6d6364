-- post.lua: the request every benchmark target gets (make bench).
-- BENCH_SESSIONS=N with BENCH_COOKIE_PREFIX=P: each request's Cookie is
-- P1, P2, ... PN in turn (each wrk thread from its own start), so that
-- a session comes back only after N others.
wrk.method = "POST"
wrk.body = os.getenv("BENCH_BODY") or '{"room":"acme:doc-1"}'
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Cookie"] = os.getenv("BENCH_COOKIE")
local auth = os.getenv("BENCH_AUTH")
if auth then wrk.headers["Authorization"] = auth end

local sessions = tonumber(os.getenv("BENCH_SESSIONS") or "0")
local prefix = os.getenv("BENCH_COOKIE_PREFIX")
if sessions > 0 and prefix then
  local threads, i = 0, 0
  function setup(thread)
    threads = threads + 1
    thread:set("first", threads * 1999)
  end
  function init(args)
    i = first % sessions
  end
  function request()
    i = i % sessions + 1
    wrk.headers["Cookie"] = prefix .. i
    return wrk.format()
  end
end
