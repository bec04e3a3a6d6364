// liveblocks.test.mjs: backend = liveblocks, end to end with the real
// Liveblocks dev server (npm "liveblocks", run by bun) and the real
// @liveblocks/client over WebSockets ("ws"): the token lbauth gets from
// the dev server admits the user to the room with the right id, info
// and rights.  Then conformance with @liveblocks/node (the same API
// request, byte for byte, for the same session) and the upstream's
// faults.

import { test, before, after, describe } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import http from "node:http";
import https from "node:https";
import path from "node:path";
import WebSocket from "ws";
import { createClient } from "@liveblocks/client";
import { Liveblocks } from "@liveblocks/node";
import { ROOT, makeSetup, startFcgi, startNginx, startDevServer, post, payload, cgi, tmpdir, stopAll, ownSeccompFilters, makeTestCA } from "./harness.mjs";

const EXAMPLE = path.join(ROOT, "tests/plugin/example.so");
after(stopAll);

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
async function until(cond, ms, what) {
  const t0 = Date.now();
  while (!(await cond())) {
    if (Date.now() - t0 > ms) throw new Error(`timed out: ${what}`);
    await sleep(25);
  }
}

// A client as a browser app makes it: authEndpoint on our nginx, the
// session cookie sent with every auth request.
function clientFor(setup, nginx, dev, claims, calls = []) {
  const cookie = `session=${setup.cookie(claims)}`;
  return createClient({
    authEndpoint: nginx.url,
    baseUrl: dev.url,
    polyfills: {
      WebSocket,
      fetch: (url, init = {}) => {
        calls.push(String(url));
        const h = new Headers(init.headers);
        h.set("cookie", cookie);
        return fetch(url, { ...init, headers: h });
      },
    },
  });
}

async function connected(room) {
  await until(() => room.getStatus() === "connected" && room.getSelf() !== null, 10000, "room connection");
  return room.getSelf();
}

describe("access tokens from the dev server, through nginx", () => {
  let dev, s, fcgi, nginx;
  const left = [];
  before(async () => {
    dev = await startDevServer();
    s = makeSetup({ backend: "liveblocks", baseUrl: dev.url, conf: [`policy = ${EXAMPLE}`, "policy_arg = admins"] });
    fcgi = await startFcgi(s);
    nginx = await startNginx(s, fcgi);
  });
  after(() => { for (const l of left) l(); });

  test("the dev server's token admits the user: getSelf() has the cookie's sub and userInfo", async () => {
    const c = clientFor(s, nginx, dev, { sub: "ada", groups: ["design"], info: { name: "Ada", color: "#e11" } });
    const { room, leave } = c.enterRoom("design:doc-1", { initialPresence: {}, initialStorage: {} });
    left.push(leave);
    const self = await connected(room);
    assert.equal(self.id, "ada");
    assert.deepEqual(self.info, { name: "Ada", color: "#e11" });
    assert.equal(self.canWrite, true);
  });

  test("a READ_ACCESS user is admitted read-only and cannot change storage", async () => {
    const writer = clientFor(s, nginx, dev, { sub: "ada2", groups: ["design"], name: "Ada" });
    const w = writer.enterRoom("design:doc-2", { initialPresence: {}, initialStorage: {} });
    left.push(w.leave);
    await connected(w.room);
    const { root } = await w.room.getStorage();
    root.set("count", 1);
    await until(() => w.room.getStorageStatus() === "synchronized", 5000, "storage sync");

    const reader = clientFor(s, nginx, dev, { sub: "vic", groups: ["design:viewer"], name: "Vic" });
    const r = reader.enterRoom("design:doc-2", { initialPresence: {} });
    left.push(r.leave);
    const self = await connected(r.room);
    assert.equal(self.id, "vic");
    assert.deepEqual(self.info, { name: "Vic" });
    assert.equal(self.canWrite, false);
    const rs = await r.room.getStorage();
    assert.equal(rs.root.get("count"), 1);
    try { rs.root.set("count", 99); } catch { /* the client may refuse locally */ }
    await sleep(1000);
    assert.equal(root.get("count"), 1, "a read-only user's write reached the writer");
  });

  test("a user without access is refused: lbauth's 403 makes the client give up", async () => {
    const calls = [];
    const c = clientFor(s, nginx, dev, { sub: "eve", groups: ["sales"] }, calls);
    const { room, leave } = c.enterRoom("design:doc-1", { initialPresence: {} });
    left.push(leave);
    const errors = [];
    room.subscribe("error", (e) => errors.push(e));
    await until(() => calls.length > 0, 5000, "the auth request");
    await sleep(2500);
    assert.notEqual(room.getStatus(), "connected");
    assert.equal(calls.length, 1, "the client retried a 403");
    assert.ok(errors.length >= 1);
  });

  test("the answer is the dev server's token, passed through", async () => {
    const r = await post(nginx.url, { body: '{"room":"design:x"}', cookie: `session=${s.cookie({ sub: "ada", groups: ["design"] })}` });
    assert.equal(r.status, 200, r.body);
    const p = payload(r.json.token);
    assert.equal(p.pid, "localdev");
    assert.equal(p.uid, "ada");
    assert.deepEqual(p.perms, { "design:x": ["*:write"] });
  });
});

describe("ID tokens from the dev server", () => {
  let dev, s, fcgi, nginx;
  const left = [];
  before(async () => {
    dev = await startDevServer();
    s = makeSetup({ backend: "liveblocks", baseUrl: dev.url, conf: ["token = id"] });
    fcgi = await startFcgi(s);
    nginx = await startNginx(s, fcgi);
    // Rooms and their accesses live in Liveblocks with ID tokens.
    for (const body of [
      { id: "team:by-user", defaultAccesses: [], usersAccesses: { ida: ["room:write"] } },
      { id: "team:by-group", defaultAccesses: [], groupsAccesses: { staff: ["room:write"] } },
      { id: "team:closed", defaultAccesses: [] },
    ]) {
      const r = await fetch(`${dev.url}/v2/rooms`, { method: "POST", headers: { authorization: "Bearer sk_localdev", "content-type": "application/json" }, body: JSON.stringify(body) });
      assert.ok(r.status < 300, `create room: ${r.status} ${await r.text()}`);
    }
  });
  after(() => { for (const l of left) l(); });

  test("a user with access by id enters; getSelf() has id and info", async () => {
    const c = clientFor(s, nginx, dev, { sub: "ida", name: "Ida" });
    const { room, leave } = c.enterRoom("team:by-user", { initialPresence: {} });
    left.push(leave);
    const self = await connected(room);
    assert.equal(self.id, "ida");
    assert.deepEqual(self.info, { name: "Ida" });
  });

  test("a user with access through a group enters", async () => {
    const c = clientFor(s, nginx, dev, { sub: "gus", groups: ["staff"], name: "Gus" });
    const { room, leave } = c.enterRoom("team:by-group", { initialPresence: {} });
    left.push(leave);
    assert.equal((await connected(room)).id, "gus");
  });

  test("a user without access is not admitted", async () => {
    const c = clientFor(s, nginx, dev, { sub: "ida", name: "Ida" });
    const { room, leave } = c.enterRoom("team:closed", { initialPresence: {} });
    left.push(leave);
    await sleep(3000);
    assert.notEqual(room.getStatus(), "connected");
  });
});

// A recording stand-in for the Liveblocks API: it keeps every request
// (path, headers, body bytes) and answers as told.
async function recorder() {
  const seen = [];
  let answer = () => ({ status: 200, body: '{"token":"recorded"}' });
  const server = http.createServer((req, res) => {
    const chunks = [];
    req.on("data", (d) => chunks.push(d));
    req.on("end", async () => {
      const rec = { method: req.method, path: req.url, headers: req.headers, body: Buffer.concat(chunks).toString("utf8") };
      seen.push(rec);
      const a = await answer(rec);
      if (a.reset) return req.socket.destroy();
      if (a.delay) await sleep(a.delay);
      res.writeHead(a.status, { "content-type": "application/json" });
      res.end(a.body);
    });
  });
  await new Promise((r) => server.listen(0, "127.0.0.1", r));
  return {
    url: `http://127.0.0.1:${server.address().port}`,
    seen,
    answerWith(f) { answer = f; },
    take() { return seen.splice(0); },
    close() { server.closeAllConnections(); server.close(); },
  };
}

describe("conformance with @liveblocks/node", () => {
  let rec;
  const setups = {};
  before(async () => {
    rec = await recorder();
    const mk = (conf) => makeSetup({ backend: "liveblocks", baseUrl: rec.url, secret: "sk_test_abc-DEF_123", conf });
    setups.org = mk([]);
    setups.fwd = mk(["forward_organization = yes"]);
    setups.plug = mk([`policy = ${EXAMPLE}`, "policy_arg = admins"]);
    setups.id = mk(["token = id", "forward_organization = yes"]);
  });
  after(() => rec.close());
  async function viaNode(run) {
    const lb = new Liveblocks({ secret: "sk_test_abc-DEF_123", baseUrl: rec.url });
    rec.take();
    const out = await run(lb);
    const [r] = rec.take();
    return { r, out };
  }
  async function viaLbauth(setup, claims, room) {
    rec.take();
    const res = await cgi(setup, { body: JSON.stringify(room === undefined ? {} : { room }), cookie: `session=${setup.cookie(claims)}` });
    const [r] = rec.take();
    return { r, res };
  }
  function same(a, b) {
    assert.ok(a && b, "both sides made a request");
    assert.equal(b.method, a.method);
    assert.equal(b.path, a.path);
    assert.equal(b.headers.authorization, a.headers.authorization);
    assert.equal(b.headers["content-type"], a.headers["content-type"]);
    assert.equal(b.body, a.body, "the JSON bodies differ byte for byte");
  }

  const info = { name: "Ada \"the\" Lovelace/\u00e9\u{1F600}", tab: "a\tb\u0001", n: 1.5, big: 1e21, "2": "two", "1": "one", nested: { ok: true, list: [1, null, "x"] } };
  const cases = [
    ["FULL_ACCESS on the room, no userInfo", "org", { sub: "u1", rooms: ["r:1"] }, "r:1",
      (lb) => lb.prepareSession("u1").allow("r:1", ["*:write"]).authorize()],
    ["READ_ACCESS on the org, userInfo from name/avatar", "org", { sub: "u2", org: "acme", name: "Bo", avatar: "https://x.test/b.png" }, undefined,
      (lb) => lb.prepareSession("u2", { userInfo: { name: "Bo", avatar: "https://x.test/b.png" } }).allow("acme:*", ["*:read"]).authorize()],
    ["userInfo with escapes, unicode, numbers and index keys", "org", { sub: "u3", org: "acme", info }, "acme:d",
      (lb) => lb.prepareSession("u3", { userInfo: info }).allow("acme:d", ["*:write"]).authorize()],
    ["several patterns (plugin)", "plug", { sub: "u4", groups: ["a", "b", "c:viewer"] }, undefined,
      (lb) => lb.prepareSession("u4").allow("a:*", ["*:read"]).allow("b:*", ["*:read"]).allow("c:viewer:*", ["*:read"]).authorize()],
    ["wildcard for admins (plugin)", "plug", { sub: "root", groups: ["admins"], name: "Root" }, "x:y",
      (lb) => lb.prepareSession("root", { userInfo: { name: "Root" } }).allow("*", ["*:write"]).authorize()],
    ["organizationId forwarded", "fwd", { sub: "u5", org: "acme", name: "Cy" }, "acme:doc",
      (lb) => lb.prepareSession("u5", { userInfo: { name: "Cy" }, organizationId: "acme" }).allow("acme:doc", ["*:write"]).authorize()],
    ["identify-user with groups and organization", "id", { sub: "u6", org: "acme", groups: ["g1", "g2"], name: "Di" }, "x",
      (lb) => lb.identifyUser({ userId: "u6", groupIds: ["g1", "g2"], organizationId: "acme" }, { userInfo: { name: "Di" } })],
    ["identify-user without groups or info", "id", { sub: "u7" }, undefined,
      (lb) => lb.identifyUser({ userId: "u7" })],
    ["identify-user with an empty groups claim", "id", { sub: "u8", groups: [] }, undefined,
      (lb) => lb.identifyUser({ userId: "u8", groupIds: [] })],
  ];
  for (const [name, which, claims, room, nodeRun] of cases) {
    test(name, async () => {
      const n = await viaNode(nodeRun);
      const l = await viaLbauth(setups[which], claims, room);
      same(n.r, l.r);
      assert.equal(l.res.status, n.out.status);
      assert.equal(l.res.body, n.out.body);
    });
  }
});

describe("upstream faults", () => {
  let rec, s, fcgi, nginx;
  const cookie = () => `session=${s.cookie({ sub: "u1", org: "acme" })}`;
  before(async () => {
    rec = await recorder();
    s = makeSetup({ backend: "liveblocks", baseUrl: rec.url, conf: ["upstream_timeout_ms = 1500"] });
    fcgi = await startFcgi(s, { children: 2 });
    nginx = await startNginx(s, fcgi);
  });
  after(() => rec.close());

  const statusCases = [
    [422, '{"error":"Unprocessable Entity","reason":"bad scope"}', 422],
    [403, '{"error":"Forbidden","message":"Invalid secret key"}', 403],
    [401, '{"error":"Unauthorized"}', 401],
    [429, '{"error":"Too Many Requests"}', 429],
    [500, '{"error":"Internal"}', 503],
    [502, "<html>bad gateway</html>", 503],
    [201, '{"token":"created"}', 200],
  ];
  for (const [up, body, want] of statusCases) {
    test(`upstream ${up} -> ${want}, body passed through`, async () => {
      rec.answerWith(() => ({ status: up, body }));
      const r = await post(nginx.url, { cookie: cookie() });
      assert.equal(r.status, want);
      assert.equal(r.body, body);
      assert.equal(r.headers["cache-control"], "no-store");
    });
  }

  test("an answer over 64 KiB -> 503, not passed through", async () => {
    rec.answerWith(() => ({ status: 200, body: JSON.stringify({ token: "x".repeat(70000) }) }));
    const r = await post(nginx.url, { cookie: cookie() });
    assert.equal(r.status, 503);
    assert.equal(r.json.error, "upstream_unavailable");
  });

  test("a connection reset -> 503 naming the URL", async () => {
    rec.answerWith(() => ({ reset: true }));
    const r = await post(nginx.url, { cookie: cookie() });
    assert.equal(r.status, 503);
    assert.equal(r.json.error, "upstream_unavailable");
    assert.ok(r.json.message.includes(`${rec.url}/v2/authorize-user`), r.json.message);
    assert.equal(r.body.includes("sk_localdev"), false);
  });

  test("a slow upstream: 503 within upstream_timeout_ms, and the other worker keeps serving", async () => {
    rec.answerWith((req) => (JSON.parse(req.body).userId === "slow" ? { status: 200, body: '{"token":"late"}', delay: 4000 } : { status: 200, body: '{"token":"fast"}' }));
    const t0 = Date.now();
    const slow = post(nginx.url, { cookie: `session=${s.cookie({ sub: "slow", org: "acme" })}` }).then((r) => ({ r, ms: Date.now() - t0 }));
    await sleep(100);
    const t1 = Date.now();
    const fast = await post(nginx.url, { cookie: cookie() });
    const fastMs = Date.now() - t1;
    assert.equal(fast.status, 200);
    assert.equal(fast.json.token, "fast");
    assert.ok(fastMs < 1000, `fast request took ${fastMs} ms behind a slow one`);
    const { r, ms } = await slow;
    assert.equal(r.status, 503);
    assert.match(r.json.message, /Timeout/i);
    assert.ok(ms >= 1400 && ms < 1500 + 1000, `timed out after ${ms} ms`);
  });

  test("no server at the URL -> 503 quickly", async () => {
    const dead = makeSetup({ backend: "liveblocks", baseUrl: "http://127.0.0.1:9", conf: ["upstream_timeout_ms = 1000"] });
    const t0 = Date.now();
    const r = await cgi(dead, { body: "{}", cookie: `session=${dead.cookie({ sub: "u1", org: "acme" })}` });
    assert.equal(r.status, 503);
    assert.ok(Date.now() - t0 < 1000 + 1000);
    assert.match(r.json.message, /http:\/\/127\.0\.0\.1:9\/v2\/authorize-user/);
  });

  test("the secret never reaches the log", async () => {
    await sleep(100);
    assert.equal(fcgi.log().includes("sk_localdev"), false);
  });
});

describe("liveblocks_secret_file checks", () => {
  for (const [name, secret, re] of [
    ["not sk_", "pk_live_abc", /begins with sk_/],
    ["bad characters", "sk_abc def", /character other than/],
    ["empty", "", /begins with sk_|size 1 is not|size 0/],
  ]) {
    test(`${name}: refused at start`, async () => {
      const s = makeSetup({ backend: "liveblocks", baseUrl: "http://127.0.0.1:9", secret });
      const r = await cgi(s, { body: "{}" });
      assert.equal(r.status, 500);
      assert.match(r.stderr, re);
      assert.equal(r.stderr.includes(secret) && secret.length > 3, false, "the secret was printed");
    });
  }
});

describe("https to the API: certificate verification, upstream_ca_file, under the sandbox", () => {
  // A private CA and a server certificate for 127.0.0.1 (openssl), and a
  // TLS front (node:https) that forwards to the dev server: the path the
  // real https://api.liveblocks.io takes (TLS handshake, CA file read,
  // connection reuse), run inside the worker's seccomp filter.
  const SANITIZED = ["1", "thread"].includes(process.env.SANITIZE);	// the sandbox is compiled out there
  let dev, dir, ca, front, tls = 0, requests = 0;
  before(async () => {
    dev = await startDevServer();
    dir = tmpdir("lbauth-tls-");
    makeTestCA(dir);
    ca = path.join(dir, "ca.pem");
    front = https.createServer({ key: fs.readFileSync(path.join(dir, "srv.key")), cert: fs.readFileSync(path.join(dir, "srv.pem")) }, (req, res) => {
      requests++;
      const up = http.request(`${dev.url}${req.url}`, { method: req.method, headers: req.headers }, (r) => {
        res.writeHead(r.statusCode, r.headers);
        r.pipe(res);
      });
      up.on("error", () => { res.writeHead(502); res.end(); });
      req.pipe(up);
    });
    front.on("secureConnection", () => tls++);
    await new Promise((r) => front.listen(0, "127.0.0.1", r));
  });
  after(async () => {
    front?.close();
    front?.closeAllConnections?.();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });
  const base = () => `https://127.0.0.1:${front.address().port}`;

  test("upstream_ca_file trusts the private CA: tokens over one reused TLS connection, in the sandbox", async () => {
    const s = makeSetup({ backend: "liveblocks", baseUrl: base(), conf: [`upstream_ca_file = ${ca}`] });
    const f = await startFcgi(s);
    const n = await startNginx(s, f);
    const cookie = `session=${s.cookie({ sub: "ada", org: "acme", name: "Ada" })}`;
    const tls0 = tls, req0 = requests;
    for (let i = 0; i < 5; i++) {
      const r = await post(n.url, { body: '{"room":"acme:doc-1"}', cookie });
      assert.equal(r.status, 200, r.body);
      const p = payload(r.json.token);
      assert.equal(p.k, "acc");
      assert.equal(p.uid, "ada");
      assert.deepEqual(p.perms["acme:doc-1"], ["*:write"]);
    }
    assert.equal(requests - req0, 5);
    assert.equal(tls - tls0, 1, "libcurl reuses its TLS connection");
    assert.equal(ownSeccompFilters(f.pid) > 0, !SANITIZED, "confined by lbauth's filter (not in the sanitizer build)");
    f.stop();
    n.stop();
  });

  test("without upstream_ca_file the system's CAs do not know it: 503, no request got through", async () => {
    const s = makeSetup({ backend: "liveblocks", baseUrl: base() });
    const f = await startFcgi(s);
    const n = await startNginx(s, f);
    const cookie = `session=${s.cookie({ sub: "ada", org: "acme" })}`;
    const req0 = requests;
    const r = await post(n.url, { body: '{"room":"acme:doc-1"}', cookie });
    assert.equal(r.status, 503, r.body);
    assert.equal(r.json.error, "upstream_unavailable");
    assert.match(r.json.message, /127\.0\.0\.1/);
    assert.doesNotMatch(r.body, /sk_/);
    assert.equal(requests, req0);
    assert.match(f.log(), /certificate|SSL/i);
    f.stop();
    n.stop();
  });

  test("an upstream_ca_file that cannot be read stops start-up, naming the key", async () => {
    const s = makeSetup({ backend: "liveblocks", baseUrl: base(), conf: ["upstream_ca_file = /nonexistent/ca.pem"] });
    const r = await cgi(s, { body: "{}", cookie: `session=${s.cookie({ sub: "ada", org: "acme" })}` });
    assert.equal(r.status, 500);
    assert.equal(r.json.error, "misconfigured");
    assert.match(r.stderr, /upstream_ca_file/);
    assert.match(r.stderr, /\/nonexistent\/ca\.pem: No such file or directory/);
  });
});
