// apache.test.mjs: lbauth behind a real Apache 2.4 (Debian's apache2),
// configured by the files users copy from apache/, read from there with
// only their paths replaced:
//   - lbauth-fcgid.conf under mod_fcgid (event MPM): mod_fcgid spawns
//     lbauth, hands it the FastCGI socket on fd 0, restarts it;
//   - lbauth-cgi.conf under mod_cgi (prefork MPM) and under mod_cgid
//     (event MPM: what "a2enmod cgi" enables on Debian by default);
//   - htaccess.example: a shared host's cgi-bin set up by .htaccess files
//     alone (mod_cgi, prefork), with the web root's rewrite of
//     /api/liveblocks-auth; and the same under suexec in a real
//     account's public_html, with the example's wrapper script.
// Each: the happy path (a token the JWKS verifies), bad input with its
// exact status and JSON body, the endpoint still answering afterwards,
// the request log in Apache's ErrorLog, and no Apache or lbauth process
// left once Apache is stopped.  lbauth runs as Apache's user (www-data),
// which owns a copy of the setup's keys.
//
// Regression (fixed): under mod_cgid, answers lbauth gave before
// reading the request body (405 with a body, 415, 413, 403
// forbidden_origin, 500 misconfigured) were often lost.  mod_cgid gives
// a CGI program one unix socket as stdin and stdout, and Linux resets a
// unix socket closed with unread data, so Apache's read of the answer
// failed (ErrorLog: AH00574 "Connection reset by peer").  lbauth now
// reads and discards the rest of the body before it exits; these cases
// run under mod_cgid like the others.

import { test, before, after, describe } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { execFileSync, spawnSync } from "node:child_process";
import { createLocalJWKSet, jwtVerify } from "jose";
import {
  ROOT, LBAUTH, makeSetup, tmpdir, post, rawHttp, payload, stopAll,
  apacheUser, setupCopyFor, startApache, stopAndWait, pidsMatching,
} from "./harness.mjs";

const USER = apacheUser();
const MAX_BODY = 4096;	// lbauth's default max_body

let setup;		// keys and config, the test's own (cookies are minted with it)
let conf;		// a copy owned by Apache's user: what lbauth under Apache reads
let jwks;

before(() => {
  setup = makeSetup({ conf: ["allowed_origins = https://app.example.com"] });
  conf = setupCopyFor(setup, USER);
  jwks = createLocalJWKSet(setup.jwks());
});
after(stopAll);

// apache/<name> with each of the paths it ships with replaced by the
// test's; a path that is no longer in the file fails the test rather
// than leave the shipped value in place.
function shipped(name, paths) {
  let text = fs.readFileSync(path.join(ROOT, "apache", name), "utf8");
  for (const [from, to] of Object.entries(paths)) {
    assert.ok(text.includes(from), `apache/${name} no longer mentions ${from}`);
    text = text.replaceAll(from, to);
  }
  return text;
}

// Copies the lbauth binary to file, mode 0755, for Apache's user to run.
// The copy's path, in the test's own folder, names every lbauth process
// this file starts (pidsMatching), apart from other test files' lbauth.
function installLbauth(file) {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.copyFileSync(LBAUTH, file);
  fs.chmodSync(file, 0o755);
}

// A test-only endpoint next to the shipped one, whose config's key
// files belong to the test's user (root) and not to Apache's.
function wrongOwnerEndpoint(bin) {
  return [
    `ScriptAlias /api/wrong-owner ${bin}`,
    `<Location /api/wrong-owner>`,
    `\tSetEnv LBAUTH_CONFIG ${setup.conf}`,
    `\tRequire all granted`,
    `</Location>`,
  ].join("\n") + "\n";
}

// Each Apache: the shipped file with its paths replaced, the MPM and
// modules, and the endpoint's URL(s).
const kinds = {
  fcgid: {
    file: "lbauth-fcgid.conf", what: "mod_fcgid, event MPM",
    async start() {
      const dir = tmpdir("lbauth-apache-");
      const bin = path.join(dir, "bin/lbauth");
      installLbauth(bin);
      const body = shipped("lbauth-fcgid.conf", {
        "/usr/local/bin/lbauth": bin,
        "/etc/lbauth/lbauth.conf": conf,
      });
      const apache = await startApache(dir, { mpm: "event", modules: ["alias", "fcgid"], body });
      return { apache, bin, urls: [`${apache.base}/api/liveblocks-auth`] };
    },
  },
  cgi: {
    file: "lbauth-cgi.conf", what: "mod_cgi, prefork MPM",
    start: () => startCgi("prefork", "cgi"),
  },
  cgid: {
    file: "lbauth-cgi.conf", what: "mod_cgid, event MPM",
    start: () => startCgi("event", "cgid"),
  },
  htaccess: {
    file: "htaccess.example", what: "mod_cgi, prefork MPM, .htaccess files",
    async start() {
      const dir = tmpdir("lbauth-apache-");
      const www = path.join(dir, "public_html");
      const bin = path.join(www, "cgi-bin/lbauth");
      installLbauth(bin);
      const cgiHtaccess = shipped("htaccess.example", {
        "/home/example/lbauth/lbauth.conf": conf,
      });
      fs.writeFileSync(path.join(www, "cgi-bin/.htaccess"), cgiHtaccess);
      // The web root's .htaccess: the example's two commented rewrite
      // lines, uncommented as it tells users to.
      const rewrite = cgiHtaccess.split("\n").filter((l) => /^#Rewrite/.test(l)).map((l) => l.slice(1));
      assert.equal(rewrite.length, 2, "htaccess.example: the two #Rewrite lines");
      fs.writeFileSync(path.join(www, ".htaccess"), rewrite.join("\n") + "\n");
      // What a shared host allows .htaccess files: handlers, SetEnv,
      // rewrites and ExecCGI, nothing more.
      const body = [
        `<Directory "${www}">`,
        `\tOptions SymLinksIfOwnerMatch`,
        `\tAllowOverride FileInfo Options=ExecCGI`,
        `\tRequire all granted`,
        `</Directory>`,
      ].join("\n") + "\n";
      const apache = await startApache(dir, {
        mpm: "prefork", modules: ["env", "cgi", "rewrite"], body, docroot: www,
      });
      return {
        apache, bin,
        urls: [`${apache.base}/cgi-bin/lbauth`, `${apache.base}/api/liveblocks-auth`],
      };
    },
  },
};

async function startCgi(mpm, module) {
  const dir = tmpdir("lbauth-apache-");
  const bin = path.join(dir, "cgi-bin/lbauth");
  installLbauth(bin);
  const body = shipped("lbauth-cgi.conf", {
    "/usr/lib/cgi-bin/lbauth": bin,
    "/etc/lbauth/lbauth.conf": conf,
  }) + wrongOwnerEndpoint(bin);
  const apache = await startApache(dir, { mpm, modules: ["alias", "env", module], body });
  return { apache, bin, urls: [`${apache.base}/api/liveblocks-auth`], wrongOwner: `${apache.base}/api/wrong-owner` };
}

const cookie = (claims) => `session=${setup.cookie(claims)}`;
const sleep = (ms) => new Promise((res) => setTimeout(res, ms));

function assertJsonError(r, status, code) {
  assert.equal(r.status, status, `status (body ${r.body})`);
  assert.ok(r.json && typeof r.json === "object", `JSON error body, got ${r.body}`);
  assert.deepEqual(Object.keys(r.json).sort(), ["error", "message"]);
  assert.equal(r.json.error, code);
  assert.ok(r.json.message.length > 10);
  assert.match(r.headers["content-type"], /^application\/json/);
  assert.equal(r.headers["cache-control"], "no-store");
}

// A 200 with a token signed by the setup's key; returns its payload.
async function assertToken(r) {
  assert.equal(r.status, 200, r.body);
  assert.match(r.headers["content-type"], /^application\/json/);
  assert.equal(r.headers["cache-control"], "no-store");
  const { payload: p } = await jwtVerify(r.json.token, jwks, { algorithms: ["EdDSA"] });
  assert.deepEqual(p, payload(r.json.token));
  return p;
}

// Bad input: [name, request, status, error code, answered before the
// body is read].
function badCases() {
  const good = cookie({ sub: "ada", org: "acme" });
  return [
    ["GET", { method: "GET", contentType: null, cookie: good }, 405, "method_not_allowed", false],
    ["PUT with a body", { method: "PUT", cookie: good }, 405, "method_not_allowed", true],
    ["Content-Type text/plain", { contentType: "text/plain", cookie: good }, 415, "unsupported_media_type", true],
    [`body over max_body (${MAX_BODY + 1000} bytes)`,
      { cookie: good, body: JSON.stringify({ room: "acme:doc", pad: "x".repeat(MAX_BODY + 1000) }) }, 413, "payload_too_large", true],
    ["Origin of another site", { cookie: good, headers: { origin: "https://evil.example" } }, 403, "forbidden_origin", true],
    ["no cookie", {}, 401, "unauthenticated", false],
    ["garbage cookie", { cookie: "session=garbage" }, 401, "invalid_session", false],
    ["expired cookie", { cookie: cookie({ sub: "ada", org: "acme", ttl: -3600 }) }, 401, "session_expired", false],
    ["body not JSON", { cookie: good, body: "room=acme:doc" }, 400, "invalid_body", false],
    ["room with a wildcard", { cookie: good, body: '{"room":"acme:*"}' }, 400, "invalid_room", false],
    ["no org, room not granted", { cookie: cookie({ sub: "ada" }), body: '{"room":"acme:doc"}' }, 403, "forbidden", false],
  ];
}

function logLines(apache, re) {
  return apache.log().split("\n").filter((l) => re.test(l));
}

for (const [kind, { file, what, start }] of Object.entries(kinds)) {
  describe(`Apache with apache/${file} (${what})`, () => {
    let srv;
    before(async () => { srv = await start(); });
    after(async () => {
      // Whatever happened, leave nothing running: Apache by its PID,
      // then any process still running from the test's folder.
      if (!srv) return;
      await stopAndWait(srv.apache);
      for (const pid of pidsMatching(srv.apache.dir))
        try { process.kill(pid, "SIGKILL"); } catch {}
    });

    const endpoints = kind === "htaccess" ? ["/cgi-bin/lbauth", "/api/liveblocks-auth (rewritten)"] : ["/api/liveblocks-auth"];
    for (const [i, name] of endpoints.entries()) {
      test(`POST {"room":"acme:doc"} to ${name} with a session cookie -> 200, a token for the room`, async () => {
        const r = await post(srv.urls[i], { body: '{"room":"acme:doc"}', cookie: cookie({ sub: "ada", org: "acme", name: "Ada" }) });
        const p = await assertToken(r);
        assert.deepEqual(p.perms, { "acme:doc": ["*:write"] });
        assert.equal(p.uid, "ada");
        assert.equal(p.k, "acc");
        assert.equal(p.pid, "test-project");
        assert.deepEqual(p.ui, { name: "Ada" });
      });
    }

    test("no room -> READ_ACCESS on the org's rooms; CORS headers for an allowed origin", async () => {
      const r = await post(srv.urls[0], { body: "{}", cookie: cookie({ sub: "bob", org: "acme" }), headers: { origin: "https://app.example.com" } });
      assert.deepEqual((await assertToken(r)).perms, { "acme:*": ["*:read"] });
      assert.equal(r.headers["access-control-allow-origin"], "https://app.example.com");
    });

    describe("bad input", () => {
      let pidsBefore;
      before(async () => {
        // With mod_fcgid: the lbauth processes serving before the bad
        // input must be the ones serving after it.
        await post(srv.urls[0], { cookie: cookie({ sub: "ada", org: "acme" }) });
        pidsBefore = pidsMatching(srv.bin);
      });
      for (const [name, spec, status, code] of badCases()) {
        test(`${name} -> ${status} ${code}`, async () => {
          const r = await post(srv.urls.at(-1), { body: "{}", ...spec });
          assertJsonError(r, status, code);
          if (status === 405) assert.equal(r.headers.allow, "POST, OPTIONS");
        });
      }
      if (kind === "fcgid") {
        test("a body over FcgidMaxRequestLen (64 KiB) -> 500 from mod_fcgid, lbauth not asked", async () => {
          const n = logLines(srv.apache, /lbauth: status=/).length;
          const r = await bigPost(srv, 70000);
          assert.equal(r.status, 500);
          await sleep(100);
          assert.equal(logLines(srv.apache, /lbauth: status=/).length, n);
          assert.match(srv.apache.log(), /exceeds MaxRequestLen/);
        });
      } else if (kind !== "htaccess") {
        test("a body over LimitRequestBody (64 KiB) -> 413", async () => {
          const r = await bigPost(srv, 70000);
          assert.equal(r.status, 413);
        });
      }
      test("still 200 afterwards (with mod_fcgid: from the same lbauth processes)", async () => {
        const r = await post(srv.urls.at(-1), { body: '{"room":"acme:after"}', cookie: cookie({ sub: "ada", org: "acme" }) });
        assert.deepEqual((await assertToken(r)).perms, { "acme:after": ["*:write"] });
        if (kind === "fcgid") {
          assert.ok(pidsBefore.length >= 1, "an lbauth process spawned by mod_fcgid");
          assert.deepEqual(pidsMatching(srv.bin).filter((p) => !pidsBefore.includes(p)), []);
          for (const p of pidsBefore) assert.ok(fs.existsSync(`/proc/${p}`), `lbauth ${p} still runs`);
        }
      });
    });

    test("the request log reaches Apache's ErrorLog, without the cookie or token", async () => {
      const c = setup.cookie({ sub: "log-user", org: "acme" });
      const r = await post(srv.urls[0], { body: '{"room":"acme:logged"}', cookie: `session=${c}` });
      await assertToken(r);
      await sleep(200);
      const lines = logLines(srv.apache, /lbauth: status=200 user="log-user" room="acme:logged" granted="acme:logged" us=\d+/);
      assert.equal(lines.length, 1, srv.apache.log());
      const log = srv.apache.log();
      assert.equal(log.includes(c.split(".")[2]), false, "cookie signature in the log");
      assert.equal(log.includes(r.json.token.split(".")[2]), false, "token in the log");
    });

    if (kind === "fcgid") {
      test("lbauth runs as Apache's user, and mod_fcgid replaces it when it dies", async () => {
        const [pid] = pidsMatching(srv.bin);
        assert.ok(pid, "an lbauth process");
        const uid = /^Uid:\s+(\d+)/m.exec(fs.readFileSync(`/proc/${pid}/status`, "utf8"))[1];
        assert.equal(uid, String(fs.statSync(conf).uid));
        process.kill(pid, "SIGKILL");
        // mod_fcgid notices the dead process and spawns another; a
        // request in between may get a 5xx from mod_fcgid.
        const t0 = Date.now();
        let r;
        for (;;) {
          r = await post(srv.urls[0], { body: '{"room":"acme:again"}', cookie: cookie({ sub: "ada", org: "acme" }) });
          if (r.status === 200 || Date.now() - t0 > 15000) break;
          assert.ok([500, 502, 503].includes(r.status), `${r.status} ${r.body}`);
          await sleep(250);
        }
        assert.deepEqual((await assertToken(r)).perms, { "acme:again": ["*:write"] });
        const now = pidsMatching(srv.bin);
        assert.ok(now.length >= 1 && !now.includes(pid), `a new lbauth process, got ${now}`);
      });
    }

    if ((kind === "cgi" || kind === "cgid") && process.getuid() === 0) {
      test("key files Apache's user does not own -> 500 misconfigured, the file named in the ErrorLog",
        async () => {
          const r = await post(srv.wrongOwner, { cookie: cookie({ sub: "ada", org: "acme" }) });
          assertJsonError(r, 500, "misconfigured");
          await sleep(200);
          // www-data cannot even open root's 0600 files; root-owned
          // files readable by www-data would be refused for their mode.
          assert.ok(srv.apache.log().includes(`${path.join(setup.dir, "cookie.secret")}: Permission denied`), srv.apache.log());
        });
    }

    test("SIGTERM to Apache stops it and leaves no Apache or lbauth process", async () => {
      const { apache } = srv;
      assert.ok(pidsMatching(apache.conf).length >= 2, "Apache's parent and children");
      await stopAndWait(apache);
      const t0 = Date.now();
      let left;
      while ((left = pidsMatching(apache.dir)).length > 0 && Date.now() - t0 < 5000)
        await sleep(100);
      assert.deepEqual(left, [], `still running: ${left.map(cmdline)}`);
    });
  });
}

// POSTs an n-byte JSON body with a valid cookie over a raw connection.
function bigPost(srv, n) {
  const u = new URL(srv.urls.at(-1));
  const body = JSON.stringify({ room: "acme:doc", pad: "x".repeat(n - 30) }).padEnd(n, " ");
  return rawHttp(srv.apache.port, [
    `POST ${u.pathname} HTTP/1.1`, "Host: 127.0.0.1", "Content-Type: application/json",
    `Content-Length: ${body.length}`, `Cookie: ${cookie({ sub: "ada", org: "acme" })}`,
    "Connection: close", "", body,
  ].join("\r\n"));
}

function cmdline(pid) {
  try { return fs.readFileSync(`/proc/${pid}/cmdline`, "utf8").replaceAll("\0", " "); } catch { return String(pid); }
}

// A shared host's account under suexec (Debian's apache2-suexec-pristine:
// docroot /var/www, userdir public_html, caller www-data): Apache runs
// CGI programs under ~user/ as that user, with only the standard CGI
// variables.  htaccess.example says SetEnv LBAUTH_CONFIG is then
// dropped and gives a two-line wrapper; both claims are checked here in
// a real account's public_html, made for the test and removed after.
describe("suexec: htaccess.example in an account's public_html, run as that account", { skip: process.getuid() !== 0 && "needs root (an account, suexec)" }, () => {
  const ACCOUNT = "lbauth-suexec";
  const home = `/home/${ACCOUNT}`;
  let apache, created = false, uid, gid;
  const base = () => `${apache.base}/~${ACCOUNT}`;

  before(async () => {
    if (spawnSync("id", [ACCOUNT]).status !== 0) {
      execFileSync("useradd", ["-m", "-d", home, "-s", "/usr/sbin/nologin", ACCOUNT]);
      created = true;
    }
    uid = Number(execFileSync("id", ["-u", ACCOUNT], { encoding: "utf8" }));
    gid = Number(execFileSync("id", ["-g", ACCOUNT], { encoding: "utf8" }));
    const own = (p, mode) => { fs.chownSync(p, uid, gid); fs.chmodSync(p, mode); };
    own(home, 0o711);	// Apache (www-data) must reach public_html
    // ~/lbauth: the program, its config and keys, the account's, 0600.
    const lb = path.join(home, "lbauth");
    fs.rmSync(lb, { recursive: true, force: true });
    fs.mkdirSync(lb);
    own(lb, 0o700);
    for (const f of fs.readdirSync(setup.dir, { withFileTypes: true })) {
      if (!f.isFile()) continue;
      fs.copyFileSync(path.join(setup.dir, f.name), path.join(lb, f.name));
      own(path.join(lb, f.name), 0o600);
    }
    fs.copyFileSync(LBAUTH, path.join(lb, "lbauth"));
    own(path.join(lb, "lbauth"), 0o700);
    // ~/public_html/cgi-bin: the example's .htaccess and, as it says,
    // the wrapper script in the program's place.  ~/public_html/bare:
    // the same .htaccess with the program itself.
    const htaccess = shipped("htaccess.example", { "/home/example/lbauth/lbauth.conf": path.join(lb, "lbauth.conf") });
    const lines = htaccess.split("\n");
    const at = lines.indexOf("#   #!/bin/sh");
    const wrapper = lines.slice(at, at + 2).map((l) => l.slice(4)).join("\n").replaceAll("/home/example", home) + "\n";
    assert.match(wrapper, /^#!\/bin\/sh\nLBAUTH_CONFIG=\S+ exec \S+\n$/, "htaccess.example: the wrapper script");
    const www = path.join(home, "public_html");
    fs.rmSync(www, { recursive: true, force: true });
    for (const d of [www, path.join(www, "cgi-bin"), path.join(www, "bare")]) {
      fs.mkdirSync(d);
      own(d, 0o755);
    }
    for (const d of ["cgi-bin", "bare"]) {
      fs.writeFileSync(path.join(www, d, ".htaccess"), htaccess);
      own(path.join(www, d, ".htaccess"), 0o644);
    }
    fs.writeFileSync(path.join(www, "cgi-bin/lbauth"), wrapper);
    own(path.join(www, "cgi-bin/lbauth"), 0o755);
    fs.copyFileSync(LBAUTH, path.join(www, "bare/lbauth"));
    own(path.join(www, "bare/lbauth"), 0o755);
    const body = [
      `UserDir public_html`,
      `<Directory "/home/*/public_html">`,
      `\tOptions SymLinksIfOwnerMatch`,
      `\tAllowOverride FileInfo Options=ExecCGI`,
      `\tRequire all granted`,
      `</Directory>`,
    ].join("\n") + "\n";
    apache = await startApache(tmpdir("lbauth-apache-"), { mpm: "prefork", modules: ["env", "cgi", "userdir", "suexec"], body });
  });

  after(async () => {
    if (apache) {
      await stopAndWait(apache);
      for (const pid of pidsMatching(home)) try { process.kill(pid, "SIGKILL"); } catch {}
    }
    if (created) spawnSync("userdel", ["-r", ACCOUNT], { stdio: "ignore" });
    fs.rmSync(home, { recursive: true, force: true });
  });

  test("Apache runs ~account/ CGI programs through suexec", () => {
    assert.match(apache.log(), /suEXEC mechanism enabled \(wrapper: \/usr\/lib\/apache2\/suexec\)/);
  });

  test("the program alone: suexec drops SetEnv LBAUTH_CONFIG, so lbauth reads the default path and answers 500 misconfigured", async () => {
    const r = await post(`${base()}/bare/lbauth`, { body: '{"room":"acme:doc"}', cookie: cookie({ sub: "ada", org: "acme" }) });
    assertJsonError(r, 500, "misconfigured");
    assert.match(apache.log(), /lbauth: \/etc\/lbauth\/lbauth\.conf: No such file or directory/);
  });

  test("the example's wrapper: a token, lbauth running as the account (its 0600 keys)", async () => {
    const r = await post(`${base()}/cgi-bin/lbauth`, { body: '{"room":"acme:doc"}', cookie: cookie({ sub: "ada", org: "acme", name: "Ada" }) });
    const p = await assertToken(r);
    assert.deepEqual(p.perms, { "acme:doc": ["*:write"] });
    const log = fs.readFileSync("/var/log/apache2/suexec.log", "utf8");
    const last = log.trim().split("\n").filter((l) => l.endsWith("cmd: lbauth")).at(-1);
    assert.match(last ?? "", new RegExp(`uid: \\(${uid}/${ACCOUNT}\\) gid: \\(${gid}/`));
  });

  test("bad input through the wrapper: its JSON error", async () => {
    const r = await post(`${base()}/cgi-bin/lbauth`, { body: '{"room":"acme:*"}', cookie: cookie({ sub: "ada", org: "acme" }) });
    assertJsonError(r, 400, "invalid_room");
  });
});
