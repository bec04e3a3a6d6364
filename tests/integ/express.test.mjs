// express.test.mjs: lbauth beside a real Express app, reading its
// sessions (README "Use your app's sessions", Express).
//
// The app is tests/apps/express/server.mjs: express 5, express-session,
// connect-pg-simple and passport (pinned in package-lock.json) on a PostgreSQL 15
// started here, behind the same nginx as lbauth (proxy_pass for every
// path but /api/liveblocks-auth).  A cookie jar over fetch signs in as
// a browser does;
// express-session sets connect.sid ("s:<id>.<HMAC>", URL-encoded) and
// connect-pg-simple keeps the session as JSON in its "session" table.
// lbauth verifies connect.sid with the same secrets (session_format =
// express; two secret files: rotation), then its identity_query reads
// the user id out of the row's JSON with PostgreSQL's ->> operator.
// Tokens are checked with jose against the JWKS lbauth publishes.

import { test, describe, before, after } from "node:test";
import assert from "node:assert/strict";
import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { createLocalJWKSet, jwtVerify } from "jose";
import { ROOT, startFcgi, startNginx, stopAll } from "./harness.mjs";
import { startPostgres } from "./dbservers.mjs";
import { startExpress, sqlSetup, readmeConf, Browser } from "./apps.mjs";

after(stopAll);

const secret = () => crypto.randomBytes(24).toString("base64url");
const OLD = secret(), NEW = secret();
const READER_PASSWORD = secret();

// lbauth's config for the Express app: the copy-paste block of README
// "Use your app's sessions" (Express), with the test's secret files.
const HEADING = "Express (express-session with connect-pg-simple)";
function expressConf(secretFiles) {
  return readmeConf(HEADING).map((l) =>
    (l.startsWith("session_secret_files =") ? `session_secret_files = ${secretFiles}` : l));
}

const proxyTo = (app) => `location / { proxy_pass http://127.0.0.1:${app.port}; }`;

describe("Express 5 + express-session + connect-pg-simple on PostgreSQL 15", () => {
  let pg, app, setup, fcgi, nginx, base, jwks;
  const files = (pgs) => ({
    "new.secret": NEW + "\n",
    "old.secret": OLD + "\n",
    // libpq's connect string: a role that may only read, with its
    // password, over TCP.
    "sql.connect": pgs.connect("lbauth", READER_PASSWORD, "app") + "\n",
  });

  before(async () => {
    pg = await startPostgres();
    pg.sql("CREATE DATABASE app");
    // The session table, made as connect-pg-simple's README says: its
    // table.sql, once.
    pg.sql(fs.readFileSync(path.join(ROOT, "node_modules/connect-pg-simple/table.sql"), "utf8"), "app");
    // The app starts with the old secret only.
    app = await startExpress(pg, { secrets: [OLD] });
    // A reader for lbauth (the app made its users table at start).
    pg.sql(`CREATE ROLE lbauth LOGIN PASSWORD '${READER_PASSWORD}';
      GRANT SELECT ON session, users TO lbauth;`, "app");
    setup = sqlSetup({ files: files(pg), conf: expressConf("new.secret old.secret") });
    fcgi = await startFcgi(setup);
    // One origin, as deployed: nginx passes /api/liveblocks-auth to
    // lbauth and everything else to the app.
    nginx = await startNginx(setup, fcgi, { extra: proxyTo(app) });
    base = `http://127.0.0.1:${nginx.port}`;
    jwks = createLocalJWKSet(setup.jwks());
  });

  after(async () => {
    await app?.stop();
    await pg?.stop();
  });


  // The browser's POST to lbauth, with its cookies (connect.sid).
  const token = (b, body = { room: "acme:doc" }) => b.fetch("/api/liveblocks-auth", { method: "POST", json: body });

  let oldCookie;

  test("lbauthctl check accepts the config (it connects and prepares the query)", () => {
    const r = setup.check();
    assert.equal(r.status, 0, r.out);
  });

  test("log in through Express: connect.sid gets ada's token, from the session row's JSON", async () => {
    const b = new Browser(base);
    const r = await b.fetch("/login", { method: "POST", json: { email: "ada@example.com", password: "analytical engine" } });
    assert.equal(r.status, 200, r.body);
    assert.match(b.jar.get("connect.sid"), /^s%3A[\w-]+\.[\w%]+$/);
    oldCookie = b;
    const t = await token(b);
    assert.equal(t.status, 200, JSON.stringify(t.json) + fcgi.log());
    const { payload } = await jwtVerify(t.json.token, jwks, { algorithms: ["EdDSA"] });
    assert.equal(payload.uid, String(r.json.id));
    assert.deepEqual(payload.perms, { "acme:doc": ["*:write"] });
    assert.deepEqual(payload.ui, { name: "Ada Lovelace", avatar: "https://example.com/ada.png" });
  });

  test("a wrong password sets no session; a forged or unsigned connect.sid gets 401", async () => {
    const b = new Browser(base);
    const r = await b.fetch("/login", { method: "POST", json: { email: "ada@example.com", password: "nope" } });
    assert.equal(r.status, 401);
    assert.equal(b.jar.has("connect.sid"), false);
    const real = decodeURIComponent(oldCookie.jar.get("connect.sid"));
    const id = real.slice(2, real.lastIndexOf("."));
    for (const v of [
      `s:${id}.${crypto.createHmac("sha256", "not-the-secret").update(id).digest("base64").replace(/=+$/, "")}`,
      id,		// the bare id: an unsigned cookie
      `s:${id}`,
    ]) {
      const t = await fetch(nginx.url, { method: "POST", headers: { cookie: `connect.sid=${encodeURIComponent(v)}`, "content-type": "application/json" }, body: "{}" });
      assert.equal(t.status, 401, v);
    }
  });

  test("secret rotation: the app now signs with a new secret; lbauth, given both, accepts old and new cookies", async () => {
    await app.stop();
    // Restarted on the same port, behind the same nginx.
    app = await startExpress(pg, { secrets: [NEW, OLD], port: app.port });
    const b = new Browser(base);
    const r = await b.fetch("/login", { method: "POST", json: { email: "bob@example.com", password: "tcp/ip" } });
    assert.equal(r.status, 200, r.body);
    // The old cookie still signs ada in at the app, and at lbauth.
    assert.equal((await oldCookie.fetch("/me")).status, 200);
    assert.equal((await token(oldCookie)).status, 200);
    const t = await token(b);
    assert.equal(t.status, 200);
    assert.deepEqual((await jwtVerify(t.json.token, jwks)).payload.ui, { name: "Bob Kahn" });
    // lbauth with only the new secret refuses the old cookie.
    const only = sqlSetup({ files: files(pg), conf: expressConf("new.secret") });
    const f = await startFcgi(only);
    const n = await startNginx(only, f, { extra: proxyTo(app) });
    const post = (jar) => fetch(n.url, { method: "POST", headers: { cookie: `connect.sid=${jar.jar.get("connect.sid")}`, "content-type": "application/json" }, body: "{}" });
    assert.equal((await post(b)).status, 200);
    assert.equal((await post(oldCookie)).status, 401);
    n.stop();
    f.stop();
  });

  test("an expired session row gets 401", async () => {
    const b = new Browser(base);
    assert.equal((await b.fetch("/login", { method: "POST", json: { email: "bob@example.com", password: "tcp/ip" } })).status, 200);
    assert.equal((await token(b)).status, 200);
    const sid = decodeURIComponent(b.jar.get("connect.sid")).slice(2).split(".")[0];
    pg.sql(`UPDATE session SET expire = now() - interval '1 minute' WHERE sid = '${sid.replace(/'/g, "''")}'`, "app");
    const t = await token(b);
    assert.equal(t.status, 401);
    assert.equal(t.json.error, "invalid_session");
  });

  test("lbauth's log names users and statuses but holds no secret, password or cookie", () => {
    const log = fcgi.log();
    assert.match(log, /status=200 user="1"/);
    assert.match(log, /status=401/);
    for (const s of [OLD, NEW, READER_PASSWORD, "s%3A"]) assert.equal(log.includes(s), false, s);
  });

  test("Passport (passport-local): README's query reads sess->'passport'->>'user'; req.logout() gets 401 at once", async () => {
    const idq = readmeConf(HEADING, 1)[0].trim();	// indented in its list item
    assert.match(idq, /^identity_query = .*'passport'/);
    const ps = sqlSetup({ files: files(pg), conf: expressConf("new.secret old.secret").map((l) => (l.startsWith("identity_query =") ? idq : l)) });
    const f = await startFcgi(ps);
    const n = await startNginx(ps, f, { extra: proxyTo(app) });
    const b = new Browser(`http://127.0.0.1:${n.port}`);
    assert.equal((await b.fetch("/passport/login", { method: "POST", json: { email: "bob@example.com", password: "nope" } })).status, 401);
    assert.equal(b.jar.has("connect.sid"), false);
    const r = await b.fetch("/passport/login", { method: "POST", json: { email: "bob@example.com", password: "tcp/ip" } });
    assert.equal(r.status, 200, r.body);
    assert.equal((await b.fetch("/passport/me")).status, 200);
    const t = await token(b);
    assert.equal(t.status, 200, JSON.stringify(t.json) + f.log());
    const { payload } = await jwtVerify(t.json.token, createLocalJWKSet(ps.jwks()), { algorithms: ["EdDSA"] });
    assert.equal(payload.uid, String(r.json.id));
    assert.deepEqual(payload.ui, { name: "Bob Kahn" });
    // The row holds passport.user, not userId: the first config finds no user in it.
    const cookie = b.jar.get("connect.sid");
    const plain = await fetch(nginx.url, { method: "POST", headers: { cookie: `connect.sid=${cookie}`, "content-type": "application/json" }, body: "{}" });
    assert.equal(plain.status, 401);
    assert.equal((await b.fetch("/passport/logout", { method: "POST" })).status, 200);
    b.jar.set("connect.sid", cookie);	// the old cookie, replayed
    const gone = await token(b);
    assert.equal(gone.status, 401);
    assert.equal(gone.json.error, "invalid_session");
    assert.equal((await b.fetch("/passport/me")).status, 401);
    n.stop();
    f.stop();
  });

  test("log out in Express (the row is deleted): lbauth answers 401 at once", async () => {
    const cookie = oldCookie.jar.get("connect.sid");
    assert.equal((await token(oldCookie)).status, 200);
    const r = await oldCookie.fetch("/logout", { method: "POST" });
    assert.equal(r.status, 200);
    assert.equal(oldCookie.jar.has("connect.sid"), false, "the app cleared the cookie");
    oldCookie.jar.set("connect.sid", cookie);	// replayed
    const t = await token(oldCookie);
    assert.equal(t.status, 401);
    assert.equal(t.json.error, "invalid_session");
    assert.equal((await oldCookie.fetch("/me")).status, 401);
  });
});
