// fcgi.mjs: one FastCGI integration pass under valgrind memcheck (make
// valgrind).  lbauth runs under spawn-fcgi inside valgrind, behind a
// real nginx; good and hostile requests go through it; SIGTERM ends it
// through its normal shutdown (app freed, keys wiped); valgrind must
// then report no error and no definite or indirect leak.  The sandbox
// is off for this run: seccomp filters valgrind's own system calls too.

import fs from "node:fs";
import path from "node:path";
import { spawn } from "node:child_process";
import { SignJWT } from "jose";
import { LBAUTH, makeSetup, startNginx, post, stopAll } from "../integ/harness.mjs";

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const s = makeSetup({ conf: ["sandbox = no", "allowed_origins = https://app.example.com"] });
const sock = path.join(s.dir, "vg.sock");
const vglog = path.join(s.dir, "valgrind.log");
const child = spawn("spawn-fcgi", ["-n", "-s", sock, "-M", "0666", "--", "/usr/bin/valgrind", "-q", "--error-exitcode=99",
  "--leak-check=full", "--show-leak-kinds=definite,indirect", "--errors-for-leak-kinds=definite,indirect",
  `--log-file=${vglog}`, LBAUTH], { env: { PATH: process.env.PATH, LBAUTH_CONFIG: s.conf }, stdio: ["ignore", "ignore", "ignore"] });
let code = null;
child.on("exit", (c) => (code = c));
process.on("exit", () => { try { process.kill(child.pid, "SIGKILL"); } catch {} stopAll(); });
const t0 = Date.now();
while (!fs.existsSync(sock)) { if (Date.now() - t0 > 20000 || code !== null) throw new Error("lbauth under valgrind did not start"); await sleep(50); }
const nginx = await startNginx(s, { sock });

const key = new TextEncoder().encode(s.secret());
const now = Math.floor(Date.now() / 1000);
const sign = (c, h = {}) => new SignJWT(c).setProtectedHeader({ alg: "HS256", ...h }).sign(key);
const good = `session=${await sign({ sub: "u1", org: "acme", name: "Ada", info: { n: 1.5, k: [1, "x"] }, exp: now + 600 })}`;
const requests = [
  [{ body: '{"room":"acme:doc"}', cookie: good }, 200],
  [{ body: "{}", cookie: good }, 200],
  [{ body: '{"room":"x"}', cookie: `session=${await sign({ sub: "u2", rooms: ["x"], exp: now + 60 })}` }, 200],
  [{ body: '{"room":"other:x"}', cookie: `session=${await sign({ sub: "u3", exp: now + 60 })}` }, 403],
  [{ body: '{"room":"acme*"}', cookie: good }, 400],
  [{ body: '{"room":', cookie: good }, 400],
  [{ body: "[".repeat(40), cookie: good }, 400],
  [{ body: "{}" }, 401],
  [{ body: "{}", cookie: "session=a.b.c" }, 401],
  [{ body: "{}", cookie: `session=${await sign({ sub: "u1", exp: now - 999 })}` }, 401],
  [{ body: "{}", cookie: `session=${Buffer.from('{"alg":"none"}').toString("base64url")}.${Buffer.from(`{"sub":"u1","exp":${now + 60}}`).toString("base64url")}.` }, 401],
  [{ body: "{}", cookie: `${good}; ${good}` }, 401],
  [{ body: "{}", cookie: good, headers: { origin: "https://evil.example" } }, 403],
  [{ body: "{}", cookie: good, headers: { origin: "https://app.example.com" } }, 200],
  [{ body: "{}", cookie: good, contentType: "text/plain" }, 415],
  [{ body: "x".repeat(5000), cookie: good }, 413],
];
let bad = 0;
for (let round = 0; round < 5; round++)
  for (const [spec, want] of requests) {
    const r = await post(nginx.url, spec);
    if (r.status !== want && ++bad <= 3) console.error(`unexpected ${r.status} (want ${want}): ${r.body.slice(0, 200)}`);
  }
try { process.kill(child.pid, "SIGTERM"); } catch { /* already gone */ }
while (code === null) await sleep(50);
const log = fs.readFileSync(vglog, "utf8");
console.log(`valgrind FastCGI pass: ${requests.length * 5} requests, ${bad} unexpected, valgrind exit ${code}`);
if (log.trim()) console.log(log);
// --error-exitcode=99: any memcheck error or definite/indirect leak.
process.exit(bad === 0 && code === 0 ? 0 : 1);
