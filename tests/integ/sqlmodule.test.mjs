// sqlmodule.test.mjs: which libsqlite3 lbauth loads (lib/sql-sqlite.c,
// lib/dl.c).  STATIC=1 builds lbauth-sqlite.so, SQLite from Debian's
// static archive with its own symbols bound at link time; lbauth loads
// it from its own folder (or the install's lib/lbauth), else the
// system's libsqlite3.so.0, and refuses one that others may write.
// The module loads libm only when a query calls a math function
// (lib/sql-sqlite-libm.c), and leaves out the full-text and R*Tree
// extensions (lib/sql-sqlite-omit.c).  Seen through the dynamic
// linker's own log (LD_DEBUG=files) of a CGI run, which names every
// file it loads.

import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { ROOT, LBAUTH, tmpdir, ctl, cgi } from "./harness.mjs";

const MODULE = path.join(ROOT, "lbauth-sqlite.so");
const INSTALLED = "/usr/local/lib/lbauth/lbauth-sqlite.so";
const noModule = !fs.existsSync(MODULE) && "no lbauth-sqlite.so: built with STATIC=0, which uses the system's libsqlite3 only";
const noCli = !fs.existsSync("/usr/bin/sqlite3") && "the sqlite3 CLI (Debian sqlite3) is not installed";

// A SQLite database with ann's session, and a config that reads it.
const ROOM = "SELECT room AS pattern, access FROM room_members WHERE user_id = :user AND room = :room";
function setup({ identity = "SELECT user_id AS id FROM sessions WHERE id = :session", room = ROOM, sql = "" } = {}) {
  const dir = tmpdir("lbauth-sqlmod-");
  const db = path.join(dir, "app.db");
  execFileSync("sqlite3", ["-batch", "-bail", db], { input: `
CREATE TABLE sessions (id TEXT PRIMARY KEY, user_id TEXT);
CREATE TABLE room_members (user_id TEXT, room TEXT, access TEXT);
INSERT INTO sessions VALUES ('s-ann', 'ann');
INSERT INTO room_members VALUES ('ann', 'acme:doc', 'full');${sql}` });
  ctl(["keygen", "-o", path.join(dir, "sign.key")]);
  fs.writeFileSync(path.join(dir, "db.conn"), db + "\n", { mode: 0o600 });
  const conf = path.join(dir, "lbauth.conf");
  fs.writeFileSync(conf, ["backend = local", "signing_key_file = sign.key", "cookie_name = sid", "sql_driver = sqlite",
    "sql_connect_file = db.conn", `identity_query = ${identity}`, "policy = sql",
    `room_query = ${room}`, ""].join("\n"));
  return { dir, conf };
}

// One CGI request for ann's room with the dynamic linker's file log.
const ask = (s, bin = LBAUTH) => cgi(s, { body: '{"room":"acme:doc"}', cookie: "sid=s-ann", bin, env: { LD_DEBUG: "files" } });
// The files the dynamic linker loaded, from its log.
const loaded = (stderr) => [...stderr.matchAll(/file=(\S+) \[\d+\];\s+dynamically loaded by/g)].map((m) => m[1]);
// A copy of lbauth in a folder of its own, with the module or without.
function copyOfLbauth(withModule, mode = 0o644) {
  const dir = tmpdir("lbauth-sqlbin-");
  fs.copyFileSync(LBAUTH, path.join(dir, "lbauth"));
  fs.chmodSync(path.join(dir, "lbauth"), 0o755);
  if (withModule) {
    fs.copyFileSync(MODULE, path.join(dir, "lbauth-sqlite.so"));
    fs.chmodSync(path.join(dir, "lbauth-sqlite.so"), mode);
  }
  return path.join(dir, "lbauth");
}

test("lbauth loads its own lbauth-sqlite.so, not the system's libsqlite3", { skip: noModule || noCli }, async () => {
  const s = setup();
  const r = await ask(s);
  assert.equal(r.status, 200, r.stderr);
  assert.match(r.json.token, /^ey/);
  const files = loaded(r.stderr);
  assert.ok(files.includes(MODULE), `loaded: ${files.join(" ")}`);
  assert.ok(!files.some((f) => /libsqlite3\.so/.test(f)), `loaded: ${files.join(" ")}`);
  // What the module exports: exactly the functions lib/sql-sqlite.map lists.
  const listed = [...fs.readFileSync(path.join(ROOT, "lib/sql-sqlite.map"), "utf8").matchAll(/^\t(sqlite3_\w+);$/gm)].map((m) => m[1]).sort();
  const exported = execFileSync("nm", ["-D", "--defined-only", MODULE], { encoding: "utf8" }).split("\n")
    .map((l) => l.split(" ")[2]).filter((n) => n && n.startsWith("sqlite3_")).sort();
  assert.deepEqual(exported, listed);
  assert.ok(listed.length >= 15, listed.join(" "));
});

test("without the module beside it, lbauth uses the system's libsqlite3.so.0", { skip: noCli || (fs.existsSync(INSTALLED) && `${INSTALLED} is installed: a copy of lbauth would load it`) }, async () => {
  const s = setup();
  const r = await ask(s, copyOfLbauth(false));
  assert.equal(r.status, 200, r.stderr);
  const files = loaded(r.stderr);
  assert.ok(files.some((f) => /(^|\/)libsqlite3\.so\.0$/.test(f)), `loaded: ${files.join(" ")}`);
  assert.ok(!files.some((f) => /lbauth-sqlite\.so/.test(f)), `loaded: ${files.join(" ")}`);
});

test("a module that others may write is refused: 500, and the log names it", { skip: noModule || noCli }, async () => {
  const s = setup();
  for (const mode of [0o664, 0o646]) {
    const bin = copyOfLbauth(true, mode);
    const r = await ask(s, bin);
    assert.equal(r.status, 500, `mode ${mode.toString(8)}: ${r.stderr}`);
    assert.equal(r.json.error, "misconfigured");
    assert.ok(r.stderr.includes(path.join(path.dirname(bin), "lbauth-sqlite.so")) && /refused/.test(r.stderr), r.stderr);
    assert.doesNotMatch(JSON.stringify(r.json), /lbauth-sqlite/);
  }
  // The same copy with the module made 0644 again serves.
  const bin = copyOfLbauth(true);
  const r = await ask(s, bin);
  assert.equal(r.status, 200, r.stderr);
  assert.ok(loaded(r.stderr).includes(path.join(path.dirname(bin), "lbauth-sqlite.so")));
});

test("the module loads libm only for a query that calls a math function, under the sandbox", { skip: noModule || noCli }, async (t) => {
  assert.doesNotMatch(execFileSync("readelf", ["-d", MODULE], { encoding: "utf8" }), /libm\.so/);
  let r = await ask(setup());
  assert.equal(r.status, 200, r.stderr);
  // A sanitizer build's runtime needs libm itself: then it is there from
  // the start, and only the values below can be checked.
  const atStart = /file=libm\.so\.6 \[0\];\s+needed by/.test(r.stderr);
  if (atStart) t.diagnostic("libm is loaded at start (a sanitizer runtime needs it): when it loads is not checked");
  else assert.ok(!loaded(r.stderr).some((f) => /libm\.so/.test(f)), `loaded: ${loaded(r.stderr).join(" ")}`);
  // Each value is libm's: a wrong one, or NULL from a missing libm,
  // finds no row and gets 401.
  const math = "SELECT user_id AS id FROM sessions WHERE id = :session AND sqrt(16.0) = 4.0 AND pow(2, 10) = 1024.0 " +
    "AND abs(sin(pi() / 2) - 1.0) < 1e-12 AND atan2(1.0, 1.0) * 4 = pi() AND trunc(-2.5) = -2.0 AND mod(7, 3) = 1.0 " +
    "AND abs(exp(ln(3.0)) - 3.0) < 1e-12";
  r = await ask(setup({ identity: math }));
  assert.equal(r.status, 200, r.stderr);
  if (!atStart) assert.ok(loaded(r.stderr).some((f) => /libm\.so\.6$/.test(f)), `loaded: ${loaded(r.stderr).join(" ")}`);
  // The same value as the sqlite3 CLI, which links libm itself.
  const q = "SELECT printf('%.17g', sin(1.0) + cosh(0.5) + atanh(0.5) + log(10.0) + tan(0.3))";
  const viaCli = execFileSync("sqlite3", [":memory:", q], { encoding: "utf8" }).trim();
  r = await ask(setup({ identity: `SELECT ${q.slice(7)} AS id FROM sessions WHERE id = :session` }));
  // That user has no rooms (403); the log line names them.
  assert.equal(r.status, 403, r.stderr);
  assert.match(viaCli, /^3\.82773934395795/);
  assert.ok(r.stderr.includes(`user="${viaCli}"`), `${viaCli}: ${r.stderr.split("\n").filter((l) => l.startsWith("lbauth:")).join(" ")}`);
});

test("the module leaves out FTS and R*Tree: their tables are harmless, a query that reads one is refused at start", { skip: noModule || noCli }, async (t) => {
  // The app's database has a full-text table and an R*Tree, made by the
  // sqlite3 CLI, which has both.
  const sql = `
CREATE VIRTUAL TABLE docs USING fts5(title);
INSERT INTO docs VALUES ('plans');
CREATE VIRTUAL TABLE boxes USING rtree(id, x0, x1);
INSERT INTO boxes VALUES (1, 0, 1);`;
  let r = await ask(setup({ sql }));
  assert.equal(r.status, 200, r.stderr);
  assert.ok(loaded(r.stderr).includes(MODULE), `loaded: ${loaded(r.stderr).join(" ")}`);
  for (const [table, mod] of [["docs", "fts5"], ["boxes", "rtree"]]) {
    const s = setup({ sql, room: `${ROOM} AND EXISTS (SELECT 1 FROM ${table})` });
    const line = fs.readFileSync(s.conf, "utf8").split("\n").findIndex((l) => l.startsWith("room_query")) + 1;
    r = await ask(s);
    assert.equal(r.status, 500, r.stderr);
    assert.equal(r.json.error, "misconfigured");
    assert.match(r.stderr, new RegExp(`lbauth\\.conf:${line}: room_query: .*no such module: ${mod}`));
    // The system's libsqlite3 has the extension: the same config serves.
    const sys = await ask(s, copyOfLbauth(false));
    if (!fs.existsSync(INSTALLED)) assert.equal(sys.status, 200, sys.stderr);
  }
  if (fs.existsSync(INSTALLED)) t.diagnostic(`${INSTALLED} is installed: a copy of lbauth loads it, so the system's libsqlite3 was not tried`);
  // The module's code has none of them.
  const syms = execFileSync("nm", [MODULE], { encoding: "utf8" });
  for (const f of ["fts5ApiQueryPhrase", "sqlite3Fts3UpdateMethod", "rtreeFilter", "statFilter"]) assert.doesNotMatch(syms, new RegExp(`\\b${f}\\b`));
  assert.match(syms, /\bsqlite3VdbeExec\b/);
});
