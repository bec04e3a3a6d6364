// concurrency.test.mjs: backend = liveblocks at a WAN round trip.  The
// real dev server behind tests/integ/delayproxy.mjs (which holds each
// API request and counts how many it holds at once), a real nginx, the
// --workers master: many requests in flight in one worker process, the
// max_inflight ceiling (503 with Retry-After, then normal service), a
// plugin's per-worker init/fini and serialized decide, reload, graceful
// stop and kill -9 with requests in flight, the sandbox on every thread,
// and the symbols the binary exports to plugins.
//
// Counts, not timings: "the proxy held >= 40 at once" shows concurrency
// whatever the machine's speed (make bench measures speed).

import { test, before, after, describe } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { spawn, execFileSync } from "node:child_process";
import { ROOT, LBAUTH, makeSetup, startNginx, startDevServer, startMaster, children, post, payload, cgi, stopAll } from "./harness.mjs";
import { startDelayProxy } from "./delayproxy.mjs";

const PLUGIN = (n) => path.join(ROOT, `tests/plugin/${n}.so`);
const SANITIZED = ["1", "thread"].includes(process.env.SANITIZE);
const SECCOMP = fs.existsSync(path.join(ROOT, "cgi/filter.h"));
// Stopped at the end of the file (an after() inside a before() hook
// would run as soon as that hook ends).
const masters = [], proxies = [];
after(async () => {
  for (const m of masters) m.stop();
  await Promise.all(masters.map((m) => m.exit));
  for (const p of proxies) await p.stop();
  stopAll();
});

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
async function until(cond, ms, what) {
  const t0 = Date.now();
  while (!(await cond())) {
    if (Date.now() - t0 > ms) throw new Error(`timed out: ${what}`);
    await sleep(20);
  }
}
function threads(pid) {
  try { return fs.readdirSync(`/proc/${pid}/task`).length; } catch { return 0; }
}

// lbauth --listen unix:... --workers n; stopped after the file.
// A liveblocks-backend setup behind a delay proxy in front of the dev server.
async function stack({ delayMs, workers = 1, conf = [], dev, wrap }) {
  const proxy = await startDelayProxy({ target: dev.url, delayMs });
  proxies.push(proxy);
  const s = makeSetup({ backend: "liveblocks", baseUrl: proxy.url, conf });
  const m = await startMaster(s, workers, { wrap });
  masters.push(m);
  const n = await startNginx(s, m);
  return { proxy, s, m, n };
}

const body = (room) => JSON.stringify({ room });

describe("one worker process, a 300 ms API", () => {
  let dev, st;
  before(async () => {
    dev = await startDevServer();
    st = await stack({ delayMs: 300, dev, conf: [`policy = ${PLUGIN("example")}`, "policy_arg = admins"] });
  });

  test("50 concurrent requests all get their own token; the API held >= 40 at once", async () => {
    const { proxy, s, m, n } = st;
    assert.equal(m.workers().length, 1);
    proxy.reset();
    // Each user its own group and room: an answer crossed between two
    // requests in flight (shared state) shows as a wrong uid or room.
    const rs = await Promise.all(Array.from({ length: 50 }, (_, i) =>
      post(n.url, { body: body(`g${i}:doc`), cookie: `session=${s.cookie({ sub: `u${i}`, groups: [`g${i}`] })}` })));
    rs.forEach((r, i) => {
      assert.equal(r.status, 200, r.body);
      const p = payload(r.json.token);
      assert.equal(p.uid, `u${i}`);
      assert.deepEqual(Object.keys(p.perms), [`g${i}:doc`]);
    });
    const st2 = proxy.stats();
    assert.ok(st2.maxInflight >= 40, `the API saw at most ${st2.maxInflight} requests at once`);
    assert.equal(st2.requests, 50);
    // All of it in the one worker: still the same process.
    assert.equal(m.workers().length, 1);
    // The worker's threads: request threads and the upstream thread.
    assert.ok(threads(m.workers()[0]) >= 2, `${threads(m.workers()[0])} threads`);
  });

  test("the example plugin under concurrency: grants and denials stay per request", async () => {
    const { s, n } = st;
    const rs = await Promise.all(Array.from({ length: 40 }, (_, i) => {
      const member = i % 2 === 0;
      return post(n.url, { body: body(`t${i}:doc`), cookie: `session=${s.cookie({ sub: `w${i}`, groups: member ? [`t${i}`] : ["other"] })}` });
    }));
    rs.forEach((r, i) => {
      if (i % 2 === 0) {
        assert.equal(r.status, 200, r.body);
        assert.equal(payload(r.json.token).uid, `w${i}`);
      } else {
        assert.equal(r.status, 403, r.body);
        assert.equal(r.json.error, "forbidden");
      }
    });
  });
});

describe("a peer that connects and stalls", () => {
  // libfcgi reads a new connection's first records with blocking reads:
  // the thread that accepted it waits, the worker's others serve on.
  test("holds the one thread that accepted it, not the worker", async () => {
    const dev = await startDevServer();
    const { s, m, n } = await stack({ delayMs: 20, dev });
    const { createConnection } = await import("node:net");
    const peer = createConnection(m.sock);
    await new Promise((r, j) => { peer.on("connect", r); peer.on("error", j); });
    peer.write(Buffer.from([1]));	// the first byte of a record header
    await sleep(300);
    try {
      const asks = Promise.all(Array.from({ length: 6 }, (_, i) =>
        post(n.url, { body: body(`acme:d${i}`), cookie: `session=${s.cookie({ sub: `u${i}`, org: "acme" })}` })));
      const rs = await Promise.race([asks, sleep(8000).then(() => null)]);
      assert.ok(rs !== null, "no answer within 8 s: the stalled peer holds the worker");
      for (const r of rs) assert.equal(r.status, 200, r.body);
    } finally {
      peer.destroy();
    }
  });
});

describe("out of file descriptors", () => {
  // Each request in flight holds descriptors (its FastCGI connection,
  // its API connection): with 48 at most, 60 at once run out.  accept()
  // fails with EMFILE; the worker waits for requests to end, and serves
  // the rest from the backlog.
  test("the worker waits and serves on; it never exits", { skip: !fs.existsSync("/usr/bin/prlimit") && "no prlimit (util-linux)" }, async () => {
    const dev = await startDevServer();
    const { s, m, n } = await stack({ delayMs: 1000, dev, wrap: ["prlimit", "--nofile=48", "--"] });
    const [worker] = m.workers();
    const rs = await Promise.all(Array.from({ length: 60 }, (_, i) =>
      post(n.url, { body: body(`acme:f${i}`), cookie: `session=${s.cookie({ sub: `u${i}`, org: "acme" })}` })));
    // A request whose API call found no descriptor either gets the
    // transient 503 with Retry-After; none is lost.
    for (const r of rs) {
      assert.ok(r.status === 200 || (r.status === 503 && r.headers["retry-after"]), `${r.status} ${r.body}`);
    }
    assert.match(m.log(), /accept: Too many open files: waiting for requests in flight to end/);
    assert.doesNotMatch(m.log(), /starting another/);
    assert.deepEqual(m.workers(), [worker]);
    // And it serves on, the same process.
    for (let i = 0; i < 4; i++) {
      const r = await post(n.url, { body: body("acme:after"), cookie: `session=${s.cookie({ sub: "late", org: "acme" })}` });
      assert.equal(r.status, 200, r.body);
    }
    assert.deepEqual(m.workers(), [worker]);
  });
});

describe("overload", () => {
  let dev;
  before(async () => { dev = await startDevServer(); });

  test("past max_inflight: quick 503 JSON with Retry-After; then normal service", async () => {
    const { proxy, s, n } = await stack({ delayMs: 1000, dev, conf: ["max_inflight = 5"] });
    const cookie = `session=${s.cookie({ sub: "ada", org: "acme" })}`;
    proxy.reset();
    const rs = await Promise.all(Array.from({ length: 30 }, () => post(n.url, { body: body("acme:doc"), cookie })));
    const by = {};
    for (const r of rs) by[r.status] = (by[r.status] ?? 0) + 1;
    assert.deepEqual(Object.keys(by).sort(), ["200", "503"], JSON.stringify(by));
    assert.ok(by[200] >= 1 && by[503] >= 15, JSON.stringify(by));
    for (const r of rs.filter((x) => x.status === 503)) {
      assert.equal(r.headers["retry-after"], "1");
      assert.equal(r.headers["content-type"], "application/json");
      assert.equal(r.json.error, "upstream_unavailable", r.body);
      assert.match(r.json.message, /Too many requests/);
    }
    // The ceiling is a count: never more than 5 at the API at once.
    assert.ok(proxy.stats().maxInflight <= 5, JSON.stringify(proxy.stats()));
    // After the burst, normal service.
    for (let i = 0; i < 5; i++) {
      const r = await post(n.url, { body: body("acme:doc"), cookie });
      assert.equal(r.status, 200, r.body);
    }
  });

  test("an API slower than upstream_timeout_ms: 503 JSON with Retry-After", async () => {
    const { s, n } = await stack({ delayMs: 1500, dev, conf: ["upstream_timeout_ms = 200"] });
    const cookie = `session=${s.cookie({ sub: "ada", org: "acme" })}`;
    const rs = await Promise.all(Array.from({ length: 5 }, () => post(n.url, { body: body("acme:doc"), cookie })));
    for (const r of rs) {
      assert.equal(r.status, 503, r.body);
      assert.equal(r.headers["retry-after"], "1");
      assert.equal(r.json.error, "upstream_unavailable");
      assert.match(r.json.message, /Could not reach http:\/\/127\.0\.0\.1:\d+\/v2\/authorize-user/);
    }
  });
});

describe("a plugin's life cycle in the workers (lifecycle.so), requests in flight", () => {
  let dev;
  before(async () => { dev = await startDevServer(); });
  const conf = [`policy = ${PLUGIN("lifecycle")}`];
  const cookie = (s, i) => `session=${s.cookie({ sub: `u${i}` })}`;

  test("init once in the master, worker_init in each worker; a serial decide is never entered twice at once", async () => {
    const { s, m, n } = await stack({ delayMs: 100, workers: 2, dev, conf });
    const rs = await Promise.all(Array.from({ length: 30 }, (_, i) => post(n.url, { body: body(`r${i}`), cookie: cookie(s, i) })));
    for (const r of rs) assert.equal(r.status, 200, r.body);
    const log = m.log();
    assert.doesNotMatch(log, /lifecycle: overlap/);
    assert.equal([...log.matchAll(new RegExp(`lifecycle: init pid=${m.pid}\\b`, "g"))].length, 1, log);
    for (const w of m.workers()) assert.match(log, new RegExp(`lifecycle: worker_init pid=${w}\\b`));
    assert.doesNotMatch(log, /lifecycle: worker_fini/);
  });

  test("SIGHUP with requests in flight: all answered; old workers run worker_fini, new ones worker_init", async () => {
    const { proxy, s, m, n } = await stack({ delayMs: 600, workers: 2, dev, conf });
    const old = m.workers();
    proxy.reset();
    const running = Promise.all(Array.from({ length: 20 }, (_, i) => post(n.url, { body: body(`h${i}`), cookie: cookie(s, i) })));
    await until(() => proxy.stats().inflight >= 10, 10000, "requests in flight");
    process.kill(m.pid, "SIGHUP");
    const rs = await running;
    for (const r of rs) assert.equal(r.status, 200, r.body);
    await until(() => old.every((w) => !m.workers().includes(w)) && m.workers().length === 2, 10000, "the old workers to exit");
    const log = m.log();
    for (const w of old) assert.match(log, new RegExp(`lifecycle: worker_fini pid=${w}\\b`), log);
    for (const w of m.workers()) assert.match(log, new RegExp(`lifecycle: worker_init pid=${w}\\b`), log);
    // The master dropped the old configuration (fini) and loaded the new one (init).
    assert.match(log, new RegExp(`lifecycle: fini pid=${m.pid}\\b`));
    assert.equal([...log.matchAll(new RegExp(`lifecycle: init pid=${m.pid}\\b`, "g"))].length, 2);
    const r = await post(n.url, { body: body("after"), cookie: cookie(s, 99) });
    assert.equal(r.status, 200, r.body);
  });

  test("SIGTERM with requests in flight in every thread: all answered, then worker_fini, exit 0", async () => {
    const { proxy, s, m, n } = await stack({ delayMs: 600, workers: 2, dev, conf });
    const workers = m.workers();
    proxy.reset();
    const running = Promise.all(Array.from({ length: 24 }, (_, i) => post(n.url, { body: body(`t${i}`), cookie: cookie(s, i) })));
    await until(() => proxy.stats().inflight >= 12, 10000, "requests in flight");
    process.kill(m.pid, "SIGTERM");
    const rs = await running;
    for (const r of rs) assert.equal(r.status, 200, r.body);
    await m.exit;
    assert.equal(m.code, 0);
    const log = m.log();
    for (const w of workers) assert.match(log, new RegExp(`lifecycle: worker_fini pid=${w}\\b`), log);
    assert.match(log, /master \d+ stopped/);
  });
});

describe("kill -9 of a busy worker", () => {
  let dev;
  before(async () => { dev = await startDevServer(); });

  test("its requests in flight fail as 502; the master replaces it; service goes on", async () => {
    const { proxy, s, m, n } = await stack({ delayMs: 800, workers: 1, dev, conf: [] });
    const cookie = `session=${s.cookie({ sub: "ada", org: "acme" })}`;
    const [victim] = m.workers();
    proxy.reset();
    const running = Promise.all(Array.from({ length: 20 }, () => post(n.url, { body: body("acme:doc"), cookie })));
    await until(() => proxy.stats().inflight >= 10, 10000, "requests in flight");
    process.kill(victim, "SIGKILL");
    const rs = await running;
    for (const r of rs) assert.ok(r.status === 200 || r.status === 502, `${r.status} ${r.body}`);
    assert.ok(rs.some((r) => r.status === 502), "no request was lost with the worker?");
    await until(() => m.workers().length === 1 && !m.workers().includes(victim), 5000, "a replacement worker");
    assert.match(m.log(), new RegExp(`worker ${victim} killed by signal 9; starting another`));
    const after2 = await Promise.all(Array.from({ length: 10 }, () => post(n.url, { body: body("acme:doc"), cookie })));
    for (const r of after2) assert.equal(r.status, 200, r.body);
  });
});

describe("a worker that cannot start", () => {
  test("worker_init fails: the reason is logged, the worker exits, and the master's restarts are paced", async () => {
    const dev = await startDevServer();
    const proxy = await startDelayProxy({ target: dev.url, delayMs: 0 });
    proxies.push(proxy);
    const s = makeSetup({ backend: "liveblocks", baseUrl: proxy.url, conf: [`policy = ${PLUGIN("lifecycle")}`, "policy_arg = fail-worker-init"] });
    const sock = path.join(s.dir, "master.sock");
    const logFile = path.join(s.dir, "master.log");
    const log = fs.openSync(logFile, "a");
    const child = spawn(LBAUTH, ["--listen", `unix:${sock}`, "--workers", "1", "--config", s.conf], { env: { PATH: process.env.PATH }, stdio: ["ignore", log, log] });
    fs.closeSync(log);
    const m = { pid: child.pid, exited: false, stop() { if (!m.exited) try { process.kill(child.pid, "SIGTERM"); } catch {} } };
    m.exit = new Promise((r) => child.on("exit", () => { m.exited = true; r(); }));
    masters.push(m);
    await sleep(3000);
    const text = fs.readFileSync(logFile, "utf8");
    assert.match(text, /policy lifecycle: worker init failed: asked to fail/);
    const starts = [...text.matchAll(/lifecycle: worker_init pid=/g)].length;
    // One pause of a second per restart: a handful in 3 s, not a spin.
    assert.ok(starts >= 2 && starts <= 5, `${starts} worker starts in 3 s:\n${text}`);
    assert.match(text, /exited with 1; starting another/);
  });
});

describe("the sandbox covers every thread", { skip: (SANITIZED && "sanitizer build: the sandbox is compiled out") || (!SECCOMP && "built without seccomp") }, () => {
  test("a thread a plugin started before the sandbox is killed when it calls execve", async () => {
    const dev = await startDevServer();
    const { s, m, n } = await stack({ delayMs: 0, workers: 1, dev, conf: [`policy = ${PLUGIN("lifecycle")}`, "policy_arg = exec-thread"] });
    const cookie = `session=${s.cookie({ sub: "ada" })}`;
    const [victim] = m.workers();
    let r = await post(n.url, { body: body("ok:1"), cookie });
    assert.equal(r.status, 200, r.body);
    r = await post(n.url, { body: body("exec:now"), cookie });
    assert.equal(r.status, 502, r.body);
    await until(() => m.log().includes(`worker ${victim} killed by signal 31`), 5000, "SIGSYS in the log");
    assert.doesNotMatch(m.log(), /lifecycle: execve-returned/);
    await until(() => m.workers().length === 1 && !m.workers().includes(victim), 5000, "a replacement worker");
    r = await post(n.url, { body: body("ok:2"), cookie });
    assert.equal(r.status, 200, r.body);
  });
});

describe("what a plugin sees of the binary", () => {
  test("nm -D: the binary defines only lbauth_* (and libc's copy-relocated data)", () => {
    const out = execFileSync("nm", ["-D", "--defined-only", LBAUTH], { encoding: "utf8" });
    const names = out.trim().split("\n").map((l) => l.trim().split(/\s+/).pop());
    assert.ok(names.includes("lbauth_session_allow"), out);
    // __tsan_default_options: only in a "make tsan" build (cgi/lbauth.dynlist).
    const foreign = names.filter((x) => !x.startsWith("lbauth_") && !/@GLIBC_/.test(x) &&
      !(process.env.SANITIZE === "thread" && x === "__tsan_default_options"));
    assert.deepEqual(foreign, [], out);
    for (const x of ["json_tokener_parse", "sodium_init", "FCGX_Accept_r"]) assert.ok(!names.includes(x), x);
  });

  test("a plugin linked with its own json-c binds to it and works", async () => {
    const s = makeSetup({ conf: [`policy = ${PLUGIN("ownjson")}`, 'policy_arg = {"room": "ok:1"}'] });
    const cookie = `session=${s.cookie({ sub: "ada" })}`;
    let r = await cgi(s, { body: body("ok:1"), cookie });
    assert.equal(r.status, 200, r.stderr + r.body);
    assert.deepEqual(payload(r.json.token).perms, { "ok:1": ["*:write"] });
    r = await cgi(s, { body: body("no:1"), cookie });
    assert.equal(r.status, 403, r.stderr + r.body);
  });

  test("CGI: one process runs init, worker_init, worker_fini and fini, in order", async () => {
    const s = makeSetup({ conf: [`policy = ${PLUGIN("lifecycle")}`] });
    const r = await cgi(s, { body: body("a:1"), cookie: `session=${s.cookie({ sub: "ada" })}` });
    assert.equal(r.status, 200, r.stderr + r.body);
    const hooks = [...r.stderr.matchAll(/lifecycle: (\w+) pid=/g)].map((x) => x[1]);
    assert.deepEqual(hooks, ["init", "worker_init", "worker_fini", "fini"]);
  });
});
