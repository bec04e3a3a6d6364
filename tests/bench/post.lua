-- post.lua: the request every benchmark target gets (make bench).
wrk.method = "POST"
wrk.body = os.getenv("BENCH_BODY") or '{"room":"acme:doc-1"}'
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Cookie"] = os.getenv("BENCH_COOKIE")
local auth = os.getenv("BENCH_AUTH")
if auth then wrk.headers["Authorization"] = auth end
