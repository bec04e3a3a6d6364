// laravel.test.mjs: lbauth beside a real Laravel app, reading its
// sessions (README "Use your app's sessions", Laravel).
//
// The app is tests/apps/laravel: Debian's php-laravel-framework 8.83
// under php-fpm, behind the same nginx as lbauth (every path but
// /api/liveblocks-auth goes to its front controller), with the web
// middleware of a new app (EncryptCookies, StartSession,
// VerifyCsrfToken), Laravel's session guard (Auth::attempt over the
// users table) and the database session driver, once on SQLite and
// once on MariaDB.  A cookie jar over fetch signs in as a browser does:
// GET the form for its CSRF token, POST the password.  Then the
// browser's POST to lbauth with the same laravel_session cookie must
// get a token for that user (verified with jose against the JWKS
// lbauth publishes), and once the user signs out in Laravel lbauth
// must answer 401 at once.  lbauth decrypts the cookie (session_format
// = laravel, APP_KEY from a key file) and finds the user with an
// identity_query over Laravel's own sessions and users tables.

import { test, describe, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import path from "node:path";
import { createLocalJWKSet, jwtVerify } from "jose";
import { ROOT, startFcgi, startNginx, stopAll, tmpdir } from "./harness.mjs";
import { startMariadb } from "./dbservers.mjs";
import { startLaravel, laravelKey, sqlSetup, readmeConf, Browser } from "./apps.mjs";

after(stopAll);

// The lifetime of config/session.php, in seconds: rows older than it
// are expired sessions, which Laravel itself no longer reads (README's
// query has it as 7200).
const LIFETIME = 120 * 60;

// lbauth's config for a Laravel app: the copy-paste block of README
// "Use your app's sessions" (Laravel) as it is for MariaDB, and with
// the changes that README names for SQLite.
function laravelConf(driver, { now, cast }) {
  const conf = readmeConf("Laravel (database session driver)");
  assert.ok(conf.some((l) => l === "sql_driver = mysql"), conf.join("\n"));
  return conf.map((l) => l
    .replace(/^sql_driver = mysql$/, `sql_driver = ${driver}`)
    .replace("CAST(u.id AS CHAR)", cast)
    .replace("UNIX_TIMESTAMP()", now));
}

const DBS = {
  sqlite: {
    driver: "sqlite",
    now: "CAST(strftime('%s', 'now') AS INTEGER)",
    cast: "CAST(u.id AS TEXT)",
    connect: (lv) => lv.sqlite + "\n",
  },
  mariadb: {
    driver: "mysql",
    now: "UNIX_TIMESTAMP()",
    cast: "CAST(u.id AS CHAR)",
    // sql-mysql.c's key=value pairs: an account that may only read,
    // over the server's socket, as beside an app on the same host.
    connect: (lv, maria) => `socket=${maria.socket} database=laravel user=lbauth password=${READER_PASSWORD}\n`,
  },
};
const READER_PASSWORD = "rdr-" + laravelKey().slice(7, 27).replace(/[^A-Za-z0-9]/g, "x");

async function signIn(b, email, password) {
  const form = await b.fetch("/login");
  assert.equal(form.status, 200, form.body);
  const token = /name="_token" value="([^"]+)"/.exec(form.body)?.[1];
  assert.ok(token, "the sign-in form holds a CSRF token");
  return b.fetch("/login", { method: "POST", form: { _token: token, email, password } });
}

// A POST as a single-page app sends it: the X-XSRF-TOKEN header from
// the XSRF-TOKEN cookie (what axios does), which Laravel decrypts.
function xsrfPost(b, p) {
  return b.fetch(p, { method: "POST", headers: { "x-xsrf-token": decodeURIComponent(b.jar.get("XSRF-TOKEN")) } });
}

// lbauth (files, conf) under spawn-fcgi behind an nginx that also
// serves the Laravel app lv: the setup, the processes, the app's base
// URL, lbauth's URL and the JWKS its tokens verify with.
async function beside(lv, files, conf) {
  const setup = sqlSetup({ files, conf });
  const fcgi = await startFcgi(setup);
  const nginx = await startNginx(setup, fcgi, { extra: lv.nginxLocation });
  const base = `http://127.0.0.1:${nginx.port}`;
  return { setup, fcgi, nginx, base, auth: `${base}/api/liveblocks-auth`, jwks: createLocalJWKSet(setup.jwks()) };
}

for (const db of ["sqlite", "mariadb"]) {
  describe(`Laravel 8.83, database sessions on ${db === "sqlite" ? "SQLite" : "MariaDB"}`, () => {
    const D = DBS[db];
    let maria, lv, setup, fcgi, nginx, base, auth, jwks;

    before(async () => {
      if (db === "mariadb") {
        maria = await startMariadb();
        // The app's database, and a reader for lbauth that may only
        // SELECT from the tables it reads.
        maria.sql(`CREATE DATABASE laravel;
          CREATE USER 'lbauth'@'localhost' IDENTIFIED BY '${READER_PASSWORD}';`);
      }
      lv = await startLaravel({ db, maria });
      if (db === "mariadb")
        maria.sql(`GRANT SELECT ON laravel.sessions TO 'lbauth'@'localhost';
          GRANT SELECT ON laravel.users TO 'lbauth'@'localhost';
          GRANT SELECT ON laravel.room_user TO 'lbauth'@'localhost';`);
      ({ setup, fcgi, nginx, base, auth, jwks } = await beside(lv,
        { "app.key": lv.appKey + "\n", "sql.connect": D.connect(lv, maria) }, laravelConf(D.driver, D)));
    });

    after(async () => {
      await lv?.stop();
      await maria?.stop();
    });


    test("lbauthctl check accepts the config (it connects and prepares the query)", () => {
      const r = setup.check();
      assert.equal(r.status, 0, r.out);
    });

    test("a guest's session (the sign-in form was shown, nobody signed in) gets 401", async () => {
      const b = new Browser(base);
      await b.fetch("/login");
      assert.ok(b.jar.has("laravel_session"), "Laravel set its session cookie");
      const r = await b.fetch(auth, { method: "POST", json: { room: "acme:doc" } });
      assert.equal(r.status, 401, r.body);
      assert.equal(r.json.error, "invalid_session");
    });

    test("a wrong password signs nobody in: still 401", async () => {
      const b = new Browser(base);
      const r = await signIn(b, "ada@example.com", "wrong");
      assert.equal(r.status, 302);
      assert.match(r.headers.get("location"), /\/login$/);
      const t = await b.fetch(auth, { method: "POST", json: { room: "acme:doc" } });
      assert.equal(t.status, 401, t.body);
    });

    test("sign in through Laravel, and the same laravel_session cookie gets ada's token; sign out and lbauth answers 401 at once", async () => {
      const b = new Browser(base);
      const r = await signIn(b, "ada@example.com", "analytical engine");
      assert.equal(r.status, 302, r.body);
      const me = await b.fetch("/");
      assert.equal(me.status, 200, me.body);
      assert.equal(me.json.email, "ada@example.com");

      const t = await b.fetch(auth, { method: "POST", json: { room: "acme:doc" } });
      assert.equal(t.status, 200, t.body + fcgi.log());
      const { payload } = await jwtVerify(t.json.token, jwks, { algorithms: ["EdDSA"] });
      assert.equal(payload.uid, String(me.json.id));
      assert.deepEqual(payload.perms, { "acme:doc": ["*:write"] });
      assert.deepEqual(payload.ui, { name: "Ada Lovelace" });
      // Room-less: the org policy's read grant on acme:*.
      const rl = await b.fetch(auth, { method: "POST", json: {} });
      assert.equal(rl.status, 200, rl.body);
      assert.deepEqual((await jwtVerify(rl.json.token, jwks)).payload.perms, { "acme:*": ["*:read"] });

      // lbauthctl explain with the same cookie value: the dry run.
      const old = b.jar.get("laravel_session");
      const explain = () => spawnSync(path.join(ROOT, "lbauthctl"),
        ["explain", "-c", setup.conf, "--cookie", old, "--room", "acme:doc"], { encoding: "utf8" });
      let ex = explain();
      assert.equal(ex.status, 0, ex.stderr);
      assert.match(ex.stdout, new RegExp(`^user: ${me.json.id}$`, "m"));
      assert.match(ex.stdout, /^ {2}source: identity_query \(.*session_format = laravel.*\)$/m);
      assert.match(ex.stdout, /^ {2}acme:doc \*:write$/m);
      assert.match(ex.stdout, /^result: 200/m);

      const out = await xsrfPost(b, "/logout");
      assert.equal(out.status, 302, out.body);
      assert.notEqual(b.jar.get("laravel_session"), old, "Laravel gave the signed-out browser a new session");
      // The browser's new (guest) session, and the old cookie replayed.
      const after1 = await b.fetch(auth, { method: "POST", json: { room: "acme:doc" } });
      assert.equal(after1.status, 401, after1.body);
      const replay = await fetch(auth, { method: "POST", headers: { cookie: `laravel_session=${old}`, "content-type": "application/json" }, body: "{}" });
      assert.equal(replay.status, 401);
      assert.equal((await replay.json()).error, "invalid_session");
      ex = explain();
      assert.notEqual(ex.status, 0);
      assert.match(ex.stdout, /^user: none: 401 invalid_session/m, ex.stdout + ex.stderr);
    });

    test("bob gets bob's token; a session past Laravel's lifetime gets 401", async () => {
      const b = new Browser(base);
      assert.equal((await signIn(b, "bob@example.com", "tcp/ip")).status, 302);
      const t = await b.fetch(auth, { method: "POST", json: { room: "acme:standup" } });
      assert.equal(t.status, 200, t.body);
      const { payload } = await jwtVerify(t.json.token, jwks);
      assert.deepEqual(payload.ui, { name: "Bob Kahn" });
      // Age bob's session past the lifetime, as time would.
      const sql = `UPDATE sessions SET last_activity = last_activity - ${LIFETIME + 60} WHERE user_id = ${payload.uid};`;
      if (db === "sqlite") execFileSync("sqlite3", [lv.sqlite, sql]);
      else maria.sql(sql, "laravel");
      const late = await b.fetch(auth, { method: "POST", json: { room: "acme:standup" } });
      assert.equal(late.status, 401, late.body);
      // Laravel agrees: the session is gone for it too.
      assert.equal((await b.fetch("/")).status, 302);
    });

    test("a cookie whose ciphertext was changed gets 401, and the real one still works", async () => {
      const b = new Browser(base);
      assert.equal((await signIn(b, "ada@example.com", "analytical engine")).status, 302);
      const v = decodeURIComponent(b.jar.get("laravel_session"));
      const json = JSON.parse(Buffer.from(v, "base64").toString());
      // A flipped bit in the ciphertext: the MAC no longer matches.
      const ct = Buffer.from(json.value, "base64");
      ct[0] ^= 1;
      const forged = Buffer.from(JSON.stringify({ ...json, value: ct.toString("base64") })).toString("base64");
      const r = await fetch(auth, { method: "POST", headers: { cookie: `laravel_session=${encodeURIComponent(forged)}`, "content-type": "application/json" }, body: "{}" });
      assert.equal(r.status, 401);
      // The same browser's real cookie still works.
      assert.equal((await b.fetch(auth, { method: "POST", json: {} })).status, 200);
    });

    test("policy = sql over the app's room_user table: a room joined through the app is granted, left gives 403 with no sign-out", async () => {
      const membership = readmeConf("Laravel (database session driver)", 1);
      const conf = [...laravelConf(D.driver, D).filter((l) => !l.startsWith("policy =")), ...membership];
      const rs = sqlSetup({ files: { "app.key": lv.appKey + "\n", "sql.connect": D.connect(lv, maria) }, conf });
      const f = await startFcgi(rs);
      const n = await startNginx(rs, f, { extra: lv.nginxLocation });
      const rj = createLocalJWKSet(rs.jwks());
      const b = new Browser(`http://127.0.0.1:${n.port}`);
      assert.equal((await signIn(b, "bob@example.com", "tcp/ip")).status, 302);
      const api = (p, json) => b.fetch(p, { method: "POST", json,
        headers: { accept: "application/json", "x-xsrf-token": decodeURIComponent(b.jar.get("XSRF-TOKEN")) } });
      const tok = (room) => b.fetch("/api/liveblocks-auth", { method: "POST", json: room ? { room } : {} });
      assert.equal((await tok("acme:doc")).status, 403, "bob is in no room yet");
      assert.equal((await api("/rooms/join", { room: "acme:doc", access: "full" })).status, 200);
      assert.equal((await api("/rooms/join", { room: "acme:notes", access: "read" })).status, 200);
      let t = await tok("acme:doc");
      assert.equal(t.status, 200, t.body + f.log());
      assert.deepEqual((await jwtVerify(t.json.token, rj)).payload.perms, { "acme:doc": ["*:write"] });
      t = await tok("acme:notes");
      assert.deepEqual((await jwtVerify(t.json.token, rj)).payload.perms, { "acme:notes": ["*:read"] });
      t = await tok(null);
      assert.deepEqual((await jwtVerify(t.json.token, rj)).payload.perms, { "acme:doc": ["*:read"], "acme:notes": ["*:read"] });
      // A client-made "room" with SQL in it is a room id bound as a
      // parameter: no grant, and the table is intact.
      assert.equal((await tok("acme:doc' OR '1'='1")).status, 403);
      assert.equal((await api("/rooms/leave", { room: "acme:doc" })).json.left, true);
      assert.equal((await tok("acme:doc")).status, 403);
      assert.equal((await b.fetch("/")).status, 200, "bob is still signed in");
      assert.equal((await tok("acme:notes")).status, 200);
      n.stop();
      f.stop();
    });

    test("lbauth's log names users and statuses but holds no APP_KEY, password or cookie", () => {
      const log = fcgi.log();
      assert.match(log, /status=200 user="1"/);
      assert.match(log, /status=401/);
      assert.equal(log.includes(lv.appKey), false);
      assert.equal(log.includes(lv.appKey.slice(7)), false);
      assert.equal(log.includes(READER_PASSWORD), false);
      assert.doesNotMatch(log, /eyJpdiI6/);	// base64 of '{"iv":', a Laravel cookie
    });

    test("key rotation: lbauth with the new APP_KEY first and the old one after accepts cookies of the old key", async (t) => {
      const rot = sqlSetup({
        files: { "new.key": laravelKey() + "\n", "app.key": lv.appKey + "\n", "sql.connect": D.connect(lv, maria) },
        conf: laravelConf(D.driver, D).map((l) => (l.startsWith("session_secret_files") ? "session_secret_files = new.key app.key" : l)),
      });
      const only = sqlSetup({
        files: { "new.key": laravelKey() + "\n", "sql.connect": D.connect(lv, maria) },
        conf: laravelConf(D.driver, D).map((l) => (l.startsWith("session_secret_files") ? "session_secret_files = new.key" : l)),
      });
      const f1 = await startFcgi(rot);
      const n1 = await startNginx(rot, f1, { extra: lv.nginxLocation });
      const f2 = await startFcgi(only);
      const n2 = await startNginx(only, f2, { extra: lv.nginxLocation });
      const b = new Browser(base);
      assert.equal((await signIn(b, "ada@example.com", "analytical engine")).status, 302);
      const cookie = `laravel_session=${b.jar.get("laravel_session")}`;
      const post = (url) => fetch(url, { method: "POST", headers: { cookie, "content-type": "application/json" }, body: '{"room":"acme:doc"}' });
      assert.equal((await post(n1.url)).status, 200);
      assert.equal((await post(n2.url)).status, 401);
      for (const p of [n1, n2, f1, f2]) p.stop();
    });
  });
}

// The other ciphers of Laravel's Encrypter (config/app.php's cipher):
// the app runs with each, and lbauth reads its cookies with
// laravel_cipher set to the same, and with no other cipher.
for (const cipher of ["AES-128-CBC", "AES-256-GCM", "AES-128-GCM"]) {
  describe(`Laravel 8.83 with cipher ${cipher}, database sessions on SQLite`, () => {
    const D = DBS.sqlite;
    const gcm = cipher.endsWith("GCM");
    let lv, setup, fcgi, nginx, base, auth, jwks;
    const files = () => ({ "app.key": lv.appKey + "\n", "sql.connect": D.connect(lv) });

    before(async () => {
      lv = await startLaravel({ db: "sqlite", cipher });
      ({ setup, fcgi, nginx, base, auth, jwks } = await beside(lv, files(), [...laravelConf(D.driver, D), `laravel_cipher = ${cipher}`]));
    });

    after(async () => {
      await lv?.stop();
    });

    test(`Laravel's cookie is ${cipher}'s: ${gcm ? "a 12-byte iv, a 16-byte tag, no MAC" : "a 16-byte iv, a MAC, no tag"}`, async () => {
      const b = new Browser(base);
      await b.fetch("/login");
      const json = JSON.parse(Buffer.from(decodeURIComponent(b.jar.get("laravel_session")), "base64").toString());
      assert.equal(Buffer.from(json.iv, "base64").length, gcm ? 12 : 16);
      assert.equal(Buffer.from(json.tag, "base64").length, gcm ? 16 : 0);
      assert.equal(json.mac.length, gcm ? 0 : 64);
      assert.equal(Buffer.from(lv.appKey.slice(7), "base64").length, cipher.includes("128") ? 16 : 32);
    });

    test("sign in through Laravel: lbauth gets ada's token; sign out and the same cookie gets 401", async () => {
      const b = new Browser(base);
      assert.equal((await signIn(b, "ada@example.com", "analytical engine")).status, 302);
      const me = await b.fetch("/");
      assert.equal(me.status, 200, me.body);
      const t = await b.fetch(auth, { method: "POST", json: { room: "acme:doc" } });
      assert.equal(t.status, 200, t.body + fcgi.log());
      const { payload } = await jwtVerify(t.json.token, jwks, { algorithms: ["EdDSA"] });
      assert.equal(payload.uid, String(me.json.id));
      assert.deepEqual(payload.perms, { "acme:doc": ["*:write"] });
      const old = b.jar.get("laravel_session");
      const ex = spawnSync(path.join(ROOT, "lbauthctl"), ["explain", "-c", setup.conf, "--cookie", old], { encoding: "utf8" });
      assert.equal(ex.status, 0, ex.stderr);
      assert.match(ex.stdout, new RegExp(`^ {2}source: identity_query \\(.*session_format = laravel, laravel_cipher = ${cipher.toLowerCase()}, cookie laravel_session\\)$`, "m"));
      assert.equal((await xsrfPost(b, "/logout")).status, 302);
      const replay = await fetch(auth, { method: "POST", headers: { cookie: `laravel_session=${old}`, "content-type": "application/json" }, body: "{}" });
      assert.equal(replay.status, 401);
      assert.equal((await replay.json()).error, "invalid_session");
    });

    test(`a cookie whose ${gcm ? "tag" : "ciphertext"} was changed gets 401, and the real one still works`, async () => {
      const b = new Browser(base);
      assert.equal((await signIn(b, "bob@example.com", "tcp/ip")).status, 302);
      const json = JSON.parse(Buffer.from(decodeURIComponent(b.jar.get("laravel_session")), "base64").toString());
      const field = gcm ? "tag" : "value";
      const bytes = Buffer.from(json[field], "base64");
      bytes[bytes.length - 1] ^= 0x80;
      const forged = Buffer.from(JSON.stringify({ ...json, [field]: bytes.toString("base64") })).toString("base64");
      const r = await fetch(auth, { method: "POST", headers: { cookie: `laravel_session=${encodeURIComponent(forged)}`, "content-type": "application/json" }, body: "{}" });
      assert.equal(r.status, 401);
      assert.equal((await b.fetch(auth, { method: "POST", json: {} })).status, 200);
    });

    test("the cipher is pinned: lbauth set for another cipher does not read the cookie", async () => {
      const b = new Browser(base);
      assert.equal((await signIn(b, "ada@example.com", "analytical engine")).status, 302);
      const cookie = `laravel_session=${b.jar.get("laravel_session")}`;
      // Another cipher with a key of the same length: it starts, and
      // the cookie gets 401.  With a key of the other length it does not
      // start, and says why.
      const same = { "AES-128-CBC": "AES-128-GCM", "AES-256-GCM": "AES-256-CBC", "AES-128-GCM": "AES-128-CBC" }[cipher];
      const other = sqlSetup({ files: files(), conf: [...laravelConf(D.driver, D), `laravel_cipher = ${same}`] });
      const f = await startFcgi(other);
      const n = await startNginx(other, f, { extra: lv.nginxLocation });
      const r = await fetch(n.url, { method: "POST", headers: { cookie, "content-type": "application/json" }, body: '{"room":"acme:doc"}' });
      assert.equal(r.status, 401);
      n.stop();
      f.stop();
      const wrongLen = cipher.includes("128") ? "AES-256-CBC" : "AES-128-CBC";
      const bad = sqlSetup({ files: files(), conf: [...laravelConf(D.driver, D), `laravel_cipher = ${wrongLen}`] });
      const c = bad.check();
      assert.notEqual(c.status, 0, c.out);
      const want = cipher.includes("128") ? 32 : 16;
      assert.match(c.out, new RegExp(`app\\.key: must hold Laravel's APP_KEY .*\\(base64: and ${want} bytes in base64, or the ${want} bytes themselves\\)`));
      assert.equal(c.out.includes(lv.appKey.slice(7)), false, "the key is not shown");
    });
  });
}

test("laravel_cipher: a cipher Laravel does not have, or the key with another session_format, stops start-up naming the line", () => {
  const dir = tmpdir("lbauth-lvconf-");
  const db = path.join(dir, "app.sqlite");
  execFileSync("sqlite3", [db, "CREATE TABLE sessions (id TEXT, user_id TEXT);"]);
  const conf = (lines) => sqlSetup({ files: { "app.key": laravelKey() + "\n", "sql.connect": db + "\n" },
    conf: ["cookie_name = laravel_session", "session_secret_files = app.key", "sql_driver = sqlite", "sql_connect_file = sql.connect",
      "identity_query = SELECT user_id AS id FROM sessions WHERE id = :session", "policy = org", ...lines] });
  // 4 lines before conf's own: backend, signing_key_file, project_id.
  let c = conf(["session_format = laravel", "laravel_cipher = AES-256-CFB"]).check();
  assert.equal(c.status, 1, c.out);
  assert.match(c.out, /lbauth\.conf:11: laravel_cipher must be AES-256-CBC, AES-128-CBC, AES-256-GCM or AES-128-GCM/);
  c = conf(["session_format = express", "laravel_cipher = aes-256-gcm"]).check();
  assert.equal(c.status, 1, c.out);
  assert.match(c.out, /lbauth\.conf:11: laravel_cipher: is only used with identity_query and session_format = laravel/);
  for (const ok of ["AES-256-GCM", "aes-256-gcm", "AES-256-CBC"]) {
    c = conf(["session_format = laravel", `laravel_cipher = ${ok}`]).check();
    assert.equal(c.status, 0, ok + ": " + c.out);
  }
});
