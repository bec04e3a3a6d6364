// config.test.mjs: start-up and configuration, through the real
// binaries: lbauthctl check and lbauth refusing bad configs and unsafe
// key files (naming file and line), EdDSA session cookies, ID tokens,
// REMOTE_USER, and policy plugins (the example one, one with the wrong
// ABI, one that reports an error).

import { test, after, describe } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { SignJWT, importPKCS8 } from "jose";
import { ROOT, makeSetup, startFcgi, startNginx, cgi, post, payload, ctlResult, stopAll, tmpdir } from "./harness.mjs";

after(stopAll);

const body = (room) => JSON.stringify(room === undefined ? {} : { room });

function addConf(setup, lines) {
  fs.appendFileSync(setup.conf, lines.join("\n") + "\n");
}

describe("lbauthctl check and start-up errors", () => {
  const cases = [
    ["unknown key", ["colour = blue"], /lbauth\.conf:\d+: unknown key "colour"/],
    ["bad number", ["token_ttl = soon"], /lbauth\.conf:\d+: token_ttl is not a non-negative decimal number/],
    ["out of range", ["clock_skew = 3600"], /lbauth\.conf:\d+: clock_skew is out of range/],
    ["duplicate key", ["project_id = again"], /lbauth\.conf:\d+: project_id is already set on line 3/],
    ["no equals sign", ["just words"], /lbauth\.conf:\d+: expected "key = value"/],
    ["bad backend", ["backend = cloud"], /lbauth\.conf:\d+: backend is already set|backend must be local or liveblocks/],
    ["bad origin", ["allowed_origins = https://app.example.com/"], /allowed_origins must list origins/],
    ["unknown policy", ["policy = nosuch"], /lbauth\.conf:\d+: policy: unknown policy "nosuch"/],
    ["missing plugin", ["policy = /nonexistent/p.so"], /policy: policy \/nonexistent\/p\.so: .*No such file/],
    ["plugin with the wrong ABI", [`policy = ${ROOT}/tests/plugin/badabi.so`], /built for policy ABI 3, this lbauth has ABI 2/],
    ["plugin init failing", [`policy = ${ROOT}/tests/plugin/example.so`], /init failed: policy_arg must name the admin group/],
  ];
  for (const [name, lines, re] of cases) {
    test(`${name}: check and lbauth both refuse, naming file and line`, async () => {
      const s = makeSetup();
      addConf(s, lines);
      const r = ctlResult(["check", "-c", s.conf]);
      assert.equal(r.status, 1);
      assert.match(r.stderr, re);
      // lbauth as CGI: a 500 JSON answer, the reason in its error log.
      const c = await cgi(s, { body: "{}" });
      assert.equal(c.status, 500);
      assert.equal(c.json.error, "misconfigured");
      assert.match(c.stderr, re);
      assert.notEqual(c.code, 0);
    });
  }

  test("a good config: check says ok", () => {
    const s = makeSetup();
    const r = ctlResult(["check", "-c", s.conf]);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /lbauth\.conf: ok/);
  });

  const keyCases = [
    ["group-readable signing key", (s) => fs.chmodSync(path.join(s.dir, "sign.key"), 0o640), /sign\.key: is accessible by group or others \(mode 0640\)/],
    ["world-readable cookie secret", (s) => fs.chmodSync(path.join(s.dir, "cookie.secret"), 0o604), /cookie\.secret: is accessible by group or others/],
    ["signing key is a symlink", (s) => { fs.renameSync(path.join(s.dir, "sign.key"), path.join(s.dir, "real.key")); fs.symlinkSync(path.join(s.dir, "real.key"), path.join(s.dir, "sign.key")); }, /sign\.key: is a symbolic link/],
    ["signing key is a directory", (s) => { fs.rmSync(path.join(s.dir, "sign.key")); fs.mkdirSync(path.join(s.dir, "sign.key")); }, /sign\.key: is not a regular file/],
    ["signing key missing", (s) => fs.rmSync(path.join(s.dir, "sign.key")), /sign\.key: No such file/],
    ["signing key is not a key", (s) => fs.writeFileSync(path.join(s.dir, "sign.key"), "hello\n", { mode: 0o600 }), /not an Ed25519 private key in PKCS#8 PEM/],
    ["cookie secret too short", (s) => fs.writeFileSync(path.join(s.dir, "cookie.secret"), "short\n", { mode: 0o600 }), /HS256 secret must be 32 to 1024 bytes/],
    ["signing key owned by someone else", (s) => fs.chownSync(path.join(s.dir, "sign.key"), 12345, -1), /sign\.key: is owned by uid 12345/],
  ];
  for (const [name, spoil, re] of keyCases) {
    test(`${name}: refused at start, naming the file`, async () => {
      const s = makeSetup();
      spoil(s);
      const r = ctlResult(["check", "-c", s.conf]);
      assert.equal(r.status, 1);
      assert.match(r.stderr, /lbauth\.conf:\d+: (signing_key_file|cookie_secret_file): /);
      assert.match(r.stderr, re);
      const c = await cgi(s, { body: "{}" });
      assert.equal(c.status, 500);
      assert.match(c.stderr, re);
    });
  }

  test("no identity source configured", () => {
    const d = tmpdir();
    fs.writeFileSync(path.join(d, "lbauth.conf"), "signing_key_file = x.key\n");
    const r = ctlResult(["check", "-c", path.join(d, "lbauth.conf")]);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /no way to identify users/);
  });

  test("missing config file", () => {
    const r = ctlResult(["check", "-c", "/nonexistent/lbauth.conf"]);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /\/nonexistent\/lbauth\.conf: No such file/);
  });

  test("argv is ignored: a CGI query without '=' cannot run a command", async () => {
    const s = makeSetup();
    const c = await cgi(s, { body: "{}", env: { QUERY_STRING: "keygen" }, args: ["keygen", "-o", path.join(s.dir, "x.key")] });
    assert.equal(fs.existsSync(path.join(s.dir, "x.key")), false);
    assert.equal(c.status, 401);
  });
});

describe("EdDSA session cookies", () => {
  test("a cookie signed by the app's Ed25519 key (with jose) is accepted; HS256 is refused", async () => {
    const s = makeSetup({ cookieAlg: "EdDSA" });
    const key = await importPKCS8(fs.readFileSync(path.join(s.dir, "app.key"), "utf8"), "EdDSA");
    const now = Math.floor(Date.now() / 1000);
    const jwt = await new SignJWT({ sub: "ed-user", org: "acme", exp: now + 60 }).setProtectedHeader({ alg: "EdDSA" }).sign(key);
    let r = await cgi(s, { body: body("acme:1"), cookie: `session=${jwt}` });
    assert.equal(r.status, 200, r.body);
    assert.equal(payload(r.json.token).uid, "ed-user");
    // lbauthctl cookie -k signs the same way.
    r = await cgi(s, { body: body("acme:1"), cookie: `session=${s.cookie({ sub: "ed2", org: "acme" })}` });
    assert.equal(r.status, 200, r.body);
    // Algorithm confusion: an HS256 token whose "secret" is the public
    // key file must not verify.
    const pub = fs.readFileSync(path.join(s.dir, "app.pub"));
    const forged = await new SignJWT({ sub: "evil", org: "acme", exp: now + 60 }).setProtectedHeader({ alg: "HS256" }).sign(pub);
    r = await cgi(s, { body: body("acme:1"), cookie: `session=${forged}` });
    assert.equal(r.status, 401);
    assert.equal(r.json.error, "invalid_session");
  });
});

describe("issuer and audience", () => {
  test("cookie_issuer / cookie_audience are enforced", async () => {
    const s = makeSetup({ conf: ["cookie_issuer = https://app.example.com", "cookie_audience = lbauth"] });
    const k = new TextEncoder().encode(s.secret());
    const now = Math.floor(Date.now() / 1000);
    const mk = (claims) => new SignJWT({ sub: "u1", org: "acme", exp: now + 60, ...claims }).setProtectedHeader({ alg: "HS256" }).sign(k);
    const rows = [
      [{ iss: "https://app.example.com", aud: "lbauth" }, 200],
      [{ iss: "https://app.example.com", aud: ["other", "lbauth"] }, 200],
      [{ iss: "https://evil.example", aud: "lbauth" }, 401],
      [{ aud: "lbauth" }, 401],
      [{ iss: "https://app.example.com", aud: "other" }, 401],
      [{ iss: "https://app.example.com" }, 401],
    ];
    for (const [i, [claims, status]] of rows.entries()) {
      const r = await cgi(s, { body: "{}", cookie: `session=${await mk(claims)}` });
      assert.equal(r.status, status, `row ${i}: ${r.body}`);
    }
    // lbauthctl cookie adds iss and aud from the config.
    const r = await cgi(s, { body: "{}", cookie: `session=${s.cookie({ sub: "u1", org: "acme" })}` });
    assert.equal(r.status, 200, r.body);
  });
});

describe("token = id", () => {
  test("an ID token carries uid, gids and ui, with no policy step", async () => {
    const s = makeSetup({ conf: ["token = id"] });
    const r = await cgi(s, { body: body("any:room"), cookie: `session=${s.cookie({ sub: "u7", groups: ["g1", "g2"], name: "Bo" })}` });
    assert.equal(r.status, 200, r.body + r.stderr);
    const p = payload(r.json.token);
    assert.equal(p.k, "id");
    assert.equal(p.uid, "u7");
    assert.deepEqual(p.gids, ["g1", "g2"]);
    assert.deepEqual(p.ui, { name: "Bo" });
    assert.equal("perms" in p, false);
  });
});

describe("trust_remote_user", () => {
  test("REMOTE_USER is the user id only when trusted", async () => {
    const s = makeSetup({ conf: ["trust_remote_user = yes", "policy = " + path.join(ROOT, "tests/plugin/example.so"), "policy_arg = admins"] });
    let r = await cgi(s, { body: "{}", env: { REMOTE_USER: "alice" } });
    // example policy: no groups, no room -> allowed with nothing -> 403
    assert.equal(r.status, 403, r.body);
    assert.match(r.stderr, /user="alice"/);
    const t = makeSetup();
    r = await cgi(t, { body: "{}", env: { REMOTE_USER: "alice" } });
    assert.equal(r.status, 401, "REMOTE_USER must be ignored unless trusted");
  });
});

describe("policy plugin", () => {
  let s, fcgi, nginx;
  test("the example plugin decides, through nginx", async () => {
    s = makeSetup({ conf: [`policy = ${ROOT}/tests/plugin/example.so`, "policy_arg = admins"] });
    fcgi = await startFcgi(s);
    nginx = await startNginx(s, fcgi);
    const c = (claims) => `session=${s.cookie(claims)}`;
    let r = await post(nginx.url, { body: body("design:doc"), cookie: c({ sub: "u1", groups: ["design"] }) });
    assert.equal(r.status, 200, r.body);
    assert.deepEqual(payload(r.json.token).perms, { "design:doc": ["*:write"] });
    r = await post(nginx.url, { body: body("sales:doc"), cookie: c({ sub: "u1", groups: ["design"] }) });
    assert.equal(r.status, 403);
    assert.equal(r.json.error, "forbidden");
    r = await post(nginx.url, { body: "{}", cookie: c({ sub: "u1", groups: ["design", "ops"] }) });
    assert.deepEqual(payload(r.json.token).perms, { "design:*": ["*:read"], "ops:*": ["*:read"] });
    r = await post(nginx.url, { body: body("sales:doc"), cookie: c({ sub: "root", groups: ["admins"] }) });
    assert.deepEqual(payload(r.json.token).perms, { "*": ["*:write"] });
  });
  test("a policy error is a 500 (retry later), never a token or a 403", async () => {
    const r = await post(nginx.url, { body: body("fail:now"), cookie: `session=${s.cookie({ sub: "u1", groups: ["fail"] })}` });
    assert.equal(r.status, 500);
    assert.equal(r.json.error, "internal_error");
    assert.equal(fcgi.exited, false);
  });
});

describe("documentation", () => {
  const conf = fs.readFileSync(path.join(ROOT, "lib/conf.c"), "utf8");
  const keys = [...conf.matchAll(/K\(LBX_CONF_\w+, "(\w+)"/g)].map((m) => m[1]);
  test("the config table has keys", () => assert.ok(keys.length >= 17, keys.join(",")));
  const sample = fs.readFileSync(path.join(ROOT, "nginx/lbauth.conf"), "utf8");
  const readme = fs.readFileSync(path.join(ROOT, "README.md"), "utf8");
  const man = fs.readFileSync(path.join(ROOT, "man/lbauth.conf.5"), "utf8");
  for (const k of keys) {
    test(`${k} is in the sample config, README and lbauth.conf(5)`, () => {
      assert.match(sample, new RegExp(`^#?${k} = `, "m"));
      assert.ok(readme.includes("| `" + k + "` |"), `README config table lacks ${k}`);
      assert.match(man, new RegExp(`^\\.It Cm ${k} Li = `, "m"), `lbauth.conf(5) lacks ${k}`);
    });
  }
  test("the sample config is valid as shipped", () => {
    const d = tmpdir();
    fs.copyFileSync(path.join(ROOT, "nginx/lbauth.conf"), path.join(d, "lbauth.conf"));
    ctlResult(["keygen", "-t", "hs256", "-o", path.join(d, "cookie.secret")]);
    fs.writeFileSync(path.join(d, "liveblocks.secret"), "sk_prod_0123456789abcdef\n", { mode: 0o600 });
    let r = ctlResult(["check", "-c", path.join(d, "lbauth.conf")]);
    assert.equal(r.status, 0, r.stderr);
    // Switched to the local backend by its commented lines.
    const local = fs.readFileSync(path.join(d, "lbauth.conf"), "utf8")
      .replace("backend = liveblocks", "backend = local").replace("#signing_key_file", "signing_key_file");
    fs.writeFileSync(path.join(d, "lbauth.conf"), local);
    ctlResult(["keygen", "-o", path.join(d, "signing.key")]);
    r = ctlResult(["check", "-c", path.join(d, "lbauth.conf")]);
    assert.equal(r.status, 0, r.stderr);
  });
  test("every lbauthctl command is in README", () => {
    for (const c of ["keygen", "pubkey", "jwks", "cookie", "verify", "check"])
      assert.ok(readme.includes("| `" + c), `README lacks lbauthctl ${c}`);
  });
});

describe("a bad config under a process manager", () => {
  test("handed a socket (spawn-fcgi, mod_fcgid), lbauth answers every request with the JSON 500 instead of exiting", async () => {
    const s = makeSetup();
    addConf(s, ["token_ttl = never"]);
    const f = await startFcgi(s);
    const n = await startNginx(s, f);
    for (let i = 0; i < 3; i++) {
      const r = await post(n.url, { body: "{}" });
      assert.equal(r.status, 500);
      assert.equal(r.json.error, "misconfigured");
    }
    assert.equal(f.exited, false);
    assert.match(f.log(), /lbauth\.conf:\d+: token_ttl is not a non-negative decimal number/);
  });
  test("the --workers master refuses to start instead", async () => {
    const s = makeSetup();
    addConf(s, ["token_ttl = never"]);
    const { spawnSync } = await import("node:child_process");
    const r = spawnSync(path.join(ROOT, "lbauth"), ["--listen", `unix:${path.join(s.dir, "m.sock")}`, "--workers", "1", "--config", s.conf], { encoding: "utf8", timeout: 5000 });
    assert.equal(r.status, 1);
    assert.match(r.stderr, /token_ttl is not a non-negative decimal number/);
  });
});
