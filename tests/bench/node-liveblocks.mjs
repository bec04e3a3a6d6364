// node-liveblocks.mjs: the Node endpoint people run without a framework,
// doing lbauth's liveblocks-backend work: node:http, parse the JSON
// body, verify the HS256 session cookie (node:crypto), the same org
// policy, then @liveblocks/node's prepareSession / allow / authorize
// against the API (the delay proxy in make bench).  One process, or
// with WORKERS=N a cluster of N (the benchmark runs both).  Benchmark
// peer only.  Env: PORT, COOKIE_SECRET, LIVEBLOCKS_BASE_URL,
// LIVEBLOCKS_SECRET, WORKERS (default 1).
import cluster from "node:cluster";
import http from "node:http";
import { createHmac, timingSafeEqual } from "node:crypto";
import { Liveblocks } from "@liveblocks/node";

const workers = Number(process.env.WORKERS ?? 1);
if (workers > 1 && cluster.isPrimary) {
  for (let i = 0; i < workers; i++) cluster.fork();
} else {
  const secret = process.env.COOKIE_SECRET;
  const liveblocks = new Liveblocks({ secret: process.env.LIVEBLOCKS_SECRET ?? "sk_localdev", baseUrl: process.env.LIVEBLOCKS_BASE_URL });
  const fail = (res, status, error) => { res.writeHead(status, { "content-type": "application/json", "cache-control": "no-store" }); res.end(JSON.stringify({ error })); };
  const user = (cookie) => {
    const m = /(?:^|;\s*)session=([^;]+)/.exec(cookie ?? "");
    if (!m) return null;
    const [h, p, s] = m[1].split(".");
    if (!h || !p || !s) return null;
    const mac = createHmac("sha256", secret).update(`${h}.${p}`).digest();
    const sig = Buffer.from(s, "base64url");
    if (sig.length !== mac.length || !timingSafeEqual(sig, mac)) return null;
    if (JSON.parse(Buffer.from(h, "base64url")).alg !== "HS256") return null;
    const c = JSON.parse(Buffer.from(p, "base64url"));
    if (typeof c.sub !== "string" || !(c.exp > Date.now() / 1000)) return null;
    return c;
  };
  http.createServer((req, res) => {
    if (req.method !== "POST") return fail(res, 405, "method_not_allowed");
    const chunks = [];
    req.on("data", (d) => chunks.push(d));
    req.on("end", async () => {
      let body;
      try { body = JSON.parse(Buffer.concat(chunks)); } catch { return fail(res, 400, "invalid_body"); }
      let c;
      try { c = user(req.headers.cookie); } catch { c = null; }
      if (!c) return fail(res, 401, "unauthenticated");
      const session = liveblocks.prepareSession(c.sub, { userInfo: c.info ?? (c.name ? { name: c.name } : undefined) });
      const room = typeof body?.room === "string" ? body.room : undefined;
      if (room && ((c.rooms ?? []).includes(room) || (c.org && room.startsWith(`${c.org}:`))))
        session.allow(room, session.FULL_ACCESS);
      else
        session.allow(`${c.org}:*`, session.READ_ACCESS);
      try {
        const { status, body: out } = await session.authorize();
        res.writeHead(status, { "content-type": "application/json", "cache-control": "no-store" });
        res.end(out);
      } catch {
        res.writeHead(503, { "content-type": "application/json", "retry-after": "1" });
        res.end('{"error":"upstream_unavailable"}');
      }
    });
  }).listen(Number(process.env.PORT), "127.0.0.1");
}
