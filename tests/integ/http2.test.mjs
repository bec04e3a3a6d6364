// http2.test.mjs: the liveblocks backend multiplexes its calls to the
// API over HTTP/2.  The API here is a TLS front speaking HTTP/2 (a real
// nginx, "listen ... ssl http2", with a private CA made by openssl as
// liveblocks.test.mjs's https test makes one) that proxies to the delay
// proxy (tests/integ/delayproxy.mjs, 300 ms) in front of the real dev
// server.  One lbauth process (--listen, --workers 1) behind the usual
// nginx gets 100 concurrent requests: every one gets a token from the
// dev server, the delay proxy saw many of them in flight at once (so
// they were concurrent on lbauth's side, not one after another), and
// the front's access log, which records nginx's connection serial
// number ($connection) and protocol of every request, shows them on at
// most 2 TCP connections, all HTTP/2.  These are counts, not timings.

import { test, before, after, describe } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import net from "node:net";
import path from "node:path";
import { spawn, execFileSync } from "node:child_process";
import { LBAUTH, makeSetup, startNginx, startDevServer, freePort, payload, tmpdir, stopAll, makeTestCA } from "./harness.mjs";
import { startDelayProxy } from "./delayproxy.mjs";

after(stopAll);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const CONCURRENT = 100, DELAY_MS = 300;

function nginxHasHttp2() {
  try {
    return /--with-http_v2_module/.test(execFileSync("sh", ["-c", "nginx -V 2>&1"], { encoding: "utf8" }));	// -V writes to stderr
  } catch { return false; }
}
const skip = nginxHasHttp2() ? false : "this nginx is built without --with-http_v2_module (tests/deps.sh installs one with it)";

async function waitPort(port, ms = 10000) {
  const t0 = Date.now();
  while (!(await new Promise((r) => { const s = net.connect(port, "127.0.0.1", () => { s.end(); r(true); }); s.on("error", () => r(false)); }))) {
    if (Date.now() - t0 > ms) throw new Error(`port ${port} never opened`);
    await sleep(20);
  }
}

describe("HTTP/2 to the API: 100 requests in flight on at most 2 connections per process", { skip }, () => {
  let dev, proxy, dir, ca, front, frontPort, accessLog, master, s, n;
  before(async () => {
    dev = await startDevServer();
    proxy = await startDelayProxy({ target: dev.url, delayMs: DELAY_MS });
    dir = tmpdir("lbauth-h2-");
    makeTestCA(dir);
    ca = path.join(dir, "ca.pem");
    // The TLS front: nginx 1.22's syntax ("listen ... ssl http2"; the
    // "http2 on" directive came in 1.25.1).  Every request is logged
    // with its connection's serial number and its protocol.
    frontPort = await freePort();
    accessLog = path.join(dir, "access.log");
    const conf = path.join(dir, "nginx.conf");
    fs.writeFileSync(conf, `${process.getuid() === 0 ? "user root;" : ""}
worker_processes 1; daemon off; pid ${dir}/nginx.pid; error_log ${dir}/error.log warn;
events { worker_connections 1024; }
http {
  client_body_temp_path ${dir}/b; proxy_temp_path ${dir}/p; fastcgi_temp_path ${dir}/f; uwsgi_temp_path ${dir}/u; scgi_temp_path ${dir}/s;
  log_format conn '$connection $server_protocol $status';
  access_log ${accessLog} conn;
  server {
    listen 127.0.0.1:${frontPort} ssl http2;
    ssl_certificate ${dir}/srv.pem;
    ssl_certificate_key ${dir}/srv.key;
    http2_max_concurrent_streams 128;
    location / { proxy_pass ${proxy.url}; proxy_http_version 1.1; }
  }
}`);
    front = spawn("nginx", ["-p", dir, "-c", conf, "-e", path.join(dir, "error.log")], { stdio: ["ignore", "ignore", "inherit"] });
    await waitPort(frontPort);

    s = makeSetup({ backend: "liveblocks", baseUrl: `https://127.0.0.1:${frontPort}`, conf: [`upstream_ca_file = ${ca}`, "log_requests = no"] });
    const sock = path.join(s.dir, "lbauth.sock");
    master = spawn(LBAUTH, ["--listen", `unix:${sock}`, "--workers", "1", "--socket-mode", "0666", "--config", s.conf], { stdio: ["ignore", "ignore", "inherit"] });
    for (let i = 0; i < 250 && !fs.existsSync(sock); i++) await sleep(20);
    n = await startNginx(s, { sock });
  });
  after(async () => {
    if (master?.exitCode === null) master.kill("SIGTERM");
    if (front?.exitCode === null) front.kill("SIGTERM");
    await proxy?.stop();
    await sleep(200);
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  test(`${CONCURRENT} concurrent requests: all tokens, many in flight at the API, at most 2 HTTP/2 connections at the front`, async () => {
    const cookie = `session=${s.cookie({ sub: "ada", org: "acme", name: "Ada" })}`;
    const ask = () => fetch(n.url, { method: "POST", headers: { "content-type": "application/json", cookie }, body: '{"room":"acme:doc-1"}', signal: AbortSignal.timeout(30000) })
      .then(async (r) => ({ status: r.status, body: await r.text() }));
    const first = await ask();	// one first: the connection is then open
    assert.equal(first.status, 200, first.body);
    const logged = () => fs.readFileSync(accessLog, "utf8").split("\n").filter(Boolean);
    const before0 = logged().length;
    proxy.reset();
    const answers = await Promise.all(Array.from({ length: CONCURRENT }, ask));
    const bad = answers.filter((a) => a.status !== 200);
    assert.equal(bad.length, 0, `${bad.length} of ${CONCURRENT} not 200, e.g. ${bad[0]?.status} ${bad[0]?.body}`);
    for (const a of answers) {
      const p = payload(JSON.parse(a.body).token);
      assert.equal(p.k, "acc");
      assert.equal(p.uid, "ada");
      assert.deepEqual(p.perms["acme:doc-1"], ["*:write"]);
    }
    const st = proxy.stats();
    assert.equal(st.requests, CONCURRENT, "every request reached the API once");
    assert.ok(st.maxInflight >= CONCURRENT / 2, `the API saw at most ${st.maxInflight} of ${CONCURRENT} in flight at once: lbauth did not keep them in flight together`);
    const lines = logged().slice(before0).map((l) => l.split(" "));
    assert.equal(lines.length, CONCURRENT, "the front logged every request");
    assert.deepEqual([...new Set(lines.map((l) => l[1]))], ["HTTP/2.0"], "every request came over HTTP/2");
    const conns = new Set(lines.map((l) => l[0]));
    assert.ok(conns.size <= 2, `${CONCURRENT} requests used ${conns.size} TCP connections to the front (at most 2 for one process)`);
  });
});
