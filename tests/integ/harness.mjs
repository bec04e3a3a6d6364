// harness.mjs: starts the real parts the integration tests talk to
// (lbauth under spawn-fcgi, nginx, lbauth as plain CGI) on loopback,
// each in a fresh temporary folder, and stops them by PID.
//
// Nothing here fakes lbauth: every request goes through the real
// binary, either as FastCGI behind a real nginx or as a CGI process
// with a CGI environment and stdin (RFC 3875).

import { spawn, execFileSync } from "node:child_process";
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
export const LBAUTH = path.join(ROOT, "lbauth");
export const LBAUTHCTL = path.join(ROOT, "lbauthctl");

const started = new Set();

// Stops everything a test file started, even when a test failed.
export function stopAll() {
  for (const p of started) p.stop();
}
process.on("exit", stopAll);

export function tmpdir(prefix = "lbauth-test-") {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  fs.chmodSync(d, 0o755);
  return d;
}

// A free TCP port on 127.0.0.1, chosen by the kernel.
export function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.unref();
    s.on("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

// A private CA and a server certificate for 127.0.0.1, made by openssl
// in dir: ca.pem (the CA, for upstream_ca_file), srv.pem and srv.key
// (the TLS front's).  P-256, valid 2 days.  Returns the CA's path.
export function makeTestCA(dir) {
  const ossl = (...a) => execFileSync("openssl", a, { cwd: dir, stdio: ["ignore", "ignore", "pipe"] });
  ossl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-days", "2",
    "-keyout", "ca.key", "-out", "ca.pem", "-subj", "/CN=lbauth test CA",
    "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign");
  ossl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
    "-keyout", "srv.key", "-out", "srv.csr", "-subj", "/CN=127.0.0.1");
  fs.writeFileSync(path.join(dir, "ext"), "subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n");
  ossl("x509", "-req", "-in", "srv.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial",
    "-days", "2", "-extfile", "ext", "-out", "srv.pem");
  return path.join(dir, "ca.pem");
}

export function ctl(args, opts = {}) {
  return execFileSync(LBAUTHCTL, args, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], ...opts });
}

// Runs lbauthctl and returns {status, stdout, stderr} without throwing.
export function ctlResult(args, opts = {}) {
  try {
    return { status: 0, stdout: ctl(args, opts), stderr: "" };
  } catch (e) {
    return { status: e.status, stdout: String(e.stdout ?? ""), stderr: String(e.stderr ?? "") };
  }
}

// A config folder: keys made by lbauthctl, a config file with the given
// lines, and helpers to mint session cookies for it.
//   cookieAlg: "HS256" (cookie_secret_file) or "EdDSA" (app key pair)
//   backend: "local" (a signing key) or "liveblocks" (baseUrl, secret)
export function makeSetup({ cookieAlg = "HS256", conf = [], backend = "local", baseUrl, secret = "sk_localdev" } = {}) {
  const dir = tmpdir();
  const lines = [];
  if (backend === "local") {
    ctl(["keygen", "-o", path.join(dir, "sign.key")]);
    lines.push("backend = local", "signing_key_file = sign.key", "project_id = test-project");
  } else {
    fs.writeFileSync(path.join(dir, "liveblocks.secret"), secret + "\n", { mode: 0o600 });
    lines.push("backend = liveblocks", "liveblocks_secret_file = liveblocks.secret", `liveblocks_base_url = ${baseUrl}`);
  }
  if (cookieAlg === "HS256") {
    ctl(["keygen", "-t", "hs256", "-o", path.join(dir, "cookie.secret")]);
    lines.push("cookie_secret_file = cookie.secret");
  } else {
    ctl(["keygen", "-o", path.join(dir, "app.key"), "-p", path.join(dir, "app.pub")]);
    lines.push("cookie_public_key_file = app.pub");
  }
  lines.push(...conf);
  const confPath = path.join(dir, "lbauth.conf");
  fs.writeFileSync(confPath, lines.join("\n") + "\n");
  const setup = {
    dir,
    conf: confPath,
    cookieAlg,
    // A session cookie minted by lbauthctl cookie.
    cookie({ sub, org, groups, rooms, name, avatar, info, ttl } = {}) {
      const a = ["cookie", "-c", confPath, "-s", sub];
      if (cookieAlg === "EdDSA") a.push("-k", path.join(dir, "app.key"));
      if (org) a.push("-o", org);
      if (groups) a.push("-g", groups.join(","));
      if (rooms) a.push("-r", rooms.join(","));
      if (name) a.push("-n", name);
      if (avatar) a.push("-a", avatar);
      if (info) a.push("-i", JSON.stringify(info));
      if (ttl !== undefined) a.push("-t", String(ttl));
      return ctl(a).trim();
    },
    // The HS256 secret as the app would hold it (file minus newline).
    secret() {
      return fs.readFileSync(path.join(dir, "cookie.secret"), "utf8").replace(/\n$/, "");
    },
    jwks() {
      return backend === "local" ? JSON.parse(ctl(["jwks", "-c", confPath])) : { keys: [] };
    },
  };
  return setup;
}

function track(child, name, logFile) {
  const proc = {
    name,
    pid: child.pid,
    child,
    logFile,
    exited: false,
    stop() {
      if (proc.exited) return;
      try { process.kill(proc.pid, "SIGTERM"); } catch {}
      started.delete(proc);
    },
    log() {
      return logFile && fs.existsSync(logFile) ? fs.readFileSync(logFile, "utf8") : "";
    },
  };
  child.on("exit", () => { proc.exited = true; started.delete(proc); });
  started.add(proc);
  return proc;
}

async function waitFor(check, what, ms = 5000) {
  const t0 = Date.now();
  for (;;) {
    if (await check()) return;
    if (Date.now() - t0 > ms) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

// lbauth as a FastCGI server on a unix socket, started by spawn-fcgi
// with -n, so that spawn-fcgi execs lbauth in the process it started
// and the PID we hold is lbauth's.  Its stderr (the request log) goes
// to a file.
export async function startFcgi(setup, { env = {}, children = 0 } = {}) {
  if (children > 0) return startFcgiChildren(setup, children, env);
  const sock = path.join(setup.dir, "lbauth.sock");
  const logFile = path.join(setup.dir, "lbauth.log");
  const log = fs.openSync(logFile, "a");
  const child = spawn("spawn-fcgi", ["-n", "-s", sock, "-M", "0666", "--", LBAUTH], {
    env: { PATH: process.env.PATH, LBAUTH_CONFIG: setup.conf, ...env },
    stdio: ["ignore", log, log],
  });
  fs.closeSync(log);
  const proc = track(child, "lbauth", logFile);
  proc.sock = sock;
  await waitFor(() => fs.existsSync(sock) || proc.exited, "the FastCGI socket");
  if (proc.exited) throw new Error(`lbauth exited: ${proc.log()}`);
  return proc;
}

// Several lbauth processes on one socket: spawn-fcgi -F N forks them
// and exits, printing their PIDs, which we keep to stop them.
async function startFcgiChildren(setup, n, env) {
  const sock = path.join(setup.dir, "lbauth.sock");
  const logFile = path.join(setup.dir, "lbauth.log");
  const log = fs.openSync(logFile, "a");
  const r = await new Promise((resolve) => {
    const child = spawn("spawn-fcgi", ["-s", sock, "-M", "0666", "-F", String(n), "--", LBAUTH], {
      env: { PATH: process.env.PATH, LBAUTH_CONFIG: setup.conf, ...env },
      stdio: ["ignore", "pipe", log],
    });
    let out = "";
    child.stdout.on("data", (d) => (out += d));
    child.on("exit", (code) => resolve({ code, out }));
  });
  fs.closeSync(log);
  const pids = [...r.out.matchAll(/PID: (\d+)/g)].map((m) => Number(m[1]));
  if (pids.length !== n) throw new Error(`spawn-fcgi: ${r.out} ${fs.readFileSync(logFile, "utf8")}`);
  const group = {
    name: "lbauth",
    pids,
    sock,
    get exited() { return pids.every((p) => !alive(p)); },
    stop() { for (const p of pids) try { process.kill(p, "SIGTERM"); } catch {} started.delete(group); },
    log() { return fs.readFileSync(logFile, "utf8"); },
  };
  started.add(group);
  return group;
}

function alive(pid) {
  try { process.kill(pid, 0); return true; } catch { return false; }
}

// The pids of process pid's children ([] once it is gone).
export function children(pid) {
  try {
    return fs.readFileSync(`/proc/${pid}/task/${pid}/children`, "utf8").trim().split(/\s+/).filter(Boolean).map(Number);
  } catch { return []; }
}

// An lbauth master (--listen on a unix socket in setup.dir, --workers
// workers), once its workers run.  m.exit settles when it exits (code
// and signal in m.code, m.signal); stopAll() stops it, by its PID.
// listen: a HOST:PORT to listen on instead of a unix socket (then
// m.sock is null and m.pass is what nginx's fastcgi_pass takes).
// wrap: a command that runs lbauth (e.g. prlimit --nofile=48 --), its
// pid lbauth's (it execs).
export async function startMaster(setup, workers, { timeoutMs = 10000, listen, wrap = [], env = {} } = {}) {
  const sock = listen ? null : path.join(setup.dir, "master.sock");
  const logFile = path.join(setup.dir, "master.log");
  const log = fs.openSync(logFile, "a");
  const args = ["--listen", listen ?? `unix:${sock}`, "--workers", String(workers), "--socket-mode", "0666", "--config", setup.conf];
  const child = spawn(wrap.length ? wrap[0] : LBAUTH, wrap.length ? [...wrap.slice(1), LBAUTH, ...args] : args, {
    env: { PATH: process.env.PATH, ...env }, stdio: ["ignore", log, log],
  });
  fs.closeSync(log);
  const m = {
    pid: child.pid, sock, child, exited: false, pass: listen ?? `unix:${sock}`,
    log: () => fs.readFileSync(logFile, "utf8"),
    workers: () => children(child.pid),
    stop() { if (!m.exited) try { process.kill(m.pid, "SIGTERM"); } catch {} },
  };
  m.exit = new Promise((r) => child.on("exit", (code, sig) => { m.exited = true; m.code = code; m.signal = sig; r(); }));
  started.add(m);
  const t0 = Date.now();
  while (!m.exited && (m.workers().length < workers || (sock && !fs.existsSync(sock)))) {
    if (Date.now() - t0 > timeoutMs) throw new Error(`master did not start: ${m.log()}`);
    await new Promise((r) => setTimeout(r, 20));
  }
  if (m.exited) throw new Error(`master exited: ${m.log()}`);
  return m;
}

// The open-source Liveblocks dev server (npm "liveblocks", run with
// npm "bun") on a free loopback port.  It accepts only the secret
// sk_localdev.  --host 127.0.0.1: its default, "localhost", does not
// resolve on a machine without /etc/hosts (a debootstrap minbase).
export async function startDevServer() {
  const port = await freePort();
  const dir = tmpdir("lbauth-dev-");
  const logFile = path.join(dir, "dev.log");
  const log = fs.openSync(logFile, "a");
  const child = spawn(path.join(ROOT, "node_modules/.bin/bun"),
    [path.join(ROOT, "node_modules/liveblocks/dist/index.js"), "dev", "--no-check", "--no-persist", "--host", "127.0.0.1", "-p", String(port)],
    { cwd: dir, env: { PATH: process.env.PATH, HOME: dir, NO_COLOR: "1" }, stdio: ["ignore", log, log] });
  fs.closeSync(log);
  const proc = track(child, "liveblocks dev", logFile);
  proc.port = port;
  proc.url = `http://127.0.0.1:${port}`;
  await waitFor(async () => {
    if (proc.exited) throw new Error(`dev server exited: ${proc.log()}`);
    try {
      const r = await fetch(`${proc.url}/v2/rooms`, { headers: { authorization: "Bearer sk_localdev" } });
      return r.status < 500;
    } catch { return false; }
  }, "the Liveblocks dev server", 20000);
  return proc;
}

// A real nginx on 127.0.0.1:<free port> with /api/liveblocks-auth
// passed to the FastCGI socket (the same location block as
// nginx/lbauth.conf) and the JWKS served as a static file.
//   pass: the fastcgi_pass target (default: fcgi's unix socket);
//   httpExtra / locationExtra / extra: lines for the http block, the
//   auth location and the server block.
export async function startNginx(setup, fcgi, { extra = "", httpExtra = "", locationExtra = "", pass } = {}) {
  const port = await freePort();
  const dir = path.join(setup.dir, "nginx");
  fs.mkdirSync(dir, { recursive: true });
  let jwks = { keys: [] };
  try { jwks = setup.jwks(); } catch { /* a test of a broken config */ }
  fs.writeFileSync(path.join(setup.dir, "jwks.json"), JSON.stringify(jwks));
  // The same nginx config "make run" starts (nginx/dev.conf.in).
  const conf = fs.readFileSync(path.join(ROOT, "nginx/dev.conf.in"), "utf8")
    .replaceAll("@USER_LINE@", process.getuid() === 0 ? "user root;" : "")
    .replaceAll("@PREFIX@", dir)
    .replaceAll("@PORT@", String(port))
    .replaceAll("@PASS@", pass ?? `unix:${fcgi.sock}`)
    .replaceAll("@HTTP_EXTRA@", httpExtra)
    .replaceAll("@LOCATION_EXTRA@", locationExtra)
    .replaceAll("@JWKS@", path.join(setup.dir, "jwks.json"))
    .replaceAll("@EXTRA@", extra);
  const confPath = path.join(dir, "nginx.conf");
  fs.writeFileSync(confPath, conf);
  const child = spawn("nginx", ["-p", dir, "-c", confPath, "-e", path.join(dir, "error.log")], {
    stdio: ["ignore", "ignore", "inherit"],
  });
  const proc = track(child, "nginx", path.join(dir, "error.log"));
  proc.port = port;
  proc.url = `http://127.0.0.1:${port}/api/liveblocks-auth`;
  await waitFor(() => new Promise((resolve) => {
    const s = net.connect(port, "127.0.0.1", () => { s.end(); resolve(true); });
    s.on("error", () => resolve(false));
  }), "nginx");
  return proc;
}

// Sends raw bytes as one HTTP/1.1 request and parses the answer.  Raw,
// so that tests can send what fetch() refuses to (a wrong
// Content-Length, two Cookie headers, no method token).
export function rawHttp(port, bytes, { timeout = 5000 } = {}) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    let done = false;
    const finish = (err) => {
      if (done) return;
      done = true;
      s.destroy();
      const text = Buffer.concat(chunks).toString("latin1");
      if (err && text === "") reject(err);
      else resolve(parseHttp(firstResponse(text), true));
    };
    const s = net.connect(port, "127.0.0.1", () => s.write(bytes));
    s.setTimeout(timeout, () => finish(new Error("raw HTTP timeout")));
    s.on("data", (d) => {
      chunks.push(d);
      // Done once the first response is complete (by Content-Length).
      const text = Buffer.concat(chunks).toString("latin1");
      const sep = text.indexOf("\r\n\r\n");
      const m = /\r\ncontent-length: *(\d+)/i.exec(text.slice(0, sep));
      if (sep >= 0 && m && text.length >= sep + 4 + Number(m[1])) finish();
    });
    s.on("error", (e) => finish(e));
    s.on("close", () => finish(new Error("closed")));
  });
}

// The first HTTP response of text (a pipelined answer may follow).
function firstResponse(text) {
  const sep = text.indexOf("\r\n\r\n");
  const m = /\r\ncontent-length: *(\d+)/i.exec(text.slice(0, sep));
  return sep >= 0 && m ? text.slice(0, sep + 4 + Number(m[1])) : text;
}

// Parses an HTTP (or CGI, with a Status: header) response.
export function parseHttp(text, isHttp) {
  const sep = text.indexOf("\r\n\r\n");
  const head = sep < 0 ? text : text.slice(0, sep);
  const body = sep < 0 ? "" : text.slice(sep + 4);
  const lines = head.split("\r\n");
  let status = 0;
  const headers = {};
  if (isHttp) {
    const m = /^HTTP\/1\.[01] (\d{3})/.exec(lines.shift() ?? "");
    status = m ? Number(m[1]) : 0;
  }
  for (const l of lines) {
    const i = l.indexOf(":");
    if (i < 0) continue;
    const k = l.slice(0, i).trim().toLowerCase();
    const v = l.slice(i + 1).trim();
    headers[k] = headers[k] === undefined ? v : headers[k] + ", " + v;
  }
  if (!isHttp && headers.status) status = Number(headers.status.slice(0, 3));
  return { status, headers, body, json: tryJson(body) };
}

function tryJson(s) {
  try { return JSON.parse(s); } catch { return undefined; }
}

// Runs lbauth as a CGI program with the given request and returns the
// parsed response and its stderr; bin: another copy of lbauth.
export function cgi(setup, { method = "POST", contentType = "application/json", body = "", cookie, headers = {}, env = {}, args = [], bin = LBAUTH } = {}) {
  return new Promise((resolve, reject) => {
    const buf = Buffer.from(body);
    const e = {
      PATH: process.env.PATH,
      LBAUTH_CONFIG: setup.conf,
      GATEWAY_INTERFACE: "CGI/1.1",
      SERVER_PROTOCOL: "HTTP/1.1",
      REQUEST_METHOD: method,
      SCRIPT_NAME: "/cgi-bin/lbauth",
      HTTP_HOST: "127.0.0.1",
      ...(method === "POST" ? { CONTENT_LENGTH: String(buf.length) } : {}),
      ...(contentType ? { CONTENT_TYPE: contentType } : {}),
      ...(cookie ? { HTTP_COOKIE: cookie } : {}),
      ...Object.fromEntries(Object.entries(headers).map(([k, v]) => ["HTTP_" + k.toUpperCase().replace(/-/g, "_"), v])),
      ...env,
    };
    for (const [k, v] of Object.entries(e)) if (v === undefined) delete e[k];
    const child = spawn(bin, args, { env: e, stdio: ["pipe", "pipe", "pipe"] });
    const out = [], err = [];
    child.stdout.on("data", (d) => out.push(d));
    child.stderr.on("data", (d) => err.push(d));
    child.on("error", reject);
    child.on("close", (code) => {
      const r = parseHttp(Buffer.concat(out).toString("utf8"), false);
      r.code = code;
      r.stderr = Buffer.concat(err).toString("utf8");
      resolve(r);
    });
    child.stdin.on("error", () => {});
    child.stdin.end(buf);
  });
}

// POSTs through nginx with fetch, as a browser's client would.
export async function post(url, { body = "{}", cookie, contentType = "application/json", headers = {}, method = "POST" } = {}) {
  const h = { ...headers };
  if (contentType) h["content-type"] = contentType;
  if (cookie) h.cookie = cookie;
  const res = await fetch(url, { method, headers: h, body: method === "GET" || method === "HEAD" ? undefined : body });
  const text = await res.text();
  return { status: res.status, headers: Object.fromEntries(res.headers), body: text, json: tryJson(text) };
}

// The payload of a compact JWS, decoded without verification.
export function payload(token) {
  return JSON.parse(Buffer.from(token.split(".")[1], "base64url").toString("utf8"));
}

export function header(token) {
  return JSON.parse(Buffer.from(token.split(".")[0], "base64url").toString("utf8"));
}

// --- Apache 2.4 (apache.test.mjs) ---------------------------------------

// Debian's Apache binary and its modules.
export const APACHE = "/usr/sbin/apache2";
const APACHE_MODULES = "/usr/lib/apache2/modules";

// The user Apache runs CGI and FastCGI programs as: www-data when the
// tests run as root (Apache refuses to run them as root), else the
// current user (an unprivileged Apache does not switch users).
export function apacheUser() {
  return process.getuid() === 0 ? "www-data" : os.userInfo().username;
}

function userIds(user) {
  const id = (flag) => Number(execFileSync("id", [flag, user], { encoding: "utf8" }).trim());
  return { uid: id("-u"), gid: id("-g") };
}

// Copies the setup's config and key files (modes kept: keys stay 0600)
// into <setup.dir>/<name>, owned by user, as they are deployed for a web
// server that runs lbauth as that user: lbauth refuses key files
// another user owns.  The setup itself is left as it is, so
// setup.cookie() (lbauthctl as the test's user) still works with the
// same keys.  Returns the copied config's path.
export function setupCopyFor(setup, user, name = `as-${user}`) {
  const { uid, gid } = userIds(user);
  const dir = path.join(setup.dir, name);
  fs.mkdirSync(dir, { mode: 0o700 });
  for (const f of fs.readdirSync(setup.dir, { withFileTypes: true })) {
    if (!f.isFile()) continue;
    const to = path.join(dir, f.name);
    fs.copyFileSync(path.join(setup.dir, f.name), to);
    fs.chownSync(to, uid, gid);
  }
  fs.chownSync(dir, uid, gid);
  return path.join(dir, path.basename(setup.conf));
}

// A real Apache 2.4 on 127.0.0.1:<free port>, in the foreground
// (-DFOREGROUND), everything it writes under dir.  The generated
// httpd.conf loads the MPM ("event" or "prefork") and the given
// modules (by short name: "cgid", "fcgid", ...), puts the sockets and
// tables of mod_cgid and mod_fcgid into dir, denies the file system,
// and ends with body: the lbauth snippet under test.  It reads nothing
// of /etc/apache2 and no envvars, so a system Apache, if one runs, is
// neither needed nor disturbed.  The PID kept is the parent's; stop()
// sends it SIGTERM, on which it stops its children and mod_fcgid stops
// the programs it spawned.  proc.log() is the ErrorLog, where the
// programs' stderr goes too.
export async function startApache(dir, { mpm = "event", modules = [], body = "", docroot } = {}) {
  const port = await freePort();
  const user = apacheUser();
  const group = execFileSync("id", ["-gn", user], { encoding: "utf8" }).trim();
  docroot ??= path.join(dir, "htdocs");
  fs.mkdirSync(path.join(dir, "run"), { recursive: true });
  fs.mkdirSync(docroot, { recursive: true });
  const load = ["authz_core", ...modules]
    .map((m) => `LoadModule ${m}_module ${APACHE_MODULES}/mod_${m}.so`);
  const errorLog = path.join(dir, "error.log");
  const conf = [
    `# Generated by tests/integ/harness.mjs startApache().`,
    `ServerRoot "${dir}"`,
    `ServerName 127.0.0.1`,
    `Listen 127.0.0.1:${port}`,
    `PidFile "${dir}/httpd.pid"`,
    `DefaultRuntimeDir "${dir}/run"`,
    `ErrorLog "${errorLog}"`,
    `LogLevel info`,
    `LoadModule mpm_${mpm}_module ${APACHE_MODULES}/mod_mpm_${mpm}.so`,
    ...load,
    `User ${user}`,
    `Group ${group}`,
    `Timeout 10`,
    // Keep-alive as browsers meet it, but an answer Apache fails to end
    // (a chunked body without its last chunk) ends after 1 s, not 5;
    // fetch does not reuse a connection Apache keeps for only 1 s.
    `KeepAliveTimeout 1`,
    `StartServers 1`,
    `<IfModule mpm_event_module>`,
    `\tServerLimit 2`,
    `\tThreadsPerChild 8`,
    `\tThreadLimit 8`,
    `\tMaxRequestWorkers 16`,
    `\tMinSpareThreads 4`,
    `\tMaxSpareThreads 16`,
    `</IfModule>`,
    `<IfModule mpm_prefork_module>`,
    `\tServerLimit 8`,
    `\tMaxRequestWorkers 8`,
    `\tMinSpareServers 1`,
    `\tMaxSpareServers 4`,
    `</IfModule>`,
    `<IfModule mime_module>`,
    `\tTypesConfig /etc/mime.types`,
    `</IfModule>`,
    `<IfModule cgid_module>`,
    `\tScriptSock "${dir}/run/cgid.sock"`,
    `</IfModule>`,
    `<IfModule fcgid_module>`,
    `\tFcgidIPCDir "${dir}/run/fcgid"`,
    `\tFcgidProcessTableFile "${dir}/run/fcgid_shm"`,
    `</IfModule>`,
    `DocumentRoot "${docroot}"`,
    `<Directory />`,
    `\tAllowOverride None`,
    `\tRequire all denied`,
    `</Directory>`,
    ``,
    body,
  ].join("\n") + "\n";
  const confPath = path.join(dir, "httpd.conf");
  fs.writeFileSync(confPath, conf);
  const stderrFile = path.join(dir, "stderr.log");
  const out = fs.openSync(stderrFile, "a");
  // detached: its own process group, for the prefork MPM stops its
  // children with killpg(getpgrp(), SIGTERM), which would stop us too.
  const child = spawn(APACHE, ["-f", confPath, "-DFOREGROUND"], {
    env: { PATH: process.env.PATH, LANG: "C" },
    stdio: ["ignore", out, out],
    detached: true,
  });
  fs.closeSync(out);
  const proc = track(child, "apache", errorLog);
  proc.port = port;
  proc.dir = dir;
  proc.conf = confPath;
  proc.base = `http://127.0.0.1:${port}`;
  await waitFor(() => proc.exited || new Promise((resolve) => {
    const s = net.connect(port, "127.0.0.1", () => { s.end(); resolve(true); });
    s.on("error", () => resolve(false));
  }), "Apache", 10000);
  if (proc.exited)
    throw new Error(`apache2 exited: ${fs.readFileSync(stderrFile, "utf8")}${proc.log()}`);
  return proc;
}

// Stops a tracked process (SIGTERM) and waits until it has exited;
// SIGKILL after ms.
export async function stopAndWait(proc, ms = 10000) {
  if (proc.exited) return;
  const gone = new Promise((resolve) => proc.child.once("exit", resolve));
  proc.stop();
  const t = setTimeout(() => { try { process.kill(proc.pid, "SIGKILL"); } catch {} }, ms);
  await gone;
  clearTimeout(t);
}

// The PIDs of the processes whose command line contains text (pgrep -f,
// text taken literally), or [].
// The seccomp filters process PID has beyond those the test itself
// runs under: 0 when lbauth did not confine it, 1 or more when it did.
// In a container (systemd-nspawn, as make fresh-check runs the suite)
// every process has the container's filter, so the mode ("Seccomp: 2")
// cannot tell a confined worker from its master; the count can
// (Seccomp_filters, Linux 5.9).  Without the count, the mode, which
// only works when the test itself runs unfiltered: when it does not,
// the function throws, so that a test fails rather than passes blind.
const seccompField = (pid, name) =>
  new RegExp(`^${name}:\\s*(\\d+)$`, "m").exec(fs.readFileSync(`/proc/${pid}/status`, "utf8"))?.[1];
export function ownSeccompFilters(pid) {
  const name = seccompField(process.pid, "Seccomp_filters") !== undefined ? "Seccomp_filters" : "Seccomp";
  const mine = Number(seccompField(process.pid, name));
  if (name === "Seccomp" && mine !== 0) throw new Error("the test runs under a seccomp filter and the kernel does not count filters");
  return Number(seccompField(pid, name)) - mine;
}

export function pidsMatching(text) {
  const re = text.replace(/[\\^$.*+?()[\]{}|]/g, "\\$&");
  try {
    return execFileSync("pgrep", ["-f", re], { encoding: "utf8" }).trim().split("\n").map(Number);
  } catch (e) {
    if (e.status === 1) return [];
    throw e;
  }
}
