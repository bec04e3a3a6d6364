// explain.test.mjs: "lbauthctl explain", the dry run of one request,
// for each kind of policy (org, a plugin, sql) and identity source (a
// JWT cookie, the command line, identity_query on SQLite).  The output
// is pinned line by line: it is what an operator reads to learn why
// someone gets what they get.

import { test, after } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { ROOT, makeSetup, ctl, ctlResult, stopAll, tmpdir } from "./harness.mjs";

after(stopAll);

function addConf(setup, lines) {
  fs.appendFileSync(setup.conf, lines.join("\n") + "\n");
}

const explain = (setup, args) => ctlResult(["explain", "-c", setup.conf, ...args]);

test("org policy, a JWT cookie, a room the user may enter", () => {
  const s = makeSetup();
  const cookie = s.cookie({ sub: "ann", org: "acme", groups: ["editors"], name: "Ann" });
  const r = explain(s, ["--cookie", cookie, "--room", "acme:doc"]);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout, [
    "user: ann",
    "  source: the session cookie session, a JWT (HS256, cookie_secret_file)",
    "  org: acme",
    '  groups: ["editors"]',
    '  info: {"name":"Ann"}',
    "room: acme:doc",
    "policy: org",
    "grants:",
    "  acme:doc *:write",
    "in acme:doc (pattern acme:doc):",
    "  room      write",
    "  storage   write",
    "  comments  write",
    "  feeds     write",
    "result: 200, a token would be issued",
    "",
  ].join("\n"));
});

test("org policy, --user and --org, no room", () => {
  const s = makeSetup({ cookieAlg: "EdDSA" });
  const r = explain(s, ["--user", "bob", "--org", "acme"]);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout, [
    "user: bob",
    "  source: the command line (--user)",
    "  org: acme",
    "  groups: []",
    "  info: -",
    "room: (none: a request for {})",
    "policy: org",
    "grants:",
    "  acme:* *:read",
    "result: 200, a token would be issued",
    "",
  ].join("\n"));
});

test("org policy: a user without an org is denied; a bad cookie is a 401", () => {
  const s = makeSetup();
  let r = explain(s, ["--user", "carol", "--room", "acme:doc"]);
  assert.equal(r.status, 1);
  assert.match(r.stdout, /^grants: none\nresult: 403 forbidden \(You do not have access to this room\.\)\n$/m);
  r = explain(s, ["--cookie", "not-a-jwt", "--room", "acme:doc"]);
  assert.equal(r.status, 1);
  assert.equal(r.stdout, "user: none: 401 invalid_session (token is not three dot-separated parts)\n" +
    "  source: the session cookie session, a JWT (HS256, cookie_secret_file)\n");
});

test("a policy plugin: its grants, and its error as a 500", () => {
  const s = makeSetup();
  addConf(s, [`policy = ${path.join(ROOT, "tests/plugin/example.so")}`, "policy_arg = admins"]);
  const cookie = s.cookie({ sub: "dan", groups: ["team"] });
  let r = explain(s, ["--cookie", cookie, "--room", "team:plan"]);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout.split("\n").slice(5).join("\n"), [
    "room: team:plan",
    `policy: ${path.join(ROOT, "tests/plugin/example.so")}`,
    "grants:",
    "  team:plan *:write",
    "in team:plan (pattern team:plan):",
    "  room      write",
    "  storage   write",
    "  comments  write",
    "  feeds     write",
    "result: 200, a token would be issued",
    "",
  ].join("\n"));
  r = explain(s, ["--cookie", cookie, "--room", "fail:now"]);
  assert.equal(r.status, 1);
  assert.match(r.stdout, /\nresult: 500 internal_error \(The access policy could not decide; try again later\.\)\n$/);
});

test("token = id: the policy is not asked", () => {
  const s = makeSetup();
  addConf(s, ["token = id"]);
  const r = explain(s, ["--user", "erin"]);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /\npolicy: org, not asked \(token = id: an ID token carries no permissions\)\n$/);
});

test("sql identity and policy: scopes per feature, overlapping patterns resolved as Liveblocks does", { skip: fs.existsSync("/usr/bin/sqlite3") ? false : "the sqlite3 CLI is not installed" }, () => {
  const dir = tmpdir("lbauth-explain-");
  const db = path.join(dir, "app.db");
  execFileSync("sqlite3", [db], { input: `
    CREATE TABLE sessions (id TEXT, user_id TEXT);
    CREATE TABLE users (id TEXT, org TEXT, info TEXT, grps TEXT);
    CREATE TABLE grants (user_id TEXT, room TEXT, pattern TEXT, access TEXT, ord INTEGER);
    INSERT INTO sessions VALUES ('s1', 'ann');
    INSERT INTO users VALUES ('ann', 'acme', '{"title":"Editor"}', '["staff"]');
    INSERT INTO grants VALUES
      ('ann', 'acme:doc', 'acme:*', 'read', 1),
      ('ann', 'acme:doc', 'acme:doc', 'room:write storage:read comments:none', 2),
      ('ann', 'acme:dx', 'acme:d*', 'room:presence:write feeds:write', 1),
      ('ann', 'acme:dx', 'acme:*', 'full', 2);
  ` });
  ctl(["keygen", "-o", path.join(dir, "sign.key")]);
  fs.writeFileSync(path.join(dir, "db.conn"), db + "\n", { mode: 0o600 });
  const conf = path.join(dir, "lbauth.conf");
  fs.writeFileSync(conf, [
    "backend = local", "signing_key_file = sign.key", "cookie_name = sid",
    "sql_connect_file = db.conn",
    "identity_query = SELECT u.id, u.org, u.info, u.grps AS groups FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.id = :session",
    "policy = sql",
    "room_query = SELECT pattern, access FROM grants WHERE user_id = :user AND room = :room ORDER BY ord",
    "",
  ].join("\n"));
  const s = { conf };
  let r = explain(s, ["--cookie", "s1", "--room", "acme:doc"]);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout, [
    "user: ann",
    "  source: identity_query (sql_driver = sqlite, session_format = raw, cookie sid)",
    "  org: acme",
    '  groups: ["staff"]',
    '  info: {"title":"Editor"}',
    "room: acme:doc",
    "policy: sql (room_query)",
    "grants:",
    "  acme:* *:read",
    "  acme:doc room:write,storage:read,comments:none",
    // The pattern equal to the room wins over a wider one granted first.
    "in acme:doc (pattern acme:doc):",
    "  room      write",
    "  storage   read",
    "  comments  none",
    "  feeds     write",
    "result: 200, a token would be issued",
    "",
  ].join("\n"));
  r = explain(s, ["--cookie", "s1", "--room", "acme:dx"]);
  assert.equal(r.status, 0, r.stderr);
  // No exact pattern: the first prefix pattern in the token's order.
  assert.equal(r.stdout.split("\n").slice(7).join("\n"), [
    "grants:",
    "  acme:d* room:presence:write,feeds:write",
    "  acme:* *:write",
    "in acme:dx (pattern acme:d*):",
    "  room      read, presence write",
    "  storage   read",
    "  comments  read",
    "  feeds     write",
    "result: 200, a token would be issued",
    "",
  ].join("\n"));
  // No rows: 403, and room-less requests without roomless_query too.
  r = explain(s, ["--user", "ann", "--room", "other"]);
  assert.equal(r.status, 1);
  assert.match(r.stdout, /\ngrants: none\nresult: 403 forbidden/);
  r = explain(s, ["--cookie", "nope"]);
  assert.equal(r.status, 1);
  assert.match(r.stdout, /^user: none: 401 invalid_session/);
  // A room query that finds the user by :session: --cookie explains it,
  // --user cannot (it has no session id) and says so.
  const bySession = path.join(dir, "by-session.conf");
  fs.writeFileSync(bySession, fs.readFileSync(conf, "utf8").replace(/^room_query = .*$/m,
    "room_query = SELECT g.pattern, g.access FROM grants g JOIN sessions s ON s.user_id = g.user_id WHERE s.id = :session AND g.room = :room ORDER BY g.ord"));
  r = explain({ conf: bySession }, ["--cookie", "s1", "--room", "acme:doc"]);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /\ngrants:\n {2}acme:\* \*:read\n {2}acme:doc room:write,storage:read,comments:none\n/);
  r = explain({ conf: bySession }, ["--user", "ann", "--room", "acme:doc"]);
  assert.equal(r.status, 1);
  assert.equal(r.stdout, "");
  assert.match(r.stderr, /--user: room_query names :session, which only a session cookie gives: use --cookie/);
});

test("usage: exactly one of --cookie and --user", () => {
  const s = makeSetup();
  assert.equal(explain(s, []).status, 2);
  assert.equal(explain(s, ["--cookie", "x", "--user", "y"]).status, 2);
  assert.equal(explain(s, ["--cookie", "x", "--org", "y"]).status, 2);
});
