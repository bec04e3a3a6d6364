// sql.mjs: the SQL rows of make bench (run by bench.mjs, or alone as
// "node tests/bench/sql.mjs").  Three lbauth targets with backend =
// local behind one nginx, loaded alike with wrk:
//   JWT       the session JWT cookie and the org policy (the baseline)
//   SQLite    identity_query + policy = sql on SQLite
//   pgsql     the same on PostgreSQL 15 (started here, dbservers.mjs),
//             over loopback TCP and over its unix socket; and over TCP
//             with 4000 sessions in turn, none of which a worker has
//             seen lately (the room query by :user goes fused with the
//             identity query, sql.c: one round trip all the same)
// each with persistent per-worker connections and prepared statements,
// and CGI starts (hyperfine) of the JWT and SQLite configs.  Prints
// req/s and the ratios to the JWT row (goals: SQLite >= 0.8, pgsql >=
// 0.6; CGI with SQLite <= 1.3 x CGI without SQL).  Then PostgreSQL on
// "another machine": a TCP delay proxy (tcpdelay.mjs, 1 ms each way) in
// front of it, and lbauth with request_threads = 1 (one request at a
// time per worker, as before request threads), 4 (the default) and 16,
// with the room query by :session at 4, with 4000 sessions in turn at
// 1 and 4 (fused: one round trip), and with 4000 sessions in turn and a
// room query that cannot be fused (its :user typed apart from the id)
// at 1 and 4: two round trips per request, as before fusion.
// Stops all it starts.
import fs from "node:fs";
import net from "node:net";
import path from "node:path";
import { spawn, execFileSync, spawnSync } from "node:child_process";
import { LBAUTH, ROOT, makeSetup, ctl, tmpdir, freePort, stopAll, children } from "../integ/harness.mjs";
import { startPostgres, HAVE_POSTGRES } from "../integ/dbservers.mjs";

const SECS = Number(process.env.BENCH_SECONDS ?? 10);
const WORKERS = Number(process.env.BENCH_WORKERS ?? 2);
const CONNS = 32;
const SESSIONS = 4000;
const B = path.dirname(new URL(import.meta.url).pathname);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const procs = [];
let pg = null;
process.on("exit", () => { for (const p of procs) try { process.kill(p.pid, "SIGTERM"); } catch {} stopAll(); });
for (const sig of ["SIGINT", "SIGTERM"]) process.on(sig, () => process.exit(130));
const start = (cmd, args, opts = {}) => { const c = spawn(cmd, args, { stdio: ["ignore", "ignore", "inherit"], ...opts }); procs.push(c); return c; };
async function waitSock(p) { for (let i = 0; i < 250 && !fs.existsSync(p); i++) await sleep(20); if (!fs.existsSync(p)) throw new Error(`no socket ${p}`); }

// The app's tables, in SQL both dialects take.
const SEED = `
CREATE TABLE sessions (id VARCHAR(64) PRIMARY KEY, user_id VARCHAR(64), expires BIGINT);
CREATE TABLE users (id VARCHAR(64) PRIMARY KEY, org VARCHAR(64), name VARCHAR(64));
CREATE TABLE room_members (user_id VARCHAR(64), room VARCHAR(128), access VARCHAR(32), PRIMARY KEY (user_id, room));
INSERT INTO sessions VALUES ('sid-ada', 'ada', 4102444800);
INSERT INTO users VALUES ('ada', 'acme', 'Ada');
INSERT INTO room_members VALUES ('ada', 'acme:doc-1', 'full'), ('ada', 'acme:doc-2', 'read');
`;
// The room query by :session instead of :user: with pgsql it goes out
// with the identity query, one round trip per request (sql.c).  And one
// whose :user PostgreSQL types as name, not varchar as the identity
// query's id: it cannot be fused with the identity query (sql.c,
// fuse_types), so a session new to a worker takes two round trips.
const UNFUSED = "room_query = SELECT room AS pattern, access FROM room_members WHERE user_id = CAST(:user AS name) AND room = :room";
const BY_SESSION = "room_query = SELECT m.room AS pattern, m.access FROM room_members m JOIN sessions s ON s.user_id = m.user_id WHERE s.id = :session AND m.room = :room";
const QUERIES = (now) => [
  `identity_query = SELECT u.id, u.org, u.name FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.id = :session AND s.expires > ${now}`,
  "policy = sql",
  "room_query = SELECT room AS pattern, access FROM room_members WHERE user_id = :user AND room = :room",
];

function sqlConf(driver, connect, now, extra = [], { bySession = false, unfused = false } = {}) {
  const dir = tmpdir("lbauth-bench-sql-");
  ctl(["keygen", "-o", path.join(dir, "sign.key")]);
  fs.writeFileSync(path.join(dir, "db.conn"), connect + "\n", { mode: 0o600 });
  const conf = path.join(dir, "lbauth.conf");
  const qs = QUERIES(now).map((l) => (l.startsWith("room_query") ? (bySession ? BY_SESSION : unfused ? UNFUSED : l) : l));
  fs.writeFileSync(conf, ["backend = local", "signing_key_file = sign.key", "log_requests = no", "cookie_name = sid",
    `sql_driver = ${driver}`, "sql_connect_file = db.conn", ...qs, ...extra, ""].join("\n"));
  return { dir, conf };
}

const dir = tmpdir("lbauth-bench-sql-");
const jwt = makeSetup({ conf: ["log_requests = no"] });
const jwtCookie = `session=${jwt.cookie({ sub: "ada", org: "acme", name: "Ada", ttl: 7200 })}`;
const dbFile = path.join(dir, "app.db");
execFileSync("sqlite3", [dbFile], { input: SEED });
const lite = sqlConf("sqlite", dbFile, "CAST(strftime('%s','now') AS INTEGER)");
const targets = [
  { name: "lbauth local, JWT cookie + org policy", conf: jwt.conf, cookie: jwtCookie },
  { name: "lbauth local, SQLite identity + sql policy", conf: lite.conf, cookie: "sid=sid-ada" },
];
if (HAVE_POSTGRES) {
  pg = await startPostgres();
  pg.sql("CREATE ROLE app LOGIN PASSWORD 'bench-pw'; CREATE DATABASE app OWNER app;");
  pg.sql(SEED + "GRANT SELECT ON ALL TABLES IN SCHEMA public TO app;", "app");
  const p = sqlConf("pgsql", pg.connect("app", "bench-pw", "app"), "extract(epoch from now())");
  targets.push({ name: "lbauth local, PostgreSQL identity + sql policy", conf: p.conf, cookie: "sid=sid-ada" });
  // The row above sends one session.  Here every request is a session
  // its worker has not seen lately (SESSIONS in turn): fused, it is one
  // round trip all the same, with no hint (sql.c, sqlhint.c).
  pg.sql(`INSERT INTO sessions SELECT 'sid-' || g, 'ada', 4102444800 FROM generate_series(1, ${SESSIONS}) g;`, "app");
  targets.push({ name: `  the same, ${SESSIONS} sessions in turn`, conf: p.conf, cookie: "sid=sid-ada", sessions: SESSIONS, prefix: "sid=sid-" });
  const u = sqlConf("pgsql", `host=${pg.socketDir} port=${pg.port} dbname=app user=app`, "extract(epoch from now())");
  targets.push({ name: "  the same over PostgreSQL's unix socket", conf: u.conf, cookie: "sid=sid-ada" });
  const us = sqlConf("pgsql", `host=${pg.socketDir} port=${pg.port} dbname=app user=app`, "extract(epoch from now())", [], { bySession: true });
  targets.push({ name: "  unix socket, room query by :session", conf: us.conf, cookie: "sid=sid-ada" });
} else console.error("bench sql: PostgreSQL 15 is not installed: no pgsql row");

// PostgreSQL a network hop away.
const FAR_DELAY = Number(process.env.BENCH_SQL_FAR_DELAY ?? 1);
const far = [];
if (pg) {
  const c = start(process.execPath, [path.join(B, "tcpdelay.mjs"), "--target", String(pg.port), "--delay", String(FAR_DELAY)], { stdio: ["ignore", "pipe", "inherit"] });
  const farPort = await new Promise((res, rej) => {
    c.stdout.on("data", (d) => { const m = /listening on (\d+)/.exec(String(d)); if (m) res(Number(m[1])); });
    c.on("exit", () => rej(new Error("tcpdelay exited")));
  });
  const connect = pg.connect("app", "bench-pw", "app").replace(`port=${pg.port}`, `port=${farPort}`);
  for (const n of [1, 4, 16]) {
    const p = sqlConf("pgsql", connect, "extract(epoch from now())", [`request_threads = ${n}`]);
    far.push({ name: `  request_threads = ${n}${n === 4 ? " (default)" : ""}`, threads: n, conf: p.conf, cookie: "sid=sid-ada" });
  }
  {
    const p = sqlConf("pgsql", connect, "extract(epoch from now())", ["request_threads = 4"], { bySession: true });
    far.push({ name: "  request_threads = 4, room query by :session", threads: 4, conf: p.conf, cookie: "sid=sid-ada", oneTrip: true });
  }
  for (const unfused of [false, true])
    for (const n of [1, 4]) {
      const p = sqlConf("pgsql", connect, "extract(epoch from now())", [`request_threads = ${n}`], { unfused });
      far.push({ name: `  request_threads = ${n}, ${SESSIONS} sessions${unfused ? ", not fused" : " in turn"}`, threads: n, conf: p.conf, cookie: "sid=sid-ada", sessions: SESSIONS, prefix: "sid=sid-" });
    }
}

for (const [i, t] of [...targets, ...far].entries()) {
  t.sock = path.join(dir, `t${i}.sock`);
  t.proc = start(LBAUTH, ["--listen", `unix:${t.sock}`, "--workers", String(WORKERS), "--socket-mode", "0666", "--config", t.conf]);
  await waitSock(t.sock);
}
const port = await freePort();
const nd = path.join(dir, "nginx");
fs.mkdirSync(nd);
fs.writeFileSync(path.join(nd, "nginx.conf"), `${process.getuid() === 0 ? "user root;" : ""}
worker_processes ${WORKERS}; daemon off; pid ${nd}/nginx.pid; error_log ${nd}/error.log warn;
events { worker_connections 1024; }
http {
  access_log off; client_body_temp_path ${nd}/b; fastcgi_temp_path ${nd}/f; proxy_temp_path ${nd}/p; uwsgi_temp_path ${nd}/u; scgi_temp_path ${nd}/s;
  server {
    listen 127.0.0.1:${port};
    ${[...targets, ...far].map((t, i) => `location = /t${i} { include /etc/nginx/fastcgi_params; fastcgi_pass unix:${t.sock}; fastcgi_request_buffering on; }`).join("\n    ")}
  }
}`);
const ngx = start("nginx", ["-p", nd, "-c", path.join(nd, "nginx.conf"), "-e", path.join(nd, "error.log")]);
for (let i = 0; i < 250; i++) {
  if (await new Promise((r) => { const s = net.connect(port, "127.0.0.1", () => { s.end(); r(true); }); s.on("error", () => r(false)); })) break;
  await sleep(20);
}

// CPU ticks (utime + stime) of a process (its children: harness.mjs).
const TICK_US = 1e6 / Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }));
const cpuTicks = (pid) => { try { const f = fs.readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1].split(" "); return Number(f[11]) + Number(f[12]); } catch { return 0; } };
// Ticks per pid of a process and its children (lbauth's master and
// workers, nginx's, the postmaster and its backends).
const sample = (pid) => new Map([pid, ...children(pid)].map((p) => [p, cpuTicks(p)]));
const spent = (a, b) => { let n = 0; for (const [p, v] of b) n += v - (a.get(p) ?? 0); return n * TICK_US; };

// Node's cutime + cstime: the CPU of the children it has waited for
// (wrk, once spawnSync returns).
const childTicks = () => { const f = fs.readFileSync("/proc/self/stat", "utf8").split(") ")[1].split(" "); return Number(f[13]) + Number(f[14]); };

function wrk(t, secs) {
  const c0 = childTicks();
  const r = spawnSync("wrk", ["-t", "2", "-c", String(CONNS), "-d", `${secs}s`, "--latency", "-s", path.join(B, "post.lua"), t.url],
    { encoding: "utf8", env: { ...process.env, BENCH_COOKIE: t.cookie, BENCH_BODY: '{"room":"acme:doc-1"}',
      ...(t.sessions ? { BENCH_SESSIONS: String(t.sessions), BENCH_COOKIE_PREFIX: t.prefix } : {}) } });
  const num = (re) => { const m = re.exec(r.stdout); return m ? Number(m[1]) : NaN; };
  const lat = (q) => { const m = new RegExp(`^\\s*${q}%\\s+([\\d.]+)(us|ms|s)`, "m").exec(r.stdout); return m ? Number(m[1]) * { us: 1e-3, ms: 1, s: 1000 }[m[2]] : NaN; };
  // wrk takes whole seconds only ("-d 4.5s" is an error): a run that
  // printed no figures stops the bench rather than print a row of "-".
  if (r.status !== 0 || !/Requests\/sec:/.test(r.stdout)) throw new Error(`wrk ${t.name.trim()}: exit ${r.status}: ${r.stderr || r.stdout}`);
  const sockErrs = (/Socket errors: (.*)/.exec(r.stdout)?.[1].match(/\d+/g) ?? []).reduce((a, n) => a + Number(n), 0);
  const wrkUs = (childTicks() - c0) * TICK_US;
  return { wrkUs, requests: num(/(\d+) requests in/), rps: num(/Requests\/sec:\s+([\d.]+)/), p50: lat(50), p99: lat(99), errors: (num(/Non-2xx or 3xx responses: (\d+)/) || 0) + sockErrs };
}

// The targets take turns: ROUNDS rounds of SECS / ROUNDS each, in
// order and then in reverse, so that a burst of other load on this
// shared machine lands on every row alike, not on whichever ran then.
// Each row sums its rounds; "rounds" gives the ratio to the JWT row
// within each round (the rows of one round are seconds apart).
const ROUNDS = Number(process.env.BENCH_SQL_ROUNDS ?? 3);
for (const [i, t] of [...targets, ...far].entries()) {
  t.url = `http://127.0.0.1:${port}/t${i}`;
  const res = await fetch(t.url, { method: "POST", headers: { "content-type": "application/json", cookie: t.cookie }, body: '{"room":"acme:doc-1"}' });
  const text = await res.text();
  if (res.status !== 200) throw new Error(`${t.name}: ${res.status} ${text}`);
  execFileSync(path.join(path.dirname(LBAUTH), "lbauthctl"), ["verify", "-c", t.conf, JSON.parse(text).token], { stdio: "ignore" });
  wrk(t, 2);
  t.acc = { requests: 0, secs: 0, errors: 0, p50: [], p99: [], cpu: {}, rounds: [] };
}
// One wrk run of target t for secs, with the CPU (us) each group of
// processes spent meanwhile: lbauth's, nginx's and PostgreSQL's.
function measured(t, secs) {
  const groups = { lbauth: t.proc.pid, nginx: ngx.pid, ...(pg ? { postgres: pg.proc.pid } : {}) };
  const before = Object.fromEntries(Object.entries(groups).map(([g, p]) => [g, sample(p)]));
  const w = wrk(t, secs);
  w.cpu = Object.fromEntries(Object.entries(groups).map(([g, p]) => [g, spent(before[g], sample(p))]));
  return w;
}
for (let k = 0; k < ROUNDS; k++) {
  const order = k % 2 ? [...targets].reverse() : targets;
  for (const t of order) {
    const w = measured(t, Math.max(1, Math.round(SECS / ROUNDS)));
    for (const [g, us] of Object.entries(w.cpu)) t.acc.cpu[g] = (t.acc.cpu[g] ?? 0) + us;
    t.acc.cpu.wrk = (t.acc.cpu.wrk ?? 0) + w.wrkUs;
    t.acc.requests += w.requests;
    t.acc.secs += w.requests / w.rps;
    t.acc.errors += w.errors;
    t.acc.p50.push(w.p50);
    t.acc.p99.push(w.p99);
    t.acc.rounds.push(w.rps);
  }
}
// The far rows: one run each, of half a main row's whole time (at least 3 s).
for (const t of far) {
  t.res = measured(t, Math.max(3, Math.round(SECS / 2)));
  for (const g of Object.keys(t.res.cpu)) t.res.cpu[g] /= t.res.requests;
}
const median = (a) => [...a].sort((x, y) => x - y)[a.length >> 1];
const rows = targets.map((t) => ({
  name: t.name, rps: t.acc.requests / t.acc.secs, p50: median(t.acc.p50), p99: Math.max(...t.acc.p99), errors: t.acc.errors,
  cpu: Object.fromEntries(Object.entries(t.acc.cpu).map(([g, us]) => [g, us / t.acc.requests])), rounds: t.acc.rounds,
}));
const roundRatios = (r) => r.rounds.map((x, k) => x / rows[0].rounds[k]);

// The database's own ceiling for the same two queries: pgbench, one
// transaction = the identity and the room query, prepared, over the
// unix socket, with lbauth's concurrency (one connection per worker)
// and with wrk's.  pgbench is the client here as lbauth is above, and
// neither nginx nor wrk runs: what PostgreSQL serves on this machine.
const pgb = [];
const PGBENCH = "/usr/lib/postgresql/15/bin/pgbench";	// postgresql-client-15, a dependency of postgresql-15
if (pg && !fs.existsSync(PGBENCH)) console.error(`bench sql: no ${PGBENCH}: no pgbench ceiling`);
else if (pg) {
  const script = path.join(dir, "pgbench.sql");
  fs.writeFileSync(script, `SELECT u.id, u.org, u.name FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.id = :sid AND s.expires > extract(epoch from now());
SELECT room AS pattern, access FROM room_members WHERE user_id = :uid AND room = :room;
`);
  for (const c of [WORKERS, CONNS]) {
    // The backends live as long as pgbench: their CPU is sampled
    // while it runs, from 1 s in to 1 s before its end.
    const child = spawn(PGBENCH, ["-n", "-M", "prepared", "-f", script, "-D", "sid=sid-ada", "-D", "uid=ada", "-D", "room=acme:doc-1",
      "-c", String(c), "-j", String(Math.min(c, 2)), "-T", String(Math.max(3, SECS)), "-h", pg.socketDir, "-p", String(pg.port), "-U", "app", "app"], { stdio: ["ignore", "pipe", "pipe"] });
    procs.push(child);
    let stdout = "", stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    const done = new Promise((r) => child.on("close", r));
    await sleep(1000);
    const before = sample(pg.proc.pid), t0 = process.hrtime.bigint();
    await sleep((Math.max(3, SECS) - 2) * 1000);
    const after = sample(pg.proc.pid), secs = Number(process.hrtime.bigint() - t0) / 1e9;
    await done;
    const tps = Number(/tps = ([\d.]+)/.exec(stdout)?.[1]);
    if (!Number.isFinite(tps)) { console.error("bench sql: pgbench:", stderr || stdout); break; }
    pgb.push({ conns: c, tps, pgCpuUs: spent(before, after) / (tps * secs) });
  }
}

// CGI starts: the JWT config against the SQLite one, and SQLite's own
// cost in a CGI run (sqlite-floor.c, built with and without its SQLite
// work): the bound of the CGI goal.
const bodyFile = path.join(dir, "body");
fs.writeFileSync(bodyFile, '{"room":"acme:doc-1"}');
const floorSrc = path.join(B, "sqlite-floor.c");
const sqliteLibs = execFileSync("cc", ["-print-file-name=libsqlite3.a"], { encoding: "utf8" }).includes("/")
  ? ["-Wl,-Bstatic", "-lsqlite3", "-Wl,-Bdynamic", "-lm", "-ldl", "-lpthread"] : ["-lsqlite3"];
// With the static archive, lib/sql-sqlite-omit.c leaves out the same
// extensions lbauth-sqlite.so does (Makefile), so the floor does the
// same SQLite work as the module.
const omit = sqliteLibs.length > 1 ? [path.join(ROOT, "lib/sql-sqlite-omit.c")] : [];
execFileSync("cc", ["-O2", "-DFLOOR_SQL", "-o", path.join(dir, "floor-sql"), floorSrc, ...omit, ...sqliteLibs]);
execFileSync("cc", ["-O2", "-o", path.join(dir, "floor-nosql"), floorSrc]);
const shq = (s) => `'${s.replaceAll("'", `'\\''`)}'`;
const queryOf = (key) => QUERIES("CAST(strftime('%s','now') AS INTEGER)").find((l) => l.startsWith(key)).replace(/^[a-z_]+ = /, "");
const floorArgv = [dbFile, queryOf("identity_query"), queryOf("room_query"), "sid-ada", "ada", "acme:doc-1"];
const floorArgs = floorArgv.map(shq).join(" ");
for (const f of ["floor-sql", "floor-nosql"])
  if (spawnSync(path.join(dir, f), floorArgv).status !== 0)
    throw new Error(`bench sql: ${f} did not find one row per query`);
// All through the same shell (for the stdin redirect), as bench.mjs
// does: its cost is in every figure.  One Cookie header serves both.
const both = `${targets[0].cookie}; ${targets[1].cookie}`;
const cgiEnv = { ...process.env, GATEWAY_INTERFACE: "CGI/1.1", REQUEST_METHOD: "POST", CONTENT_TYPE: "application/json", CONTENT_LENGTH: "21", HTTP_COOKIE: both };
// In ROUNDS rounds of 100 runs each, the commands' order reversed each
// round: hyperfine runs one command's runs, then the next one's, so a
// burst of load in one long run would land on one side only.
const cmds = [...targets.slice(0, 2).map((t) => `LBAUTH_CONFIG=${t.conf} ${LBAUTH} < ${bodyFile}`),
  ...["floor-sql", "floor-nosql"].map((f) => `${path.join(dir, f)} ${floorArgs} < ${bodyFile}`)];
const NAMES = ["jwt", "sqlite", "floorSql", "floorNoSql"];
const hfr = [];
for (let k = 0; k < ROUNDS; k++) {
  const order = k % 2 ? [3, 2, 1, 0] : [0, 1, 2, 3];
  const json = path.join(dir, `cgi${k}.json`);
  const hf = spawnSync("hyperfine", ["--warmup", "20", "--runs", "100", "--export-json", json, ...order.map((i) => cmds[i])],
    { encoding: "utf8", env: cgiEnv });
  try {
    const j = JSON.parse(fs.readFileSync(json, "utf8")).results;
    const r = {};
    order.forEach((c, i) => { r[NAMES[c]] = j[i]; });
    hfr.push(r);
  } catch { console.error(hf.stderr); break; }
}
let cgi = null;
if (hfr.length === ROUNDS) {
  const avg = (f) => hfr.reduce((a, r) => a + f(r), 0) / hfr.length;
  cgi = { jwtMs: avg((r) => r.jwt.mean) * 1000, sqliteMs: avg((r) => r.sqlite.mean) * 1000, jwtMedianMs: median(hfr.map((r) => r.jwt.median)) * 1000,
    sqliteMedianMs: median(hfr.map((r) => r.sqlite.median)) * 1000, rounds: hfr.map((r) => r.sqlite.mean / r.jwt.mean),
    floorSqlMs: avg((r) => r.floorSql.mean) * 1000, floorNoSqlMs: avg((r) => r.floorNoSql.mean) * 1000 };
  cgi.sqliteOwnMs = cgi.floorSqlMs - cgi.floorNoSqlMs;
  cgi.bound = (cgi.jwtMs + cgi.sqliteOwnMs) / cgi.jwtMs;
}

// The same four as instructions, counted by callgrind (deterministic,
// unlike time): one whole CGI run each.  valgrind's own system calls are
// outside lbauth's seccomp filter, so these runs use a copy of each
// config with sandbox = no.
let cgiInsns = null;
if (cgi && spawnSync("valgrind", ["--version"]).status === 0) {
  const count = (cmd) => {
    const out = path.join(dir, "cg.out");
    // "LBAUTH_CONFIG=... lbauth < body": the assignment before exec.
    const [, env, rest] = /^((?:[A-Z_]+=\S+ )*)(.*)$/.exec(cmd);
    const r = spawnSync("sh", ["-c", `${env}exec valgrind --tool=callgrind --callgrind-out-file=${out} ${rest} > /dev/null`],
      { encoding: "utf8", env: cgiEnv });
    const m = /Collected : (\d+)/.exec(r.stderr);
    if (r.status !== 0 || !m) throw new Error(`bench sql: callgrind of ${cmd}: ${r.stderr}`);
    return Number(m[1]);
  };
  const nosb = (conf) => { const c = conf.replace(/\.conf$/, ".nosandbox.conf"); fs.writeFileSync(c, fs.readFileSync(conf, "utf8") + "\nsandbox = no\n"); return c; };
  const ci = cmds.map((c, i) => (i < 2 ? c.replace(targets[i].conf, nosb(targets[i].conf)) : c));
  const [jwtI, sqliteI, floorSqlI, floorNoSqlI] = ci.map(count);
  cgiInsns = { jwt: jwtI, sqlite: sqliteI, floorSql: floorSqlI, floorNoSql: floorNoSqlI, sqliteOwn: floorSqlI - floorNoSqlI };
  cgiInsns.bound = (jwtI + cgiInsns.sqliteOwn) / jwtI;
}

const fmt = (n, d = 0) => (Number.isFinite(n) ? n.toFixed(d) : "-");
console.log(`\nSQL rows: ${WORKERS} workers per target, wrk ${CONNS} connections, ${ROUNDS} rounds of ${Math.max(1, Math.round(SECS / ROUNDS))} s taking turns, one nginx; load average ${fs.readFileSync("/proc/loadavg", "utf8").split(" ").slice(0, 3).join(" ")}`);
console.log("target".padEnd(50), "req/s".padStart(8), "p50 ms".padStart(7), "p99 ms".padStart(7), "errors".padStart(7), "/ JWT".padStart(7), "  CPU us/req: lbauth nginx postgres  wrk");
for (const r of rows)
  console.log(r.name.padEnd(50), fmt(r.rps).padStart(8), fmt(r.p50, 2).padStart(7), fmt(r.p99, 2).padStart(7), String(r.errors).padStart(7), fmt(r.rps / rows[0].rps, 2).padStart(7),
    fmt(r.cpu.lbauth).padStart(20), fmt(r.cpu.nginx).padStart(6), (r.cpu.postgres === undefined ? "-" : fmt(r.cpu.postgres)).padStart(9), fmt(r.cpu.wrk).padStart(5));
const rr = (r) => roundRatios(r).map((x) => fmt(x, 2)).join(" ");
console.log(`  SQLite / JWT req/s   ${fmt(rows[1].rps / rows[0].rps, 2)}   (target >= 0.8); by round ${rr(rows[1])}`);
if (rows[2]) console.log(`  pgsql / JWT req/s    ${fmt(rows[2].rps / rows[0].rps, 2)}   (target >= 0.6); by round ${rr(rows[2])}; ${SESSIONS} sessions in turn ${fmt(rows[3].rps / rows[0].rps, 2)}; over the unix socket ${fmt(rows[4].rps / rows[0].rps, 2)}, by :session ${fmt(rows[5].rps / rows[0].rps, 2)}`);
// With every core busy, req/s is about cores / CPU per request.  The
// PostgreSQL row's best case: lbauth's own SQL work free, nginx and wrk
// as in the JWT row, and only the server's CPU added.
const total = (r) => r.cpu.lbauth + r.cpu.nginx + r.cpu.wrk;
if (rows[2]) console.log(`  CPU per request (lbauth + nginx + wrk [+ postgres]): JWT ${fmt(total(rows[0]))} us, SQLite ${fmt(total(rows[1]))}, pgsql ${fmt(total(rows[2]))} + ${fmt(rows[2].cpu.postgres)} us; ` +
  `pgsql's bound with lbauth's SQL work free: ${fmt(total(rows[0]) / (total(rows[0]) + rows[2].cpu.postgres), 2)}`);
for (const b of pgb)
  console.log(`  pgbench, the same 2 queries (prepared, unix socket, ${String(b.conns).padStart(2)} connections): ${fmt(b.tps)} tx/s, postgres ${fmt(b.pgCpuUs)} us CPU/tx; / JWT ${fmt(b.tps / rows[0].rps, 2)}`);
if (far.length) {
  console.log(`PostgreSQL ${FAR_DELAY} ms away each way (tcpdelay.mjs), 2 workers, wrk ${CONNS} connections; one round trip per request ` +
    `(the room query by :user fused with the identity query, or by :session), but two for ${SESSIONS} sessions with a room query not fused:`);
  for (const t of far)
    console.log(t.name.padEnd(50), fmt(t.res.rps).padStart(8), fmt(t.res.p50, 2).padStart(7), fmt(t.res.p99, 2).padStart(7), String(t.res.errors).padStart(7),
      fmt(t.res.rps / far[0].res.rps, 2).padStart(7), `x request_threads = 1; CPU us/req lbauth ${fmt(t.res.cpu.lbauth)} postgres ${fmt(t.res.cpu.postgres)}`);
}
if (cgi) console.log(`  CGI: SQLite ${fmt(cgi.sqliteMs, 3)} ms, JWT ${fmt(cgi.jwtMs, 3)} ms (means of ${ROUNDS} x 100): ${fmt(cgi.sqliteMs / cgi.jwtMs, 2)}   (target <= 1.3); by round ${cgi.rounds.map((x) => fmt(x, 2)).join(" ")}; medians ${fmt(cgi.sqliteMedianMs, 3)} / ${fmt(cgi.jwtMedianMs, 3)} ms: ${fmt(cgi.sqliteMedianMs / cgi.jwtMedianMs, 2)}`);
if (cgi) console.log(`  CGI bound: SQLite's own work in a CGI run (sqlite-floor.c: ${fmt(cgi.floorSqlMs, 3)} ms with it, ${fmt(cgi.floorNoSqlMs, 3)} without) ${fmt(cgi.sqliteOwnMs, 3)} ms; ` +
  `(JWT + that) / JWT = ${fmt(cgi.bound, 2)}, the least any SQLite driver could reach; lbauth's own cost over it ${fmt(cgi.sqliteMs - cgi.jwtMs - cgi.sqliteOwnMs, 3)} ms`);
if (cgiInsns) console.log(`  CGI in instructions (callgrind, one run each): SQLite ${cgiInsns.sqlite}, JWT ${cgiInsns.jwt}: ${fmt(cgiInsns.sqlite / cgiInsns.jwt, 2)}; ` +
  `SQLite's own work ${cgiInsns.sqliteOwn} (sqlite-floor.c ${cgiInsns.floorSql} - ${cgiInsns.floorNoSql}): bound ${fmt(cgiInsns.bound, 2)}; lbauth's own over it ${cgiInsns.sqlite - cgiInsns.jwt - cgiInsns.sqliteOwn}`);
const out = path.join(path.dirname(B), "out");
fs.mkdirSync(out, { recursive: true });
fs.writeFileSync(path.join(out, "bench-sql.json"), JSON.stringify({ rows, pgbench: pgb, cgi, cgiInsns,
  far: far.map((t) => ({ name: t.name.trim(), threads: t.threads, delayMs: FAR_DELAY, ...t.res })) }, null, 1));
if (pg) await pg.stop();
process.exit(rows.some((r) => r.errors > 0) || far.some((t) => t.res.errors > 0) ? 1 : 0);
