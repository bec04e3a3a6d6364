// endpoint.test.mjs: the whole request path, through a real nginx to
// lbauth under spawn-fcgi, and through lbauth run as plain CGI: every
// policy branch, every class of bad input with its status and JSON
// error body, and the worker still serving afterwards.

import { test, before, after, describe } from "node:test";
import assert from "node:assert/strict";
import { SignJWT } from "jose";
import {
  makeSetup, startFcgi, startNginx, cgi, post, rawHttp, payload, header, stopAll,
} from "./harness.mjs";

const NOW = () => Math.floor(Date.now() / 1000);
const JSONCT = "application/json";

let hs;      // HS256 cookies, policy org
let fcgi, nginx;

before(async () => {
  hs = makeSetup({ conf: ["allowed_origins = https://app.example.com http://localhost:5173"] });
  fcgi = await startFcgi(hs);
  nginx = await startNginx(hs, fcgi);
});
after(stopAll);

// Mints a cookie with jose (an independent JWT library) so that tests
// can craft claims lbauthctl would refuse to write.
async function joseCookie(claims, { alg = "HS256", key, headerExtra = {} } = {}) {
  const k = key ?? new TextEncoder().encode(hs.secret());
  return await new SignJWT(claims).setProtectedHeader({ alg, typ: "JWT", ...headerExtra }).sign(k);
}

function b64(o) {
  return Buffer.from(typeof o === "string" ? o : JSON.stringify(o)).toString("base64url");
}

// Sends one request spec over transport "fcgi" (nginx) or "cgi".
async function send(transport, { method = "POST", body = "{}", cookie, contentType = JSONCT, headers = {} }) {
  const cookieHeader = cookie === undefined ? undefined : cookie;
  if (transport === "fcgi")
    return post(nginx.url, { method, body, cookie: cookieHeader, contentType, headers });
  return cgi(hs, { method, body, cookie: cookieHeader, contentType, headers });
}

function assertJsonError(r, status, code) {
  assert.equal(r.status, status, `status (body ${r.body})`);
  assert.ok(r.json && typeof r.json === "object", `JSON error body, got ${r.body}`);
  assert.equal(r.json.error, code);
  assert.equal(typeof r.json.message, "string");
  assert.ok(r.json.message.length > 10);
  assert.match(r.headers["content-type"], /^application\/json/);
  assert.equal(r.headers["cache-control"], "no-store");
}

function assertToken(r) {
  assert.equal(r.status, 200, r.body);
  assert.match(r.headers["content-type"], /^application\/json/);
  assert.equal(r.headers["cache-control"], "no-store");
  assert.equal(typeof r.json.token, "string");
  assert.equal(r.json.token.split(".").length, 3);
  return payload(r.json.token);
}

const s = (claims) => `session=${hs.cookie(claims)}`;

// Policy branches of the built-in "org" policy.
const policyCases = [
  { name: "room listed in the rooms claim -> FULL_ACCESS on it",
    cookie: () => s({ sub: "u1", rooms: ["team:doc-1"] }), room: "team:doc-1",
    perms: { "team:doc-1": ["*:write"] } },
  { name: "room matched by a rooms prefix* entry -> FULL_ACCESS",
    cookie: () => s({ sub: "u1", rooms: ["team:*"] }), room: "team:doc-9",
    perms: { "team:doc-9": ["*:write"] } },
  { name: "room under the user's org -> FULL_ACCESS",
    cookie: () => s({ sub: "u1", org: "acme" }), room: "acme:doc-1",
    perms: { "acme:doc-1": ["*:write"] } },
  { name: "room outside the org -> READ_ACCESS on <org>:*",
    cookie: () => s({ sub: "u1", org: "acme" }), room: "globex:doc-1",
    perms: { "acme:*": ["*:read"] } },
  { name: "acmecorp room for org acme is not acme's (colon in pattern)",
    cookie: () => s({ sub: "u1", org: "acme" }), room: "acmecorp:doc-1",
    perms: { "acme:*": ["*:read"] } },
  { name: "no room asked -> READ_ACCESS on <org>:*",
    cookie: () => s({ sub: "u1", org: "acme" }), room: undefined,
    perms: { "acme:*": ["*:read"] } },
  { name: "no org, room not allowed -> 403",
    cookie: () => s({ sub: "u1", rooms: ["team:doc-1"] }), room: "team:doc-2", denied: true },
  { name: "no org, no room -> 403",
    cookie: () => s({ sub: "u1" }), room: undefined, denied: true },
];

for (const transport of ["fcgi", "cgi"]) {
  describe(`policy org over ${transport}`, () => {
    for (const c of policyCases) {
      test(c.name, async () => {
        const body = JSON.stringify(c.room === undefined ? {} : { room: c.room });
        const r = await send(transport, { body, cookie: c.cookie() });
        if (c.denied) return assertJsonError(r, 403, "forbidden");
        const p = assertToken(r);
        assert.deepEqual(p.perms, c.perms);
        assert.equal(p.k, "acc");
        assert.equal(p.uid, "u1");
        assert.equal(p.pid, "test-project");
        assert.equal(p.exp - p.iat, 3600);
        assert.ok(Math.abs(p.iat - NOW()) <= 5);
        assert.match(p.jti, /^[A-Za-z0-9_-]{22}$/);
        assert.equal(header(r.json.token).alg, "EdDSA");
      });
    }

    test("userInfo: info claim wins, else {name, avatar}", async () => {
      let r = await send(transport, { body: '{"room":"acme:d"}', cookie: s({ sub: "u2", org: "acme", name: "Ada", avatar: "https://x.test/a.png" }) });
      assert.deepEqual(assertToken(r).ui, { name: "Ada", avatar: "https://x.test/a.png" });
      r = await send(transport, { body: '{"room":"acme:d"}', cookie: s({ sub: "u2", org: "acme", name: "Ada", info: { color: "#f00", n: 1.5 } }) });
      assert.deepEqual(assertToken(r).ui, { color: "#f00", n: 1.5 });
      r = await send(transport, { body: '{"room":"acme:d"}', cookie: s({ sub: "u2", org: "acme" }) });
      assert.equal("ui" in assertToken(r), false);
    });

    test("every answer is a new token (the client refuses repeats)", async () => {
      const seen = new Set();
      const cookie = s({ sub: "u1", org: "acme" });
      for (let i = 0; i < 20; i++) {
        const r = await send(transport, { body: "{}", cookie });
        assertToken(r);
        assert.equal(seen.has(r.json.token), false);
        seen.add(r.json.token);
      }
    });
  });
}

// Bad input: [name, request, status, error code].  Each runs over both
// transports; the worker must keep serving.
function badCases() {
  const now = NOW();
  const good = { sub: "u1", org: "acme", exp: now + 600 };
  return [
    ["GET", { method: "GET", contentType: null }, 405, "method_not_allowed"],
    ["PUT", { method: "PUT" }, 405, "method_not_allowed"],
    ["DELETE", { method: "DELETE" }, 405, "method_not_allowed"],
    ["text/plain (a cross-site form can send it)", { contentType: "text/plain" }, 415, "unsupported_media_type"],
    ["form-urlencoded", { contentType: "application/x-www-form-urlencoded", body: "room=a" }, 415, "unsupported_media_type"],
    ["no content type", { contentType: null }, 415, "unsupported_media_type"],
    ["application/jsonp", { contentType: "application/jsonp" }, 415, "unsupported_media_type"],
    ["body over max_body", { body: JSON.stringify({ room: "a", pad: "x".repeat(5000) }) }, 413, "payload_too_large"],
    ["empty body", { body: "" }, 400, "invalid_body"],
    ["not JSON", { body: "room=acme" }, 400, "invalid_body"],
    ["truncated JSON", { body: '{"room":"a"' }, 400, "invalid_body"],
    ["JSON array", { body: '["acme"]' }, 400, "invalid_body"],
    ["JSON string", { body: '"acme"' }, 400, "invalid_body"],
    ["trailing garbage", { body: '{"room":"a"} x' }, 400, "invalid_body"],
    ["deep nesting", { body: "[".repeat(100) + "]".repeat(100) }, 400, "invalid_body"],
    ["invalid UTF-8", { body: Buffer.from([0x7b, 0x22, 0x72, 0x6f, 0x6f, 0x6d, 0x22, 0x3a, 0x22, 0xff, 0x22, 0x7d]) }, 400, "invalid_body"],
    ["room empty", { body: '{"room":""}' }, 400, "invalid_room"],
    ["room wildcard", { body: '{"room":"acme*"}' }, 400, "invalid_room"],
    ["room lone star", { body: '{"room":"*"}' }, 400, "invalid_room"],
    ["room 129 chars", { body: JSON.stringify({ room: "a".repeat(129) }) }, 400, "invalid_room"],
    ["room number", { body: '{"room":42}' }, 400, "invalid_room"],
    ["room null", { body: '{"room":null}' }, 400, "invalid_room"],
    ["room with NUL", { body: '{"room":"a\\u0000b"}' }, 400, "invalid_room"],
    ["room with newline", { body: '{"room":"a\\nb"}' }, 400, "invalid_room"],
    ["no cookie", { cookie: null }, 401, "unauthenticated"],
    ["empty cookie", { cookie: "session=" }, 401, "unauthenticated"],
    ["other cookies only", { cookie: "theme=dark; lang=en" }, 401, "unauthenticated"],
    ["garbage cookie", { cookie: "session=garbage" }, 401, "invalid_session"],
    ["two dots only", { cookie: "session=a.b" }, 401, "invalid_session"],
    ["four parts", { cookie: "session=a.b.c.d" }, 401, "invalid_session"],
    ["bad base64url", { cookie: `session=${b64({ alg: "HS256" })}.${b64(good)}.***` }, 401, "invalid_session"],
    ["alg none", { cookie: `session=${b64({ alg: "none", typ: "JWT" })}.${b64(good)}.` }, 401, "invalid_session"],
    ["alg none with a signature", { cookie: `session=${b64({ alg: "none" })}.${b64(good)}.${b64("x".repeat(32))}` }, 401, "invalid_session"],
    ["alg EdDSA when HS256 is pinned", { cookie: `session=${b64({ alg: "EdDSA" })}.${b64(good)}.${b64("x".repeat(64))}` }, 401, "invalid_session"],
    ["forged HS256 signature", { cookie: `session=${b64({ alg: "HS256", typ: "JWT" })}.${b64(good)}.${b64("x".repeat(32))}` }, 401, "invalid_session"],
    ["crit header", { cookieAsync: () => joseCookie(good, { headerExtra: { crit: ["exp"] } }).catch(() => `${b64({ alg: "HS256", crit: ["x"], x: 1 })}.${b64(good)}.${b64("x".repeat(32))}`) }, 401, "invalid_session"],
    ["expired", { cookieAsync: () => joseCookie({ ...good, exp: now - 3600 }) }, 401, "session_expired"],
    ["expired beyond the leeway", { cookieAsync: () => joseCookie({ ...good, exp: now - 61 }) }, 401, "session_expired"],
    ["nbf in the future", { cookieAsync: () => joseCookie({ ...good, nbf: now + 3600 }) }, 401, "invalid_session"],
    ["no exp", { cookieAsync: () => joseCookie({ sub: "u1" }) }, 401, "invalid_session"],
    ["no sub", { cookieAsync: () => joseCookie({ exp: now + 60 }) }, 401, "invalid_session"],
    ["sub empty", { cookieAsync: () => joseCookie({ ...good, sub: "" }) }, 401, "invalid_session"],
    ["sub number", { cookieAsync: () => joseCookie({ ...good, sub: 7 }) }, 401, "invalid_session"],
    ["sub 129 chars", { cookieAsync: () => joseCookie({ ...good, sub: "u".repeat(129) }) }, 401, "invalid_session"],
    ["org with wildcard", { cookieAsync: () => joseCookie({ ...good, org: "ac*" }) }, 401, "invalid_session"],
    ["groups not an array", { cookieAsync: () => joseCookie({ ...good, groups: "g1" }) }, 401, "invalid_session"],
    ["rooms with a bad pattern", { cookieAsync: () => joseCookie({ ...good, rooms: ["a*b"] }) }, 401, "invalid_session"],
    ["info not an object", { cookieAsync: () => joseCookie({ ...good, info: [1] }) }, 401, "invalid_session"],
    ["info over 1024 chars", { cookieAsync: () => joseCookie({ ...good, info: { bio: "x".repeat(1100) } }) }, 401, "invalid_session"],
    ["signed with another secret", { cookieAsync: () => joseCookie(good, { key: new TextEncoder().encode("another-secret-another-secret-123") }) }, 401, "invalid_session"],
    ["session cookie twice", { cookieAsync: async () => { const c = await joseCookie(good); return [`session=${c}; session=${c}`]; } }, 401, "invalid_cookie"],
    ["oversized cookie", { cookie: "session=" + "a".repeat(5000) }, 401, "invalid_cookie"],
    ["Origin not allowed", { headers: { origin: "https://evil.example" } }, 403, "forbidden_origin"],
    ["Origin null", { headers: { origin: "null" } }, 403, "forbidden_origin"],
    ["Origin suffix trick", { headers: { origin: "https://app.example.com.evil.example" } }, 403, "forbidden_origin"],
  ];
}

for (const transport of ["fcgi", "cgi"]) {
  describe(`bad input over ${transport}`, () => {
    const cases = badCases();
    for (const [name, spec, status, code] of cases) {
      test(`${name} -> ${status} ${code}`, async () => {
        let cookie;
        if (spec.cookieAsync) {
          const c = await spec.cookieAsync();
          cookie = Array.isArray(c) ? c[0] : `session=${c}`;
        } else if (spec.cookie === null) cookie = undefined;
        else cookie = spec.cookie ?? `session=${hs.cookie({ sub: "u1", org: "acme" })}`;
        const r = await send(transport, { ...spec, cookie, body: spec.body ?? "{}" });
        assertJsonError(r, status, code);
        if (status === 405) assert.equal(r.headers.allow, "POST, OPTIONS");
        // Nothing secret in the answer.
        if (cookie) {
          const tok = cookie.replace(/^session=/, "");
          if (tok.length > 8) assert.equal(r.body.includes(tok.slice(0, 40)), false);
        }
      });
    }
    if (transport === "fcgi") {
      test("the same worker still serves after all of that", async () => {
        assert.equal(fcgi.exited, false);
        const r = await send("fcgi", { body: '{"room":"acme:x"}', cookie: s({ sub: "u1", org: "acme" }) });
        assert.deepEqual(assertToken(r).perms, { "acme:x": ["*:write"] });
      });
    }
  });
}

describe("raw HTTP through nginx", () => {
  const req = (lines, body = "") => lines.join("\r\n") + "\r\n\r\n" + body;
  test("body shorter than Content-Length: nginx times out or lbauth answers 400, never 200", async () => {
    // nginx buffers the body (fastcgi_request_buffering on) and answers
    // the client itself when the client closes early.
    const r = await rawHttp(nginx.port, req(["POST /api/liveblocks-auth HTTP/1.1", "Host: x", "Content-Type: application/json", "Content-Length: 10", "Connection: close"], "{}"), { timeout: 8000 }).catch(() => ({ status: 0 }));
    assert.notEqual(r.status, 200);
  });
  test("body longer than Content-Length: only Content-Length bytes are the body", async () => {
    const cookie = `session=${hs.cookie({ sub: "u1", org: "acme" })}`;
    const r = await rawHttp(nginx.port, req(["POST /api/liveblocks-auth HTTP/1.1", "Host: x", "Content-Type: application/json", "Content-Length: 2", `Cookie: ${cookie}`], '{}{"room":"globex:x"}'));
    assert.equal(r.status, 200);
    assert.deepEqual(payload(r.json.token).perms, { "acme:*": ["*:read"] });
  });
  test("Content-Length not a number -> 400 from nginx", async () => {
    const r = await rawHttp(nginx.port, req(["POST /api/liveblocks-auth HTTP/1.1", "Host: x", "Content-Type: application/json", "Content-Length: abc", "Connection: close"], "{}"));
    assert.equal(r.status, 400);
  });
  test("two Cookie headers carrying the session twice -> 401 invalid_cookie", async () => {
    const c = hs.cookie({ sub: "u1", org: "acme" });
    const r = await rawHttp(nginx.port, req(["POST /api/liveblocks-auth HTTP/1.1", "Host: x", "Content-Type: application/json", "Content-Length: 2", `Cookie: session=${c}`, `Cookie: session=${c}`, "Connection: close"], "{}"));
    // nginx 1.22 passes only the first Cookie header to FastCGI; newer
    // nginx joins them.  Either lbauth sees one session (200) or both
    // (401 invalid_cookie); it never mixes two users.
    assert.ok(r.status === 200 || (r.status === 401 && r.json.error === "invalid_cookie"), `${r.status} ${r.body}`);
  });
});

describe("CORS", () => {
  test("an allowed origin gets the CORS headers", async () => {
    const r = await post(nginx.url, { cookie: s({ sub: "u1", org: "acme" }), headers: { origin: "https://app.example.com" } });
    assertToken(r);
    assert.equal(r.headers["access-control-allow-origin"], "https://app.example.com");
    assert.equal(r.headers["access-control-allow-credentials"], "true");
    assert.match(r.headers.vary, /Origin/);
  });
  test("same origin needs no CORS headers", async () => {
    const u = new URL(nginx.url);
    const r = await post(nginx.url, { cookie: s({ sub: "u1", org: "acme" }), headers: { origin: `http://${u.host}` } });
    assertToken(r);
    assert.equal(r.headers["access-control-allow-origin"], undefined);
  });
  test("preflight from an allowed origin -> 204 with the CORS headers", async () => {
    const res = await fetch(nginx.url, { method: "OPTIONS", headers: { origin: "http://localhost:5173", "access-control-request-method": "POST", "access-control-request-headers": "content-type" } });
    assert.equal(res.status, 204);
    assert.equal(res.headers.get("access-control-allow-origin"), "http://localhost:5173");
    assert.match(res.headers.get("access-control-allow-methods"), /POST/);
    assert.match(res.headers.get("access-control-allow-headers"), /Content-Type/i);
    assert.equal(res.headers.get("access-control-allow-credentials"), "true");
  });
  test("preflight from another origin -> 403 JSON", async () => {
    const r = await post(nginx.url, { method: "OPTIONS", contentType: null, headers: { origin: "https://evil.example" } });
    assertJsonError(r, 403, "forbidden_origin");
  });
  // Issue 12: the preflight decisions, over both transports.
  for (const transport of ["fcgi", "cgi"]) {
    test(`preflight from another origin over ${transport} -> 403 JSON without CORS headers`, async () => {
      const r = await send(transport, { method: "OPTIONS", contentType: null, body: "", headers: { origin: "https://evil.example", "access-control-request-method": "POST" } });
      assertJsonError(r, 403, "forbidden_origin");
      assert.equal(r.headers["access-control-allow-origin"], undefined);
      assert.equal(r.headers["access-control-allow-methods"], undefined);
    });
    test(`preflight without an Origin over ${transport} -> 204 without CORS headers`, async () => {
      const r = await send(transport, { method: "OPTIONS", contentType: null, body: "" });
      assert.equal(r.status, 204);
      assert.equal(r.headers.allow, "POST, OPTIONS");
      assert.equal(r.headers["access-control-allow-origin"], undefined);
    });
    test(`preflight from an allowed origin over ${transport} -> 204 with CORS headers`, async () => {
      const r = await send(transport, { method: "OPTIONS", contentType: null, body: "", headers: { origin: "http://localhost:5173" } });
      assert.equal(r.status, 204);
      assert.equal(r.headers["access-control-allow-origin"], "http://localhost:5173");
    });
  }
  test("preflight from the endpoint's own origin -> 204 without CORS headers", async () => {
    const r = await post(nginx.url, { method: "OPTIONS", contentType: null, headers: { origin: `http://${new URL(nginx.url).host}` } });
    assert.equal(r.status, 204);
    assert.equal(r.headers["access-control-allow-origin"], undefined);
  });
  test("issue 12: the own origin written without its port is another origin -> 403", async () => {
    const r = await post(nginx.url, { cookie: s({ sub: "u1", org: "acme" }), headers: { origin: "http://127.0.0.1" } });
    assertJsonError(r, 403, "forbidden_origin");
  });
  test("an error to an allowed origin is readable by it (CORS headers on errors too)", async () => {
    const r = await post(nginx.url, { headers: { origin: "https://app.example.com" } });
    assertJsonError(r, 401, "unauthenticated");
    assert.equal(r.headers["access-control-allow-origin"], "https://app.example.com");
  });
});

describe("the request log", () => {
  test("one line per request with status, user, room, grants; never a token or cookie", async () => {
    const cookie = hs.cookie({ sub: "log-user", org: "acme" });
    const r = await post(nginx.url, { body: '{"room":"acme:logged"}', cookie: `session=${cookie}` });
    const tok = assertToken(r) && r.json.token;
    await new Promise((res) => setTimeout(res, 100));
    const log = fcgi.log();
    assert.match(log, /lbauth: status=200 user="log-user" room="acme:logged" granted="acme:logged" us=\d+/);
    const sig = cookie.split(".")[2];
    assert.equal(log.includes(sig), false, "cookie signature in the log");
    assert.equal(log.includes(cookie.split(".")[1]), false, "cookie payload in the log");
    assert.equal(log.includes(tok.split(".")[2]), false, "token in the log");
    assert.equal(log.includes(hs.secret()), false, "secret in the log");
  });
  // Issue 12: every reason names the rule that failed.
  const reasons = [
    ["an empty group id", async () => `session=${await joseCookie({ sub: "r1", exp: NOW() + 600, groups: [""] })}`, "{}", 401, "a group id must be a string of 1 to 128 characters without control characters or lone surrogates"],
    ["a 129-character group id", async () => `session=${await joseCookie({ sub: "r2", exp: NOW() + 600, groups: ["g".repeat(129)] })}`, "{}", 401, "a group id must be a string of 1 to 128 characters without control characters or lone surrogates"],
    ["65 groups", async () => `session=${await joseCookie({ sub: "r3", exp: NOW() + 600, groups: Array.from({ length: 65 }, (_, i) => `g${i}`) })}`, "{}", 401, "groups must be an array of at most 64 entries"],
    ["a bad rooms entry", async () => `session=${await joseCookie({ sub: "r4", exp: NOW() + 600, rooms: ["a*b"] })}`, "{}", 401, "a rooms entry must be a room id or a prefix* pattern"],
    ["a duplicate room in the body", () => `session=${hs.cookie({ sub: "r5", org: "acme" })}`, '{"room":"acme:a","room":"acme:b"}', 400, "body repeats a member name in one object"],
    ["a lone surrogate room", () => `session=${hs.cookie({ sub: "r6", org: "acme" })}`, '{"room":"\\ud800"}', 400, "room holds a lone surrogate"],
    ["a wrong signature", () => `session=${hs.cookie({ sub: "r7" }).slice(0, -3)}AAA`, "{}", 401, "signature does not verify with the configured key"],
    ["no session cookie", () => "theme=dark", "{}", 401, "no session cookie"],
  ];
  for (const [name, cookie, body, status, reason] of reasons) {
    test(`log reason for ${name}: "${reason.slice(0, 40)}..."`, async () => {
      const before = fcgi.log().length;
      const r = await post(nginx.url, { body, cookie: await cookie() });
      assert.equal(r.status, status, r.body);
      await new Promise((res) => setTimeout(res, 100));
      const line = fcgi.log().slice(before).split("\n").find((l) => l.includes(`status=${status}`));
      assert.ok(line, "no log line");
      assert.ok(line.includes(`reason="${reason}`), line);
    });
  }
  test("a hostile room cannot forge a log line", async () => {
    const r = await post(nginx.url, { body: JSON.stringify({ room: 'x" status=200 user="admin' }), cookie: s({ sub: "u9", org: "acme" }) });
    assert.equal(r.status, 200);
    await new Promise((res) => setTimeout(res, 100));
    assert.match(fcgi.log(), /room="x\\x22 status=200 user=\\x22admin"/);
  });
});
