// daemon.test.mjs: lbauth as a production FastCGI daemon behind a real
// nginx: the --workers master under concurrent load with nginx's
// fastcgi_keep_conn, a worker killed with SIGKILL under load, a key
// rotation reloaded with SIGHUP under load, a refused reload, a
// graceful stop, and two lbauth instances in one nginx upstream.

import { test, after, describe } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import http from "node:http";
import { createConnection } from "node:net";
import path from "node:path";
import { spawn, spawnSync, execFileSync } from "node:child_process";
import { jwtVerify, createLocalJWKSet, decodeProtectedHeader } from "jose";
import { LBAUTH, ROOT, makeSetup, startFcgi, startNginx, startMaster, children, ctl, stopAll, ownSeccompFilters, freePort, post, stopAndWait } from "./harness.mjs";

after(stopAll);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function alive(pid) {
  try { process.kill(pid, 0); return true; } catch { return false; }
}

// Sends requests over `connections` keep-alive connections until
// `until()` says stop (or `count` are done); counts statuses.
// A load never outlives maxMs, even if the test that started it failed
// before saying stop.
async function load(url, { connections = 32, count = Infinity, until = () => false, maxMs = 60000, cookie, body = "{}", onToken } = {}) {
  const deadline = Date.now() + maxMs;
  const agent = new http.Agent({ keepAlive: true, maxSockets: connections });
  const u = new URL(url);
  const res = { ok: 0, failed: 0, statuses: {}, errors: [] };
  let sent = 0;
  const one = () => new Promise((resolve) => {
    const req = http.request({ host: u.hostname, port: u.port, path: u.pathname, method: "POST", agent,
      headers: { "content-type": "application/json", "content-length": Buffer.byteLength(body), cookie } }, (r) => {
      const chunks = [];
      r.on("data", (d) => chunks.push(d));
      r.on("end", () => {
        res.statuses[r.statusCode] = (res.statuses[r.statusCode] ?? 0) + 1;
        if (r.statusCode === 200) {
          res.ok++;
          onToken?.(JSON.parse(Buffer.concat(chunks).toString()).token);
        } else res.failed++;
        resolve();
      });
    });
    req.on("error", (e) => { res.failed++; res.errors.push(e.code); resolve(); });
    req.end(body);
  });
  await Promise.all(Array.from({ length: connections }, async () => {
    while (sent < count && !until() && Date.now() < deadline) { sent++; await one(); }
  }));
  agent.destroy();
  return res;
}

// lbauth closes each FastCGI connection after its request (so that a
// kept connection can never pin a single-threaded worker).  nginx may
// then pick a cached connection just as lbauth closes it; nginx retries
// such a request only when told that POSTs may be retried, which is
// safe here: asking for a token twice has no side effect.
const RETRY = "fastcgi_next_upstream error timeout non_idempotent;";
const keepConn = { httpExtra: "", locationExtra: `fastcgi_keep_conn on; ${RETRY}` };

describe("--workers master behind nginx with fastcgi_keep_conn", () => {
  test("32 connections, 4000 requests, 2 workers: no errors, no stall", async () => {
    const s = makeSetup();
    const m = await startMaster(s, 2);
    const n = await startNginx(s, m, {
      pass: "lbauth_pool",
      httpExtra: `upstream lbauth_pool { server unix:${m.sock}; keepalive 16; }`,
      locationExtra: `fastcgi_keep_conn on; ${RETRY}`,
    });
    const t0 = Date.now();
    const r = await load(n.url, { connections: 32, count: 4000, cookie: `session=${s.cookie({ sub: "u1", org: "acme" })}` });
    const ms = Date.now() - t0;
    assert.equal(r.failed, 0, JSON.stringify(r));
    assert.equal(r.ok, 4000);
    assert.ok(ms < 30000, `took ${ms} ms`);
    assert.equal(m.workers().length, 2);
  });

  test("SIGKILL of a worker under load: replaced, at most its request in flight lost", async (t) => {
    const s = makeSetup();
    const m = await startMaster(s, 2);
    const n = await startNginx(s, m, keepConn);
    let stop = false;
    const running = load(n.url, { connections: 16, until: () => stop, cookie: `session=${s.cookie({ sub: "u1", org: "acme" })}` });
    t.after(() => { stop = true; });
    await sleep(400);
    const [victim] = m.workers();
    process.kill(victim, "SIGKILL");
    const t0 = Date.now();
    while (m.workers().length < 2 || m.workers().includes(victim)) {
      assert.ok(Date.now() - t0 < 3000, "no replacement worker");
      await sleep(20);
    }
    await sleep(1500);
    stop = true;
    const r = await running;
    assert.ok(r.ok > 500, JSON.stringify(r));
    assert.ok(r.failed <= 1, `failed ${r.failed}: ${JSON.stringify(r.statuses)} ${r.errors}`);
    assert.match(m.log(), new RegExp(`worker ${victim} killed by signal 9; starting another`));
  });

  test("SIGHUP with a rotated key under load: nothing fails; new kid; old tokens still verify", async (t) => {
    const s = makeSetup();
    const m = await startMaster(s, 2);
    const n = await startNginx(s, m, keepConn);
    const oldJwks = s.jwks();
    const oldKid = oldJwks.keys[0].kid;
    const tokens = [];
    let stop = false;
    const running = load(n.url, { connections: 16, until: () => stop, cookie: `session=${s.cookie({ sub: "u1", org: "acme" })}`, onToken: (t) => tokens.push(t) });
    t.after(() => { stop = true; });
    await sleep(400);
    // Rotate: a new signing key; the old one stays published.
    ctl(["keygen", "-o", path.join(s.dir, "sign2.key")]);
    const conf = fs.readFileSync(s.conf, "utf8").replace("signing_key_file = sign.key", "signing_key_file = sign2.key\npublished_key_files = sign.key");
    fs.writeFileSync(s.conf, conf);
    process.kill(m.pid, "SIGHUP");
    const t0 = Date.now();
    while (!/reloaded/.test(m.log())) { assert.ok(Date.now() - t0 < 3000); await sleep(20); }
    await sleep(800);
    stop = true;
    const r = await running;
    assert.equal(r.failed, 0, JSON.stringify(r));
    const newJwks = s.jwks();
    assert.equal(newJwks.keys.length, 2);
    const newKid = newJwks.keys[0].kid;
    assert.notEqual(newKid, oldKid);
    assert.equal(newJwks.keys[1].kid, oldKid);
    const kids = new Set(tokens.map((t) => decodeProtectedHeader(t).kid));
    assert.ok(kids.has(oldKid) && kids.has(newKid), [...kids].join(","));
    assert.equal(decodeProtectedHeader(tokens.at(-1)).kid, newKid);
    const set = createLocalJWKSet(newJwks);
    const first = tokens[0], last = tokens.at(-1);
    assert.equal(decodeProtectedHeader(first).kid, oldKid);
    await jwtVerify(first, set, { algorithms: ["EdDSA"] });
    await jwtVerify(last, set, { algorithms: ["EdDSA"] });
  });

  test("SIGHUP with --workers 200: the new generation is whole once the old one has gone", async () => {
    // The new generation is forked while the old one holds its slots
    // (at most 256): the rest come as old workers exit.
    const s = makeSetup();
    const m = await startMaster(s, 200, { timeoutMs: 30000 });
    const old = new Set(m.workers());
    assert.equal(old.size, 200);
    process.kill(m.pid, "SIGHUP");
    const t0 = Date.now();
    let now = [];
    while (Date.now() - t0 < 30000) {
      now = m.workers();
      if (now.length === 200 && now.every((w) => !old.has(w))) break;
      await sleep(100);
    }
    assert.equal(now.length, 200, m.log().split("\n").slice(-3).join("\n"));
    assert.ok(now.every((w) => !old.has(w)), "old workers left");
    const n = await startNginx(s, m);
    const r = await fetch(n.url, { method: "POST", headers: { "content-type": "application/json", cookie: `session=${s.cookie({ sub: "u1", org: "acme" })}` }, body: '{"room":"acme:doc"}' });
    assert.equal(r.status, 200);
  });

  test("a bad config on SIGHUP is refused and the old workers keep serving", async () => {
    const s = makeSetup();
    const m = await startMaster(s, 2);
    const n = await startNginx(s, m, keepConn);
    const before = m.workers();
    const cookie = `session=${s.cookie({ sub: "u1", org: "acme" })}`;
    fs.appendFileSync(s.conf, "token_ttl = forever\n");
    process.kill(m.pid, "SIGHUP");
    const t0 = Date.now();
    while (!/reload refused/.test(m.log())) { assert.ok(Date.now() - t0 < 3000); await sleep(20); }
    assert.match(m.log(), /lbauth\.conf:\d+: token_ttl is not a non-negative decimal number/);
    assert.deepEqual(m.workers(), before);
    const r = await load(n.url, { connections: 4, count: 50, cookie });
    assert.equal(r.ok, 50);
  });

  test("SIGTERM: in-flight requests finish, workers exit, the socket is removed", async (t) => {
    const s = makeSetup();
    const m = await startMaster(s, 2);
    const n = await startNginx(s, m, keepConn);
    const workers = m.workers();
    let stop = false;
    const running = load(n.url, { connections: 8, until: () => stop, cookie: `session=${s.cookie({ sub: "u1", org: "acme" })}` });
    t.after(() => { stop = true; });
    await sleep(300);
    process.kill(m.pid, "SIGTERM");
    const t0 = Date.now();
    while (!m.exited) { assert.ok(Date.now() - t0 < 5000, "master did not exit"); await sleep(20); }
    stop = true;
    const r = await running;
    assert.equal(m.code, 0);
    for (const w of workers) assert.equal(alive(w), false, `worker ${w} left running`);
    assert.equal(fs.existsSync(m.sock), false);
    // Requests after the stop fail at nginx (502); none before it did
    // with anything but a clean answer.
    assert.ok(r.ok > 0);
    assert.deepEqual(Object.keys(r.statuses).filter((k) => k !== "200" && k !== "502"), []);
  });
});

describe("two lbauth instances in one nginx upstream", () => {
  test("stopping one: requests keep succeeding through the other", async () => {
    const s = makeSetup();
    const a = await startFcgi(s);
    const s2 = { ...s, dir: fs.mkdtempSync(path.join(s.dir, "b-")) };
    const b = await startFcgi(s2);
    const n = await startNginx(s, a, {
      pass: "lbauth_pair",
      httpExtra: `upstream lbauth_pair { server unix:${a.sock} max_fails=1 fail_timeout=10s; server unix:${b.sock} max_fails=1 fail_timeout=10s; }`,
      locationExtra: "fastcgi_next_upstream error timeout;",
    });
    const cookie = `session=${s.cookie({ sub: "u1", org: "acme" })}`;
    let r = await load(n.url, { connections: 4, count: 200, cookie });
    assert.equal(r.ok, 200);
    assert.match(a.log(), /status=200/);
    assert.match(b.log(), /status=200/);
    a.stop();
    await sleep(200);
    r = await load(n.url, { connections: 4, count: 200, cookie });
    assert.equal(r.ok, 200, JSON.stringify(r));
  });
});

describe("nginx/site.conf as shipped", () => {
  // The server block users copy, run with only its addresses changed:
  // port 443 ssl -> a loopback port, /run/lbauth -> the test's socket,
  // /var/www/app -> the test's web root.
  async function startSite(s, sock) {
    const { freePort } = await import("./harness.mjs");
    const port = await freePort();
    const dir = path.join(s.dir, "site");
    fs.mkdirSync(path.join(dir, "www/.well-known"), { recursive: true });
    fs.writeFileSync(path.join(dir, "www/.well-known/jwks.json"), JSON.stringify(s.jwks()));
    const site = fs.readFileSync(path.join(path.dirname(LBAUTH), "nginx/site.conf"), "utf8")
      .replace("listen 443 ssl;", `listen 127.0.0.1:${port};`)
      .replaceAll("/run/lbauth/lbauth.sock", sock)
      .replace("root /var/www/app;", `root ${dir}/www;`)
      .replace("include fastcgi_params;", "include /etc/nginx/fastcgi_params;");
    assert.notEqual(site.indexOf(`127.0.0.1:${port}`), -1);
    fs.writeFileSync(path.join(dir, "site.conf"), site);
    const conf = `${process.getuid() === 0 ? "user root;" : ""}
daemon off; pid ${dir}/nginx.pid; error_log ${dir}/error.log info;
events { worker_connections 256; }
http {
  access_log off;
  client_body_temp_path ${dir}/body; fastcgi_temp_path ${dir}/fastcgi;
  proxy_temp_path ${dir}/proxy; uwsgi_temp_path ${dir}/uwsgi; scgi_temp_path ${dir}/scgi;
  include /etc/nginx/mime.types;
  include ${dir}/site.conf;
}`;
    fs.writeFileSync(path.join(dir, "nginx.conf"), conf);
    const child = spawn("nginx", ["-p", dir, "-c", path.join(dir, "nginx.conf"), "-e", path.join(dir, "error.log")], { stdio: ["ignore", "ignore", "inherit"] });
    after(() => { try { process.kill(child.pid, "SIGTERM"); } catch {} });
    const url = `http://127.0.0.1:${port}`;
    const t0 = Date.now();
    for (;;) {
      try { await fetch(url + "/.well-known/jwks.json"); break; } catch {}
      assert.ok(Date.now() - t0 < 5000, "nginx with site.conf did not start");
      await sleep(30);
    }
    return url;
  }

  test("tokens, the JWKS, JSON 429 past the rate limit, JSON 503 when lbauth is down", async () => {
    const s = makeSetup();
    const m = await startMaster(s, 2);
    const url = await startSite(s, m.sock);
    const cookie = `session=${s.cookie({ sub: "u1", org: "acme" })}`;
    const one = () => fetch(url + "/api/liveblocks-auth", { method: "POST", headers: { "content-type": "application/json", cookie }, body: "{}" });
    let r = await one();
    assert.equal(r.status, 200);
    const tok = (await r.json()).token;
    const jr = await fetch(url + "/.well-known/jwks.json");
    assert.equal(jr.status, 200);
    await jwtVerify(tok, createLocalJWKSet(await jr.json()), { algorithms: ["EdDSA"] });
    // A burst well over rate 10r/s + burst 20 from one address.
    const all = await Promise.all(Array.from({ length: 60 }, one));
    const limited = all.filter((x) => x.status === 429);
    assert.ok(limited.length > 0, "no request was rate limited");
    assert.ok(all.filter((x) => x.status === 200).length >= 20);
    const body = await limited[0].json();
    assert.equal(body.error, "rate_limited");
    assert.equal(limited[0].headers.get("content-type"), "application/json");
    // lbauth stopped: nginx's 502 becomes a JSON 503.
    m.stop();
    const t0 = Date.now();
    while (!m.exited) { assert.ok(Date.now() - t0 < 5000); await sleep(20); }
    await sleep(1100);  // let the rate limit refill
    r = await one();
    assert.equal(r.status, 503);
    assert.equal((await r.json()).error, "upstream_unavailable");
  });
});

// make SANITIZE=1 builds lbauth without the sandbox (cgi/sandbox.c:
// ASan/LSan need /proc and ptrace); the run says so as a skip.
const SANITIZED = ["1", "thread"].includes(process.env.SANITIZE);
describe("sandbox (seccomp)", { skip: SANITIZED && "sanitizer build: the sandbox is compiled out" }, () => {
  // Confined: lbauth's own filters (ownSeccompFilters: beyond a
  // container's).  A new worker confines itself right after FastCGI
  // set-up: wait for it.
  const confined = (pid) => ownSeccompFilters(pid) > 0;
  async function settled(pid) {
    const t0 = Date.now();
    while (!confined(pid) && Date.now() - t0 < 2000) await sleep(10);
    return confined(pid);
  }

  test("workers run confined (strict profile: local backend, built-in policy); the master does not", async () => {
    const s = makeSetup();
    const m = await startMaster(s, 2);
    for (const w of m.workers()) assert.ok(await settled(w), `worker ${w} is not confined`);
    assert.ok(!confined(m.pid), "the master is confined");
  });

  // libfcgi sets TCP_NODELAY on each connection from a TCP listener:
  // the strict profile allows that setsockopt() and no other.
  for (const host of ["127.0.0.1", "[::1]"]) {
    test(`a TCP listener (${host}) under the strict profile: served, no worker killed`, async () => {
      const s = makeSetup();
      const port = await freePort();
      const m = await startMaster(s, 2, { listen: `${host}:${port}` });
      for (const w of m.workers()) assert.ok(await settled(w), `worker ${w} is not confined`);
      const n = await startNginx(s, m, { pass: `${host}:${port}` });
      const cookie = `session=${s.cookie({ sub: "u1", org: "acme" })}`;
      for (let i = 0; i < 6; i++) {
        const r = await fetch(n.url, { method: "POST", headers: { "content-type": "application/json", cookie }, body: '{"room":"acme:doc"}' });
        assert.equal(r.status, 200, await r.text());
      }
      assert.doesNotMatch(m.log(), /killed by signal/);
    });
  }

  test("a cookie whose info has 60 keys: served under the strict profile (glibc's qsort asks sysinfo)", async () => {
    const s = makeSetup();
    const m = await startMaster(s, 1);
    const n = await startNginx(s, m);
    const info = Object.fromEntries(Array.from({ length: 60 }, (_, i) => [String(i), i]));
    const cookie = `session=${s.cookie({ sub: "u1", org: "acme", info })}`;
    const r = await fetch(n.url, { method: "POST", headers: { "content-type": "application/json", cookie }, body: '{"room":"acme:doc"}' });
    const text = await r.text();
    assert.equal(r.status, 200, text);
    const p = JSON.parse(Buffer.from(JSON.parse(text).token.split(".")[1], "base64url"));
    assert.equal(Object.keys(p.ui).length, 60);
    assert.doesNotMatch(m.log(), /killed by signal/);
  });

  test("sandbox = no leaves workers unconfined", async () => {
    const s = makeSetup({ conf: ["sandbox = no"] });
    const m = await startMaster(s, 1);
    await sleep(300);
    for (const w of m.workers()) assert.ok(!confined(w), `worker ${w} is confined`);
  });

  test("a forbidden system call kills the worker; the master replaces it; the endpoint keeps serving", async () => {
    const escaped = "/tmp/lbauth-sandbox-escaped";
    fs.rmSync(escaped, { force: true });
    const s = makeSetup({ conf: [`policy = ${path.join(path.dirname(LBAUTH), "tests/plugin/forbidden.so")}`] });
    const m = await startMaster(s, 2);
    const n = await startNginx(s, m);
    const cookie = `session=${s.cookie({ sub: "u1" })}`;
    const ask = (room) => fetch(n.url, { method: "POST", headers: { "content-type": "application/json", cookie }, body: JSON.stringify({ room }) });
    const before = m.workers();
    for (const w of before) assert.ok(await settled(w));
    const r = await ask("sandbox:execve");
    assert.equal(r.status, 502);		// nginx: the worker died mid-request
    assert.equal(fs.existsSync(escaped), false, "the program ran: no sandbox");
    const t0 = Date.now();
    while (!/killed by signal 31; starting another/.test(m.log())) {
      assert.ok(Date.now() - t0 < 3000, m.log());
      await sleep(20);
    }
    while (m.workers().length < 2) await sleep(20);
    for (let i = 0; i < 10; i++) assert.equal((await ask("team:doc")).status, 200);
  });
});

describe("systemd socket activation", () => {
  // systemd-socket-activate(1) binds the socket and starts lbauth with
  // LISTEN_FDS=1 and the socket at fd 3, as lbauth.socket + lbauth.service
  // do; lbauth --workers supervises workers on it.
  test("LISTEN_FDS: lbauth serves on the socket systemd passed, with its workers", async () => {
    const s = makeSetup();
    const sock = path.join(s.dir, "activated.sock");
    const child = spawn("systemd-socket-activate", ["-l", sock, LBAUTH, "--workers", "2", "--config", s.conf], {
      env: { PATH: process.env.PATH }, stdio: ["ignore", "ignore", "pipe"],
    });
    let err = "";
    child.stderr.on("data", (d) => (err += d));
    after(() => { try { process.kill(child.pid, "SIGTERM"); } catch {} });
    const t0 = Date.now();
    while (!fs.existsSync(sock)) { assert.ok(Date.now() - t0 < 5000, err); await sleep(20); }
    const n = await startNginx(s, { sock });
    // systemd-socket-activate starts lbauth on the first connection.
    const cookie = `session=${s.cookie({ sub: "u1", org: "acme" })}`;
    const r = await load(n.url, { connections: 4, count: 40, cookie });
    assert.equal(r.ok, 40, JSON.stringify(r) + err);
    assert.match(err, /master \d+ serving with 2 workers/);
    assert.equal(children(child.pid).length, 2);
  });
});

describe("--user/--group", () => {
  test("binds as root, serves as the given user, the socket owned by it", { skip: process.getuid() !== 0 && "needs root" }, async () => {
    const { setupCopyFor } = await import("./harness.mjs");
    const s = makeSetup();
    // Keys must belong to the user lbauth runs as: a www-data copy.
    const conf = setupCopyFor(s, "www-data");
    const sock = path.join(s.dir, "user.sock");
    const child = spawn(LBAUTH, ["--listen", `unix:${sock}`, "--workers", "2", "--user", "www-data", "--group", "www-data", "--socket-mode", "0660", "--config", conf], { env: { PATH: process.env.PATH }, stdio: ["ignore", "ignore", "pipe"] });
    let err = "";
    child.stderr.on("data", (d) => (err += d));
    after(() => { try { process.kill(child.pid, "SIGTERM"); } catch {} });
    const t0 = Date.now();
    while (children(child.pid).length < 2) { assert.ok(Date.now() - t0 < 5000, err); await sleep(20); }
    const uid = Number(execFileSync("id", ["-u", "www-data"], { encoding: "utf8" }));
    const gid = Number(execFileSync("id", ["-g", "www-data"], { encoding: "utf8" }));
    for (const pid of [child.pid, ...children(child.pid)]) {
      const st = fs.readFileSync(`/proc/${pid}/status`, "utf8");
      assert.match(st, new RegExp(`^Uid:\\s+${uid}\\s+${uid}\\s+${uid}\\s+${uid}$`, "m"), `pid ${pid}`);
      assert.match(st, new RegExp(`^Gid:\\s+${gid}\\s+${gid}\\s+${gid}\\s+${gid}$`, "m"));
    }
    const st = fs.statSync(sock);
    assert.equal(st.uid, uid);
    assert.equal(st.mode & 0o777, 0o660);
    const n = await startNginx(s, { sock });
    const r = await load(n.url, { connections: 2, count: 10, cookie: `session=${s.cookie({ sub: "u1", org: "acme" })}` });
    assert.equal(r.ok, 10, JSON.stringify(r) + err);
  });
  test("keys owned by root are refused after dropping to www-data", { skip: process.getuid() !== 0 && "needs root" }, async () => {
    const s = makeSetup();
    const r = spawnSync(LBAUTH, ["--listen", `unix:${path.join(s.dir, "x.sock")}`, "--workers", "1", "--user", "www-data", "--config", s.conf], { encoding: "utf8", timeout: 5000 });
    assert.equal(r.status, 1);
    // www-data cannot even open root's 0600 key file; either way the
    // refusal names it.
    assert.match(r.stderr, /(signing_key_file|cookie_secret_file): \/\S+: (Permission denied|is owned by uid 0)/);
  });
});

describe("--listen without --workers", () => {
  const cpus = os.cpus().length;	// online CPUs, as sysconf(_SC_NPROCESSORS_ONLN)
  // One per CPU for both: a liveblocks worker keeps many requests in
  // flight while they wait for the API.
  for (const [backend, per] of [["local", 1], ["liveblocks", 1]]) {
    test(`backend = ${backend}: ${per} worker(s) per CPU`, async () => {
      const s = backend === "local" ? makeSetup() : makeSetup({ backend, baseUrl: "http://127.0.0.1:9" });
      const sock = path.join(s.dir, "auto.sock");
      const child = spawn(LBAUTH, ["--listen", `unix:${sock}`, "--socket-mode", "0666", "--config", s.conf], { stdio: ["ignore", "ignore", "pipe"] });
      let err = "";
      child.stderr.on("data", (d) => (err += d));
      const t0 = Date.now();
      try {
        while (!/serving with \d+ workers/.test(err)) {
          assert.ok(Date.now() - t0 < 5000 && child.exitCode === null, err);
          await sleep(20);
        }
        assert.match(err, new RegExp(`serving with ${cpus * per} workers`));
        while (children(child.pid).length < cpus * per && Date.now() - t0 < 5000) await sleep(20);
        assert.equal(children(child.pid).length, cpus * per);
      } finally {
        child.kill("SIGTERM");
      }
    });
  }
});

describe("a unix socket another lbauth serves on", () => {
  // Binding over a live server's socket would leave it running but
  // unreachable; removing the path at stop would cut off whoever owns it
  // now.  Both are refused; a stale socket (its server gone) is reused.
  const body = JSON.stringify({ room: "acme:doc-1" });
  test("a second --listen on it is refused and the first keeps serving", async () => {
    const s = makeSetup();
    const a = await startMaster(s, 1);
    try {
      const r = spawnSync(LBAUTH, ["--listen", `unix:${a.sock}`, "--workers", "1", "--config", s.conf], { encoding: "utf8", timeout: 5000 });
      assert.notEqual(r.status, 0, "a second lbauth started on a live socket");
      assert.match(r.stderr, /a running server is listening on it/);
      const st = fs.lstatSync(a.sock);
      assert.ok(st.isSocket(), "the first server's socket is gone");
      const ng = await startNginx(s, a);
      try {
        const res = await post(ng.url, { body, cookie: `session=${s.cookie({ sub: "u1", org: "acme" })}` });
        assert.equal(res.status, 200);
      } finally { ng.stop(); }
    } finally { await stopAndWait(a); }
    assert.ok(!fs.existsSync(a.sock), "its own socket is removed at stop");
  });
  test("a stale socket is replaced; a stop leaves a socket it did not make", async () => {
    const s = makeSetup();
    const a = await startMaster(s, 1);
    const ws = a.workers();	// a live worker still holds the socket
    for (const p of [a.pid, ...ws]) process.kill(p, "SIGKILL");
    await a.exit;
    for (let t0 = Date.now(); ws.some(alive) && Date.now() - t0 < 5000;) await sleep(20);
    assert.ok(fs.lstatSync(a.sock).isSocket(), "a SIGKILLed master leaves its socket");
    const b = await startMaster(s, 1);	// the same path: master.sock
    const ino = fs.lstatSync(b.sock).ino;
    // Someone removes b's socket and a third lbauth takes the path.
    fs.unlinkSync(b.sock);
    const c = await startMaster(s, 1, { listen: `unix:${b.sock}` });
    const cino = fs.lstatSync(b.sock).ino;
    assert.notEqual(cino, ino);
    await stopAndWait(b);
    assert.ok(fs.existsSync(b.sock) && fs.lstatSync(b.sock).ino === cino, "stopping b removed c's socket");
    await stopAndWait(c);
    assert.ok(!fs.existsSync(b.sock));
  });
});

test("--workers without a socket is a usage error, not a CGI run", () => {
  const s = makeSetup();
  const r = spawnSync(LBAUTH, ["--workers", "2", "--config", s.conf], { input: "{}", encoding: "utf8", timeout: 5000 });
  assert.equal(r.status, 2);
  assert.match(r.stderr, /--workers needs a socket/);
  assert.equal(r.stdout, "");
});

// One raw FastCGI request: BEGIN_REQUEST, PARAMS, STDIN (RFC-less but
// fixed by the FastCGI 1.0 spec).
function fcgiRequest(params, body) {
  const rec = (type, content) => {
    const pad = (8 - (content.length % 8)) % 8;
    const h = Buffer.from([1, type, 0, 1, content.length >> 8, content.length & 255, pad, 0]);
    return Buffer.concat([h, content, Buffer.alloc(pad)]);
  };
  const len = (n) => (n < 128 ? Buffer.from([n]) : Buffer.from([0x80 | (n >> 24), (n >> 16) & 255, (n >> 8) & 255, n & 255]));
  const kv = Buffer.concat(Object.entries(params).map(([k, v]) => Buffer.concat([len(Buffer.byteLength(k)), len(Buffer.byteLength(v)), Buffer.from(k), Buffer.from(v)])));
  return Buffer.concat([rec(1, Buffer.from([0, 1, 0, 0, 0, 0, 0, 0])), rec(4, kv), rec(4, Buffer.alloc(0)), rec(5, Buffer.from(body)), rec(5, Buffer.alloc(0))]);
}
describe("closing FastCGI connections", () => {
  const net = () => import("node:net");

  test("a worker is free for the next connection as soon as it has answered (no lingering close)", async () => {
    const { createConnection } = await net();
    const s = makeSetup();
    const f = await startFcgi(s);	// one process: one request at a time
    const cookie = `session=${s.cookie({ sub: "u1", org: "acme" })}`;
    const params = { REQUEST_METHOD: "POST", CONTENT_TYPE: "application/json", CONTENT_LENGTH: "2", HTTP_COOKIE: cookie };
    // Client A reads its whole answer and EOF, but never closes.
    const a = createConnection({ path: f.sock, allowHalfOpen: true });
    const answerA = await new Promise((resolve) => {
      const chunks = [];
      a.on("data", (d) => chunks.push(d));
      a.on("end", () => resolve(Buffer.concat(chunks).toString("latin1")));
      a.write(fcgiRequest(params, "{}"));
    });
    assert.match(answerA, /Status: 200 OK/);
    // Client B must be served at once, not after A's 2 s linger.
    const t0 = Date.now();
    const b = createConnection(f.sock);
    const answerB = await new Promise((resolve) => {
      const chunks = [];
      b.on("data", (d) => chunks.push(d));
      b.on("end", () => resolve(Buffer.concat(chunks).toString("latin1")));
      b.write(fcgiRequest(params, "{}"));
    });
    const ms = Date.now() - t0;
    a.destroy();
    b.destroy();
    assert.match(answerB, /Status: 200 OK/);
    assert.ok(ms < 500, `the second connection waited ${ms} ms`);
  });
});

// Each idle worker waits for the listening socket in epoll with
// EPOLLEXCLUSIVE (cgi/accept.c), so that a connection wakes one of
// them.  With ppoll() every idle worker woke for each connection, and
// all but one went back to sleep with nothing to do.  The count is
// that of the workers' main threads' voluntary context switches
// (/proc/PID/status), which a sanitizer's own threads do not add to.
// Each request here costs the worker that serves it two: the wake-up
// for the connection, and the wait for its records, which the client
// writes once connected.  Before, it cost 2.8 to 3.0 with two idle
// workers.
describe("waiting for connections", () => {
  test("a connection wakes one idle worker, not every one", async () => {
    const s = makeSetup();
    const m = await startMaster(s, 2);
    await new Promise((r) => setTimeout(r, 300));	// both workers waiting
    const cookie = `session=${s.cookie({ sub: "u1", org: "acme" })}`;
    const req = fcgiRequest({ REQUEST_METHOD: "POST", CONTENT_TYPE: "application/json", CONTENT_LENGTH: "2", HTTP_COOKIE: cookie }, "{}");
    const pids = m.workers();
    assert.equal(pids.length, 2);
    const switches = () => pids.reduce((n, p) => n + Number(/^voluntary_ctxt_switches:\s+(\d+)/m.exec(fs.readFileSync(`/proc/${p}/status`, "utf8"))[1]), 0);
    const N = 100;
    const before = switches();
    for (let i = 0; i < N; i++)
      assert.match((await fcgiAsk(m.sock, req)).data, /Status: 200 OK/, `request ${i}`);
    await new Promise((r) => setTimeout(r, 100));
    const perRequest = (switches() - before) / N;
    assert.deepEqual(m.workers().sort(), [...pids].sort(), "the same two workers served throughout");
    assert.ok(perRequest < 2.5, `${perRequest.toFixed(2)} voluntary context switches per request in the two workers: an idle worker woke for a connection it did not take`);
  });
});

// A FastCGI connection to target (a unix socket's path, or { host,
// port }); ended() resolves once the server has closed it, with what it
// sent and how long after the connect.
function fcgiOpen(target) {
  const c = createConnection(typeof target === "string" ? { path: target, allowHalfOpen: true } : { ...target, allowHalfOpen: true });
  const chunks = [];
  const t0 = Date.now();
  c.on("error", () => {});
  c.on("data", (d) => chunks.push(d));
  const closed = new Promise((resolve) => {
    const done = () => resolve({ ms: Date.now() - t0, data: Buffer.concat(chunks).toString("latin1") });
    c.once("end", done);
    c.once("close", done);
  });
  c.ended = () => closed;
  return c;
}
async function fcgiAsk(target, bytes) {
  const c = fcgiOpen(target);
  c.write(bytes);
  const r = await c.ended();
  c.destroy();
  return r;
}

describe("a connection that sends its request slowly or never (request_timeout_ms)", () => {
  // libfcgi reads a connection's records with blocking reads: a peer
  // that connected and sent part of a request held the process (or the
  // request thread) that accepted it for good, and every other request
  // waited behind it.  Each such peer now has request_timeout_ms, from
  // its accept to the end of its input.
  const TIMEOUT = 600;
  const paramsOf = (s, len = "2") => ({ REQUEST_METHOD: "POST", CONTENT_TYPE: "application/json", CONTENT_LENGTH: len, HTTP_COOKIE: `session=${s.cookie({ sub: "u1", org: "acme" })}` });
  const END = 8;	// the empty FCGI_STDIN record that ends a request
  const stalls = {
    "after its first byte": (s) => ({ bytes: fcgiRequest(paramsOf(s), "{}").subarray(0, 1) }),
    "sending a byte every 50 ms": (s) => ({ bytes: fcgiRequest(paramsOf(s), "{}"), trickle: 50 }),
    "in the middle of its body": (s) => ({ bytes: fcgiRequest(paramsOf(s, "22"), '{"room":"acme:').subarray(0, -END) }),
    "after its body, before the record that ends it": (s) => ({ bytes: fcgiRequest(paramsOf(s), "{}").subarray(0, -END), mayAnswer: true }),
  };
  const kinds = {
    "serial worker, unix socket": async () => {
      const s = makeSetup({ conf: [`request_timeout_ms = ${TIMEOUT}`] });
      const f = await startFcgi(s);	// one process: one request at a time
      return { s, target: f.sock, ok: /Status: 200 OK/, log: () => f.log(), stop: () => f.stop() };
    },
    "serial worker, TCP": async () => {
      const s = makeSetup({ conf: [`request_timeout_ms = ${TIMEOUT}`] });
      const port = await freePort();
      const m = await startMaster(s, 1, { listen: `127.0.0.1:${port}` });
      return { s, target: { host: "127.0.0.1", port }, ok: /Status: 200 OK/, log: () => m.log(), stop: () => stopAndWait(m) };
    },
    "one request thread (backend = liveblocks)": async () => {
      // The API is a closed port: every answer is a quick 503.
      const s = makeSetup({ backend: "liveblocks", baseUrl: "http://127.0.0.1:9", conf: [`request_timeout_ms = ${TIMEOUT}`, "request_threads = 1"] });
      const m = await startMaster(s, 1);
      return { s, target: m.sock, ok: /Status: 503/, log: () => m.log(), stop: () => stopAndWait(m) };
    },
  };
  for (const [kind, start] of Object.entries(kinds)) {
    for (const [how, make] of Object.entries(stalls)) {
      test(`${kind}: a peer stalling ${how} is closed at the deadline, and the next is served`, { timeout: 15000 }, async () => {
        const w = await start();
        try {
          const { bytes, trickle, mayAnswer } = make(w.s);
          const a = fcgiOpen(w.target);
          let timer;
          if (trickle) {
            let i = 0;
            timer = setInterval(() => { if (i < bytes.length - 1 && !a.destroyed) a.write(bytes.subarray(i, ++i)); }, trickle);
          } else a.write(bytes);
          await sleep(50);
          const t0 = Date.now();
          const b = await fcgiAsk(w.target, fcgiRequest(paramsOf(w.s), "{}"));
          const waited = Date.now() - t0;
          const aEnd = await a.ended();
          clearInterval(timer);
          a.destroy();
          assert.match(b.data, w.ok, `the next request got: ${JSON.stringify(b.data.slice(0, 200))}`);
          assert.ok(aEnd.ms >= TIMEOUT - 20, `the stalled connection was closed after ${aEnd.ms} ms, before the deadline`);
          assert.ok(aEnd.ms < TIMEOUT + 1500, `the stalled connection was closed after ${aEnd.ms} ms`);
          assert.ok(waited < TIMEOUT + 1500, `the next request waited ${waited} ms`);
          if (!mayAnswer) assert.doesNotMatch(aEnd.data, /Status: 200/);
          // Its parameters were whole: it is answered, with the 408 the
          // client retries, not a 400 (body cut short) it gives up on.
          if (how === "in the middle of its body") assert.match(aEnd.data, /Status: 408 Request Timeout\r\n[^]*"error":"request_timeout"/);
          if (how === "after its first byte") assert.match(w.log(), new RegExp(`sent no whole request within request_timeout_ms \\(${TIMEOUT}\\): closed`));
        } finally { await w.stop(); }
      });
    }
  }
  test("a request that arrives in pieces within the deadline is answered", { timeout: 15000 }, async () => {
    const w = await kinds["serial worker, unix socket"]();
    try {
      const bytes = fcgiRequest(paramsOf(w.s), "{}");
      const c = fcgiOpen(w.target);
      const cut = [0, 20, 60, bytes.length];
      for (let i = 0; i + 1 < cut.length; i++) {
        c.write(bytes.subarray(cut[i], cut[i + 1]));
        await sleep(150);	// 300 ms in all, within 600
      }
      const r = await c.ended();
      c.destroy();
      assert.match(r.data, /Status: 200 OK/);
    } finally { await w.stop(); }
  });
});

describe("nginx passing a slow client's body through (fastcgi_request_buffering off)", () => {
  // The site config keeps request buffering on, so nginx reads the whole
  // body first; with it off, nginx connects at once and passes the body
  // on as the browser sends it, and a client that stalls mid-body (a
  // slow link, or slowloris) stalled the one serial worker behind it
  // until nginx's client_body_timeout (10 s), every other client with
  // it.  The worker's request_timeout_ms now ends that.
  test("a stalled body holds a serial worker for request_timeout_ms at most, and gets a 408; the next client is answered", { timeout: 20000 }, async () => {
    const TIMEOUT = 800;
    const s = makeSetup({ conf: [`request_timeout_ms = ${TIMEOUT}`] });
    const m = await startMaster(s, 1);	// one serial worker
    const n = await startNginx(s, m, { extra: `location = /unbuffered {
			include /etc/nginx/fastcgi_params;
			fastcgi_pass unix:${m.sock};
			fastcgi_request_buffering off;
			client_body_timeout 10s;
			fastcgi_read_timeout 10s;
		}` });
    const cookie = `session=${s.cookie({ sub: "u1", org: "acme" })}`;
    try {
      const body = JSON.stringify({ room: "acme:doc-1" });
      const slow = createConnection({ host: "127.0.0.1", port: n.port });
      slow.on("error", () => {});
      const slowAnswer = new Promise((resolve) => {
        let text = "";
        slow.on("data", (d) => { text += d.toString("latin1"); });
        slow.on("close", () => resolve(text));
      });
      const t0 = Date.now();
      slow.write(`POST /unbuffered HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\nCookie: ${cookie}\r\nConnection: close\r\n\r\n${body.slice(0, 5)}`);
      await sleep(150);	// nginx has connected and passed the first bytes on
      const r = await post(n.url, { body, cookie });
      const waited = Date.now() - t0;
      assert.equal(r.status, 200, r.body);
      assert.ok(waited < TIMEOUT + 1500, `the next client waited ${waited} ms behind the stalled one`);
      // The slow client is answered 408, which the Liveblocks client
      // retries (a 400 for a body cut short would make it give up).
      const timer = setTimeout(() => slow.destroy(), 5000);
      const text = await slowAnswer;
      clearTimeout(timer);
      assert.match(text, /^HTTP\/1\.1 408 /, text);
      assert.match(text, /\r\nRetry-After: 1\r\n/i, text);
      assert.match(text, /\{"error":"request_timeout","message":"[^"]+"\}/, text);
      assert.match(m.log(), /status=408 error=request_timeout /);
      assert.equal(m.workers().length, 1);
    } finally { await stopAndWait(m); }
  });
});

describe("FCGI_WEB_SERVER_ADDRS", () => {
  // libfcgi's list of the web servers that may connect over TCP, kept
  // now that lbauth accepts connections itself, and applied to IPv6
  // peers too (libfcgi let any IPv6 peer in).
  const ask = async (s, target) => fcgiAsk(target, fcgiRequest({ REQUEST_METHOD: "POST", CONTENT_TYPE: "application/json", CONTENT_LENGTH: "2", HTTP_COOKIE: `session=${s.cookie({ sub: "u1", org: "acme" })}` }, "{}"));
  for (const [list, host, served] of [
    ["127.0.0.2", "127.0.0.1", false],
    [" 10.1.2.3 , 127.0.0.1 ", "127.0.0.1", true],
    ["127.0.0.1", "::1", false],
    ["127.0.0.1,::1", "::1", true],
  ]) {
    test(`"${list}": a peer at ${host} is ${served ? "served" : "closed unanswered"}`, { timeout: 15000 }, async () => {
      const s = makeSetup();
      const port = await freePort();
      const m = await startMaster(s, 1, { listen: `${host.includes(":") ? `[${host}]` : host}:${port}`, env: { FCGI_WEB_SERVER_ADDRS: list } });
      try {
        const r = await ask(s, { host, port });
        if (served) assert.match(r.data, /Status: 200 OK/);
        else assert.equal(r.data, "", "a peer not in the list got an answer");
        // A refused peer does not stop the worker.
        if (!served) assert.equal(m.workers().length, 1);
      } finally { await stopAndWait(m); }
    });
  }
  test("an entry that is not an address stops the worker, naming it", { timeout: 15000 }, async () => {
    const s = makeSetup();
    const f = await startFcgi(s, { env: { FCGI_WEB_SERVER_ADDRS: "127.0.0.1,localhost" } }).catch((e) => ({ error: e }));
    if (!f.error) for (const t0 = Date.now(); !f.exited && Date.now() - t0 < 5000;) await sleep(20);
    const log = f.error ? String(f.error.message) : f.log();
    assert.ok(f.error || f.exited, "the worker kept running");
    assert.match(log, /FCGI_WEB_SERVER_ADDRS: "localhost" is not an IPv4 or IPv6 address/);
  });
});

describe("stop signals", () => {
  // libfcgi's own stop flag (FCGX_ShutdownPending), set from a signal
  // handler while it waited for an accepted connection's first bytes,
  // made libfcgi 2.4.2 poll and close the closed descriptor forever: the
  // worker spun at 100% CPU and never exited.  lbauth keeps the stop
  // signals blocked except while it waits for a connection (accept.c).
  for (const sig of ["SIGTERM", "SIGUSR1"]) {
    test(`${sig} while an accepted connection is silent: its request is answered, then the worker exits`, async () => {
      const s = makeSetup();
      const f = await startFcgi(s);
      const params = { REQUEST_METHOD: "POST", CONTENT_TYPE: "application/json", CONTENT_LENGTH: "2", HTTP_COOKIE: `session=${s.cookie({ sub: "u1", org: "acme" })}` };
      const c = createConnection({ path: f.sock, allowHalfOpen: true });
      await new Promise((resolve) => c.on("connect", resolve));
      await sleep(300);	// accepted; the worker waits for the first record
      process.kill(f.pid, sig);
      await sleep(300);
      const answer = await new Promise((resolve) => {
        const chunks = [];
        c.on("data", (d) => chunks.push(d));
        c.on("end", () => resolve(Buffer.concat(chunks).toString("latin1")));
        c.on("error", () => resolve(Buffer.concat(chunks).toString("latin1")));
        c.write(fcgiRequest(params, "{}"));
      });
      c.destroy();
      assert.match(answer, /Status: 200 OK/);
      const t0 = Date.now();
      while (!f.exited && Date.now() - t0 < 3000) await sleep(20);
      assert.ok(f.exited, `the worker did not exit after ${sig}`);
      assert.equal(f.child.exitCode, 0);
    });
  }

  // ppoll() delivers a pending signal only when no descriptor is ready:
  // with connections always waiting in the backlog, a worker took them
  // one after another and never saw its stop.  The lifecycle plugin
  // takes 10 ms a request, so 16 clients keep a serial worker's backlog
  // full.
  test("SIGTERM to a worker under steady overload: it stops within a second, load or not", { timeout: 20000 }, async () => {
    const s = makeSetup({ conf: [`policy = ${path.join(ROOT, "tests/plugin/lifecycle.so")}`] });
    const f = await startFcgi(s);	// one serial process
    const body = JSON.stringify({ room: "acme:doc-1" });
    const bytes = fcgiRequest({ REQUEST_METHOD: "POST", CONTENT_TYPE: "application/json", CONTENT_LENGTH: String(body.length), HTTP_COOKIE: `session=${s.cookie({ sub: "u1", org: "acme" })}` }, body);
    let stop = false, answered = 0;
    const clients = Array.from({ length: 16 }, async () => {
      while (!stop) {
        const r = await fcgiAsk(f.sock, bytes);
        if (/Status: 200 OK/.test(r.data)) answered++;
        else await sleep(5);	// refused once the worker is gone
      }
    });
    try {
      for (const t0 = Date.now(); answered < 50 && Date.now() - t0 < 10000;) await sleep(20);
      assert.ok(answered >= 50, `only ${answered} answers`);
      process.kill(f.pid, "SIGTERM");
      const t0 = Date.now();
      while (!f.exited && Date.now() - t0 < 3000) await sleep(10);
      assert.ok(f.exited, "the worker kept serving after SIGTERM");
      assert.ok(Date.now() - t0 < 1000, `it took ${Date.now() - t0} ms`);
      assert.equal(f.child.exitCode, 0);
    } finally {
      stop = true;
      await Promise.all(clients);
    }
  });

  test("SIGTERM with requests waiting in the backlog: they are answered (a bounded drain), then exit 0", { timeout: 20000 }, async () => {
    // Requests that nginx had written before the stop wait in the
    // listening socket's backlog; a worker that stopped at once left
    // them to be reset (nginx's 502).  It takes what is waiting for
    // 200 ms more; the steady-overload test above bounds the same drain.
    const s = makeSetup({ conf: [`policy = ${path.join(ROOT, "tests/plugin/lifecycle.so")}`] });
    const f = await startFcgi(s);	// one serial process, 10 ms a request
    const body = JSON.stringify({ room: "acme:doc-1" });
    const bytes = fcgiRequest({ REQUEST_METHOD: "POST", CONTENT_TYPE: "application/json", CONTENT_LENGTH: String(body.length), HTTP_COOKIE: `session=${s.cookie({ sub: "u1", org: "acme" })}` }, body);
    const conns = Array.from({ length: 6 }, () => { const c = fcgiOpen(f.sock); c.write(bytes); return c; });
    let first;
    const firstDone = new Promise((r) => { first = r; });
    const answers = conns.map((c) => c.ended().then((r) => { first(); c.destroy(); return r; }));
    await firstDone;
    process.kill(f.pid, "SIGTERM");
    const rs = await Promise.all(answers);
    const ok = rs.filter((r) => /Status: 200 OK/.test(r.data)).length;
    assert.equal(ok, rs.length, `${ok} of ${rs.length} answered`);
    const t0 = Date.now();
    while (!f.exited && Date.now() - t0 < 3000) await sleep(10);
    assert.ok(f.exited, "the worker did not exit");
    assert.equal(f.child.exitCode, 0);
  });

  test("SIGTERM to an idle worker: it exits at once with status 0", async () => {
    const s = makeSetup();
    const f = await startFcgi(s);
    await sleep(100);
    const t0 = Date.now();
    process.kill(f.pid, "SIGTERM");
    while (!f.exited && Date.now() - t0 < 3000) await sleep(10);
    assert.ok(f.exited, "the worker did not exit");
    assert.ok(Date.now() - t0 < 1000, `took ${Date.now() - t0} ms`);
    assert.equal(f.child.exitCode, 0);
  });

  test("SIGTERM to the master while nginx holds silent connections: all stop in time", async () => {
    const s = makeSetup();
    const m = await startMaster(s, 2);
    const idle = [];
    for (let i = 0; i < 4; i++) {
      const c = createConnection({ path: m.sock });
      c.on("error", () => {});
      idle.push(c);
    }
    await sleep(300);
    process.kill(m.pid, "SIGTERM");
    const t0 = Date.now();
    while (!m.exited && Date.now() - t0 < 8000) await sleep(20);
    for (const c of idle) c.destroy();
    assert.ok(m.exited, `master still running: ${m.log()}`);
    assert.equal(m.code, 0);
  });
});
