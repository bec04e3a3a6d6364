// soak.mjs: SOAK_REQUESTS (default 1,000,000) requests through a real
// nginx to "lbauth --workers 2", a fixed mix of good and bad requests,
// each checked against the status it must get.  Reports unexpected
// statuses and each worker's RSS after warm-up and at the end; exits 1
// on any unexpected status, a worker that died, or RSS growing by more
// than 10%.  Run by "make soak"; prints one summary line.

import fs from "node:fs";
import http from "node:http";
import path from "node:path";
import { spawn } from "node:child_process";
import { SignJWT } from "jose";
import { LBAUTH, makeSetup, startNginx, stopAll } from "../integ/harness.mjs";

const TOTAL = Number(process.env.SOAK_REQUESTS ?? 1_000_000);
const CONNS = 32;
const WARM = Math.min(50_000, Math.floor(TOTAL / 10));
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

const s = makeSetup({ conf: ["log_requests = no"] });
const sock = path.join(s.dir, "soak.sock");
const master = spawn(LBAUTH, ["--listen", `unix:${sock}`, "--workers", "2", "--socket-mode", "0666", "--config", s.conf],
  { stdio: ["ignore", "ignore", "inherit"], env: { PATH: process.env.PATH } });
process.on("exit", () => { try { process.kill(master.pid, "SIGTERM"); } catch {} stopAll(); });
const workers = () => fs.readFileSync(`/proc/${master.pid}/task/${master.pid}/children`, "utf8").trim().split(/\s+/).filter(Boolean).map(Number);
while (!fs.existsSync(sock) || workers().length < 2) await sleep(20);
const nginx = await startNginx(s, { sock });
const u = new URL(nginx.url);

const key = new TextEncoder().encode(s.secret());
const now = Math.floor(Date.now() / 1000);
const goodCookie = `session=${await new SignJWT({ sub: "u1", org: "acme", exp: now + 7200 }).setProtectedHeader({ alg: "HS256" }).sign(key)}`;
const expired = `session=${await new SignJWT({ sub: "u1", org: "acme", exp: now - 7200 }).setProtectedHeader({ alg: "HS256" }).sign(key)}`;
// [weight, method, headers, body, expected status]
const mix = [
  [60, "POST", { cookie: goodCookie }, '{"room":"acme:doc"}', 200],
  [5, "POST", { cookie: goodCookie }, "{}", 200],
  [8, "POST", { cookie: goodCookie }, '{"room":"acme*"}', 400],
  [5, "POST", { cookie: goodCookie }, '{"room":', 400],
  [8, "POST", {}, "{}", 401],
  [5, "POST", { cookie: expired }, "{}", 401],
  [3, "POST", { cookie: "session=a.b.c" }, "{}", 401],
  [2, "POST", { cookie: goodCookie, origin: "https://evil.example" }, "{}", 403],
  [2, "GET", { cookie: goodCookie }, "", 405],
  [2, "POST", { cookie: goodCookie, "content-type": "text/plain" }, "{}", 415],
];
const table = mix.flatMap((m) => Array(m[0]).fill(m));
const agent = new http.Agent({ keepAlive: true, maxSockets: CONNS });
let sent = 0, done = 0, unexpected = 0;
const statuses = {};
const unexpectedSamples = [];
function one(i) {
  const [, method, hdrs, body, want] = table[i % table.length];
  return new Promise((resolve) => {
    const req = http.request({ host: u.hostname, port: u.port, path: u.pathname, method, agent,
      headers: { "content-type": "application/json", "content-length": Buffer.byteLength(body), ...hdrs } }, (r) => {
      r.resume();
      r.on("end", () => {
        statuses[r.statusCode] = (statuses[r.statusCode] ?? 0) + 1;
        if (r.statusCode !== want) { unexpected++; if (unexpectedSamples.length < 5) unexpectedSamples.push(`${want}->${r.statusCode}`); }
        done++;
        resolve();
      });
    });
    req.on("error", (e) => { unexpected++; done++; if (unexpectedSamples.length < 5) unexpectedSamples.push(e.code); resolve(); });
    req.end(body);
  });
}
const rss = (pid) => Number(/VmRSS:\s*(\d+)/.exec(fs.readFileSync(`/proc/${pid}/status`, "utf8"))[1]);
let warmRss = null;
const startWorkers = workers();
const t0 = Date.now();
await Promise.all(Array.from({ length: CONNS }, async () => {
  while (sent < TOTAL) {
    const i = sent++;
    await one(i);
    if (warmRss === null && done >= WARM) warmRss = startWorkers.map(rss);
  }
}));
const secs = (Date.now() - t0) / 1000;
const endWorkers = workers();
const endRss = startWorkers.map((p) => (endWorkers.includes(p) ? rss(p) : NaN));
const grew = endRss.some((r, i) => !(r <= warmRss[i] * 1.1));
const result = {
  requests: done, seconds: Math.round(secs), rps: Math.round(done / secs), unexpected,
  statuses, workersReplaced: startWorkers.filter((p) => !endWorkers.includes(p)).length,
  rssKiBAfterWarmup: warmRss, rssKiBAtEnd: endRss, samples: unexpectedSamples,
};
console.log(JSON.stringify(result));
agent.destroy();
process.exit(unexpected === 0 && result.workersReplaced === 0 && !grew ? 0 : 1);
