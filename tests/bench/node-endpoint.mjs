// node-endpoint.mjs: what a user would otherwise deploy, doing lbauth's
// work in Node (node:http + node:crypto, one cluster worker per core):
// parse the JSON body, verify the HS256 session cookie, apply the same
// org policy, and sign an Ed25519 token of the same shape.  Benchmark
// peer only.  Env: PORT, COOKIE_SECRET, SIGNING_KEY_PEM (PKCS#8).
import cluster from "node:cluster";
import http from "node:http";
import os from "node:os";
import { createHmac, createPrivateKey, randomBytes, sign, timingSafeEqual } from "node:crypto";

const workers = Number(process.env.WORKERS ?? os.availableParallelism());
if (cluster.isPrimary) {
  for (let i = 0; i < workers; i++) cluster.fork();
} else {
  const secret = process.env.COOKIE_SECRET;
  const key = createPrivateKey(process.env.SIGNING_KEY_PEM);
  const b64 = (s) => Buffer.from(s).toString("base64url");
  const header = b64(JSON.stringify({ alg: "EdDSA", typ: "JWT" }));
  const fail = (res, status, error) => { res.writeHead(status, { "content-type": "application/json", "cache-control": "no-store" }); res.end(JSON.stringify({ error })); };
  http.createServer((req, res) => {
    if (req.method !== "POST") return fail(res, 405, "method_not_allowed");
    const chunks = [];
    req.on("data", (d) => chunks.push(d));
    req.on("end", () => {
      let body;
      try { body = JSON.parse(Buffer.concat(chunks)); } catch { return fail(res, 400, "invalid_body"); }
      const m = /(?:^|;\s*)session=([^;]+)/.exec(req.headers.cookie ?? "");
      if (!m) return fail(res, 401, "unauthenticated");
      const [h, p, s] = m[1].split(".");
      const mac = createHmac("sha256", secret).update(`${h}.${p}`).digest();
      const sig = Buffer.from(s ?? "", "base64url");
      if (sig.length !== 32 || !timingSafeEqual(sig, mac)) return fail(res, 401, "invalid_session");
      const claims = JSON.parse(Buffer.from(p, "base64url"));
      const now = Math.floor(Date.now() / 1000);
      if (!(claims.exp > now)) return fail(res, 401, "session_expired");
      const room = body.room;
      const perms = room && claims.org && room.startsWith(`${claims.org}:`) ? { [room]: ["*:write"] } : { [`${claims.org}:*`]: ["*:read"] };
      const payload = b64(JSON.stringify({ k: "acc", pid: "bench", uid: claims.sub, perms, iat: now, exp: now + 3600, jti: randomBytes(16).toString("base64url") }));
      const input = `${header}.${payload}`;
      const token = `${input}.${sign(null, Buffer.from(input), key).toString("base64url")}`;
      res.writeHead(200, { "content-type": "application/json", "cache-control": "no-store" });
      res.end(JSON.stringify({ token }));
    });
  }).listen(Number(process.env.PORT), "127.0.0.1");
}
