// apps.mjs: the real applications whose sessions lbauth reads, for
// sqlapps.test.mjs.
//
//	startLaravel()	tests/apps/laravel (Debian's php-laravel-framework
//			8.83) under php-fpm, its database session driver on
//			SQLite or MariaDB; nginx passes every path but
//			/api/liveblocks-auth to its front controller
//	startExpress()	tests/apps/express/server.mjs (express,
//			express-session, connect-pg-simple) on PostgreSQL
//	Browser		a cookie jar over fetch, as a browser keeps one
//
// Nothing of the frameworks is stubbed: the apps are what a developer
// would write, run by the frameworks' own code.

import { spawn, execFileSync } from "node:child_process";
import crypto from "node:crypto";
import fs from "node:fs";
import net from "node:net";
import path from "node:path";
import { ROOT, tmpdir, freePort } from "./harness.mjs";

export const PHP_FPM = "/usr/sbin/php-fpm8.2";
const LARAVEL_SRC = path.join(ROOT, "tests/apps/laravel");
const EXPRESS_SRC = path.join(ROOT, "tests/apps/express/server.mjs");

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const running = new Set();
process.on("exit", () => { for (const p of running) try { process.kill(p.pid, "SIGKILL"); } catch {} });

function track(child, name, logFile) {
  const p = { name, pid: child.pid, child, exited: false, logFile };
  p.gone = new Promise((resolve) => child.on("exit", () => { p.exited = true; running.delete(p); resolve(); }));
  p.log = () => (fs.existsSync(logFile) ? fs.readFileSync(logFile, "utf8") : "");
  p.stop = async () => {
    if (p.exited) return;
    try { process.kill(p.pid, "SIGTERM"); } catch {}
    const t = setTimeout(() => { try { process.kill(p.pid, "SIGKILL"); } catch {} }, 10000);
    await p.gone;
    clearTimeout(t);
  };
  running.add(p);
  return p;
}

async function waitFor(check, what, proc, ms = 20000) {
  const t0 = Date.now();
  for (;;) {
    if (proc?.exited) throw new Error(`${proc.name} exited while waiting for ${what}:\n${proc.log()}`);
    if (await check()) return;
    if (Date.now() - t0 > ms) throw new Error(`timed out waiting for ${what}${proc ? `:\n${proc.log()}` : ""}`);
    await sleep(30);
  }
}

function connects(target) {
  return new Promise((resolve) => {
    const s = typeof target === "number" ? net.connect(target, "127.0.0.1") : net.connect(target);
    s.on("connect", () => { s.end(); resolve(true); });
    s.on("error", () => resolve(false));
  });
}

// A Laravel APP_KEY as "php artisan key:generate" writes it: 32 bytes,
// or 16 for the AES-128 ciphers.
export function laravelKey(bytes = 32) {
  return "base64:" + crypto.randomBytes(bytes).toString("base64");
}

// The Laravel app, copied into a fresh folder (Laravel writes its
// storage/ and bootstrap/cache/ there), migrated and seeded with
// artisan, and served by php-fpm on a unix socket.
//   db: "sqlite" (a file in the folder) or "mariadb" (maria: a server
//   from dbservers.mjs, database: a database made there; the app
//   connects as root over the server's socket).
//   cipher: config/app.php's cipher (APP_CIPHER), Laravel's default
//   AES-256-CBC unless given; appKey must be of its length.
// Returns { dir, appKey, sqlite (the file, for sqlite), fpmSock,
// nginxLocation (a location block for startNginx's extra), artisan(),
// stop() }.
export async function startLaravel({ db = "sqlite", maria, database = "laravel", cipher = "AES-256-CBC", appKey = laravelKey(/128/.test(cipher) ? 16 : 32), appName = "Laravel" } = {}) {
  const dir = tmpdir("lbauth-laravel-");
  const app = path.join(dir, "app");
  fs.cpSync(LARAVEL_SRC, app, { recursive: true });
  for (const d of ["storage/logs", "storage/framework/views", "storage/framework/sessions",
    "storage/framework/cache", "bootstrap/cache", "resources/views"])
    fs.mkdirSync(path.join(app, d), { recursive: true });
  const env = {
    APP_NAME: appName,
    APP_ENV: "production",
    APP_DEBUG: "false",
    APP_KEY: appKey,
    APP_CIPHER: cipher,
    APP_URL: "http://127.0.0.1",
    SESSION_DRIVER: "database",
    BCRYPT_ROUNDS: "4",
  };
  let sqlite;
  if (db === "sqlite") {
    sqlite = path.join(dir, "database.sqlite");
    fs.writeFileSync(sqlite, "");
    Object.assign(env, { DB_CONNECTION: "sqlite", DB_DATABASE: sqlite });
  } else {
    Object.assign(env, { DB_CONNECTION: "mysql", DB_SOCKET: maria.socket, DB_DATABASE: database,
      DB_USERNAME: "root", DB_PASSWORD: "" });
  }
  const artisan = (...args) => execFileSync("php", [path.join(app, "artisan"), ...args],
    { cwd: app, env: { PATH: process.env.PATH, ...env }, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
  artisan("migrate", "--force");
  artisan("db:seed", "--force");

  // php-fpm in the foreground (-F), one static pool of two workers on
  // a unix socket; as root it needs -R and runs its workers as root
  // too (the test's files are root's).
  const fpmSock = path.join(dir, "php-fpm.sock");
  const fpmLog = path.join(dir, "php-fpm.log");
  const conf = [
    "[global]",
    `pid = ${path.join(dir, "php-fpm.pid")}`,
    `error_log = ${fpmLog}`,
    "daemonize = no",
    "",
    "[laravel]",
    ...(process.getuid() === 0 ? ["user = root", "group = root"] : []),
    `listen = ${fpmSock}`,
    "listen.mode = 0666",
    "pm = static",
    "pm.max_children = 2",
    "catch_workers_output = yes",
    "clear_env = yes",
    ...Object.entries(env).filter(([, v]) => v !== "").map(([k, v]) => `env[${k}] = "${v}"`),
    `php_admin_value[error_log] = ${fpmLog}`,
    "php_admin_flag[log_errors] = on",
    "",
  ].join("\n");
  const confPath = path.join(dir, "php-fpm.conf");
  fs.writeFileSync(confPath, conf);
  const args = ["-F", "-y", confPath, ...(process.getuid() === 0 ? ["-R"] : [])];
  const out = fs.openSync(fpmLog, "a");
  const fpm = track(spawn(PHP_FPM, args, { stdio: ["ignore", out, out] }), "php-fpm", fpmLog);
  fs.closeSync(out);
  await waitFor(() => fs.existsSync(fpmSock) && connects(fpmSock), "php-fpm's socket", fpm);
  const front = path.join(app, "public/index.php");
  return {
    dir, app, appKey, sqlite, fpmSock, env,
    cookieName: `${appName.toLowerCase().replace(/[^a-z0-9]+/g, "_")}_session`,
    // Every path but the auth location goes to Laravel's front
    // controller, as "try_files $uri /index.php?$query_string" does
    // for an app without static files.
    nginxLocation: [
      "location / {",
      "\tinclude /etc/nginx/fastcgi_params;",
      `\tfastcgi_param SCRIPT_FILENAME ${front};`,
      "\tfastcgi_param SCRIPT_NAME /index.php;",
      `\tfastcgi_pass unix:${fpmSock};`,
      "}",
    ].join("\n"),
    artisan,
    log: () => fpm.log() + (fs.existsSync(path.join(app, "storage/logs/laravel.log"))
      ? fs.readFileSync(path.join(app, "storage/logs/laravel.log"), "utf8") : ""),
    stop: () => fpm.stop(),
  };
}

// The Express app on 127.0.0.1:<free port>, its sessions in PostgreSQL
// (pg: a server from dbservers.mjs, database: a database made there)
// through connect-pg-simple; it connects as postgres over the socket.
//   secrets: express-session's secret list (the first signs, all
//   verify); port: a given port (a restart) instead of a free one.
export async function startExpress(pg, { secrets, database = "app", port }) {
  port ??= await freePort();
  const dir = tmpdir("lbauth-express-");
  const logFile = path.join(dir, "express.log");
  const out = fs.openSync(logFile, "a");
  const child = spawn(process.execPath, [EXPRESS_SRC], {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH,
      PORT: String(port),
      PGHOST: pg.socketDir, PGPORT: String(pg.port), PGDATABASE: database, PGUSER: "postgres",
      SESSION_SECRETS: JSON.stringify(secrets),
    },
    stdio: ["ignore", out, out],
  });
  fs.closeSync(out);
  const proc = track(child, "express", logFile);
  await waitFor(() => connects(port), "the Express app", proc);
  return { port, base: `http://127.0.0.1:${port}`, log: proc.log, stop: proc.stop, proc };
}

// A browser's cookie jar (name -> value, one host), over fetch with
// manual redirects so that every Set-Cookie is seen.
export class Browser {
  constructor(base) {
    this.base = base;
    this.jar = new Map();
  }

  cookieHeader() {
    return [...this.jar].map(([k, v]) => `${k}=${v}`).join("; ");
  }

  // fetch with the jar's cookies; stores what the answer sets.
  async fetch(p, { method = "GET", form, json, headers = {} } = {}) {
    const h = { ...headers };
    const c = this.cookieHeader();
    if (c) h.cookie = c;
    let body;
    if (form) {
      h["content-type"] = "application/x-www-form-urlencoded";
      body = new URLSearchParams(form).toString();
    } else if (json !== undefined) {
      h["content-type"] = "application/json";
      body = JSON.stringify(json);
    }
    const res = await fetch(new URL(p, this.base), { method, headers: h, body, redirect: "manual" });
    for (const sc of res.headers.getSetCookie()) {
      const [pair, ...attrs] = sc.split(";");
      const i = pair.indexOf("=");
      const name = pair.slice(0, i).trim(), value = pair.slice(i + 1).trim();
      const gone = attrs.some((a) => /^\s*max-age=\s*(0|-)/i.test(a)) ||
        attrs.some((a) => { const m = /^\s*expires=(.*)$/i.exec(a); return m && Date.parse(m[1]) < Date.now(); });
      if (gone) this.jar.delete(name);
      else this.jar.set(name, value);
    }
    const text = await res.text();
    let parsed;
    try { parsed = JSON.parse(text); } catch {}
    return { status: res.status, headers: res.headers, body: text, json: parsed };
  }
}

// A config folder for lbauth with SQL identity: a signing key
// (backend = local, checked with jose against the JWKS), the given
// secret files (name -> content, mode 0600) and config lines.  The
// result works with harness.mjs's startFcgi() and startNginx().
export function sqlSetup({ files = {}, conf = [] } = {}) {
  const dir = tmpdir("lbauth-sqlapp-");
  execFileSync(path.join(ROOT, "lbauthctl"), ["keygen", "-o", path.join(dir, "sign.key")], { stdio: "ignore" });
  for (const [name, content] of Object.entries(files))
    fs.writeFileSync(path.join(dir, name), content, { mode: 0o600 });
  const confPath = path.join(dir, "lbauth.conf");
  fs.writeFileSync(confPath, ["backend = local", "signing_key_file = sign.key", "project_id = test-project",
    ...conf].join("\n") + "\n");
  return {
    dir,
    conf: confPath,
    jwks: () => JSON.parse(execFileSync(path.join(ROOT, "lbauthctl"), ["jwks", "-c", confPath], { encoding: "utf8" })),
    // lbauthctl check: {status, out} (out: stdout and stderr).
    check() {
      try {
        const out = execFileSync(path.join(ROOT, "lbauthctl"), ["check", "-c", confPath],
          { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
        return { status: 0, out };
      } catch (e) {
        return { status: e.status, out: String(e.stdout ?? "") + String(e.stderr ?? "") };
      }
    },
  };
}


// The config lines (comments dropped) of the n-th (from 0) ```ini
// block under README.md's heading "### <heading>": the tests run the
// copy-paste configs README shows, so that README cannot drift from
// what is proven.
export function readmeConf(heading, n = 0) {
  const readme = fs.readFileSync(path.join(ROOT, "README.md"), "utf8");
  const at = readme.indexOf(`\n### ${heading}\n`);
  if (at < 0) throw new Error(`README.md has no "### ${heading}"`);
  const end = readme.indexOf("\n### ", at + 1);
  const blocks = [...readme.slice(at, end < 0 ? undefined : end).matchAll(/```ini\n([\s\S]*?)```/g)];
  if (!blocks[n]) throw new Error(`README.md's "### ${heading}" has no ini block ${n}`);
  return blocks[n][1].split("\n").filter((l) => l.trim() !== "" && !l.startsWith("#"));
}
