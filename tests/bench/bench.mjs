// bench.mjs: make bench.  Starts every target on loopback behind one
// nginx, checks each answers 200 with a valid token, loads each with wrk
// (same request, 32 connections, BENCH_SECONDS after a warm-up), and
// prints requests/s, p50, p99, CPU microseconds per request (utime +
// stime of nginx's workers and the target's processes, from /proc), RSS
// per worker, and ratios to the floor measured in the same run.  Then
// CGI starts (hyperfine: lbauth vs a trivial C CGI) and the hot path's
// instructions per request (callgrind, crypto vs the rest).  Between
// them, the API 50 ms away: delayproxy.c in front of the dev server,
// 256 connections, lbauth with its --listen defaults against the Node
// endpoint (one process, a cluster) and SvelteKit, then an overload run
// (4096 connections, 500 ms); the goals of tests/bench/README.md are
// printed PASS or FAIL and an unmet one fails the run.  Results go to
// stdout and tests/out/bench.json.  Everything started is stopped by
// PID.
import fs from "node:fs";
import net from "node:net";
import path from "node:path";
import { spawn, execFileSync, spawnSync } from "node:child_process";
import { createPrivateKey, createPublicKey, verify as edVerify } from "node:crypto";
import { ROOT, LBAUTH, makeSetup, startDevServer, freePort, tmpdir, stopAll, children } from "../integ/harness.mjs";
import { measureInsns, writeInsns } from "./insns.mjs";

const SECS = Number(process.env.BENCH_SECONDS ?? 10);
// BENCH_SECTIONS: which parts run (all by default; for quick runs while
// working, e.g. BENCH_SECTIONS=wan,overload).
const SECTIONS = new Set((process.env.BENCH_SECTIONS ?? "base,wan,overload,cgi,insns,sql").split(","));
const WORKERS = Number(process.env.BENCH_WORKERS ?? 2);
const CONNS = 32;
// The WAN section: a delay proxy (delayproxy.c) in front of the dev
// server holds each API call DELAY ms; DCONNS connections.  Then the
// overload run: OV_CONNS connections against an OV_DELAY ms API.
const DELAY = Number(process.env.BENCH_DELAY_MS ?? 50);
const DCONNS = Number(process.env.BENCH_WAN_CONNS ?? 256);
const OV_CONNS = 4096, OV_DELAY = 500, UPSTREAM_TIMEOUT_MS = 5000;
const CPUS = Number(execFileSync("nproc", { encoding: "utf8" }).trim());
const B = path.join(ROOT, "tests/bench");
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const procs = [];
// At exit, whatever the cause: SIGTERM to everything started, by PID,
// wait up to 3 s for each to be gone (a zombie counts as gone), then
// SIGKILL what is left.
process.on("exit", () => {
  const pids = procs.map((p) => p.pid).filter(Boolean);
  for (const pid of pids) try { process.kill(pid, "SIGTERM"); } catch {}
  stopAll();
  const alive = (pid) => { try { return !/^\d+ \(.*\) Z /.test(fs.readFileSync(`/proc/${pid}/stat`, "utf8")); } catch { return false; } };
  const until = Date.now() + 3000;
  while (pids.some(alive) && Date.now() < until) spawnSync("sleep", ["0.05"]);
  for (const pid of pids.filter(alive)) { console.error(`bench: ${pid} ignored SIGTERM, killing`); try { process.kill(pid, "SIGKILL"); } catch {} }
  for (const d of tmpdirs) try { fs.rmSync(d, { recursive: true, force: true }); } catch {}
});
const tmpdirs = [];	// removed at exit: the run's sockets, keys, configs
// Ctrl-C, kill: run the exit handler above (it stops everything by PID).
for (const sig of ["SIGINT", "SIGTERM", "SIGHUP"]) process.on(sig, () => { console.error(`bench: ${sig}, stopping`); process.exit(130); });
function start(cmd, args, opts = {}) {
  const c = spawn(cmd, args, { stdio: ["ignore", "ignore", "inherit"], ...opts });
  procs.push(c);
  return c;
}
const cpuTicks = (pid) => { try { const f = fs.readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1].split(" "); return Number(f[11]) + Number(f[12]); } catch { return 0; } };
const rssKiB = (pid) => { try { return Number(/VmRSS:\s*(\d+)/.exec(fs.readFileSync(`/proc/${pid}/status`, "utf8"))[1]); } catch { return NaN; } };
const TICK_US = 1e6 / Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }));
async function waitSock(p) { for (let i = 0; i < 250 && !fs.existsSync(p); i++) await sleep(20); if (!fs.existsSync(p)) throw new Error(`no socket ${p}`); }
async function waitPort(port) {
  for (let i = 0; i < 500; i++) {
    if (await new Promise((r) => { const s = net.connect(port, "127.0.0.1", () => { s.end(); r(true); }); s.on("error", () => r(false)); })) return;
    await sleep(20);
  }
  throw new Error(`port ${port} never opened`);
}

// --- build the peers ---------------------------------------------------
const dir = tmpdir("lbauth-bench-");
tmpdirs.push(dir);
const fcgiFlags = execFileSync("sh", ["-c", "pkg-config --libs fcgi 2>/dev/null || echo -lfcgi"], { encoding: "utf8" }).trim().split(/\s+/);
execFileSync("cc", ["-O2", "-o", path.join(dir, "floor"), path.join(B, "floor.c"), ...fcgiFlags]);
execFileSync("cc", ["-O2", "-o", path.join(dir, "trivial-cgi"), path.join(B, "trivial-cgi.c")]);

// --- lbauth, local backend ----------------------------------------------
const local = makeSetup({ conf: ["log_requests = no"] });
tmpdirs.push(local.dir);
const cookie = `session=${local.cookie({ sub: "ada", org: "acme", name: "Ada", ttl: 7200 })}`;
const lbLocalSock = path.join(dir, "lbauth-local.sock");
const lbLocal = start(LBAUTH, ["--listen", `unix:${lbLocalSock}`, "--workers", String(WORKERS), "--socket-mode", "0666", "--config", local.conf]);
// --- the floor, same number of processes --------------------------------
const floorSock = path.join(dir, "floor.sock");
const floorOut = execFileSync("spawn-fcgi", ["-s", floorSock, "-M", "0666", "-F", String(WORKERS), "--", path.join(dir, "floor")], { encoding: "utf8" });
const floorPids = [...floorOut.matchAll(/PID: (\d+)/g)].map((m) => Number(m[1]));
for (const pid of floorPids) procs.push({ pid });
// --- Node endpoint -------------------------------------------------------
const nodePort = await freePort();
const node = start(process.execPath, [path.join(B, "node-endpoint.mjs")], { env: { ...process.env, PORT: String(nodePort), WORKERS: String(WORKERS), COOKIE_SECRET: local.secret(), SIGNING_KEY_PEM: fs.readFileSync(path.join(local.dir, "sign.key"), "utf8") } });
// --- Liveblocks dev server, lbauth on it, the SvelteKit guide app --------
const dev = await startDevServer();
procs.push({ pid: dev.pid });
tmpdirs.push(path.dirname(dev.logFile));
const lb = makeSetup({ backend: "liveblocks", baseUrl: dev.url, conf: ["log_requests = no"] });
tmpdirs.push(lb.dir);
const lbCookie = `session=${lb.cookie({ sub: "ada", org: "acme", name: "Ada", ttl: 7200 })}`;
const lbSock = path.join(dir, "lbauth-lb.sock");
// N workers, as every target here ("--listen" without "--workers"
// gives one per CPU: each worker keeps many calls in flight).
const LB_WORKERS = WORKERS;
const lbLive = start(LBAUTH, ["--listen", `unix:${lbSock}`, "--workers", String(LB_WORKERS), "--socket-mode", "0666", "--config", lb.conf]);
const svk = path.join(B, "sveltekit");
let svelte = null, sveltePort = null;
try {
  if (!fs.existsSync(path.join(svk, "node_modules/.package-lock.json")))
    execFileSync("npm", ["ci", "--no-audit", "--no-fund", "--loglevel=error"], { cwd: svk, stdio: "inherit" });
  execFileSync("npx", ["vite", "build", "--logLevel", "error"], { cwd: svk, stdio: ["ignore", "ignore", "inherit"] });
  sveltePort = await freePort();
  svelte = start(process.execPath, [path.join(svk, "build/index.js")], { env: { ...process.env, PORT: String(sveltePort), HOST: "127.0.0.1", ORIGIN: `http://127.0.0.1:${sveltePort}`, LIVEBLOCKS_BASE_URL: dev.url, LIVEBLOCKS_SECRET: "sk_localdev", COOKIE_SECRET: lb.secret() } });
} catch (e) { console.error(`bench: the SvelteKit peer could not be built: ${e.message}`); }

// --- the WAN section: delay proxies, lbauth with its --listen defaults,
// the Node endpoint (one process, a cluster), SvelteKit, all on them ---
async function startProxy(delay) {
  const c = start(path.join(B, "delayproxy"), ["--target", dev.url, "--delay", String(delay)], { stdio: ["ignore", "pipe", "inherit"] });
  const port = await new Promise((res, rej) => {
    let out = "";
    c.stdout.on("data", (d) => { out += d; const m = /listening on (\d+)/.exec(out); if (m) res(Number(m[1])); });
    c.on("exit", () => rej(new Error("delayproxy exited")));
  });
  const url = `http://127.0.0.1:${port}`;
  return { pid: c.pid, port, url, stats: async () => (await fetch(`${url}/__delayproxy/stats`)).json(),
    reset: () => fetch(`${url}/__delayproxy/reset`, { method: "POST" }).then((r) => r.arrayBuffer()) };
}
const proxy = await startProxy(DELAY);
const ovProxy = await startProxy(OV_DELAY);
const lbW = makeSetup({ backend: "liveblocks", baseUrl: proxy.url, conf: ["log_requests = no"] });
tmpdirs.push(lbW.dir);
const wCookie = `session=${lbW.cookie({ sub: "ada", org: "acme", name: "Ada", ttl: 7200 })}`;
const lbWSock = path.join(dir, "lbauth-wan.sock");
const lbWan = start(LBAUTH, ["--listen", `unix:${lbWSock}`, "--socket-mode", "0666", "--config", lbW.conf]);	// its defaults
const lbO = makeSetup({ backend: "liveblocks", baseUrl: ovProxy.url, conf: ["log_requests = no"] });
tmpdirs.push(lbO.dir);
const oCookie = `session=${lbO.cookie({ sub: "ada", org: "acme", name: "Ada", ttl: 7200 })}`;
const lbOSock = path.join(dir, "lbauth-over.sock");
const lbOver = start(LBAUTH, ["--listen", `unix:${lbOSock}`, "--socket-mode", "0666", "--config", lbO.conf]);
const nodeEnv = (workers) => ({ ...process.env, WORKERS: String(workers), COOKIE_SECRET: lbW.secret(), LIVEBLOCKS_BASE_URL: proxy.url, LIVEBLOCKS_SECRET: "sk_localdev" });
const nl1Port = await freePort();
const nl1 = start(process.execPath, [path.join(B, "node-liveblocks.mjs")], { env: { ...nodeEnv(1), PORT: String(nl1Port) } });
const nlcPort = await freePort();
const nlc = start(process.execPath, [path.join(B, "node-liveblocks.mjs")], { env: { ...nodeEnv(CPUS), PORT: String(nlcPort) } });
let svelteW = null, svelteWPort = null;
if (svelte) {
  svelteWPort = await freePort();
  svelteW = start(process.execPath, [path.join(svk, "build/index.js")], { env: { ...process.env, PORT: String(svelteWPort), HOST: "127.0.0.1", ORIGIN: `http://127.0.0.1:${svelteWPort}`, LIVEBLOCKS_BASE_URL: proxy.url, LIVEBLOCKS_SECRET: "sk_localdev", COOKIE_SECRET: lbW.secret() } });
}

await Promise.all([waitSock(lbLocalSock), waitSock(floorSock), waitSock(lbSock), waitPort(nodePort), ...(sveltePort ? [waitPort(sveltePort), waitPort(svelteWPort)] : []),
  waitSock(lbWSock), waitSock(lbOSock), waitPort(nl1Port), waitPort(nlcPort)]);
// --- one nginx for all ----------------------------------------------------
const nginxPort = await freePort();
const nd = path.join(dir, "nginx");
fs.mkdirSync(nd);
const loc = (p, pass) => `location = ${p} { include /etc/nginx/fastcgi_params; fastcgi_pass unix:${pass}; fastcgi_request_buffering on; }`;
fs.writeFileSync(path.join(nd, "nginx.conf"), `${process.getuid() === 0 ? "user root;" : ""}
worker_processes ${WORKERS}; daemon off; pid ${nd}/nginx.pid; error_log ${nd}/error.log warn;
worker_rlimit_nofile 20000;
events { worker_connections 10000; }
http {
  access_log off; client_body_temp_path ${nd}/b; fastcgi_temp_path ${nd}/f; proxy_temp_path ${nd}/p; uwsgi_temp_path ${nd}/u; scgi_temp_path ${nd}/s;
  upstream node { server 127.0.0.1:${nodePort}; keepalive 32; }
  ${sveltePort ? `upstream svelte { server 127.0.0.1:${sveltePort}; keepalive 32; }` : ""}
  upstream nl1 { server 127.0.0.1:${nl1Port}; keepalive ${DCONNS}; }
  upstream nlc { server 127.0.0.1:${nlcPort}; keepalive ${DCONNS}; }
  ${svelteWPort ? `upstream sveltew { server 127.0.0.1:${svelteWPort}; keepalive ${DCONNS}; }` : ""}
  server {
    listen 127.0.0.1:${nginxPort} backlog=8192;
    ${loc("/floor", floorSock)}
    ${loc("/lbauth", lbLocalSock)}
    ${loc("/lbauth-liveblocks", lbSock)}
    location = /node { proxy_pass http://node/; proxy_http_version 1.1; proxy_set_header Connection ""; }
    ${sveltePort ? `location = /svelte { proxy_pass http://svelte/api/liveblocks-auth; proxy_http_version 1.1; proxy_set_header Connection ""; }` : ""}
    ${loc("/wan/lbauth", lbWSock)}
    ${loc("/over/lbauth", lbOSock)}
    location = /wan/node { proxy_pass http://nl1/; proxy_http_version 1.1; proxy_set_header Connection ""; }
    location = /wan/node-cluster { proxy_pass http://nlc/; proxy_http_version 1.1; proxy_set_header Connection ""; }
    ${svelteWPort ? `location = /wan/svelte { proxy_pass http://sveltew/api/liveblocks-auth; proxy_http_version 1.1; proxy_set_header Connection ""; }` : ""}
  }
}`);
const nginx = start("nginx", ["-p", nd, "-c", path.join(nd, "nginx.conf"), "-e", path.join(nd, "error.log")]);
await waitPort(nginxPort);
await sleep(300);
const nginxWorkers = () => children(nginx.pid);

// --- targets ----------------------------------------------------------
const base = `http://127.0.0.1:${nginxPort}`;
const targets = [
  { name: "floor (trivial libfcgi responder)", url: `${base}/floor`, cookie, pids: () => floorPids, group: "local" },
  { name: "lbauth, local backend", url: `${base}/lbauth`, cookie, pids: () => children(lbLocal.pid), group: "local", verify: local },
  { name: "Node endpoint (node:http + node:crypto, cluster)", url: `${base}/node`, cookie, pids: () => [node.pid, ...children(node.pid)], group: "local", verifyKey: createPublicKey(createPrivateKey(fs.readFileSync(path.join(local.dir, "sign.key")))) },
  { name: "Liveblocks dev server, direct (its ceiling)", url: `${dev.url}/v2/authorize-user`, cookie: "", auth: "Bearer sk_localdev", body: '{"userId":"ada","permissions":{"acme:doc-1":["*:write"]},"userInfo":{"name":"Ada"}}', pids: () => [dev.pid, ...children(dev.pid)], group: "liveblocks", direct: true },
  { name: `lbauth, liveblocks backend (${LB_WORKERS} workers)`, url: `${base}/lbauth-liveblocks`, cookie: lbCookie, pids: () => [...children(lbLive.pid), dev.pid], group: "liveblocks" },
  ...(sveltePort ? [{ name: "SvelteKit guide endpoint (@liveblocks/node)", url: `${base}/svelte`, cookie: lbCookie, pids: () => [svelte.pid, dev.pid], group: "liveblocks" }] : []),
].filter(() => SECTIONS.has("base"));
// The WAN rows: every API call held DELAY ms by the delay proxy; CPU
// and RSS are the endpoint's processes (all of them) and nginx's
// workers, neither the proxy nor the dev server.
const wanTargets = [
  { name: `lbauth --listen defaults`, url: `${base}/wan/lbauth`, cookie: wCookie, pids: () => [lbWan.pid, ...children(lbWan.pid)], group: "wan", kind: "lbauth" },
  { name: "Node endpoint, one process (@liveblocks/node)", url: `${base}/wan/node`, cookie: wCookie, pids: () => [nl1.pid], group: "wan", kind: "node1" },
  { name: `Node endpoint, cluster of ${CPUS}`, url: `${base}/wan/node-cluster`, cookie: wCookie, pids: () => [nlc.pid, ...children(nlc.pid)], group: "wan", kind: "nodec" },
  ...(svelteWPort ? [{ name: "SvelteKit guide endpoint", url: `${base}/wan/svelte`, cookie: wCookie, pids: () => [svelteW.pid], group: "wan", kind: "svelte" }] : []),
].filter(() => SECTIONS.has("wan"));
// wrk's timeout is raised so that a slow answer counts in the
// latencies rather than as an error.  post.lua, not status.lua: a Lua
// call per answer would take wrk's CPU from the endpoints.
for (const t of wanTargets) { t.conns = DCONNS; t.proxy = proxy; t.timeout = `${2 * UPSTREAM_TIMEOUT_MS / 1000}s`; }

async function check(t) {
  const r = await fetch(t.url, { method: "POST", headers: { "content-type": "application/json", cookie: t.cookie, ...(t.auth ? { authorization: t.auth } : {}) }, body: t.body ?? '{"room":"acme:doc-1"}' });
  const text = await r.text();
  if (r.status !== 200) throw new Error(`${t.name}: ${r.status} ${text.slice(0, 200)}`);
  const tok = JSON.parse(text).token;
  if (typeof tok !== "string" || tok.split(".").length !== 3) throw new Error(`${t.name}: no token`);
  if (t.verify) execFileSync(path.join(ROOT, "lbauthctl"), ["verify", "-c", t.verify.conf, tok], { stdio: "ignore" });
  const [h, p, s] = tok.split(".");
  if (t.verifyKey && !edVerify(null, Buffer.from(`${h}.${p}`), t.verifyKey, Buffer.from(s, "base64url")))
    throw new Error(`${t.name}: bad Ed25519 signature`);
  if (t.group === "liveblocks" || t.group === "wan") {	// issued by the dev server: its shape
    const c = JSON.parse(Buffer.from(p, "base64url"));
    if (c.k !== "acc" || c.uid !== "ada" || !c.perms?.["acme:doc-1"]?.includes("*:write"))
      throw new Error(`${t.name}: unexpected token payload ${JSON.stringify(c)}`);
  }
}

// wrk, asynchronously (so that connections can be sampled meanwhile).
async function wrk(t, secs, { conns = t.conns ?? CONNS, script = t.script ?? "post.lua", timeout = t.timeout ?? "2s" } = {}) {
  // Through sh, to raise its soft limit of open files to the hard one
  // (4096 connections need more than the usual 1024); sh execs wrk.
  const c = start("sh", ["-c", 'ulimit -n "$(ulimit -Hn)"; exec wrk "$@"', "wrk", "-t", "2", "-c", String(conns), "-d", `${secs}s`, "--timeout", timeout, "--latency", "-s", path.join(B, script), t.url],
    { stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, BENCH_COOKIE: t.cookie, BENCH_BODY: t.body ?? '{"room":"acme:doc-1"}', ...(t.auth ? { BENCH_AUTH: t.auth } : {}) } });
  const r = { stdout: "", stderr: "" };
  c.stdout.on("data", (d) => (r.stdout += d));
  c.stderr.on("data", (d) => (r.stderr += d));
  [r.status] = await new Promise((res) => c.on("close", (...a) => res(a)));
  procs.splice(procs.indexOf(c), 1);
  const out = r.stdout;
  const num = (re) => { const m = re.exec(out); return m ? m[1] : null; };
  const lat = (q) => { const m = new RegExp(`^\\s*${q}%\\s+([\\d.]+)(us|ms|s)`, "m").exec(out); return m ? Number(m[1]) * { us: 1e-3, ms: 1, s: 1000 }[m[2]] : NaN; };
  // Errors: non-2xx answers plus every socket error (connect, read,
  // write, timeout); a wrk that failed to run counts as all errors.
  const sockErrs = (/Socket errors: (.*)/.exec(out)?.[1].match(/\d+/g) ?? []).reduce((a, n) => a + Number(n), 0);
  const requests = Number(num(/(\d+) requests in/));
  if (r.status !== 0 || !requests) { console.error(`bench: wrk failed on ${t.url}: ${r.stderr}${out}`); return { rps: 0, requests: 0, non2xx: Infinity, p50: NaN, p99: NaN, raw: out }; }
  const statuses = Object.fromEntries([...out.matchAll(/^status (\d+) (\d+)$/gm)].map((m) => [m[1], Number(m[2])]));
  return { rps: Number(num(/Requests\/sec:\s+([\d.]+)/)), requests, non2xx: Number(num(/Non-2xx or 3xx responses: (\d+)/) ?? 0) + sockErrs, sockErrs,
    p50: lat(50), p99: lat(99), statuses, bad503: Number(num(/^bad503 (\d+)$/m) ?? 0), raw: out };
}

// TCP connections to port, by socket cookie (ss -e "sk:", unique per
// socket): every client-side socket (any state) and every server-side
// TIME-WAIT socket.  A connection closed by its client leaves a client
// TIME-WAIT socket that lives at least 1 s even with loopback's
// tcp_tw_reuse = 2; one closed by the server, a server TIME-WAIT for 60
// s; one still open, its client socket.  So sampling every 250 ms during
// a run and taking the cookies not seen before it counts the connections
// opened during it (a port-based count would miss reused ports).
function tcpSockets(port) {
  const r = spawnSync("ss", ["-Htane", `( dport = :${port} or sport = :${port} )`], { encoding: "utf8" });
  const ids = new Set();
  for (const line of r.stdout.split("\n")) {
    const f = line.trim().split(/\s+/);
    const sk = /\bsk:([0-9a-f]+)/.exec(line)?.[1];
    if (f.length < 5 || !sk || f[0] === "LISTEN") continue;
    const serverSide = f[3].endsWith(`:${port}`);
    if (!serverSide) ids.add(`c${sk}`);
    else if (f[0] === "TIME-WAIT") ids.add(`s${sk}`);
  }
  return ids;
}

const results = [];
for (const t of [...targets, ...wanTargets]) {
  await check(t);
  await wrk(t, 2);	// warm-up
  const pids = [...new Set([...t.pids(), ...(t.direct ? [] : nginxWorkers())])];
  const before = pids.map(cpuTicks);
  const connsBefore = t.group === "liveblocks" ? tcpSockets(dev.port) : null;
  // The warm-up's last calls, abandoned by wrk, leave the proxy first.
  if (t.proxy) { await sleep(DELAY + 200); await t.proxy.reset(); }
  const seen = new Set();
  const sample = () => { for (const id of tcpSockets(dev.port)) if (!connsBefore.has(id)) seen.add(id); };
  const timer = connsBefore ? setInterval(sample, 250) : null;
  const w = await wrk(t, SECS);
  if (timer) { clearInterval(timer); sample(); }
  const after = pids.map(cpuTicks);
  const cpuUs = after.reduce((a, v, i) => a + v - before[i], 0) * TICK_US;
  const own = new Set(t.pids());
  const ownCpuUs = after.reduce((a, v, i) => a + (own.has(pids[i]) ? v - before[i] : 0), 0) * TICK_US;
  const row = { name: t.name, group: t.group, rps: Math.round(w.rps), p50: w.p50, p99: w.p99, errors: w.non2xx,
    statuses: w.statuses, cpuUsPerReq: Math.round(cpuUs / w.requests), ownCpuUsPerReq: Math.round(ownCpuUs / w.requests), rssKiB: t.pids().filter((p) => p !== dev.pid).map(rssKiB), requests: w.requests };
  if (connsBefore) { row.newConns = seen.size; row.connsPer1000 = Math.round(seen.size * 1000 / w.requests * 100) / 100; }
  if (t.proxy) {	// the proxy's counters: connections it accepted during the run
    const ps = await t.proxy.stats();
    Object.assign(row, { kind: t.kind, newConns: ps.accepted, connsPer1000: Math.round(ps.accepted * 1000 / w.requests * 100) / 100, maxInflight: ps.maxInflight,
      rssTotalKiB: row.rssKiB.reduce((a, b) => a + b, 0), processes: t.pids().length });
  }
  if (w.non2xx) { row.wrk = w.raw; console.error(`bench: ${t.name}: ${w.non2xx} errors:\n${w.raw.split("\n").filter((l) => /Socket|Non-2xx|requests in|^status/.test(l)).join("\n")}`); }
  results.push(row);
}

// --- overload: OV_CONNS connections against an OV_DELAY ms API -------
// lbauth with its --listen defaults; status.lua tallies the answers.
let overload = null;
if (SECTIONS.has("overload")) {
  const t = { name: "overload", url: `${base}/over/lbauth`, cookie: oCookie, group: "wan" };
  await check(t);
  await wrk(t, 2, { conns: DCONNS });	// warm-up
  await sleep(OV_DELAY + 200);
  await ovProxy.reset();
  const pids = [lbOver.pid, ...children(lbOver.pid)];
  const w = await wrk(t, SECS, { conns: OV_CONNS, script: "status.lua", timeout: `${2 * UPSTREAM_TIMEOUT_MS / 1000}s` });
  const ps = await ovProxy.stats();
  const other = Object.entries(w.statuses).filter(([st]) => st !== "200" && st !== "503").reduce((a, [, n]) => a + n, 0);
  // What nginx said about them (its error log, counted by message).
  const why = {};
  if (other) for (const l of fs.readFileSync(path.join(nd, "error.log"), "utf8").split("\n")) {
    const m = /\[(?:error|crit|alert)\] [\d#]+: \*?\d* ?(.*?)(?:, client:|$)/.exec(l);
    if (m) why[m[1]] = (why[m[1]] ?? 0) + 1;
  }
  overload = { requests: w.requests, rps: Math.round(w.rps), p50: w.p50, p99: w.p99, statuses: w.statuses, bad503: w.bad503, sockErrs: w.sockErrs ?? NaN,
    other, nginxSaid: Object.entries(why).sort((p, q) => q[1] - p[1]).slice(0, 3), maxInflight: ps.maxInflight, apiRequests: ps.requests, processes: pids.length };
}

// --- CGI starts --------------------------------------------------------
// hyperfine runs both through the same shell (for the stdin redirect),
// so its cost is in both figures.
let cgi = null;
if (SECTIONS.has("cgi")) {
  const cgiEnv = { LBAUTH_CONFIG: local.conf, GATEWAY_INTERFACE: "CGI/1.1", REQUEST_METHOD: "POST", CONTENT_TYPE: "application/json", CONTENT_LENGTH: "21", HTTP_COOKIE: cookie };
  const bodyFile = path.join(dir, "body");
  fs.writeFileSync(bodyFile, '{"room":"acme:doc-1"}');
  const hf = spawnSync("hyperfine", ["--warmup", "20", "--runs", "500", "--export-json", path.join(dir, "cgi.json"),
    `${LBAUTH} < ${bodyFile}`, `${path.join(dir, "trivial-cgi")} < ${bodyFile}`], { encoding: "utf8", env: { ...process.env, ...cgiEnv } });
  try {
    const j = JSON.parse(fs.readFileSync(path.join(dir, "cgi.json"), "utf8")).results;
    cgi = { lbauthMs: j[0].mean * 1000, trivialMs: j[1].mean * 1000, lbauthMedianMs: j[0].median * 1000, trivialMedianMs: j[1].median * 1000 };
  } catch { console.error(hf.stderr); }
}

// --- instructions per request -------------------------------------------
const insns = SECTIONS.has("insns") ? measureInsns(local.conf, cookie, dir) : null;

// --- report -------------------------------------------------------------
const fmt = (n, d = 0) => (Number.isFinite(n) ? n.toFixed(d) : "-");
const mean = (a) => (a.length ? a.reduce((x, y) => x + y, 0) / a.length : NaN);
const x = (a, b) => fmt(a / b, 2);
const get = (n) => results.find((r) => r.name.startsWith(n));
const kind = (k) => results.find((r) => r.kind === k);
// Goals: each printed PASS or FAIL; make bench fails if one is unmet.
const goals = [];
const goal = (what, value, ok, target) => goals.push({ what, value, ok, target });
console.log(`\nmachine: ${CPUS} cores, ${execFileSync("uname", ["-sr"], { encoding: "utf8" }).trim()}, load average ${fs.readFileSync("/proc/loadavg", "utf8").split(" ").slice(0, 3).join(" ")}; one nginx (${WORKERS} workers)`);
const baseRows = results.filter((r) => r.group !== "wan");
if (baseRows.length) {
  const floor = results[0];
  console.log(`\nAPI on loopback (0 ms): ${WORKERS} workers per target; wrk ${CONNS} connections, ${SECS} s`);
  console.log("".padEnd(52), "".padStart(8), "".padStart(7), "".padStart(7), "".padStart(7), "".padStart(17), " ratio to the floor:".padEnd(35));
  console.log("target".padEnd(52), "req/s".padStart(8), "p50 ms".padStart(7), "p99 ms".padStart(7), "CPU us".padStart(7), "RSS KiB/worker".padStart(17),
    "req/s".padStart(6), "p50".padStart(6), "p99".padStart(6), "CPU".padStart(6), "RSS".padStart(6), "errors".padStart(8));
  for (const r of baseRows) {
    console.log(r.name.padEnd(52), String(r.rps).padStart(8), fmt(r.p50, 2).padStart(7), fmt(r.p99, 2).padStart(7), String(r.cpuUsPerReq).padStart(7), r.rssKiB.join("/").padStart(17),
      x(r.rps, floor.rps).padStart(6), x(r.p50, floor.p50).padStart(6), x(r.p99, floor.p99).padStart(6), x(r.cpuUsPerReq, floor.cpuUsPerReq).padStart(6), x(mean(r.rssKiB), mean(floor.rssKiB)).padStart(6),
      String(r.errors).padStart(8) + (r.errors ? " INVALID" : ""));
  }
  console.log("(CPU us: CPU microseconds per request, the target's processes and nginx's workers; RSS: VmRSS after the run)");
  const lbL = get("lbauth, local"), nodeR = get("Node endpoint (node:http + node:crypto"), devR = get("Liveblocks dev server"), lbR = get("lbauth, liveblocks"), svR = get("SvelteKit guide endpoint (");
  console.log("\nratios (same run):");
  console.log(`  lbauth local / floor p99          ${fmt(lbL.p99 / floor.p99, 2)}   (target <= 1.5)`);
  console.log(`  lbauth local / Node endpoint      ${fmt(lbL.rps / nodeR.rps, 2)}   (target >= 1.5)`);
  console.log(`  lbauth liveblocks / dev server    ${fmt(lbR.rps / devR.rps, 2)}   (target >= 0.8)`);
  goal("0 ms: lbauth local / floor req/s", fmt(lbL.rps / floor.rps, 2), lbL.rps / floor.rps >= 0.85, ">= 0.85");
  if (svR) goal("0 ms: lbauth liveblocks / SvelteKit req/s", fmt(lbR.rps / svR.rps, 2), lbR.rps / svR.rps >= 5, ">= 5");
  console.log(`  TCP connects to the dev server per 1000 requests: lbauth ${lbR.connsPer1000} (${lbR.newConns} in ${lbR.requests})${svR ? `, SvelteKit ${svR.connsPer1000} (${svR.newConns})` : ""}; wrk direct ${devR.newConns}, the counter's check: wrk opens ${CONNS}`);
}
if (cgi) console.log(`  CGI: lbauth ${fmt(cgi.lbauthMs, 3)} ms, trivial C CGI ${fmt(cgi.trivialMs, 3)} ms (means of 500): ${fmt(cgi.lbauthMs / cgi.trivialMs, 2)}   (target <= 1.5); medians ${fmt(cgi.lbauthMedianMs, 3)} / ${fmt(cgi.trivialMedianMs, 3)} ms: ${fmt(cgi.lbauthMedianMs / cgi.trivialMedianMs, 2)}`);
if (insns) console.log(`  instructions per request: ${insns.total} (crypto ${insns.crypto}, other ${insns.other}): other/crypto ${fmt(insns.other / insns.crypto, 3)}   (target <= 0.25)`);

const wanRows = results.filter((r) => r.group === "wan");
if (wanRows.length) {
  console.log(`\nAPI ${DELAY} ms away (delay proxy in front of the dev server): wrk ${DCONNS} connections, ${SECS} s`);
  console.log("target".padEnd(46), "req/s".padStart(7), "p50 ms".padStart(8), "p99 ms".padStart(8), "CPU us".padStart(7), "own".padStart(6), "RSS KiB (procs)".padStart(16), "conn/1000".padStart(10), "in flight".padStart(10), "errors".padStart(7));
  for (const r of wanRows)
    console.log(r.name.padEnd(46), String(r.rps).padStart(7), fmt(r.p50, 1).padStart(8), fmt(r.p99, 1).padStart(8), String(r.cpuUsPerReq).padStart(7), String(r.ownCpuUsPerReq).padStart(6),
      `${r.rssTotalKiB} (${r.processes})`.padStart(16), String(r.connsPer1000).padStart(10), String(r.maxInflight).padStart(10), String(r.errors).padStart(7) + (r.errors ? " INVALID" : ""));
  console.log("(CPU us: per request, the endpoint's processes and nginx's workers; own: the endpoint's alone; RSS: all the endpoint's processes together;\n conn/1000: TCP connections the delay proxy accepted per 1000 requests; in flight: the most API calls the proxy held at once)");
  const lb = kind("lbauth"), n1 = kind("node1");
  if (lb && n1) {
    goal(`${DELAY} ms: lbauth / Node one process req/s`, fmt(lb.rps / n1.rps, 2), lb.rps / n1.rps >= 1.5, ">= 1.5");
    goal(`${DELAY} ms: lbauth p50 ms`, fmt(lb.p50, 2), lb.p50 <= DELAY + 10, `<= ${DELAY + 10}`);
    goal(`${DELAY} ms: lbauth p99 ms`, fmt(lb.p99, 2), lb.p99 <= 2 * DELAY, `<= ${2 * DELAY}`);
    goal(`${DELAY} ms: lbauth / Node one process CPU per request`, fmt(lb.cpuUsPerReq / n1.cpuUsPerReq, 2), lb.cpuUsPerReq / n1.cpuUsPerReq <= 0.5, "<= 0.5");
    console.log(`  (the endpoints' own CPU alone, nginx left out: lbauth / Node one process ${fmt(lb.ownCpuUsPerReq / n1.ownCpuUsPerReq, 2)})`);
    goal(`${DELAY} ms: RSS of all lbauth processes / the Node process`, fmt(lb.rssTotalKiB / n1.rssTotalKiB, 2), lb.rssTotalKiB <= n1.rssTotalKiB, "<= 1");
    goal(`${DELAY} ms: lbauth errors`, String(lb.errors), lb.errors === 0, "0");
  }
}
if (overload) {
  const o = overload, st = Object.entries(o.statuses).map(([k, v]) => `${k}: ${v}`).join(", ");
  console.log(`\noverload: lbauth --listen defaults, API ${OV_DELAY} ms away, wrk ${OV_CONNS} connections, ${SECS} s`);
  console.log(`  ${o.requests} answers (${st || "none tallied"}), ${o.rps} req/s, p50 ${fmt(o.p50, 1)} ms, p99 ${fmt(o.p99, 1)} ms, socket errors ${o.sockErrs}, at most ${o.maxInflight} API calls in flight (${o.processes} processes)`);
  for (const [m, c] of o.nginxSaid) console.log(`  nginx's error log, ${c} times: ${m}`);
  goal("overload: socket errors", String(o.sockErrs), o.sockErrs === 0, "0");
  goal("overload: answers other than 200 / 503", String(o.other), o.other === 0 && o.requests > 0, "0");
  goal("overload: 503s without Retry-After or a JSON body", String(o.bad503), o.bad503 === 0, "0");
  goal("overload: p99 ms", fmt(o.p99, 1), o.p99 <= UPSTREAM_TIMEOUT_MS, `<= ${UPSTREAM_TIMEOUT_MS} (upstream_timeout_ms)`);
}
if (goals.length) {
  console.log("\ngoals (same run):");
  for (const g of goals) console.log(`  ${g.ok ? "PASS" : "FAIL"}  ${g.what.padEnd(52)} ${String(g.value).padStart(9)}   (goal ${g.target})`);
}
if (insns && SECTIONS.has("base")) writeInsns(insns);
fs.mkdirSync(path.join(ROOT, "tests/out"), { recursive: true });
fs.writeFileSync(path.join(ROOT, "tests/out/bench.json"), JSON.stringify({ delayMs: DELAY, results, overload, cgi, insns, goals }, null, 1));
const invalid = results.some((r) => r.errors > 0), unmet = goals.filter((g) => !g.ok).length;
if (unmet) console.log(`\nbench: ${unmet} of ${goals.length} goals unmet`);
// --- SQL rows: tests/bench/sql.mjs, its own targets and goals ----------
const sqlRun = SECTIONS.has("sql") ?
  spawnSync(process.execPath, [path.join(B, "sql.mjs")], { stdio: "inherit", env: process.env }) : { status: 0 };
process.exit(invalid || unmet || sqlRun.status !== 0 ? 1 : 0);
