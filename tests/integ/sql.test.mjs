// sql.test.mjs: sessions and room access from the app's database
// (identity_query, policy = sql) against real servers: SQLite,
// PostgreSQL 15 and MariaDB 10.11, each started by the test in a
// temporary folder (dbservers.mjs).  lbauth runs as it is deployed,
// FastCGI behind nginx under the sandbox (sandbox = yes, the default),
// one long-lived worker, so that reconnects are seen; start-up checks
// run through lbauthctl check and plain CGI.  Tokens are checked with
// jose against lbauth's JWKS.

import { test, after } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import net from "node:net";
import path from "node:path";
import { createLocalJWKSet, jwtVerify } from "jose";
import { tmpdir, ctl, ctlResult, startFcgi, startNginx, post, cgi, stopAll } from "./harness.mjs";
import { startPostgres, startMariadb, HAVE_POSTGRES, HAVE_MARIADB } from "./dbservers.mjs";

after(stopAll);

const PASSWORD = "pw-Zq7-secret-9kX";	// must never appear in a log
const FAR = 4102444800;			// 2100-01-01

// The app's schema and rows, in SQL all three dialects take.
const SCHEMA = `
CREATE TABLE sessions (id VARCHAR(255) PRIMARY KEY, user_id VARCHAR(128), expires BIGINT);
CREATE TABLE users (id VARCHAR(128), org VARCHAR(126), name VARCHAR(255), avatar VARCHAR(255), info TEXT, grps TEXT);
CREATE TABLE room_members (user_id VARCHAR(128), room VARCHAR(255), pattern VARCHAR(255), access VARCHAR(255));
INSERT INTO sessions VALUES ('s-ann', 'ann', ${FAR}), ('s-old', 'ann', 1000), ('s-dup', 'dup', ${FAR}),
  ('s-bob', 'bob', ${FAR}), ('s-many', 'many', ${FAR}), ('s-bad', 'bad', ${FAR});
INSERT INTO users VALUES
  ('ann', 'acme', 'Ann', 'https://example.com/ann.png', '{"color":"teal","title":"Editor"}', '["editors","staff"]'),
  ('bob', NULL, 'Bob', NULL, NULL, NULL),
  ('dup', NULL, 'Dup 1', NULL, NULL, NULL), ('dup', NULL, 'Dup 2', NULL, NULL, NULL),
  ('many', NULL, NULL, NULL, NULL, NULL),
  ('bad', NULL, NULL, NULL, '[1,2]', NULL);
INSERT INTO room_members VALUES
  ('ann', 'acme:doc', 'acme:doc', 'full'),
  ('ann', 'acme:ro', 'acme:ro', 'read'),
  ('ann', 'acme:cmt', 'acme:cmt', 'room:write comments:write'),
  ('ann', 'acme:cmt', 'acme:*', 'read'),
  ('ann', 'acme:bad', 'acme:bad', 'fly:high'),
  ('ann', NULL, 'acme:*', 'read'),
  ('ann', NULL, 'ann:*', 'full'),
  ('bob', 'open', 'open', 'full');
`;
const manyRows = Array.from({ length: 12 }, (_, i) => `('many', 'big', 'big${i + 1}', 'full')`).join(", ");
const SEED = SCHEMA + `INSERT INTO room_members VALUES ${manyRows};\n`;

const COUNTS = "SELECT (SELECT COUNT(*) FROM sessions), (SELECT COUNT(*) FROM users), (SELECT COUNT(*) FROM room_members);";

function queries(now, q) {
  return [
    `identity_query = SELECT u.id, u.org, u.name, u.avatar, u.info, u.grps AS ${q}groups${q} FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.id = :session AND s.expires > ${now}`,
    "policy = sql",
    "room_query = SELECT pattern, access FROM room_members WHERE user_id = :user AND room = :room",
    // ':room' in a string literal is text, not a parameter.
    "roomless_query = SELECT pattern, access FROM room_members WHERE user_id = :user AND room IS NULL AND pattern <> ':room' -- not :org",
  ];
}

// The policy queries with :user typed as PostgreSQL's name, not as
// identity_query's id (varchar): such a query cannot run fused with the
// identity query (sql.c, fuse_types), so PostgreSQL takes them on the
// worker's hints (sqlhint.c).  The other drivers get queries() as is.
function unfused(db) {
  const [ident, policy, room, roomless] = queries(db.now, db.q);
  if (!db.pipelined) return [ident, policy, room, roomless];
  return [ident, policy, room.replace("= :user", "= CAST(:user AS name)"), roomless.replace("= :user", "= CAST(:user AS name)")];
}

// The drivers: how to start the database, fill it, reach it.
const DRIVERS = [
  {
    name: "sqlite",
    skip: fs.existsSync("/usr/bin/sqlite3") ? false : "the sqlite3 CLI (Debian sqlite3) is not installed",
    async start(dir) {
      const file = path.join(dir, "app.db");
      const sql = (text) => execFileSync("sqlite3", ["-batch", "-bail", file], { input: text, encoding: "utf8" });
      sql(SEED);
      return {
        connect: file, now: "CAST(strftime('%s','now') AS INTEGER)", q: '"',
        superuser: file, write: "DELETE FROM sessions WHERE id <> :session RETURNING user_id AS id",
        nul: (a, b) => `'${a}' || char(0) || '${b}'`, raw: "?",
        sql, counts: () => sql(COUNTS).trim().replaceAll("|", " "),
        slow: null, stop: null,
      };
    },
  },
  {
    name: "pgsql",
    skip: HAVE_POSTGRES ? false : "PostgreSQL 15 (Debian postgresql-15) is not installed",
    async start() {
      const pg = await startPostgres();
      pg.sql(`CREATE ROLE app LOGIN PASSWORD '${PASSWORD}'; CREATE DATABASE app OWNER app;`);
      pg.sql(SEED + "GRANT SELECT ON ALL TABLES IN SCHEMA public TO app;", "app");
      return {
        connect: pg.connect("app", PASSWORD, "app"), now: "extract(epoch from now())", q: '"', port: pg.port, pipelined: true,
        // The superuser, who may write: only the session is read-only.
        // ... even when its own options ask for a writable session.
        superuser: `host=127.0.0.1 port=${pg.port} dbname=app user=postgres options='-c default_transaction_read_only=off -c search_path=public'`,
        unix: `host=${pg.socketDir} port=${pg.port} dbname=app user=app`,
        write: "WITH d AS (DELETE FROM sessions WHERE id <> :session RETURNING user_id) SELECT user_id AS id FROM d",
        sql: (t) => pg.sql(t, "app"), counts: () => pg.sql(COUNTS, "app").trim().replaceAll("|", " "),
        raw: "$2",
        kill: () => pg.sql("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE usename = 'app'"),
        slow: "SELECT 'ann' AS id FROM pg_sleep(5) WHERE :session::text IS NOT NULL",
        // A lookup that takes 0.5 s, and how many run at this moment.
        sleepy: "SELECT s.user_id AS id FROM sessions s, pg_sleep(0.5) WHERE s.id = :session",
        active: () => Number(pg.sql("SELECT count(*) FROM pg_stat_activity WHERE usename = 'app' AND state = 'active' AND query LIKE '%pg_sleep(0.5)%'", "app")),
        stop: () => pg.stop(), restart: () => pg.start(),
      };
    },
  },
  {
    name: "mysql",
    skip: HAVE_MARIADB ? false : "MariaDB (Debian mariadb-server) is not installed",
    async start() {
      const my = await startMariadb();
      my.sql(`CREATE DATABASE app; CREATE USER 'app'@'127.0.0.1' IDENTIFIED BY '${PASSWORD}';
        GRANT SELECT ON app.* TO 'app'@'127.0.0.1';
        CREATE USER 'app'@'localhost' IDENTIFIED BY '${PASSWORD}'; GRANT SELECT ON app.* TO 'app'@'localhost';`);
      my.sql(SEED, "app");
      return {
        connect: my.connect("app", PASSWORD, "app"), now: "UNIX_TIMESTAMP()", q: "`", port: my.port,
        superuser: `socket=${my.socket} user=root database=app`,
        unix: `socket=${my.socket} user=app password=${PASSWORD} database=app`,
        write: "DELETE FROM sessions WHERE id <> :session",
        nul: (a, b) => `CONCAT('${a}', CHAR(0), '${b}')`, raw: "?",
        kill: () => my.sql("KILL USER 'app'"),
        sql: (t) => my.sql(t, "app"), counts: () => my.sql(COUNTS, "app").trim().replaceAll("\t", " "),
        slow: "SELECT 'ann' AS id FROM DUAL WHERE SLEEP(5) = 0 AND :session IS NOT NULL",
        sleepy: "SELECT user_id AS id FROM sessions WHERE id = :session AND SLEEP(0.5) = 0",
        active: () => Number(my.sql("SELECT COUNT(*) FROM information_schema.processlist WHERE user = 'app' AND info LIKE '%SLEEP(0.5)%'")),
        stop: () => my.stop(), restart: () => my.start(),
      };
    },
  },
];

// A config folder for driver drv reaching db: a signing key, the
// connect string in a 0600 file, the queries (or extra lines instead).
function makeConf(drv, db, { lines, timeout = 1500, token = "access" } = {}) {
  const dir = tmpdir("lbauth-sql-");
  ctl(["keygen", "-o", path.join(dir, "sign.key")]);
  fs.writeFileSync(path.join(dir, "db.conn"), db.connect + "\n", { mode: 0o600 });
  const conf = [
    "backend = local", "signing_key_file = sign.key", "project_id = test-project",
    `token = ${token}`, "cookie_name = sid",
    `sql_driver = ${drv.name}`, "sql_connect_file = db.conn", `sql_timeout_ms = ${timeout}`,
    ...(lines ?? queries(db.now, db.q)),
  ];
  const confPath = path.join(dir, "lbauth.conf");
  fs.writeFileSync(confPath, conf.join("\n") + "\n");
  return {
    dir, conf: confPath, lines: conf,
    jwks: () => JSON.parse(ctl(["jwks", "-c", confPath])),
  };
}

// Whether process pid has file open (its database connection).
const holdsFile = (pid, file) => fs.readdirSync(`/proc/${pid}/fd`).some((fd) => {
  try { return fs.readlinkSync(`/proc/${pid}/fd/${fd}`) === file; } catch { return false; }
});

// A TCP proxy to 127.0.0.1:port that counts the client's bursts: data
// from the client after data from the server (or first), over every
// connection.  A query and its answer is one; queries sent together,
// one.
async function burstProxy(port) {
  const socks = new Set();
  let bursts = 0;
  const server = net.createServer((c) => {
    const u = net.connect(port, "127.0.0.1");
    let last = "s";
    socks.add(c).add(u);
    c.on("data", (d) => { if (last === "s") bursts++; last = "c"; u.write(d); });
    u.on("data", (d) => { last = "s"; c.write(d); });
    for (const [a, b] of [[c, u], [u, c]]) {
      a.on("error", () => b.destroy());
      a.on("close", () => { b.destroy(); socks.delete(a); });
    }
  });
  await new Promise((r) => server.listen(0, "127.0.0.1", r));
  return {
    port: server.address().port,
    bursts: () => bursts,
    close: () => { for (const x of socks) x.destroy(); server.close(); },
  };
}

async function verify(setup, token) {
  const { payload } = await jwtVerify(token, createLocalJWKSet(setup.jwks()), { algorithms: ["EdDSA"] });
  return payload;
}

for (const drv of DRIVERS) {
  test(`${drv.name}: identity and room access from the database`, { skip: drv.skip, timeout: 180000 }, async (t) => {
    const db = await drv.start(tmpdir("lbauth-sqldb-"));
    const before = db.counts();
    const setup = makeConf(drv, db);
    assert.match(ctl(["check", "-c", setup.conf]), /: ok/);
    const fcgi = await startFcgi(setup);
    const nginx = await startNginx(setup, fcgi);
    const ask = (cookie, room) => post(nginx.url, { cookie: cookie === undefined ? undefined : `sid=${cookie}`,
      body: JSON.stringify(room === undefined ? {} : { room }) });

    await t.test("a user with every column", async () => {
      const r = await ask("s-ann", "acme:doc");
      assert.equal(r.status, 200, r.body);
      const p = await verify(setup, r.json.token);
      assert.equal(p.uid, "ann");
      assert.deepEqual(p.ui, { color: "teal", title: "Editor" });
      assert.deepEqual(p.perms, { "acme:doc": ["*:write"] });
      // ID tokens carry the groups.
      const idSetup = makeConf(drv, db, { token: "id" });
      const c = await cgi(idSetup, { body: "{}", cookie: "sid=s-ann" });
      assert.equal(c.status, 200, c.body + c.stderr);
      const q = await verify(idSetup, c.json.token);
      assert.deepEqual(q.gids, ["editors", "staff"]);
      assert.equal(q.uid, "ann");
    });
    if (db.unix) {
      await t.test("over the server's unix socket too", async () => {
        const u = makeConf(drv, { ...db, connect: db.unix });
        const c = await cgi(u, { body: '{"room":"acme:doc"}', cookie: "sid=s-ann" });
        assert.equal(c.status, 200, c.body + c.stderr);
        assert.equal((await verify(u, c.json.token)).uid, "ann");
      });
    }
    await t.test("name without info becomes the userInfo", async () => {
      const r = await ask("s-bob", "open");
      assert.equal(r.status, 200, r.body);
      const p = await verify(setup, r.json.token);
      assert.deepEqual(p.ui, { name: "Bob" });
    });
    await t.test("expired, unknown and missing sessions get 401", async () => {
      for (const sid of ["s-old", "nope"]) {
        const r = await ask(sid, "acme:doc");
        assert.equal(r.status, 401, sid);
        assert.equal(r.json.error, "invalid_session");
      }
      const r = await ask(undefined, "acme:doc");
      assert.equal(r.status, 401);
    });
    await t.test("two rows for one session: 500 and the count in the log", async () => {
      const r = await ask("s-dup", "x");
      assert.equal(r.status, 500);
      assert.match(fcgi.log(), /identity_query returned 2 rows/);
    });
    await t.test("a row the claim rules refuse: 500 with the reason, not 401", async () => {
      const r = await ask("s-bad", "x");
      assert.equal(r.status, 500);
      assert.match(fcgi.log(), /identity_query: info must be an object/);
    });
    await t.test("full, read and scope grants; the room-less query", async () => {
      let p = await verify(setup, (await ask("s-ann", "acme:ro")).json.token);
      assert.deepEqual(p.perms, { "acme:ro": ["*:read"] });
      p = await verify(setup, (await ask("s-ann", "acme:cmt")).json.token);
      assert.deepEqual(p.perms, { "acme:cmt": ["room:write", "comments:write"], "acme:*": ["*:read"] });
      p = await verify(setup, (await ask("s-ann")).json.token);
      assert.deepEqual(p.perms, { "acme:*": ["*:read"], "ann:*": ["*:write"] });
      const r = await ask("s-ann", "acme:elsewhere");
      assert.equal(r.status, 403);
      assert.equal(r.json.error, "forbidden");
    });
    await t.test("room queries by :session: the same grants, in one round trip where the driver can", async () => {
      // The policy's queries find the user by the session id, as the
      // identity query does; PostgreSQL gets both in one write (sql.c,
      // lbx_sql_ahead).  A room of 'boom' makes PostgreSQL's room query
      // fail (division by zero); SQLite and MariaDB give NULL, no row.
      const join = "FROM room_members m JOIN sessions s ON s.user_id = m.user_id WHERE s.id = :session";
      const byS = [...queries(db.now, db.q).slice(0, 2),
        `room_query = SELECT m.pattern, m.access ${join} AND m.room = :room AND 1 / (CASE WHEN :room = 'boom' THEN 0 ELSE 1 END) = 1`,
        `roomless_query = SELECT m.pattern, m.access ${join} AND m.room IS NULL`];
      // Round trips counted on the wire: a proxy in front of the
      // server counts the client's bursts (bytes after the server's).
      const proxy = db.port ? await burstProxy(db.port) : null;
      const run = async (lines, fn) => {
        const c = makeConf(drv, proxy ? { ...db, connect: db.connect.replace(`port=${db.port}`, `port=${proxy.port}`) } : db,
          { lines: [...lines, "request_threads = 1"] });
        const f = await startFcgi(c);
        const n = await startNginx(c, f);
        const q = (sid, room) => post(n.url, { cookie: `sid=${sid}`, body: JSON.stringify(room === undefined ? {} : { room }) });
        try { return await fn(q, c); } finally { f.stop(); n.stop(); }
      };
      await run(byS, async (q, c) => {
        let r = await q("s-ann", "acme:cmt");
        assert.equal(r.status, 200, r.body);
        assert.deepEqual((await verify(c, r.json.token)).perms, { "acme:cmt": ["room:write", "comments:write"], "acme:*": ["*:read"] });
        r = await q("s-ann");
        assert.deepEqual((await verify(c, r.json.token)).perms, { "acme:*": ["*:read"], "ann:*": ["*:write"] });
        // No one: the room query's rows, sent along, are dropped, and
        // the connection serves the next request.
        assert.equal((await q("nope", "acme:doc")).status, 401);
        assert.equal((await q("nope", "boom")).status, 401);
        assert.equal((await q("s-ann", "acme:elsewhere")).status, 403);
        r = await q("s-ann", "boom");
        assert.equal(r.status, drv.name === "pgsql" ? 500 : 403, r.body);
        assert.equal((await q("s-many", "big")).status, 500);
        r = await q("s-ann", "acme:ro");
        assert.equal(r.status, 200, r.body);
        assert.deepEqual((await verify(c, r.json.token)).perms, { "acme:ro": ["*:read"] });
      });
      if (!proxy) return;
      // Round trips of 4 requests by :session, and by :user for 4
      // sessions each new to the worker: PostgreSQL runs a query by
      // :user fused with the identity query, one statement (sql.c,
      // lbx_sql_fuse), so both take one round trip per request there.
      const trips = (lines, sids) => run(lines, async (q) => {
        assert.equal((await q("s-ann", "acme:doc")).status, 200);
        const b0 = proxy.bursts();
        for (const sid of sids) assert.equal((await q(sid, "acme:doc")).status, 200);
        return proxy.bursts() - b0;
      });
      const fresh = ["s-ann1", "s-ann2", "s-ann3", "s-ann4"];
      db.sql(`INSERT INTO sessions VALUES ${fresh.map((sid) => `('${sid}', 'ann', ${FAR})`).join(", ")}`);
      try {
        const [bySession, byUser] = [await trips(byS, fresh), await trips(queries(db.now, db.q), fresh)];
        if (db.pipelined) {
          assert.equal(bySession, 4, `${bySession} round trips for 4 requests by :session`);
          assert.equal(byUser, 4, `${byUser} round trips for 4 requests by :user, fused`);
        } else {
          assert.ok(byUser >= 8, `${byUser} round trips for 4 requests of two queries each`);
          assert.equal(bySession, byUser, `round trips for 4 requests: by :session ${bySession}, by :user ${byUser}`);
        }
      } finally {
        proxy.close();
        db.sql("DELETE FROM sessions WHERE id LIKE 's-ann_'");
      }
    });
    await t.test("room queries by :user that cannot be fused: one round trip for a session seen before, and a wrong guess never answers", async () => {
      // sql.c, sqlhint.c: the worker remembers who a session was,
      // sends the room query with the identity query on that guess, and
      // uses its rows only if the identity query gives the same user.
      const proxy = db.port ? await burstProxy(db.port) : null;
      const c = makeConf(drv, proxy ? { ...db, connect: db.connect.replace(`port=${db.port}`, `port=${proxy.port}`) } : db,
        { lines: [...unfused(db), "request_threads = 1"] });
      // check runs synchronously: not through this process's proxy.
      const check = ctl(["check", "-c", makeConf(drv, db, { lines: [...unfused(db), "request_threads = 1"] }).conf]);
      if (db.pipelined) assert.match(check, /^room_query: not fused with identity_query \(the query compares :user as a type other than identity_query's id\): two round trips/m);
      else assert.doesNotMatch(check, /round trip/);
      const f = await startFcgi(c);
      const n = await startNginx(c, f);
      const q = (room) => post(n.url, { cookie: "sid=s-hint", body: JSON.stringify(room === undefined ? {} : { room }) });
      const perms = async (room) => {
        const r = await q(room);
        assert.equal(r.status, 200, r.body);
        return (await verify(c, r.json.token)).perms;
      };
      // Round trips of one request, where they can be counted.
      const trips = async (fn) => {
        const b0 = proxy?.bursts();
        await fn();
        return proxy ? proxy.bursts() - b0 : null;
      };
      // A driver that cannot pipeline makes the same round trips per
      // query each time (MariaDB's client makes two per query).
      let perQuery = null;
      const expect = (got, pipelined, queries, what) => {
        if (got === null) return;
        perQuery ??= got / queries;
        assert.equal(got, db.pipelined ? pipelined : queries * perQuery, `${what}: ${got} round trips`);
      };
      db.sql(`INSERT INTO sessions VALUES ('s-hint', 'ann', ${FAR})`);
      try {
        // Another session first: the connection is up before counting.
        assert.equal((await post(n.url, { cookie: "sid=s-ann", body: '{"room":"acme:doc"}' })).status, 200);
        let k = await trips(async () => assert.deepEqual(await perms("acme:doc"), { "acme:doc": ["*:write"] }));
        expect(k, 2, 2, "a session new to the worker");
        k = await trips(async () => assert.deepEqual(await perms("acme:doc"), { "acme:doc": ["*:write"] }));
        expect(k, 1, 2, "the same session again");
        k = await trips(async () => assert.deepEqual(await perms(), { "acme:*": ["*:read"], "ann:*": ["*:write"] }));
        expect(k, 1, 2, "the same session, room-less");
        // The session is bob's now: the guess (ann) went out, and its
        // rows, which would grant acme:doc, are never used.
        db.sql("UPDATE sessions SET user_id = 'bob' WHERE id = 's-hint'");
        let r;
        k = await trips(async () => { r = await q("acme:doc"); });
        assert.equal(r.status, 403, r.body);
        assert.equal(r.json.error, "forbidden");
        expect(k, 2, 2, "a wrong guess, then the query for bob");
        k = await trips(async () => assert.deepEqual(await perms("open"), { open: ["*:write"] }));
        expect(k, 1, 2, "bob, seen once");
        // Back to ann, whose membership then goes: 403 at once.
        db.sql("UPDATE sessions SET user_id = 'ann' WHERE id = 's-hint'");
        assert.deepEqual(await perms("acme:ro"), { "acme:ro": ["*:read"] });
        db.sql("UPDATE room_members SET room = 'acme:ro-gone' WHERE user_id = 'ann' AND room = 'acme:ro'");
        try {
          k = await trips(async () => { r = await q("acme:ro"); });
          assert.equal(r.status, 403, r.body);
          expect(k, 1, 2, "a right guess, a fresh answer");
        } finally {
          db.sql("UPDATE room_members SET room = 'acme:ro' WHERE room = 'acme:ro-gone'");
        }
        // Signed out: 401, the guess forgotten, 401 again.
        db.sql("DELETE FROM sessions WHERE id = 's-hint'");
        k = await trips(async () => { r = await q("acme:doc"); });
        assert.equal(r.status, 401, r.body);
        expect(k, 1, 1, "signed out, on the guess");
        k = await trips(async () => { r = await q("acme:doc"); });
        assert.equal(r.status, 401, r.body);
        expect(k, 1, 1, "signed out, no guess");
        assert.doesNotMatch(f.log(), /s-hint/, "the session id in the log");
      } finally {
        f.stop();
        n.stop();
        proxy?.close();
        db.sql("DELETE FROM sessions WHERE id = 's-hint'");
      }
    });
    for (const [how, lines] of [["", queries(db.now, db.q)], ...(db.pipelined ? [[", on hints", unfused(db)]] : [])])
    await t.test(`sessions that change hands between requests, many at once${how}: every answer is the current owner's`, async () => {
      // 12 sessions handed between ann (acme:doc) and bob (open)
      // before each of 6 rounds of 60 requests at once, fused (sql.c)
      // and on hints (sqlhint.c, one table for the worker's request
      // threads).  A guess used for the wrong user, or a fused row,
      // would grant the other's room.
      const c = makeConf(drv, db, { lines: [...lines, "request_threads = 4"] });
      const f = await startFcgi(c);
      const n = await startNginx(c, f);
      const sids = Array.from({ length: 12 }, (_, i) => `s-c${i}`);
      let owner = null;
      db.sql(`INSERT INTO sessions VALUES ${sids.map((sid) => `('${sid}', 'ann', ${FAR})`).join(", ")}`);
      // A fixed sequence (xorshift32), so that a failure repeats.
      let seed = 7;
      const rnd = (k) => { seed ^= seed << 13; seed ^= seed >>> 17; seed ^= seed << 5; return (seed >>> 0) % k; };
      let moved = 0;
      try {
        for (let round = 0; round < 6; round++) {
          const was = round > 0 ? owner : null;
          owner = Object.fromEntries(sids.map((sid) => [sid, rnd(2) ? "ann" : "bob"]));
          moved += was ? sids.filter((sid) => was[sid] !== owner[sid]).length : 0;
          db.sql(sids.map((sid) => `UPDATE sessions SET user_id = '${owner[sid]}' WHERE id = '${sid}';`).join("\n"));
          const asks = Array.from({ length: 60 }, () => ({ sid: sids[rnd(sids.length)], room: rnd(2) ? "acme:doc" : "open" }));
          const rs = await Promise.all(asks.map((a) => post(n.url, { cookie: `sid=${a.sid}`, body: JSON.stringify({ room: a.room }) })));
          for (const [i, r] of rs.entries()) {
            const { sid, room } = asks[i], user = owner[sid];
            const mine = (user === "ann") === (room === "acme:doc");
            assert.equal(r.status, mine ? 200 : 403, `round ${round}: ${sid} (${user}) asks for ${room}: ${r.body}`);
            if (!mine) continue;
            const p = await verify(c, r.json.token);
            assert.equal(p.uid, user);
            assert.deepEqual(p.perms, { [room]: ["*:write"] });
          }
        }
        assert.ok(moved >= 20, `only ${moved} sessions changed hands`);
      } finally {
        f.stop();
        n.stop();
        db.sql("DELETE FROM sessions WHERE id LIKE 's-c%'");
      }
    });
    await t.test("a bad scope and more than 10 patterns: 500, logged, never cut", async () => {
      let r = await ask("s-ann", "acme:bad");
      assert.equal(r.status, 500);
      r = await ask("s-many", "big");
      assert.equal(r.status, 500);
      assert.match(fcgi.log(), /room_query row 11 of 12/);
    });
    await t.test("a NUL byte in a pattern or the user's id: 500, never read up to the NUL", async (tt) => {
      // PostgreSQL's text cannot hold one; SQLite's and MariaDB's can.
      if (!db.nul) return tt.diagnostic("PostgreSQL text cannot hold a NUL byte: nothing to refuse");
      const [ident, , room] = queries(db.now, db.q);
      // Read up to the NUL, the pattern would be the wildcard acme:*.
      let c = await cgi(makeConf(drv, db, { lines: [ident, "policy = sql",
        `room_query = SELECT ${db.nul("acme:*", "x")} AS pattern, 'full' AS access FROM sessions WHERE id = :session AND :room IS NOT NULL`] }),
        { body: '{"room":"acme:doc"}', cookie: "sid=s-ann" });
      assert.equal(c.status, 500, c.body + c.stderr);
      assert.match(c.stderr, /room_query row 1 of 1: a pattern holds a NUL byte/);
      // The user "ann\0x" is not ann.
      c = await cgi(makeConf(drv, db, { lines: [`identity_query = SELECT ${db.nul("ann", "x")} AS id FROM sessions WHERE id = :session`, "policy = sql", room] }),
        { body: '{"room":"acme:doc"}', cookie: "sid=s-ann" });
      assert.equal(c.status, 500, c.body + c.stderr);
      assert.match(c.stderr, /identity_query: a column holds a NUL byte/);
      // A column lbauth does not read may hold one.
      c = await cgi(makeConf(drv, db, { lines: [`identity_query = SELECT user_id AS id, ${db.nul("a", "b")} AS extra FROM sessions WHERE id = :session`, "policy = sql", room] }),
        { body: '{"room":"acme:doc"}', cookie: "sid=s-ann" });
      assert.equal(c.status, 200, c.body + c.stderr);
    });
    if (drv.name === "pgsql") {
      await t.test("a session id or room not of its column's type: 401 and 403, not 500", async () => {
        // PostgreSQL refuses to compare 's-ann' with a uuid (22P02): the
        // client chose the value, and no row can match it.
        const [ident, , room] = queries(db.now, db.q);
        const c = makeConf(drv, db, { lines: [`${ident} AND :session::uuid IS NOT NULL`, "policy = sql",
          `${room} AND length(:room) > 0`, "roomless_query = SELECT 'x' AS pattern, 'full' AS access WHERE :user::int > 0"] });
        let r = await cgi(c, { body: '{"room":"acme:doc"}', cookie: "sid=s-ann" });
        assert.equal(r.status, 401, r.body + r.stderr);
        assert.equal(r.json.error, "invalid_session");
        assert.match(r.stderr, /invalid input syntax for type uuid/);
        assert.ok(!r.stderr.includes("s-ann"), r.stderr);
        // The user 'ann' is no integer: the room-less query finds nothing.
        const c2 = makeConf(drv, db, { lines: [ident, "policy = sql", room, "roomless_query = SELECT 'x' AS pattern, 'full' AS access WHERE :user::int > 0"] });
        r = await cgi(c2, { body: "{}", cookie: "sid=s-ann" });
        assert.equal(r.status, 403, r.body + r.stderr);
        assert.equal(r.json.error, "forbidden");
      });
      await t.test("room queries by :user fused with the identity query: one round trip from a session's first request, each answer the database's", async () => {
        // sql.c, lbx_sql_fuse: one statement, so no guess is needed.
        const proxy = await burstProxy(db.port);
        const [ident, , room, roomless] = queries(db.now, db.q);
        // A room of 'boom' fails the room query (division by zero); a
        // room that is no uuid fails its cast (22P02): no row can match.
        const lines = [ident, "policy = sql", `${room} AND 1 / (CASE WHEN :room = 'boom' THEN 0 ELSE 1 END) = 1 AND (:room NOT LIKE 'u:%' OR substr(:room, 3)::uuid IS NOT NULL)`, roomless,
          "request_threads = 1"];
        const c = makeConf(drv, { ...db, connect: db.connect.replace(`port=${db.port}`, `port=${proxy.port}`) }, { lines });
        const f = await startFcgi(c);
        const n = await startNginx(c, f);
        const q = (sid, room) => post(n.url, { cookie: `sid=${sid}`, body: JSON.stringify(room === undefined ? {} : { room }) });
        const trips = async (fn) => { const b0 = proxy.bursts(); const r = await fn(); return [r, proxy.bursts() - b0]; };
        // check runs synchronously: not through this process's proxy.
        const check = ctl(["check", "-c", makeConf(drv, db, { lines }).conf]);
        assert.match(check, /^room_query: fused with identity_query into one statement, one round trip per request$/m);
        assert.match(check, /^roomless_query: fused with identity_query/m);
        const sids = ["s-f1", "s-f2"];
        db.sql(`INSERT INTO sessions VALUES ${sids.map((sid) => `('${sid}', 'ann', ${FAR})`).join(", ")}`);
        try {
          assert.equal((await q("s-ann", "acme:doc")).status, 200);
          let [r, k] = await trips(() => q("s-f1", "acme:doc"));
          assert.equal(r.status, 200, r.body);
          assert.deepEqual((await verify(c, r.json.token)).perms, { "acme:doc": ["*:write"] });
          assert.equal(k, 1, "a session new to the worker");
          [r, k] = await trips(() => q("s-f2"));
          assert.deepEqual((await verify(c, r.json.token)).perms, { "acme:*": ["*:read"], "ann:*": ["*:write"] });
          assert.equal(k, 1, "room-less, new to the worker");
          // Moved to bob: bob's grants at once, never ann's.
          db.sql("UPDATE sessions SET user_id = 'bob' WHERE id = 's-f1'");
          [r, k] = await trips(() => q("s-f1", "acme:doc"));
          assert.equal(r.status, 403, r.body);
          assert.equal(k, 1);
          r = await q("s-f1", "open");
          assert.equal(r.status, 200, r.body);
          assert.equal((await verify(c, r.json.token)).uid, "bob");
          // A membership removed: 403 at the next request.
          db.sql("UPDATE room_members SET room = 'acme:ro-gone' WHERE user_id = 'ann' AND room = 'acme:ro'");
          try {
            assert.equal((await q("s-f2", "acme:ro")).status, 403);
          } finally {
            db.sql("UPDATE room_members SET room = 'acme:ro' WHERE room = 'acme:ro-gone'");
          }
          assert.equal((await q("s-f2", "acme:ro")).status, 200);
          // The room query failing on the server is its own 500, not the
          // identity query's: the two then run apart (2 round trips).
          [r, k] = await trips(() => q("s-f2", "boom"));
          assert.equal(r.status, 500, r.body);
          assert.equal(r.json.error, "internal_error", r.body);
          assert.equal(k, 3, "the fused statement, then the two apart");
          assert.match(f.log(), /status=500 error=internal_error user="ann" room="boom" .*division by zero/);
          // A room the query cannot cast: no row can match, 403, not 401.
          r = await q("s-f2", "u:not-a-uuid");
          assert.equal(r.status, 403, r.body);
          r = await q("s-f2", "u:0b7e6f4a-1c2d-4e5f-8a9b-0c1d2e3f4a5b");
          assert.equal(r.status, 403, r.body);
          // Signed out: 401 in one round trip.
          db.sql("DELETE FROM sessions WHERE id = 's-f2'");
          [r, k] = await trips(() => q("s-f2", "acme:doc"));
          assert.equal(r.status, 401, r.body);
          assert.equal(k, 1);
          assert.equal((await q("s-f1", "open")).status, 200, "served on");
          assert.doesNotMatch(f.log(), /s-f[12]/, "a session id in the log");
        } finally {
          f.stop();
          n.stop();
          proxy.close();
          db.sql("DELETE FROM sessions WHERE id LIKE 's-f_'");
        }
      });
    }
    await t.test("SQL injection in the cookie and the room gets nothing", async () => {
      const evil = ["s-ann' OR '1'='1", "x'; DROP TABLE sessions; --", "s-ann'--", "s-ann\"/*", "s-ann%00", "s-ann%27%20OR%201=1", "ünï😀", "s-ann;"];
      for (const e of evil) {
        const r = await ask(encodeURIComponent(e), "acme:doc");
        assert.equal(r.status, 401, `${e}: ${r.body}`);
      }
      for (const room of ["acme:doc' OR '1'='1", "x'; DROP TABLE room_members; --", "acme:doc'--", "acme:doc\u0000", "acme:dœc 😀", "NULL"]) {
        const r = await ask("s-ann", room);
        assert.ok(r.status === 403 || r.status === 400, `${JSON.stringify(room)}: ${r.status} ${r.body}`);
      }
      assert.equal(db.counts(), before);
    });
    await t.test("the password never reaches the log", () => {
      assert.ok(!fcgi.log().includes(PASSWORD));
    });
    if (db.stop) {
      await t.test("database stopped: 503 with Retry-After, then recovery", async () => {
        await db.stop();
        for (let i = 0; i < 3; i++) {
          const r = await ask("s-ann", "acme:doc");
          assert.equal(r.status, 503, r.body);
          assert.equal(r.json.error, "identity_unavailable");
          assert.match(r.headers["retry-after"] ?? "", /^[1-9][0-9]*$/);
        }
        await db.restart();
        const t0 = Date.now();
        let r;
        do {
          await new Promise((res) => setTimeout(res, 250));
          r = await ask("s-ann", "acme:doc");
        } while (r.status !== 200 && Date.now() - t0 < 20000);
        assert.equal(r.status, 200, r.body);
        assert.ok(!fcgi.log().includes(PASSWORD));
      });
      await t.test("policy database down: 503 policy_unavailable (JWT users, SQL rooms)", async () => {
        // Identity from a JWT cookie, rooms from SQL: any source pairs with any policy.
        const js = makeConf(drv, db, { lines: ["cookie_secret_file = cookie.secret", ...queries(db.now, db.q).slice(1)] });
        ctl(["keygen", "-t", "hs256", "-o", path.join(js.dir, "cookie.secret")]);
        const cookie = ctl(["cookie", "-c", js.conf, "-s", "ann", "-o", "acme"]).trim();
        let c = await cgi(js, { body: '{"room":"acme:ro"}', cookie: `sid=${cookie}` });
        assert.equal(c.status, 200, c.body + c.stderr);
        assert.deepEqual((await verify(js, c.json.token)).perms, { "acme:ro": ["*:read"] });
        await db.stop();
        c = await cgi(js, { body: '{"room":"acme:ro"}', cookie: `sid=${cookie}` });
        assert.equal(c.status, 503, c.body);
        assert.equal(c.json.error, "policy_unavailable");
        assert.ok(c.headers["retry-after"]);
        assert.ok(!c.stderr.includes(PASSWORD), c.stderr);
        await db.restart();
      });
      await t.test("a wrong password: 503 with Retry-After, never 401; lbauthctl check names the refusal; no password in any output", async () => {
        // A refused login may be transient (a role being created, a
        // password being rotated on both sides): it is answered as a
        // database that is down, which the client retries, never as a
        // 401 or 403, on which it would give up for good.
        const WRONG = "pw-wrong-4Hq-secret";
        assert.ok(db.connect.includes(PASSWORD));
        const bad = makeConf(drv, { ...db, connect: db.connect.replace(PASSWORD, WRONG) });
        const c = await cgi(bad, { body: '{"room":"acme:doc"}', cookie: "sid=s-ann" });
        assert.equal(c.status, 503, c.body + c.stderr);
        assert.equal(c.json.error, "identity_unavailable");
        assert.match(c.headers["retry-after"] ?? "", /^[1-9][0-9]*$/);
        assert.match(c.stderr, /password authentication failed|Access denied/i, c.stderr);
        const r = ctlResult(["check", "-c", bad.conf]);
        assert.notEqual(r.status, 0, r.stdout);
        assert.match(r.stderr, /password authentication failed|Access denied/i, r.stderr);
        for (const out of [c.stderr, c.body, r.stdout, r.stderr]) {
          assert.ok(!out.includes(WRONG), out);
          assert.ok(!out.includes(PASSWORD), out);
        }
      });
    } else {
      await t.test("database stopped: 503 with Retry-After, then recovery", { skip: "SQLite is a file, not a server that can stop" }, () => {});
    }
    if (db.slow) {
      await t.test("a slow query: 503 within sql_timeout_ms", async () => {
        const slow = makeConf(drv, db, { timeout: 800, lines: [`identity_query = ${db.slow}`] });
        const f = await startFcgi(slow);
        const n = await startNginx(slow, f);
        const t0 = Date.now();
        const r = await post(n.url, { cookie: "sid=s-ann", body: "{}" });
        const ms = Date.now() - t0;
        assert.equal(r.status, 503, r.body);
        assert.ok(r.headers["retry-after"]);
        // The bound is the outcome under test: 800 ms plus the round trip.
        assert.ok(ms < 2500, `answered after ${ms} ms`);
        f.stop();
        n.stop();
      });
    } else {
      await t.test("a slow query: 503 within sql_timeout_ms", { skip: "SQLite has no sleep(); its timeout is a progress handler" }, () => {});
    }
    if (db.kill) {
      await t.test("the server drops the connection between requests: the next one is served at once", async () => {
        assert.equal((await ask("s-ann", "acme:doc")).status, 200);
        db.kill();
        const t0 = Date.now();
        const r = await ask("s-ann", "acme:doc");
        assert.equal(r.status, 200, r.body + fcgi.log().split("\n").slice(-3).join("\n"));
        assert.ok(Date.now() - t0 < 1500, `${Date.now() - t0} ms`);
      });
    }
    await t.test("a migration changes a query's columns: served on, prepared afresh", async () => {
      // SELECT u.*: the result gains a column.  PostgreSQL refuses the
      // old plan ("cached plan must not change result type"), MariaDB
      // the old metadata; SQLite prepares again by itself.
      const [ident, ...rest] = queries(db.now, db.q);
      const c = makeConf(drv, db, { lines: [ident.replace(/SELECT .* FROM sessions/, "SELECT u.* FROM sessions"), ...rest] });
      const f = await startFcgi(c);
      const n = await startNginx(c, f);
      const q = () => post(n.url, { cookie: "sid=s-ann", body: '{"room":"acme:doc"}' });
      try {
        assert.equal((await q()).status, 200);
        db.sql("ALTER TABLE users ADD COLUMN extra INTEGER;");
        let r = await q();
        assert.equal(r.status, 200, r.body + f.log());
        db.sql("ALTER TABLE users DROP COLUMN extra;");
        r = await q();
        assert.equal(r.status, 200, r.body + f.log());
      } finally { f.stop(); n.stop(); }
    });
    if (db.port) {
      await t.test("a server that never answers: a CGI run waits sql_timeout_ms once, then 503", async () => {
        // A black hole: it accepts and says nothing, so the connect
        // itself times out.  MariaDB's client rounds 800 ms up to 1 s.
        const socks = new Set();
        const hole = net.createServer((c) => socks.add(c));
        await new Promise((r) => hole.listen(0, "127.0.0.1", r));
        try {
          const c = makeConf(drv, { ...db, connect: db.connect.replace(`port=${db.port}`, `port=${hole.address().port}`) }, { timeout: 800 });
          const t0 = Date.now();
          const r = await cgi(c, { body: '{"room":"acme:doc"}', cookie: "sid=s-ann" });
          const ms = Date.now() - t0;
          assert.equal(r.status, 503, r.body + r.stderr);
          assert.ok(r.headers["retry-after"]);
          // Once, not twice: well under two waits.
          const wait = drv.name === "mysql" ? 1000 : 800;
          assert.ok(ms >= 750 && ms < wait * 1.6, `answered after ${ms} ms (one wait: ${wait} ms)`);
        } finally {
          for (const x of socks) x.destroy();
          hole.close();
        }
      });
    }
    if (drv.name === "sqlite") {
      await t.test("a writer holding the file past sql_timeout_ms: 503 with Retry-After, then served", async () => {
        // The app's own write (a migration, a long transaction): a CGI
        // run prepares its queries, a worker runs them, and neither is
        // a config error.
        const { spawn } = await import("node:child_process");
        const w = spawn("sqlite3", [db.connect], { stdio: ["pipe", "ignore", "inherit"] });
        w.stdin.write("BEGIN EXCLUSIVE;\n");
        const slow = makeConf(drv, db, { timeout: 300 });
        try {
          let c;
          for (let i = 0; i < 50; i++) {
            c = await cgi(slow, { body: '{"room":"acme:doc"}', cookie: "sid=s-ann" });
            if (c.status !== 200) break;
            await new Promise((r) => setTimeout(r, 50));
          }
          assert.equal(c.status, 503, c.body + c.stderr);
          assert.equal(c.json.error, "identity_unavailable");
          assert.match(c.headers["retry-after"] ?? "", /^[1-9][0-9]*$/);
          assert.doesNotMatch(c.stderr, /misconfigured|lbauth\.conf:\d+: identity_query/);
          // The long-lived worker, its queries prepared before.
          const r = await ask("s-ann", "acme:doc");
          assert.equal(r.status, 503, r.body);
        } finally {
          w.stdin.end("COMMIT;\n");
          await new Promise((r) => w.on("close", r));
        }
        const c = await cgi(slow, { body: '{"room":"acme:doc"}', cookie: "sid=s-ann" });
        assert.equal(c.status, 200, c.body + c.stderr);
        let r;
        for (let i = 0; i < 20 && (r = await ask("s-ann", "acme:doc")).status !== 200; i++) await new Promise((res) => setTimeout(res, 100));
        assert.equal(r.status, 200, r.body);
      });
    }
    if (db.sleepy) {
      // backend = local with a network database: one worker runs
      // request_threads requests at once, each on its own connection,
      // while they wait for the database (backend-local.c, serve.c);
      // request_threads = 1 keeps it serial.  Counted at the server.
      for (const threads of [1, 6]) {
        await t.test(`request_threads = ${threads}: ${threads === 1 ? "one lookup" : `${threads} lookups`} at once in one worker`, async () => {
          const c = makeConf(drv, db, { lines: [`identity_query = ${db.sleepy}`, ...queries(db.now, db.q).slice(1), `request_threads = ${threads}`] });
          const f = await startFcgi(c);
          const n = await startNginx(c, f);
          let most = 0, done = false;
          const all = Promise.all(Array.from({ length: 6 }, () => post(n.url, { cookie: "sid=s-ann", body: '{"room":"acme:doc"}' }))).finally(() => { done = true; });
          while (!done) {
            most = Math.max(most, db.active());
            await new Promise((r) => setTimeout(r, 50));
          }
          const rs = await all;
          assert.deepEqual(rs.map((r) => r.status), Array(6).fill(200), rs.map((r) => r.body).join(" "));
          if (threads === 1) assert.equal(most, 1);
          else assert.ok(most >= 4, `at most ${most} lookups ran at once`);
          f.stop();
          n.stop();
        });
      }
    }
    await t.test("bad SQL stops start-up naming the line", async () => {
      const lines = queries(db.now, db.q);
      lines[2] = "room_query = SELECT pattern, access FROM no_such_table WHERE user_id = :user AND room = :room";
      const bad = makeConf(drv, db, { lines });
      const line = bad.lines.findIndex((l) => l.startsWith("room_query")) + 1;
      const r = ctlResult(["check", "-c", bad.conf]);
      assert.equal(r.status, 1);
      assert.match(r.stderr, new RegExp(`lbauth\\.conf:${line}: room_query: .*no_such_table`));
      const c = await cgi(bad, { body: "{}", cookie: "sid=s-ann" });
      assert.equal(c.status, 500);
      assert.match(c.stderr, new RegExp(`lbauth\\.conf:${line}: room_query`));
      // A parameter that does not exist is refused before any database.
      const typo = makeConf(drv, db, { lines: [...queries(db.now, db.q).slice(0, 2), "room_query = SELECT pattern, access FROM room_members WHERE user_id = :usr"] });
      const r2 = ctlResult(["check", "-c", typo.conf]);
      assert.equal(r2.status, 1);
      assert.match(r2.stderr, /room_query: uses an unknown parameter/);
      // A placeholder of the database's own would be bound to nothing.
      const raw = makeConf(drv, db, { lines: [`identity_query = SELECT user_id AS id FROM sessions WHERE id = :session AND user_id <> ${db.raw}`, ...queries(db.now, db.q).slice(1)] });
      const r3 = ctlResult(["check", "-c", raw.conf]);
      assert.equal(r3.status, 1, r3.stderr);
      assert.match(r3.stderr, /lbauth\.conf:\d+: identity_query: has a placeholder of its own/);
    });
    await t.test("the password never reaches stderr, even with a wrong one", async () => {
      if (drv.name === "sqlite") return;
      const wrong = makeConf(drv, { ...db, connect: db.connect.replace(PASSWORD, PASSWORD + "-wrong") });
      const r = ctlResult(["check", "-c", wrong.conf]);
      assert.equal(r.status, 1);
      assert.ok(!r.stderr.includes(PASSWORD), r.stderr);
      const c = await cgi(wrong, { body: "{}", cookie: "sid=s-ann" });
      assert.equal(c.status, 503, c.body + c.stderr);
      assert.ok(!c.stderr.includes(PASSWORD), c.stderr);
      // A connect string the library cannot parse is not quoted back.
      const broken = makeConf(drv, { ...db, connect: `password=${PASSWORD} =oops 'unterminated` });
      const r3 = ctlResult(["check", "-c", broken.conf]);
      assert.equal(r3.status, 1);
      assert.ok(!r3.stderr.includes(PASSWORD), r3.stderr);
    });
    await t.test("connections are read-only, even for a user who may write", async () => {
      const w = makeConf(drv, { ...db, connect: db.superuser }, { lines: [`identity_query = ${db.write}`] });
      const ck = ctlResult(["check", "-c", w.conf]);
      if (drv.name !== "pgsql") {
        // SQLite and MariaDB refuse it when it is prepared, at start.
        assert.equal(ck.status, 1);
        assert.match(ck.stderr, /lbauth\.conf:\d+: identity_query: .*(not a read-only query|READ ONLY)/);
      } else {
        // PostgreSQL prepares it and refuses to run it.
        assert.equal(ck.status, 0, ck.stderr);
        const c = await cgi(w, { body: "{}", cookie: "sid=s-ann" });
        assert.equal(c.status, 500, c.body + c.stderr);
        assert.match(c.stderr, /read-only transaction/);
      }
      assert.equal(db.counts(), before);
    });
    await t.test("connect file must be private", () => {
      fs.chmodSync(path.join(setup.dir, "db.conn"), 0o644);
      const r = ctlResult(["check", "-c", setup.conf]);
      assert.equal(r.status, 1);
      assert.match(r.stderr, /sql_connect_file: .*db\.conn: is accessible by group or others/);
      fs.chmodSync(path.join(setup.dir, "db.conn"), 0o600);
    });
    assert.equal(db.counts(), before);
    if (db.stop) await db.stop();
  });
}

// backend = liveblocks: a worker serves requests from several threads
// at once, each taking its own database connection (sql.c's slots).
test("sqlite under backend = liveblocks: concurrent requests, tokens from the dev server", { skip: DRIVERS[0].skip, timeout: 120000 }, async () => {
  const { startDevServer } = await import("./harness.mjs");
  const dev = await startDevServer();
  const db = await DRIVERS[0].start(tmpdir("lbauth-sqldb-"));
  const dir = tmpdir("lbauth-sql-");
  fs.writeFileSync(path.join(dir, "db.conn"), db.connect + "\n", { mode: 0o600 });
  fs.writeFileSync(path.join(dir, "liveblocks.secret"), "sk_localdev\n", { mode: 0o600 });
  const conf = path.join(dir, "lbauth.conf");
  fs.writeFileSync(conf, ["backend = liveblocks", "liveblocks_secret_file = liveblocks.secret",
    `liveblocks_base_url = ${dev.url}`, "cookie_name = sid", "sql_connect_file = db.conn",
    ...queries(db.now, db.q), ""].join("\n"));
  const setup = { dir, conf, jwks: () => ({ keys: [] }) };
  const fcgi = await startFcgi(setup);
  const nginx = await startNginx(setup, fcgi);
  const asks = [];
  for (let i = 0; i < 40; i++) {
    const [sid, room, want] = [["s-ann", "acme:doc", 200], ["s-bob", "open", 200], ["nope", "open", 401], ["s-ann", "acme:none", 403]][i % 4];
    asks.push(post(nginx.url, { cookie: `sid=${sid}`, body: JSON.stringify({ room }) }).then((r) => ({ r, sid, room, want })));
  }
  for (const { r, sid, room, want } of await Promise.all(asks)) {
    assert.equal(r.status, want, `${sid} ${room}: ${r.body}`);
    if (want !== 200) continue;
    const p = JSON.parse(Buffer.from(r.json.token.split(".")[1], "base64url"));
    assert.equal(p.uid, sid === "s-ann" ? "ann" : "bob");
    assert.deepEqual(Object.keys(p.perms), [room]);
  }
  assert.ok(!fcgi.log().includes("status=500"), fcgi.log());
});

// Connections are opened in each worker after fork, never held in the
// --workers master (which checked the queries on one at start).
test("sqlite under a --workers master: the master holds no connection, each worker its own", { skip: DRIVERS[0].skip, timeout: 60000 }, async () => {
  const { spawn } = await import("node:child_process");
  const { LBAUTH } = await import("./harness.mjs");
  const db = await DRIVERS[0].start(tmpdir("lbauth-sqldb-"));
  const setup = makeConf(DRIVERS[0], db);
  const sock = path.join(setup.dir, "master.sock");
  const master = spawn(LBAUTH, ["--listen", `unix:${sock}`, "--workers", "2", "--socket-mode", "0666", "--config", setup.conf], { stdio: ["ignore", "ignore", "pipe"] });
  let stderr = "";
  master.stderr.on("data", (d) => (stderr += d));
  try {
    for (let i = 0; i < 250 && !fs.existsSync(sock); i++) await new Promise((r) => setTimeout(r, 20));
    const nginx = await startNginx(setup, { sock });
    for (let i = 0; i < 8; i++) {
      const r = await post(nginx.url, { cookie: "sid=s-ann", body: '{"room":"acme:doc"}' });
      assert.equal(r.status, 200, r.body + stderr);
    }
    const holds = (pid) => holdsFile(pid, db.connect);
    const workers = fs.readFileSync(`/proc/${master.pid}/task/${master.pid}/children`, "utf8").trim().split(/\s+/).map(Number);
    assert.equal(workers.length, 2);
    assert.equal(holds(master.pid), false, "the master has the database open");
    assert.ok(workers.some(holds), "no worker has the database open");
    nginx.stop();
  } finally {
    master.kill("SIGTERM");
  }
});

// A request reads the user and the rooms in one read transaction
// (sql.c, lbx_sql_hold): SQLite's shared lock is held across both
// queries, so it must be gone when the request is answered, whatever
// the answer, or the app's next write fails with "database is locked".
// The write here waits for no lock (no busy timeout).
test("sqlite: no lock outlives a request, whatever its answer", { skip: DRIVERS[0].skip, timeout: 60000 }, async () => {
  const db = await DRIVERS[0].start(tmpdir("lbauth-sqldb-"));
  const setup = makeConf(DRIVERS[0], db);
  const fcgi = await startFcgi(setup);
  const nginx = await startNginx(setup, fcgi);
  const write = () => execFileSync("sqlite3", ["-batch", "-bail", db.connect], { input: "BEGIN IMMEDIATE; UPDATE users SET name = name WHERE id = 'ann'; COMMIT;\n", encoding: "utf8", stdio: ["pipe", "pipe", "pipe"] });
  for (const [sid, body, want] of [["s-ann", '{"room":"acme:doc"}', 200], ["nope", '{"room":"acme:doc"}', 401], ["s-ann", '{"room":"acme:none"}', 403],
    ["s-ann", "{}", 200], ["s-many", '{"room":"big"}', 500], ["s-ann", '{"room":"acme:bad"}', 500], ["s-ann", '{"room":"acme:doc"}', 200]]) {
    const r = await post(nginx.url, { cookie: `sid=${sid}`, body });
    assert.equal(r.status, want, `${sid} ${body}: ${r.body}`);
    assert.doesNotThrow(write, `a write after ${sid} ${body} (${want})`);
  }
  // The worker still holds its connection: the lock, not the file, went.
  assert.ok(holdsFile(fcgi.pid, db.connect));
  nginx.stop();
  fcgi.stop();
});

// Any identity source pairs with any policy: users from SQL under the
// built-in org policy and under a policy plugin.
test("sqlite identity with the org policy and with a plugin", { skip: DRIVERS[0].skip, timeout: 60000 }, async () => {
  const { ROOT } = await import("./harness.mjs");
  const db = await DRIVERS[0].start(tmpdir("lbauth-sqldb-"));
  const identity = queries(db.now, db.q)[0];
  const org = makeConf(DRIVERS[0], db, { lines: [identity] });
  let c = await cgi(org, { body: '{"room":"acme:doc"}', cookie: "sid=s-ann" });
  assert.equal(c.status, 200, c.body + c.stderr);
  assert.deepEqual((await verify(org, c.json.token)).perms, { "acme:doc": ["*:write"] });
  c = await cgi(org, { body: "{}", cookie: "sid=s-ann" });
  assert.deepEqual((await verify(org, c.json.token)).perms, { "acme:*": ["*:read"] });
  const plugin = makeConf(DRIVERS[0], db, { lines: [identity, `policy = ${path.join(ROOT, "tests/plugin/example.so")}`, "policy_arg = admins"] });
  c = await cgi(plugin, { body: '{"room":"editors:plan"}', cookie: "sid=s-ann" });
  assert.equal(c.status, 200, c.body + c.stderr);
  assert.deepEqual((await verify(plugin, c.json.token)).perms, { "editors:plan": ["*:write"] });
  c = await cgi(plugin, { body: '{"room":"sales:plan"}', cookie: "sid=s-ann" });
  assert.equal(c.status, 403);
});

test("a policy query by :session needs identity_query, and refuses trust_remote_user", { skip: DRIVERS[0].skip, timeout: 60000 }, async () => {
  const db = await DRIVERS[0].start(tmpdir("lbauth-sqldb-"));
  const room = "room_query = SELECT m.pattern, m.access FROM room_members m JOIN sessions s ON s.user_id = m.user_id WHERE s.id = :session AND m.room = :room";
  // Without identity_query (REMOTE_USER here, or a JWT cookie) there
  // is no session id to give.
  const jwt = makeConf(DRIVERS[0], db, { lines: ["trust_remote_user = yes", "policy = sql", room] });
  const line = jwt.lines.indexOf(room) + 1;
  let r = ctlResult(["check", "-c", jwt.conf]);
  assert.equal(r.status, 1);
  assert.match(r.stderr, new RegExp(`lbauth\\.conf:${line}: room_query: names :session, which only identity_query gives`));
  const c = await cgi(jwt, { body: '{"room":"acme:doc"}', cookie: "sid=s-ann" });
  assert.equal(c.status, 500);
  assert.match(c.stderr, /room_query: names :session/);
  // Nor does a request that REMOTE_USER identifies.
  const rooms = makeConf(DRIVERS[0], db, { lines: [...queries(db.now, db.q).slice(0, 3), "trust_remote_user = yes", room.replace("room_query", "roomless_query").replace(" AND m.room = :room", "")] });
  r = ctlResult(["check", "-c", rooms.conf]);
  assert.equal(r.status, 1);
  assert.match(r.stderr, /: roomless_query: names :session, which a request that REMOTE_USER identifies does not have/);
});
