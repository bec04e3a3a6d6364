// dbservers.mjs: real database servers for the tests, each in a fresh
// temporary folder, on a unix socket and a loopback port of its own,
// run as the unprivileged system user the Debian package made
// (postgres, mysql) and stopped by PID.
//
//   startPostgres()  PostgreSQL 15: initdb + pg_ctl (Debian postgresql-15)
//   startMariadb()   MariaDB 10.11: mariadb-install-db + mariadbd
//
// Each returns { sql(text), stop(), start(), connect(user, password),
// ... }: sql() runs statements as the superuser through the server's
// own client (psql, mariadb) and returns its output.

import { spawn, execFileSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { tmpdir, freePort } from "./harness.mjs";

const PGBIN = "/usr/lib/postgresql/15/bin";

export const HAVE_POSTGRES = fs.existsSync(path.join(PGBIN, "initdb"));
export const HAVE_MARIADB = fs.existsSync("/usr/sbin/mariadbd");

const running = new Set();
process.on("exit", () => { for (const s of running) s.kill(); });

// A folder the server's user owns (its parents are world-searchable).
function ownedDir(prefix, user) {
  const d = tmpdir(prefix);
  execFileSync("chown", [`${user}:${user}`, d]);
  return d;
}

function as(user, cmd, args, opts = {}) {
  return execFileSync("setpriv", ["--reuid", user, "--regid", user, "--init-groups", "--", cmd, ...args],
    { encoding: "utf8", stdio: ["pipe", "pipe", "pipe"], ...opts });
}

async function until(check, what, ms = 30000) {
  const t0 = Date.now();
  for (;;) {
    try { if (await check()) return; } catch {}
    if (Date.now() - t0 > ms) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

export async function startPostgres() {
  const dir = ownedDir("lbauth-pg-", "postgres");
  const data = path.join(dir, "data");
  const port = await freePort();
  as("postgres", path.join(PGBIN, "initdb"), ["-D", data, "-U", "postgres", "-A", "trust", "--no-sync", "-E", "UTF8", "--locale=C"]);
  // Password logins over TCP, so that connect strings hold a password.
  fs.writeFileSync(path.join(data, "pg_hba.conf"),
    "local all all trust\nhost all postgres 127.0.0.1/32 trust\nhost all all 127.0.0.1/32 scram-sha-256\n");
  const log = path.join(dir, "server.log");
  const pg = {
    dir, port, host: "127.0.0.1", socketDir: dir, proc: null,
    async start() {
      const child = spawn("setpriv", ["--reuid", "postgres", "--regid", "postgres", "--init-groups", "--",
        path.join(PGBIN, "postgres"), "-D", data, "-k", dir, "-p", String(port),
        // max_connections: the bench holds a connection per request
        // thread of each of its targets, and pgbench adds 32.
        "-c", "listen_addresses=127.0.0.1", "-c", "fsync=off", "-c", "logging_collector=off", "-c", "max_connections=200"],
        { stdio: ["ignore", fs.openSync(log, "a"), fs.openSync(log, "a")] });
      pg.proc = child;
      running.add(child);
      child.on("exit", () => running.delete(child));
      await until(() => { as("postgres", path.join(PGBIN, "pg_isready"), ["-h", dir, "-p", String(port)]); return true; }, "PostgreSQL");
    },
    async stop() {
      if (!pg.proc || pg.proc.exitCode !== null) return;
      const gone = new Promise((r) => pg.proc.once("exit", r));
      process.kill(pg.proc.pid, "SIGINT");	// fast shutdown
      await gone;
    },
    sql(text, db = "postgres") {
      return as("postgres", path.join(PGBIN, "psql"), ["-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1",
        "-h", dir, "-p", String(port), "-U", "postgres", "-d", db], { input: text });
    },
    log() { return fs.existsSync(log) ? fs.readFileSync(log, "utf8") : ""; },
    // A libpq connect string for user over TCP.
    connect(user, password, db = "postgres") {
      return `host=127.0.0.1 port=${port} dbname=${db} user=${user} password=${password}`;
    },
  };
  await pg.start();
  return pg;
}

export async function startMariadb() {
  const dir = ownedDir("lbauth-mariadb-", "mysql");
  const data = path.join(dir, "data");
  const sock = path.join(dir, "mysqld.sock");
  const port = await freePort();
  as("mysql", "mariadb-install-db", ["--no-defaults", `--datadir=${data}`, "--auth-root-authentication-method=normal",
    "--skip-test-db"], { cwd: dir });
  const log = path.join(dir, "server.log");
  const my = {
    dir, port, socket: sock, proc: null,
    async start() {
      const child = spawn("setpriv", ["--reuid", "mysql", "--regid", "mysql", "--init-groups", "--",
        "/usr/sbin/mariadbd", "--no-defaults", `--datadir=${data}`, `--socket=${sock}`, `--port=${port}`,
        "--bind-address=127.0.0.1", `--pid-file=${path.join(dir, "mysqld.pid")}`, "--skip-log-bin",
        "--innodb-buffer-pool-size=16M", "--character-set-server=utf8mb4", "--collation-server=utf8mb4_general_ci", "--skip-name-resolve", `--log-error=${log}`],
        { stdio: "ignore" });
      my.proc = child;
      running.add(child);
      child.on("exit", () => running.delete(child));
      await until(() => { my.sql("SELECT 1"); return true; }, "MariaDB");
    },
    async stop() {
      if (!my.proc || my.proc.exitCode !== null) return;
      const gone = new Promise((r) => my.proc.once("exit", r));
      process.kill(my.proc.pid, "SIGTERM");
      await gone;
    },
    sql(text, db) {
      return execFileSync("mariadb", ["--no-defaults", `--socket=${sock}`, "-uroot", "-N", "-B",
        ...(db ? [db] : [])], { encoding: "utf8", input: text, stdio: ["pipe", "pipe", "pipe"] });
    },
    log() { return fs.existsSync(log) ? fs.readFileSync(log, "utf8") : ""; },
    // A connect string (sql-mysql.c's key=value form) for user over TCP.
    connect(user, password, db) {
      return `host=127.0.0.1 port=${port} user=${user} password=${password} database=${db}`;
    },
  };
  await my.start();
  return my;
}
