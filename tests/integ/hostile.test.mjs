// hostile.test.mjs: the hostile-input suite.  Each case is sent to the
// real lbauth both through nginx (FastCGI, one long-lived worker) and
// as CGI, and must get its exact status and a JSON error body; the
// worker must still answer a good request afterwards; and at the end no
// cookie, token or secret used anywhere here may appear in what lbauth
// wrote to stderr.  CGI also lets the suite send what nginx would never
// pass on: a missing method, a lying or absurd CONTENT_LENGTH.

import { test, before, after, describe } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { SignJWT, importPKCS8 } from "jose";
import { makeSetup, startFcgi, startNginx, cgi, post, rawHttp, stopAll } from "./harness.mjs";

after(stopAll);
const now = () => Math.floor(Date.now() / 1000);
const b64 = (o) => Buffer.from(typeof o === "string" ? o : JSON.stringify(o)).toString("base64url");
const secrets = [];	// every cookie, token and key text used: must never be logged
const cgiStderr = [];

let hs, ed, hsF, hsN, edF, edN, edKey;
before(async () => {
  hs = makeSetup();
  ed = makeSetup({ cookieAlg: "EdDSA" });
  hsF = await startFcgi(hs); hsN = await startNginx(hs, hsF);
  edF = await startFcgi(ed); edN = await startNginx(ed, edF);
  edKey = await importPKCS8(fs.readFileSync(path.join(ed.dir, "app.key"), "utf8"), "EdDSA");
  secrets.push(hs.secret(), fs.readFileSync(path.join(ed.dir, "app.key"), "utf8").split("\n")[1]);
  for (const s of [hs, ed]) secrets.push(fs.readFileSync(path.join(s.dir, "sign.key"), "utf8").split("\n")[1]);
});

const good = () => ({ sub: "u1", org: "acme", exp: now() + 600 });
const hsSign = (claims, header = {}) => new SignJWT(claims).setProtectedHeader({ alg: "HS256", ...header }).sign(new TextEncoder().encode(hs.secret()));
const edSign = (claims, header = {}) => new SignJWT(claims).setProtectedHeader({ alg: "EdDSA", ...header }).sign(edKey);
// A token with any header and payload, signed HS256 with our secret
// over exactly those bytes (so that only the header decides).
async function rawHs(header, payload) {
  const { createHmac } = await import("node:crypto");
  const input = `${b64(header)}.${typeof payload === "string" ? b64(payload) : b64(payload)}`;
  return `${input}.${createHmac("sha256", hs.secret()).update(input).digest("base64url")}`;
}

// [name, which setup, async () => request spec, status, error code]
// A spec is {body, cookie (full header), contentType, method, headers,
// cgiEnv (extra CGI variables, ignored through nginx)}.
const S = (c) => `session=${c}`;
// t with its signature's first character changed, so the MAC can never
// still match.  (Overwriting the last two characters with "AA", as these
// cases once did, left the token as it was about once in 1,024 runs:
// a signature already ending in "AA".)
const badMac = (t) => { const i = t.lastIndexOf(".") + 1; return t.slice(0, i) + (t[i] === "A" ? "B" : "A") + t.slice(i + 1); };
const cases = [];
const add = (name, which, spec, status, code, opts = {}) => cases.push({ name, which, spec, status, code, ...opts });

// --- JSON bodies ----------------------------------------------------
const bodies400 = [
  ["truncated object", '{"room":"acme:x"'], ["truncated string", '{"room":"acme'], ["only a brace", "{"],
  ["truncated key", '{"ro'], ["truncated after colon", '{"room":'], ["truncated escape", '{"room":"\\u00'],
  ["nested 17 objects", '{"a":'.repeat(17) + "1" + "}".repeat(17)],
  ["nested 100 arrays", "[".repeat(100) + "]".repeat(100)],
  ["nested 2000 arrays", "[".repeat(2000)],
  ["NUL byte raw", '{"room":"a\u0000"}'], ["NUL before body", '\u0000{}'], ["NUL after body", '{}\u0000'],
  ["single quotes", "{'room':'a'}"], ["trailing comma", '{"room":"a",}'], ["bare word", "room"],
  ["NaN", '{"room":NaN}'], ["comment", '{/*x*/"room":"a"}'], ["two objects", "{}{}"],
  ["BOM", "\ufeff{}"], ["array", "[]"], ["number", "42"], ["null", "null"], ["true", "true"],
  ["string", '"{}"'], ["empty", ""], ["spaces only", "   "],
];
for (const [n, b] of bodies400) add(`body: ${n}`, "hs", async () => ({ body: b, cookie: S(await hsSign(good())) }), 400, "invalid_body");
const invalidUtf8 = [[0xff], [0xc0, 0x80], [0xed, 0xa0, 0x80], [0xf4, 0x90, 0x80, 0x80], [0xe2, 0x82]];
for (const bytes of invalidUtf8)
  add(`body: invalid UTF-8 ${Buffer.from(bytes).toString("hex")}`, "hs", async () => ({ body: Buffer.concat([Buffer.from('{"room":"a'), Buffer.from(bytes), Buffer.from('"}')]), cookie: S(await hsSign(good())) }), 400, "invalid_body");
const rooms400 = [
  ["empty", ""], ["star", "*"], ["trailing star", "acme:*"], ["inner star", "ac*me"], ["129 chars", "a".repeat(129)],
  ["65 astral chars (130 units)", "😀".repeat(65)], ["NUL", "a\u0000b"], ["newline", "a\nb"], ["tab", "a\tb"],
  ["CR", "a\rb"], ["DEL", "a\u007fb"], ["C1 NEL", "a\u0085b"], ["escape ESC", "a\u001bb"],
];
for (const [n, r] of rooms400) add(`room: ${n}`, "hs", async () => ({ body: JSON.stringify({ room: r }), cookie: S(await hsSign(good())) }), 400, "invalid_room");
for (const [n, v] of [["number", 1], ["null", null], ["array", ["a"]], ["object", { id: "a" }], ["bool", true]])
  add(`room: ${n}`, "hs", async () => ({ body: JSON.stringify({ room: v }), cookie: S(await hsSign(good())) }), 400, "invalid_room");
add("duplicate room keys, the wildcard last: refused as a body", "hs", async () => ({ body: '{"room":"acme:ok","room":"acme*"}', cookie: S(await hsSign(good())) }), 400, "invalid_body");

// --- Cookies --------------------------------------------------------
add("no Cookie header", "hs", async () => ({}), 401, "unauthenticated");
add("cookie of another name", "hs", async () => ({ cookie: `sessionx=${await hsSign(good())}` }), 401, "unauthenticated");
add("session cookie twice", "hs", async () => { const c = await hsSign(good()); return { cookie: `session=${c}; other=1; session=${c}` }; }, 401, "invalid_cookie");
add("session cookie twice, one empty", "hs", async () => ({ cookie: `session=; session=${await hsSign(good())}` }), 401, "invalid_cookie");
// nginx refuses header lines over 8 KiB itself; only CGI reaches lbauth.
add("Cookie header over 16 KiB", "hs", async () => ({ cookie: `pad=${"x".repeat(17000)}; session=${await hsSign(good())}` }), 401, "invalid_cookie", { cgiOnly: true });
add("session cookie over 4 KiB", "hs", async () => ({ cookie: `session=${"a".repeat(4097)}` }), 401, "invalid_cookie");
for (const [n, v] of [["one part", "abc"], ["two parts", "abc.def"], ["four parts", "a.b.c.d"], ["five dots", "a.b.c.d.e.f"],
  ["only dots", ".."], ["empty header part", ".e30.sig"], ["empty payload part", "e30..sig"], ["empty signature", "e30.e30."],
  ["padding", "eyJhbGciOiJIUzI1NiJ9.e30=.AAAA"], ["standard base64 chars", "ab+/.cd+/.ef+/"], ["space inside", "eyJh bGci.e30.x"],
  ["non-ASCII", "é.é.é"], ["header not JSON", `${b64("hello")}.${b64(good())}.AAAA`], ["header array", `${b64([])}.${b64(good())}.AAAA`]])
  add(`token: ${n}`, "hs", async () => ({ cookie: S(v) }), 401, "invalid_session");

// --- Algorithms and headers -------------------------------------------
add("alg none, empty signature", "hs", async () => ({ cookie: S(`${b64({ alg: "none", typ: "JWT" })}.${b64(good())}.`) }), 401, "invalid_session");
add("alg none with a MAC", "hs", async () => ({ cookie: S(await rawHs({ alg: "none" }, good())) }), 401, "invalid_session");
add("alg None", "hs", async () => ({ cookie: S(await rawHs({ alg: "None" }, good())) }), 401, "invalid_session");
add("alg hs256 (case)", "hs", async () => ({ cookie: S(await rawHs({ alg: "hs256" }, good())) }), 401, "invalid_session");
add("alg HS512", "hs", async () => ({ cookie: S(await rawHs({ alg: "HS512" }, good())) }), 401, "invalid_session");
add("alg missing", "hs", async () => ({ cookie: S(await rawHs({ typ: "JWT" }, good())) }), 401, "invalid_session");
add("alg not a string", "hs", async () => ({ cookie: S(await rawHs({ alg: ["HS256"] }, good())) }), 401, "invalid_session");
add("EdDSA token when HS256 is configured", "hs", async () => ({ cookie: S(await edSign(good())) }), 401, "invalid_session");
add("HS256 token when EdDSA is configured", "ed", async () => ({ cookie: S(await hsSign(good())) }), 401, "invalid_session");
add("HS256 keyed with the EdDSA public key file", "ed", async () => ({ cookie: S(await new SignJWT(good()).setProtectedHeader({ alg: "HS256" }).sign(fs.readFileSync(path.join(ed.dir, "app.pub")))) }), 401, "invalid_session");
add("alg none when EdDSA is configured", "ed", async () => ({ cookie: S(`${b64({ alg: "none" })}.${b64(good())}.`) }), 401, "invalid_session");
add("EdDSA signature of another key", "ed", async () => { const { generateKeyPair } = await import("jose"); const k = await generateKeyPair("EdDSA"); return { cookie: S(await new SignJWT(good()).setProtectedHeader({ alg: "EdDSA" }).sign(k.privateKey)) }; }, 401, "invalid_session");
add("EdDSA signature truncated", "ed", async () => ({ cookie: S((await edSign(good())).slice(0, -4)) }), 401, "invalid_session");
add("EdDSA signature bit flipped", "ed", async () => { const t = await edSign(good()); return { cookie: S(t.slice(0, -6) + (t.at(-6) === "A" ? "B" : "A") + t.slice(-5)) }; }, 401, "invalid_session");
add("payload changed after signing", "hs", async () => { const [h, , s] = (await hsSign(good())).split("."); return { cookie: S(`${h}.${b64({ ...good(), sub: "admin" })}.${s}`) }; }, 401, "invalid_session");
add("crit with an unknown extension", "hs", async () => ({ cookie: S(await rawHs({ alg: "HS256", crit: ["x"], x: 1 }, good())) }), 401, "invalid_session");
add("crit empty", "hs", async () => ({ cookie: S(await rawHs({ alg: "HS256", crit: [] }, good())) }), 401, "invalid_session");
add("b64 false (RFC 7797) via crit", "hs", async () => ({ cookie: S(await rawHs({ alg: "HS256", b64: false, crit: ["b64"] }, good())) }), 401, "invalid_session");
add("typ JOSE+JSON", "hs", async () => ({ cookie: S(await rawHs({ alg: "HS256", typ: "JOSE+JSON" }, good())) }), 401, "invalid_session");
add("typ not a string", "hs", async () => ({ cookie: S(await rawHs({ alg: "HS256", typ: 1 }, good())) }), 401, "invalid_session");
add("duplicate alg: none last", "hs", async () => ({ cookie: S(await (async () => { const { createHmac } = await import("node:crypto"); const h = Buffer.from('{"alg":"HS256","alg":"none"}').toString("base64url"); const i = `${h}.${b64(good())}`; return `${i}.${createHmac("sha256", hs.secret()).update(i).digest("base64url")}`; })()) }), 401, "invalid_session");
// kid is not used to pick a key: tricks change nothing (valid -> 200).
add("kid path traversal is ignored, MAC still checked", "hs", async () => ({ cookie: S(await rawHs({ alg: "HS256", kid: "../../../../dev/null" }, { ...good(), sub: "x" }).then(badMac)) }), 401, "invalid_session");
add("kid SQL injection is ignored, MAC still checked", "hs", async () => ({ cookie: S(badMac(await rawHs({ alg: "HS256", kid: "' OR 1=1 --" }, good()))) }), 401, "invalid_session");
add("jku/x5u/jwk headers are ignored, MAC still checked", "hs", async () => ({ cookie: S(badMac(await rawHs({ alg: "HS256", jku: "http://127.0.0.1:9/x", jwk: { kty: "oct", k: "AAAA" } }, good()))) }), 401, "invalid_session");

// --- Claims -----------------------------------------------------------
const skew = 60;
const claimCases = [
  ["exp at the leeway edge (now - skew)", () => ({ ...good(), exp: now() - skew }), 401, "session_expired"],
  ["exp beyond the leeway", () => ({ ...good(), exp: now() - skew - 1 }), 401, "session_expired"],
  ["exp far past", () => ({ ...good(), exp: 1 }), 401, "session_expired"],
  ["exp zero", () => ({ ...good(), exp: 0 }), 401, "session_expired"],
  ["exp negative", () => ({ ...good(), exp: -1e12 }), 401, "session_expired"],
  ["exp string", () => ({ ...good(), exp: String(now() + 600) }), 401, "invalid_session"],
  ["exp null", () => ({ ...good(), exp: null }), 401, "invalid_session"],
  ["exp missing", () => ({ sub: "u1", org: "acme" }), 401, "invalid_session"],
  ["nbf beyond the leeway", () => ({ ...good(), nbf: now() + skew + 5 }), 401, "invalid_session"],
  ["nbf far future", () => ({ ...good(), nbf: now() + 86400 }), 401, "invalid_session"],
  ["nbf string", () => ({ ...good(), nbf: "0" }), 401, "invalid_session"],
  ["sub missing", () => ({ exp: now() + 60, org: "acme" }), 401, "invalid_session"],
  ["sub empty", () => ({ ...good(), sub: "" }), 401, "invalid_session"],
  ["sub 129 chars", () => ({ ...good(), sub: "u".repeat(129) }), 401, "invalid_session"],
  ["sub number", () => ({ ...good(), sub: 1 }), 401, "invalid_session"],
  ["sub array", () => ({ ...good(), sub: ["u1"] }), 401, "invalid_session"],
  ["sub with newline", () => ({ ...good(), sub: "u1\nstatus=200" }), 401, "invalid_session"],
  ["sub with NUL", () => ({ ...good(), sub: "u1\u0000admin" }), 401, "invalid_session"],
  ["org empty", () => ({ ...good(), org: "" }), 401, "invalid_session"],
  ["org with star", () => ({ ...good(), org: "a*" }), 401, "invalid_session"],
  ["org 127 chars", () => ({ ...good(), org: "o".repeat(127) }), 401, "invalid_session"],
  ["org number", () => ({ ...good(), org: 5 }), 401, "invalid_session"],
  ["groups string", () => ({ ...good(), groups: "g1" }), 401, "invalid_session"],
  ["groups with a number", () => ({ ...good(), groups: ["g1", 2] }), 401, "invalid_session"],
  ["groups with an empty id", () => ({ ...good(), groups: [""] }), 401, "invalid_session"],
  ["groups 65 entries", () => ({ ...good(), groups: Array.from({ length: 65 }, (_, i) => `g${i}`) }), 401, "invalid_session"],
  ["groups object", () => ({ ...good(), groups: { a: 1 } }), 401, "invalid_session"],
  ["rooms string", () => ({ ...good(), rooms: "acme:*" }), 401, "invalid_session"],
  ["rooms with inner star", () => ({ ...good(), rooms: ["a*b"] }), 401, "invalid_session"],
  ["rooms with a 129-char id", () => ({ ...good(), rooms: ["r".repeat(129)] }), 401, "invalid_session"],
  ["rooms 65 entries", () => ({ ...good(), rooms: Array.from({ length: 65 }, (_, i) => `r${i}`) }), 401, "invalid_session"],
  ["rooms with null", () => ({ ...good(), rooms: [null] }), 401, "invalid_session"],
  ["info array", () => ({ ...good(), info: ["x"] }), 401, "invalid_session"],
  ["info string", () => ({ ...good(), info: "x" }), 401, "invalid_session"],
  ["info null", () => ({ ...good(), info: null }), 401, "invalid_session"],
  ["info over 1024 chars", () => ({ ...good(), info: { bio: "x".repeat(1020) } }), 401, "invalid_session"],
  ["name number", () => ({ ...good(), name: 5 }), 401, "invalid_session"],
  ["avatar object", () => ({ ...good(), avatar: {} }), 401, "invalid_session"],
  ["claims an array", () => [1, 2], 401, "invalid_session"],
  ["claims a string", () => "sub", 401, "invalid_session"],
];
for (const [n, claims, status, code] of claimCases)
  add(`claims: ${n}`, "hs", async () => {
    const c = claims();
    if (typeof c === "object" && !Array.isArray(c)) return { cookie: S(await hsSign(c)) };
    return { cookie: S(await rawHs({ alg: "HS256" }, c)) };
  }, status, code);
// Edges that must pass.
add("claims: exp just inside the leeway -> 200", "hs", async () => ({ cookie: S(await hsSign({ ...good(), exp: now() - skew + 30 })) }), 200);
add("claims: nbf just inside the leeway -> 200", "hs", async () => ({ cookie: S(await hsSign({ ...good(), nbf: now() + skew - 30 })) }), 200);
add("claims: sub of 128 chars -> 200", "hs", async () => ({ cookie: S(await hsSign({ ...good(), sub: "u".repeat(128) })) }), 200);
add("claims: info of exactly 1024 chars -> 200", "hs", async () => ({ cookie: S(await hsSign({ ...good(), info: { b: "x".repeat(1024 - 8) } })) }), 200);

// --- HTTP level ---------------------------------------------------------
for (const m of ["GET", "PUT", "PATCH", "DELETE", "PROPFIND"])
  add(`method ${m}`, "hs", async () => ({ method: m, cookie: S(await hsSign(good())) }), 405, "method_not_allowed");
for (const ct of ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", "application/jsonx", "application/json-patch+json", "text/json", ""])
  add(`content type "${ct}"`, "hs", async () => ({ contentType: ct || null, cookie: S(await hsSign(good())) }), 415, "unsupported_media_type");
add("body over max_body", "hs", async () => ({ body: JSON.stringify({ room: "a", x: "y".repeat(5000) }), cookie: S(await hsSign(good())) }), 413, "payload_too_large");
for (const o of ["https://evil.example", "null", "http://127.0.0.1.evil.example", "https://127.0.0.1", "file://", "http://127.0.0.1:1"])
  add(`Origin ${o}`, "hs", async () => ({ headers: { origin: o }, cookie: S(await hsSign(good())) }), 403, "forbidden_origin");

// --- Issue 12: contract breaks an independent battery found ----------
// Each failed the same way through nginx and as CGI; as CGI the request
// carries what nginx passes (HTTP_HOST without the port, SERVER_PORT).
// 1. An Origin without a port is the scheme's default port (RFC 6454),
// not nginx's: it got 200 because is_self() never looked at SERVER_PORT.
const asNginx = () => ({ SERVER_PORT: String(hsN.port) });
add("issue 12: Origin without a port, server on another port", "hs", async () => ({ headers: { origin: "http://127.0.0.1" }, cgiEnv: asNginx(), cookie: S(await hsSign(good())) }), 403, "forbidden_origin");
add("issue 12: Origin with the default port spelled out, server on another port", "hs", async () => ({ headers: { origin: "http://127.0.0.1:80" }, cgiEnv: asNginx(), cookie: S(await hsSign(good())) }), 403, "forbidden_origin");
add("issue 12: Origin with the server's own port -> 200", "hs", async () => ({ headers: { origin: `http://127.0.0.1:${hsN.port}` }, cgiEnv: asNginx(), cookie: S(await hsSign(good())) }), 200);
add("issue 12: Origin without a port, server on port 80 -> 200 (CGI)", "hs", async () => ({ headers: { origin: "http://127.0.0.1" }, cgiEnv: { SERVER_PORT: "80" }, cookie: S(await hsSign(good())) }), 200, undefined, { cgiOnly: true });
// 2. Only ";" parameters may follow application/json (RFC 9110 8.3.1);
// "application/json text/plain" got 200.
for (const ct of ["application/json text/plain", "application/json x", "application/json, text/plain", "application/json/x", "application/json; charset", "application/json; charset=latin1", "application/json; charset=utf-16", "application/json; charset=utf-8 x"])
  add(`issue 12: content type "${ct}"`, "hs", async () => ({ contentType: ct, cookie: S(await hsSign(good())) }), 415, "unsupported_media_type");
// 3. A JOSE header over 1024 decoded bytes got 401 "header is not
// base64url": it did not fit a 1024-byte buffer.  Only the JWT's 4096
// bytes limit it now.
add("issue 12: HS256 cookie with a 1,100-byte header (1,064-char kid) -> 200", "hs", async () => ({ cookie: S(await hsSign(good(), { typ: "JWT", kid: "k".repeat(1064) })) }), 200);
add("issue 12: EdDSA cookie with a 2,500-byte header -> 200", "ed", async () => ({ cookie: S(await edSign(good(), { typ: "JWT", kid: "k".repeat(2464) })) }), 200);
add("issue 12: HS256 cookie of 4,097 bytes, most of it header -> 401 invalid_cookie", "hs", async () => { const pad = (n) => hsSign(good(), { kid: "k".repeat(n) }); let n = 2900; while ((await pad(n)).length < 4097) n++; return { cookie: S(await pad(n)) }; }, 401, "invalid_cookie");
for (const ct of ["application/json; charset=\"utf-8\"", "Application/JSON ;charset=UTF-8", "application/json;", "application/json; v=1; q=\"a; b\""])
  add(`issue 12: content type '${ct}' -> 200`, "hs", async () => ({ contentType: ct, cookie: S(await hsSign(good())) }), 200);

// --- Issue 12: where README was silent, each decision pinned --------
const hdr12 = (text) => async () => ({ cookie: S(await rawHs(text, good())) });
const claims12 = (text) => async () => ({ cookie: S(await rawHs({ alg: "HS256" }, text)) });
const goodText = () => `"sub":"u1","org":"acme","exp":${now() + 600}`;
// Body: a member name twice is refused (a reader keeping the first
// would see another room); a BOM is refused; a lone surrogate is no
// room id, elsewhere it is kept.
add("issue 12: body repeats room, same value", "hs", async () => ({ body: '{"room":"acme:a","room":"acme:a"}', cookie: S(await hsSign(good())) }), 400, "invalid_body");
add("issue 12: body repeats a nested name", "hs", async () => ({ body: '{"room":"acme:a","x":{"y":1,"y":2}}', cookie: S(await hsSign(good())) }), 400, "invalid_body");
add("issue 12: body repeats room, once escaped", "hs", async () => ({ body: '{"room":"acme:a","\\u0072oom":"acme:b"}', cookie: S(await hsSign(good())) }), 400, "invalid_body");
add("issue 12: BOM before a body with a room", "hs", async () => ({ body: '\ufeff{"room":"acme:a"}', cookie: S(await hsSign(good())) }), 400, "invalid_body");
add("issue 12: room a lone surrogate escape", "hs", async () => ({ body: '{"room":"acme:\\ud800"}', cookie: S(await hsSign(good())) }), 400, "invalid_room");
add("issue 12: lone surrogate escape outside room -> 200", "hs", async () => ({ body: '{"x":"\\udc00","room":"acme:a"}', cookie: S(await hsSign(good())) }), 200);
// JWT: any member name twice, in the header or the claims, is refused.
add("issue 12: duplicate alg, both HS256", "hs", hdr12('{"alg":"HS256","alg":"HS256"}'), 401, "invalid_session");
add("issue 12: duplicate alg, none first", "hs", hdr12('{"alg":"none","alg":"HS256"}'), 401, "invalid_session");
add("issue 12: duplicate kid", "hs", hdr12('{"alg":"HS256","kid":"a","kid":"b"}'), 401, "invalid_session");
add("issue 12: duplicate sub", "hs", async () => claims12(`{"sub":"admin",${goodText()}}`)(), 401, "invalid_session");
add("issue 12: duplicate org", "hs", async () => claims12(`{"org":"globex",${goodText()}}`)(), 401, "invalid_session");
add("issue 12: duplicate exp", "hs", async () => claims12(`{"exp":1,${goodText()}}`)(), 401, "invalid_session");
add("issue 12: duplicate inside info", "hs", async () => claims12(`{${goodText()},"info":{"n":1,"n":2}}`)(), 401, "invalid_session");
add("issue 12: duplicate sub, once escaped", "hs", async () => claims12(`{"\\u0073ub":"admin",${goodText()}}`)(), 401, "invalid_session");
add("issue 12: EdDSA header with duplicate alg", "ed", async () => { const { createPrivateKey, sign } = await import("node:crypto"); const k = createPrivateKey(fs.readFileSync(path.join(ed.dir, "app.key"))); const i = `${b64('{"alg":"EdDSA","alg":"EdDSA"}')}.${b64(good())}`; return { cookie: S(`${i}.${sign(null, Buffer.from(i), k).toString("base64url")}`) }; }, 401, "invalid_session");
add("issue 12: the same EdDSA token with one alg -> 200", "ed", async () => { const { createPrivateKey, sign } = await import("node:crypto"); const k = createPrivateKey(fs.readFileSync(path.join(ed.dir, "app.key"))); const i = `${b64('{"alg":"EdDSA"}')}.${b64(good())}`; return { cookie: S(`${i}.${sign(null, Buffer.from(i), k).toString("base64url")}`) }; }, 200);
// typ in any case; exp any finite number; identifiers are text.
add("issue 12: typ jwt in lower case -> 200", "hs", hdr12({ alg: "HS256", typ: "jwt" }), 200);
add("issue 12: typ Jwt -> 200", "hs", hdr12({ alg: "HS256", typ: "Jwt" }), 200);
add("issue 12: exp 1e300 -> 200", "hs", claims12('{"sub":"u1","org":"acme","exp":1e300}'), 200);
add("issue 12: exp 1e400 (beyond a double)", "hs", claims12('{"sub":"u1","org":"acme","exp":1e400}'), 401, "invalid_session");
add("issue 12: sub a lone surrogate", "hs", async () => claims12(`{"sub":"u\\ud800","org":"acme","exp":${now() + 600}}`)(), 401, "invalid_session");
add("issue 12: name a lone surrogate -> 200", "hs", async () => claims12(`{${goodText()},"name":"\\ud800"}`)(), 200);
add("issue 12: org with a control character", "hs", async () => ({ cookie: S(await hsSign({ ...good(), org: "ac\u0001me" })) }), 401, "invalid_session");
add("issue 12: org with a C1 control", "hs", async () => ({ cookie: S(await hsSign({ ...good(), org: "ac\u009bme" })) }), 401, "invalid_session");
add("issue 12: sub with DEL", "hs", async () => ({ cookie: S(await hsSign({ ...good(), sub: "u\u007f" })) }), 401, "invalid_session");
add("issue 12: rooms with one bad entry among good ones", "hs", async () => ({ cookie: S(await hsSign({ ...good(), rooms: ["acme:a", "a*b"] })) }), 401, "invalid_session");
add("issue 12: rooms entry with a control character", "hs", async () => ({ cookie: S(await hsSign({ ...good(), rooms: ["a\nb*"] })) }), 401, "invalid_session");
add("issue 12: groups with a 129-char id", "hs", async () => ({ cookie: S(await hsSign({ ...good(), groups: ["g".repeat(129)] })) }), 401, "invalid_session");
add("issue 12: groups with a 128-char id -> 200", "hs", async () => ({ cookie: S(await hsSign({ ...good(), groups: ["g".repeat(128)] })) }), 200);
// Cookie: one pair of quotes around the value is dropped; a comma is
// part of the value, not a separator.
add("issue 12: quoted session cookie -> 200", "hs", async () => ({ cookie: `session="${await hsSign(good())}"` }), 200);
add("issue 12: comma after the session cookie", "hs", async () => ({ cookie: `session=${await hsSign(good())}, theme=dark` }), 401, "invalid_session");
add("issue 12: session cookie after a comma", "hs", async () => ({ cookie: `theme=dark, session=${await hsSign(good())}` }), 401, "unauthenticated");
// A preflight from a foreign origin: 403 JSON, no CORS headers.
add("issue 12: OPTIONS preflight from a foreign origin", "hs", async () => ({ method: "OPTIONS", contentType: null, headers: { origin: "https://evil.example", "access-control-request-method": "POST" } }), 403, "forbidden_origin");

// Sends spec over "nginx" or "cgi" to setup which.
async function send(where, which, spec) {
  const setup = which === "ed" ? ed : hs;
  const body = spec.body ?? "{}";
  if (where === "cgi") {
    const r = await cgi(setup, { method: spec.method ?? "POST", body, cookie: spec.cookie, contentType: spec.contentType === undefined ? "application/json" : spec.contentType, headers: spec.headers ?? {}, env: spec.cgiEnv ?? {} });
    cgiStderr.push(r.stderr);
    return r;
  }
  const url = (which === "ed" ? edN : hsN).url;
  return post(url, { method: spec.method ?? "POST", body, cookie: spec.cookie, contentType: spec.contentType === undefined ? "application/json" : spec.contentType, headers: spec.headers ?? {} });
}

function check(r, status, code) {
  assert.equal(r.status, status, `status: ${r.body}`);
  assert.equal(r.headers["cache-control"], "no-store");
  if (status === 200) {
    assert.equal(typeof r.json?.token, "string");
    return;
  }
  assert.match(r.headers["content-type"] ?? "", /^application\/json/);
  assert.equal(r.headers["access-control-allow-origin"], undefined);
  assert.equal(r.json?.error, code, r.body);
  assert.equal(typeof r.json.message, "string");
}

for (const where of ["nginx", "cgi"]) {
  describe(`hostile input over ${where}`, () => {
    for (const c of cases.filter((x) => where === "cgi" || !x.cgiOnly)) {
      test(`${c.name} -> ${c.status}${c.code ? " " + c.code : ""}`, async () => {
        const spec = await c.spec();
        if (spec.cookie) secrets.push(spec.cookie.replace(/^.*session=/, "").slice(0, 60));
        const r = await send(where, c.which, spec);
        check(r, c.status, c.code);
        if (r.json?.token) secrets.push(r.json.token.split(".")[2]);
      });
    }
    if (where === "nginx") {
      test("the same workers still serve, with the right permissions", async () => {
        assert.equal(hsF.exited, false);
        assert.equal(edF.exited, false);
        for (const [setup, n, sign] of [[hs, hsN, hsSign], [ed, edN, edSign]]) {
          const r = await post(n.url, { body: '{"room":"acme:fine"}', cookie: S(await sign(good())) });
          check(r, 200);
        }
      });
    }
  });
}

describe("CGI-only: what nginx would never pass on", () => {
  const lengths = [
    ["CONTENT_LENGTH missing", undefined, "{}", 400, "invalid_body"],
    ["CONTENT_LENGTH empty", "", "{}", 400, "invalid_body"],
    ["CONTENT_LENGTH negative", "-1", "{}", 400, "invalid_content_length"],
    ["CONTENT_LENGTH plus sign", "+2", "{}", 400, "invalid_content_length"],
    ["CONTENT_LENGTH hex", "0x2", "{}", 400, "invalid_content_length"],
    ["CONTENT_LENGTH with space", " 2", "{}", 400, "invalid_content_length"],
    ["CONTENT_LENGTH float", "2.0", "{}", 400, "invalid_content_length"],
    ["CONTENT_LENGTH huge", "99999999999999999999999999999", "{}", 413, "payload_too_large"],
    ["CONTENT_LENGTH 2^64", "18446744073709551616", "{}", 413, "payload_too_large"],
    ["CONTENT_LENGTH over max_body", "4097", "{}", 413, "payload_too_large"],
    ["body shorter than CONTENT_LENGTH", "100", "{}", 400, "incomplete_body"],
    ["body longer than CONTENT_LENGTH (prefix is not JSON)", "1", "{}", 400, "invalid_body"],
    ["body longer than CONTENT_LENGTH (prefix is JSON)", "2", '{}{"room":"*"}', 200],
  ];
  for (const [n, cl, body, status, code] of lengths) {
    test(`${n} -> ${status}`, async () => {
      const cookie = S(await hsSign(good()));
      const r = await cgi(hs, { body, cookie, env: { CONTENT_LENGTH: cl } });
      cgiStderr.push(r.stderr);
      check(r, status, code);
    });
  }
  test("REQUEST_METHOD missing -> 405", async () => {
    const r = await cgi(hs, { body: "{}", cookie: S(await hsSign(good())), env: { REQUEST_METHOD: undefined } });
    check(r, 405, "method_not_allowed");
  });
  test("REQUEST_METHOD lower-case post -> 405", async () => {
    const r = await cgi(hs, { method: "post", body: "{}", cookie: S(await hsSign(good())) });
    check(r, 405, "method_not_allowed");
  });
});

describe("raw HTTP through nginx", () => {
  test("two Cookie header lines with one session each: never two users mixed", async () => {
    const c1 = await hsSign({ ...good(), sub: "alice" }), c2 = await hsSign({ ...good(), sub: "mallory" });
    const r = await rawHttp(hsN.port, ["POST /api/liveblocks-auth HTTP/1.1", "Host: x", "Content-Type: application/json", "Content-Length: 2", `Cookie: session=${c1}`, `Cookie: session=${c2}`, ""].join("\r\n") + "\r\n{}");
    if (r.status === 200) assert.equal(JSON.parse(Buffer.from(r.json.token.split(".")[1], "base64url")).uid, "alice");
    else check(r, 401, "invalid_cookie");
  });
  test("no method token at all -> nginx 400, worker unaffected", async () => {
    const r = await rawHttp(hsN.port, " /api/liveblocks-auth HTTP/1.1\r\nHost: x\r\n\r\n");
    assert.equal(r.status, 400);
    assert.equal(hsF.exited, false);
  });
});

describe("secrets", () => {
  test("no cookie, token or key appeared in anything lbauth logged", async () => {
    await new Promise((r) => setTimeout(r, 200));
    const logs = [hsF.log(), edF.log(), ...cgiStderr].join("\n");
    assert.ok(logs.length > 1000, "the suite logged too little to be meaningful");
    assert.ok(secrets.length > 150);
    for (const s of secrets) if (s && s.length >= 16) assert.equal(logs.includes(s), false, `logged: ${s.slice(0, 20)}...`);
  });
});
