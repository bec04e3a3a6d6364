// verify.test.mjs: lbauth's tokens checked by parties that share no code
// with it: jose (jwtVerify against the JWKS that nginx serves, made by
// lbauthctl jwks), lbauthctl verify, and the real @liveblocks/client,
// which fetches the token from nginx the way a browser app does, parses
// it, and opens its room connection with it.

import { test, before, after, describe } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { jwtVerify, createRemoteJWKSet, createLocalJWKSet, decodeProtectedHeader } from "jose";
import { createClient } from "@liveblocks/client";
import { makeSetup, startFcgi, startNginx, post, ctlResult, stopAll, payload } from "./harness.mjs";

let s, fcgi, nginx;
before(async () => {
  s = makeSetup();
  fcgi = await startFcgi(s);
  nginx = await startNginx(s, fcgi);
});
after(stopAll);

const cookieFor = (claims) => `session=${s.cookie(claims)}`;

describe("jose", () => {
  test("jwtVerify accepts the token against the JWKS nginx serves", async () => {
    const r = await post(nginx.url, { body: '{"room":"acme:doc"}', cookie: cookieFor({ sub: "u1", org: "acme", name: "Ada" }) });
    assert.equal(r.status, 200);
    const jwks = createRemoteJWKSet(new URL(`http://127.0.0.1:${nginx.port}/.well-known/jwks.json`));
    const { payload: p, protectedHeader } = await jwtVerify(r.json.token, jwks, { algorithms: ["EdDSA"] });
    assert.equal(protectedHeader.alg, "EdDSA");
    assert.equal(protectedHeader.typ, "JWT");
    assert.equal(protectedHeader.kid, s.jwks().keys[0].kid);
    assert.equal(p.k, "acc");
    assert.equal(p.uid, "u1");
    assert.deepEqual(p.perms, { "acme:doc": ["*:write"] });
    assert.deepEqual(p.ui, { name: "Ada" });
    assert.equal(p.pid, "test-project");
  });

  test("a tampered token or another key's JWKS is rejected by jose", async () => {
    const r = await post(nginx.url, { body: "{}", cookie: cookieFor({ sub: "u1", org: "acme" }) });
    const [h, p, sig] = r.json.token.split(".");
    const forgedPayload = Buffer.from(JSON.stringify({ ...payload(r.json.token), perms: { "*": ["*:write"] } })).toString("base64url");
    const jwks = createLocalJWKSet(s.jwks());
    await assert.rejects(jwtVerify(`${h}.${forgedPayload}.${sig}`, jwks, { algorithms: ["EdDSA"] }));
    const other = makeSetup();
    await assert.rejects(jwtVerify(r.json.token, createLocalJWKSet(other.jwks()), { algorithms: ["EdDSA"] }));
  });

  test("the JWKS kid is the RFC 7638 thumbprint jose computes", async () => {
    const { calculateJwkThumbprint } = await import("jose");
    const jwk = s.jwks().keys[0];
    assert.equal(await calculateJwkThumbprint({ kty: jwk.kty, crv: jwk.crv, x: jwk.x }, "sha256"), jwk.kid);
  });
});

describe("lbauthctl verify", () => {
  test("accepts a minted token and prints its payload; refuses a tampered one", async () => {
    const r = await post(nginx.url, { body: '{"room":"acme:doc"}', cookie: cookieFor({ sub: "u1", org: "acme" }) });
    const ok = ctlResult(["verify", "-c", s.conf, r.json.token]);
    assert.equal(ok.status, 0, ok.stderr);
    assert.deepEqual(JSON.parse(ok.stdout).perms, { "acme:doc": ["*:write"] });
    const jwksFile = path.join(s.dir, "jwks.json");
    const viaJwks = ctlResult(["verify", "-j", jwksFile, r.json.token]);
    assert.equal(viaJwks.status, 0, viaJwks.stderr);
    const t = r.json.token;
    const bad = t.slice(0, -2) + (t.at(-2) === "A" ? "B" : "A") + t.at(-1);
    const no = ctlResult(["verify", "-c", s.conf, bad]);
    assert.equal(no.status, 1);
    assert.match(no.stderr, /invalid token/);
  });
});

// A WebSocket stand-in for the client's polyfill: it records the URL
// the client opens (which carries the token) and then fails the
// connection, since no Liveblocks server accepts locally signed tokens
// (see README: the liveblocks backend is the one to use with their
// servers).
function recordingWebSocket(opened) {
  return class RecordingWebSocket extends EventTarget {
    static CONNECTING = 0; static OPEN = 1; static CLOSING = 2; static CLOSED = 3;
    constructor(url) {
      super();
      this.url = String(url);
      this.readyState = 0;
      opened.push(this.url);
      setTimeout(() => {
        this.readyState = 3;
        this.dispatchEvent(new Event("error"));
        const ev = new Event("close");
        ev.code = 1006; ev.reason = ""; ev.wasClean = false;
        this.dispatchEvent(ev);
      }, 10);
    }
    send() {}
    close() { this.readyState = 3; }
  };
}

// A fetch that sends the session cookie (a browser sends it by itself)
// and counts the auth requests.
function cookieFetch(cookie, calls) {
  return (url, init = {}) => {
    calls.push({ url: String(url), body: init.body });
    const headers = new Headers(init.headers);
    headers.set("cookie", cookie);
    return fetch(url, { ...init, headers });
  };
}

async function waitUntil(cond, ms) {
  const t0 = Date.now();
  while (!cond() && Date.now() - t0 < ms) await new Promise((r) => setTimeout(r, 20));
  return cond();
}

describe("@liveblocks/client", () => {
  test("enterRoom fetches a token from lbauth and connects with it", async () => {
    const opened = [], calls = [];
    const client = createClient({
      authEndpoint: nginx.url,
      baseUrl: "http://127.0.0.1:9",
      polyfills: { fetch: cookieFetch(cookieFor({ sub: "u1", org: "acme", name: "Ada" }), calls), WebSocket: recordingWebSocket(opened) },
    });
    const { leave } = client.enterRoom("acme:room-1", { initialPresence: {} });
    try {
      assert.ok(await waitUntil(() => opened.length > 0, 5000), "the client opened no connection");
      const u = new URL(opened[0]);
      assert.equal(u.searchParams.get("roomId"), "acme:room-1");
      const tok = u.searchParams.get("tok");
      const p = payload(tok);
      assert.equal(p.k, "acc");
      assert.equal(p.uid, "u1");
      assert.deepEqual(p.perms, { "acme:room-1": ["*:write"] });
      assert.deepEqual(JSON.parse(calls[0].body), { room: "acme:room-1" });
    } finally {
      leave();
    }
  });

  test("a 403 from lbauth makes the client give up: one auth request, no connection", async () => {
    const opened = [], calls = [];
    const client = createClient({
      authEndpoint: nginx.url,
      baseUrl: "http://127.0.0.1:9",
      polyfills: { fetch: cookieFetch(cookieFor({ sub: "u2" }), calls), WebSocket: recordingWebSocket(opened) },
    });
    const { room, leave } = client.enterRoom("acme:room-1", { initialPresence: {} });
    try {
      await waitUntil(() => calls.length > 0, 5000);
      await new Promise((r) => setTimeout(r, 2500));
      assert.equal(calls.length, 1, "the client retried a permanent 403");
      assert.equal(opened.length, 0);
      assert.notEqual(room.getStatus(), "connected");
    } finally {
      leave();
    }
  });
});
