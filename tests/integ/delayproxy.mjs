// delayproxy.mjs: a plain HTTP/1.1 reverse proxy that holds every
// request for a fixed time before passing it on, to stand for the WAN
// round trip between a server and the Liveblocks API (tens of ms) in
// front of the dev server (about 0.1 ms on loopback).
//
// It also counts what a test or the benchmark needs to see:
//   accepted     TCP connections accepted from clients (lbauth)
//   requests     requests proxied
//   inflight     requests being held or forwarded right now
//   maxInflight  the most there were at once
// GET /__delayproxy/stats answers them as JSON (never forwarded), and
// POST /__delayproxy/reset zeroes them (inflight excepted).
//
// As a module: const p = await startDelayProxy({ target, delayMs });
//   p.url, p.port, p.stats(), p.reset(), await p.stop()
// As a program (the benchmark runs it in its own process, so that its
// CPU is not counted as lbauth's):
//   node delayproxy.mjs --target http://127.0.0.1:PORT --delay 50 [--port 0]
// prints "delayproxy listening on PORT" once it listens.
//
// Only loopback: it listens on 127.0.0.1 and forwards to the target
// it is given, which the tests always start on 127.0.0.1.

import http from "node:http";
import { fileURLToPath } from "node:url";

export function startDelayProxy({ target, delayMs = 50, port = 0, host = "127.0.0.1" }) {
  const t = new URL(target);
  const agent = new http.Agent({ keepAlive: true, maxSockets: Infinity, maxFreeSockets: 1024 });
  const st = { accepted: 0, requests: 0, inflight: 0, maxInflight: 0 };
  const server = http.createServer({ keepAliveTimeout: 60000, headersTimeout: 65000, requestTimeout: 0 });
  server.maxConnections = 65536;
  server.on("connection", () => { st.accepted++; });
  server.on("request", (req, res) => {
    if (req.url === "/__delayproxy/stats") {
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify(st));
      return;
    }
    if (req.url === "/__delayproxy/reset") {
      st.accepted = 0; st.requests = 0; st.maxInflight = st.inflight;
      res.writeHead(204);
      res.end();
      return;
    }
    st.requests++;
    st.inflight++;
    if (st.inflight > st.maxInflight) st.maxInflight = st.inflight;
    let done = false;
    const end = () => { if (!done) { done = true; st.inflight--; } };
    res.on("close", end);
    const chunks = [];
    req.on("data", (d) => chunks.push(d));
    req.on("end", () => {
      setTimeout(() => {
        if (res.destroyed) return;
        const headers = { ...req.headers, host: t.host };
        delete headers.connection;
        const up = http.request({
          agent, host: t.hostname, port: t.port, method: req.method, path: req.url, headers,
        }, (ur) => {
          const h = { ...ur.headers };
          delete h.connection;
          delete h["keep-alive"];
          res.writeHead(ur.statusCode, h);
          ur.pipe(res);
        });
        up.on("error", () => {
          if (!res.headersSent) res.writeHead(502, { "content-type": "application/json" });
          res.end('{"error":"delayproxy: upstream failed"}');
        });
        up.end(Buffer.concat(chunks));
      }, delayMs);
    });
  });
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen({ port, host, backlog: 8192 }, () => {
      const p = server.address().port;
      resolve({
        port: p,
        url: `http://${host}:${p}`,
        stats: () => ({ ...st }),
        reset: () => { st.accepted = 0; st.requests = 0; st.maxInflight = st.inflight; },
        stop: () => new Promise((r) => {
          server.closeAllConnections?.();
          agent.destroy();
          server.close(() => r());
        }),
      });
    });
  });
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const arg = (name, dflt) => {
    const i = process.argv.indexOf(`--${name}`);
    return i > 0 ? process.argv[i + 1] : dflt;
  };
  const target = arg("target");
  if (!target) {
    console.error("usage: node delayproxy.mjs --target URL [--delay MS] [--port PORT]");
    process.exit(2);
  }
  const p = await startDelayProxy({ target, delayMs: Number(arg("delay", "50")), port: Number(arg("port", "0")) });
  console.log(`delayproxy listening on ${p.port}`);
  const stop = () => p.stop().then(() => process.exit(0));
  process.on("SIGTERM", stop);
  process.on("SIGINT", stop);
}
