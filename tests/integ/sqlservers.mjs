// sqlservers.mjs: real database servers for the SQL identity and policy
// tests, each in a fresh temporary folder, on a unix socket (and for
// PostgreSQL a loopback port too), stopped by the test that started
// them.
//
//	startPostgres()	Debian's postgresql-15: initdb, then pg_ctl start
//			as an unprivileged user (postgres when the tests run
//			as root: PostgreSQL refuses to run as root)
//	startMariadb()	Debian's mariadb-server: mariadb-install-db into
//			a temporary datadir, mariadbd on a socket only
//
// Both return { psql/sql(text): runs SQL with the server's own client
// and returns its tab-separated output, stop(), start() (again, on the
// same data, for "the database is back" tests) }.

import { spawn, execFileSync } from "node:child_process";
import fs from "node:fs";
import net from "node:net";
import path from "node:path";
import { tmpdir, freePort } from "./harness.mjs";

export const PG_BIN = "/usr/lib/postgresql/15/bin";
export const MARIADBD = "/usr/sbin/mariadbd";

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const running = new Set();
process.on("exit", () => { for (const s of running) s.kill(); });

// The unprivileged user a database server runs as: the test's own
// user, or when that is root, the given system user.
function serverUser(fallback) {
  if (process.getuid() !== 0) return null;
  const id = (flag) => Number(execFileSync("id", [flag, fallback], { encoding: "utf8" }).trim());
  return { name: fallback, uid: id("-u"), gid: id("-g") };
}

function runAs(user, cmd, args, opts = {}) {
  if (user === null) return execFileSync(cmd, args, { encoding: "utf8", ...opts });
  return execFileSync("setpriv", ["--reuid", String(user.uid), "--regid", String(user.gid),
    "--clear-groups", "--", cmd, ...args], { encoding: "utf8", ...opts });
}

function chownTree(dir, user) {
  if (user === null) return;
  fs.chownSync(dir, user.uid, user.gid);
  for (const f of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, f.name);
    if (f.isDirectory()) chownTree(p, user);
    else fs.chownSync(p, user.uid, user.gid);
  }
}

// PostgreSQL 15 on 127.0.0.1:<free port> and a unix socket in its
// folder, trust authentication for local connections (the tests make
// their own roles), superuser "postgres".  db: a database to create.
export async function startPostgres({ db = "app" } = {}) {
  const user = serverUser("postgres");
  const dir = tmpdir("lbauth-pg-");
  const data = path.join(dir, "data");
  const sock = path.join(dir, "sock");
  fs.mkdirSync(sock);
  chownTree(dir, user);
  const port = await freePort();
  runAs(user, path.join(PG_BIN, "initdb"), ["-D", data, "-U", "postgres", "--auth=trust",
    "--no-sync", "-E", "UTF8", "--locale=C"], { stdio: ["ignore", "ignore", "pipe"] });
  fs.appendFileSync(path.join(data, "postgresql.conf"), [
    `listen_addresses = '127.0.0.1'`,
    `port = ${port}`,
    `unix_socket_directories = '${sock}'`,
    `fsync = off`,
    `synchronous_commit = off`,
    `full_page_writes = off`,
    `max_connections = 40`,
    `timezone = 'UTC'`,
    `shared_buffers = 16MB`,
    "",
  ].join("\n"));
  const logFile = path.join(dir, "postgres.log");
  const pg = {
    dir, data, sock, port, db, user: "postgres",
    // libpq's key=value connect string for the test's own clients.
    conninfo: `host=${sock} port=${port} dbname=${db} user=postgres`,
    url: `postgresql://postgres@127.0.0.1:${port}/${db}`,
    log: () => (fs.existsSync(logFile) ? fs.readFileSync(logFile, "utf8") : ""),
    async start() {
      runAs(user, path.join(PG_BIN, "pg_ctl"), ["-D", data, "-l", logFile, "-w", "-t", "60", "start"],
        { stdio: ["ignore", "ignore", "pipe"] });
      running.add(pg);
    },
    async stop() {
      if (!running.has(pg)) return;
      running.delete(pg);
      runAs(user, path.join(PG_BIN, "pg_ctl"), ["-D", data, "-m", "fast", "-w", "stop"],
        { stdio: ["ignore", "ignore", "pipe"] });
    },
    // Last resort on exit: the postmaster by the PID it wrote.
    kill() {
      try {
        const pid = Number(fs.readFileSync(path.join(data, "postmaster.pid"), "utf8").split("\n")[0]);
        if (pid > 0) process.kill(pid, "SIGQUIT");
      } catch {}
    },
    psql(sql, { database = db } = {}) {
      return execFileSync(path.join(PG_BIN, "psql"), ["-h", sock, "-p", String(port), "-U", "postgres",
        "-d", database, "-X", "-q", "-A", "-t", "-F", "\t", "-v", "ON_ERROR_STOP=1"],
      { input: sql, encoding: "utf8", stdio: ["pipe", "pipe", "pipe"] });
    },
  };
  await pg.start();
  pg.psql(`CREATE DATABASE ${db}`, { database: "postgres" });
  return pg;
}

// MariaDB 10.11 on a unix socket only (skip-networking), root without
// a password over that socket; db: a database to create.
export async function startMariadb({ db = "app" } = {}) {
  const user = serverUser("mysql");
  const dir = tmpdir("lbauth-maria-");
  const data = path.join(dir, "data");
  const sock = path.join(dir, "mysqld.sock");
  fs.mkdirSync(data);
  chownTree(dir, user);
  const name = user === null ? execFileSync("id", ["-un"], { encoding: "utf8" }).trim() : user.name;
  execFileSync("mariadb-install-db", ["--no-defaults", `--datadir=${data}`, `--user=${name}`,
    "--auth-root-authentication-method=normal", "--skip-test-db", "--skip-name-resolve"],
  { stdio: ["ignore", "ignore", "pipe"] });
  chownTree(dir, user);
  const logFile = path.join(dir, "mariadbd.log");
  const m = {
    dir, data, sock, db, child: null, exited: true,
    log: () => (fs.existsSync(logFile) ? fs.readFileSync(logFile, "utf8") : ""),
    async start() {
      const child = spawn(MARIADBD, ["--no-defaults", `--datadir=${data}`, `--socket=${sock}`,
        "--skip-networking", `--user=${name}`, `--pid-file=${path.join(dir, "mariadbd.pid")}`,
        `--log-error=${logFile}`, "--innodb-buffer-pool-size=16M", "--innodb-log-file-size=8M",
        "--innodb-flush-log-at-trx-commit=0", "--skip-log-bin", "--max-connections=40"],
      { stdio: ["ignore", "ignore", "ignore"] });
      m.child = child;
      m.exited = false;
      const gone = new Promise((resolve) => child.on("exit", () => { m.exited = true; resolve(); }));
      m.gone = gone;
      running.add(m);
      const t0 = Date.now();
      for (;;) {
        if (m.exited) throw new Error(`mariadbd exited:\n${m.log()}`);
        if (fs.existsSync(sock) && await canConnect(sock)) break;
        if (Date.now() - t0 > 60000) throw new Error(`mariadbd did not start in 60 s:\n${m.log()}`);
        await sleep(50);
      }
    },
    async stop() {
      if (m.exited) return;
      running.delete(m);
      process.kill(m.child.pid, "SIGTERM");
      const t = setTimeout(() => { try { process.kill(m.child.pid, "SIGKILL"); } catch {} }, 20000);
      await m.gone;
      clearTimeout(t);
    },
    kill() { try { process.kill(m.child.pid, "SIGKILL"); } catch {} },
    sql(text, { database = db } = {}) {
      return execFileSync("mariadb", ["--no-defaults", `--socket=${sock}`, "-u", "root",
        "--batch", "--skip-column-names", database],
      { input: text, encoding: "utf8", stdio: ["pipe", "pipe", "pipe"] });
    },
  };
  await m.start();
  m.sql(`CREATE DATABASE ${db}`, { database: "mysql" });
  return m;
}

function canConnect(sock) {
  return new Promise((resolve) => {
    const s = net.connect(sock, () => { s.end(); resolve(true); });
    s.on("error", () => resolve(false));
  });
}
