// install.test.mjs: "make install DESTDIR=... PREFIX=/usr/local" puts
// exactly the files README "Installing" lists, with their modes, and
// nothing outside PREFIX; each man page renders with man -l, lints
// clean with mandoc -T lint at its strictest level (cross references
// resolved against the installed pages), and documents every option,
// command and config key the code has; the systemd units pass
// systemd-analyze verify, and the installed lbauth run with the shipped
// unit's ExecStart under socket activation serves tokens, reloads and
// stops; a C program built with pkg-config against the installed header
// and library verifies those tokens and refuses tampered, foreign and
// expired ones; "make uninstall" removes every installed file.

import { test, after, before, describe } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { execFileSync, spawn, spawnSync } from "node:child_process";
import { ROOT, makeSetup, post, startNginx, setupCopyFor, tmpdir, stopAll } from "./harness.mjs";

after(stopAll);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const PREFIX = "/usr/local";
const dest = tmpdir("lbauth-install-");
const root = path.join(dest, PREFIX);
const mandir = path.join(root, "share/man");
const PAGES = ["man1/lbauthctl.1", "man5/lbauth.conf.5", "man8/lbauth.8"];
// The Apache configs, when the tree has them.
const apache = fs.existsSync(path.join(ROOT, "apache")) ? fs.readdirSync(path.join(ROOT, "apache")) : [];
const files = {
  "bin/lbauth": 0o755,
  "bin/lbauthctl": 0o755,
  "include/lbauth.h": 0o644,
  "lib/liblbauth.a": 0o644,
  "lib/pkgconfig/lbauth.pc": 0o644,
  ...Object.fromEntries(PAGES.map((p) => [`share/man/${p}`, 0o644])),
  "share/doc/lbauth/README.md": 0o644,
  "share/doc/lbauth/lbauth.conf.sample": 0o644,
  "share/doc/lbauth/site.conf": 0o644,
  "share/doc/lbauth/lbauth.service": 0o644,
  "share/doc/lbauth/lbauth.socket": 0o644,
  ...Object.fromEntries(apache.map((f) => [`share/doc/lbauth/${f}`, 0o644])),
  "share/lbauth/example-policy.c": 0o644,
  // SQLite as lbauth's module (STATIC=1 builds it: lib/sql-sqlite.c).
  ...(fs.existsSync(path.join(ROOT, "lbauth-sqlite.so")) ? { "lib/lbauth/lbauth-sqlite.so": 0o644 } : {}),
};
// Where each installed file comes from in the tree.
const sources = {
  "bin/lbauth": "lbauth", "bin/lbauthctl": "lbauthctl", "include/lbauth.h": "lib/lbauth.h",
  "lib/liblbauth.a": "liblbauth.a", "share/doc/lbauth/lbauth.conf.sample": "nginx/lbauth.conf",
  "share/doc/lbauth/site.conf": "nginx/site.conf", "share/doc/lbauth/README.md": "README.md",
  "share/doc/lbauth/lbauth.service": "systemd/lbauth.service", "share/doc/lbauth/lbauth.socket": "systemd/lbauth.socket",
  "share/lbauth/example-policy.c": "tests/plugin/example.c", "lib/lbauth/lbauth-sqlite.so": "lbauth-sqlite.so",
  ...Object.fromEntries(PAGES.map((p) => [`share/man/${p}`, `man/${path.basename(p)}`])),
  ...Object.fromEntries(apache.map((f) => [`share/doc/lbauth/${f}`, `apache/${f}`])),
};

const run = (cmd, args, opts = {}) => execFileSync(cmd, args, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], ...opts });
// Every regular file under dir, as paths relative to it.
function walk(dir, base = dir) {
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    return e.isDirectory() ? walk(p, base) : [path.relative(base, p)];
  });
}
const src = (f) => fs.readFileSync(path.join(ROOT, f), "utf8");
// The installed tree and the verifier are a few MB: not kept.
const scratch = [dest];
after(() => { for (const d of scratch) fs.rmSync(d, { recursive: true, force: true }); });

describe("make install", () => {
  before(() => {
    run("make", ["-s", "-C", ROOT, "install", `DESTDIR=${dest}`, `PREFIX=${PREFIX}`]);
  });

  test("installs exactly the listed files, with their modes, all under PREFIX", () => {
    assert.deepEqual(walk(dest).sort(), Object.keys(files).map((f) => path.join(PREFIX.slice(1), f)).sort());
    for (const [f, mode] of Object.entries(files)) {
      const st = fs.statSync(path.join(root, f));
      assert.ok(st.isFile(), f);
      assert.equal((st.mode & 0o7777).toString(8), mode.toString(8), f);
      if (sources[f]) assert.ok(fs.readFileSync(path.join(root, f)).equals(fs.readFileSync(path.join(ROOT, sources[f]))), `${f} is ${sources[f]}`);
    }
    // The installed binaries run.
    assert.equal(spawnSync(path.join(root, "bin/lbauthctl"), [], { encoding: "utf8" }).status, 2);
    assert.equal(spawnSync(path.join(root, "bin/lbauth"), ["--help"], { encoding: "utf8" }).status, 2);
  });

  test("lbauth.pc names the prefix, the header's folder and the library", () => {
    const pc = fs.readFileSync(path.join(root, "lib/pkgconfig/lbauth.pc"), "utf8");
    assert.match(pc, /^prefix=\/usr\/local$/m);
    assert.doesNotMatch(pc, /@\w+@/);
    const env = { ...process.env, PKG_CONFIG_PATH: path.join(root, "lib/pkgconfig"), PKG_CONFIG_SYSROOT_DIR: dest };
    assert.equal(run("pkg-config", ["--cflags", "lbauth"], { env }).trim(), `-I${root}/include`);
    assert.equal(run("pkg-config", ["--libs", "lbauth"], { env }).trim(), `-L${root}/lib -llbauth`);
    assert.equal(run("pkg-config", ["--libs", "--static", "lbauth"], { env }).trim(), `-L${root}/lib -llbauth -ljson-c -lsodium -ldl`);
    assert.match(run("pkg-config", ["--modversion", "lbauth"], { env }).trim(), /^\d+\.\d+\.\d+$/);
  });

  for (const page of PAGES) {
    test(`${page}: man -l renders it`, () => {
      const f = path.join(mandir, page);
      const text = fs.readFileSync(f, "utf8");
      const name = text.match(/^\.Nm (\S+)$/m)[1];
      const nd = text.match(/^\.Nd (.+)$/m)[1];
      const r = spawnSync("man", ["-l", f], { encoding: "utf8", env: { ...process.env, MANWIDTH: "80" }, stdio: ["ignore", "pipe", "pipe"] });
      assert.equal(r.status, 0, r.stderr);
      assert.equal(r.stderr, "");
      const flat = r.stdout.replace(/\s+/g, " ");
      assert.ok(flat.includes(`NAME ${name} — ${nd}`) || flat.includes(`NAME ${name} - ${nd}`), flat.slice(0, 200));
      const heads = [...text.matchAll(/^\.Sh (.+)$/gm)].map((m) => m[1]);
      for (const h of ["NAME", "SYNOPSIS", "DESCRIPTION", "EXIT STATUS", "SEE ALSO"])
        if (!page.startsWith("man5/") || !["SYNOPSIS", "EXIT STATUS"].includes(h)) assert.ok(heads.includes(h), `${page}: no ${h}`);
      for (const h of heads) assert.match(r.stdout, new RegExp(`^${h}$`, "m"));
      for (const line of r.stdout.split("\n")) assert.ok([...line].length <= 80, `wider than 80: ${line}`);
    });

    test(`${page}: mandoc -T lint -W style finds nothing`, () => {
      const f = path.join(mandir, page);
      // -M: cross references (Xr) are looked up in the installed pages
      // and the system's.
      const r = spawnSync("mandoc", ["-T", "lint", "-W", "style", "-M", `${mandir}:/usr/share/man`, f], { encoding: "utf8" });
      // A page of another package that is not installed here is not
      // this page's fault; ours must all resolve.
      const installed = (name, sec) => {
        try { return fs.readdirSync(`/usr/share/man/man${sec}`).some((e) => e.startsWith(`${name}.${sec}`)); } catch { return false; }
      };
      const msgs = r.stdout.split("\n").filter(Boolean).filter((m) => {
        const x = m.match(/referenced manual not found: Xr (\S+) (\d)/);
        return !x || PAGES.some((p) => p.endsWith(`/${x[1]}.${x[2]}`)) || installed(x[1], x[2]);
      });
      assert.deepEqual(msgs, [], r.stdout);
      assert.ok(r.status !== null && r.status < 2, r.stdout + r.stderr);
    });
  }

  test("lbauth(8) has every option, lbauthctl(1) every command and option", () => {
    const man8 = fs.readFileSync(path.join(mandir, "man8/lbauth.8"), "utf8");
    const synopsis8 = man8.split(/^\.Sh /m).find((s) => s.startsWith("SYNOPSIS"));
    const longopts = [...src("cgi/lbauth.c").matchAll(/\{ "([a-z-]+)", required_argument/g)].map((m) => m[1]);
    assert.ok(longopts.length >= 6);
    for (const o of longopts) {
      assert.match(synopsis8, new RegExp(`^\\.Op Fl -${o} Ar `, "m"), `--${o} in SYNOPSIS`);
      assert.match(man8, new RegExp(`^\\.It Fl -${o} `, "m"), `--${o} described`);
    }
    for (const s of ["SIGHUP", "SIGTERM", "SIGINT", "LBAUTH_CONFIG", "LISTEN_FDS", "spawn-fcgi", "--workers"]) assert.ok(man8.includes(s), s);

    const man1 = fs.readFileSync(path.join(mandir, "man1/lbauthctl.1"), "utf8");
    const ctl = src("cgi/lbauthctl.c");
    const synopsis1 = man1.split(/^\.Sh /m).find((s) => s.startsWith("SYNOPSIS")).split(/^\.Nm$/m).slice(1);
    const cmds = [...ctl.matchAll(/\{ "(\w+)", cmd_(\w+) \}/g)].map((m) => m[1]);
    assert.deepEqual(synopsis1.map((s) => s.match(/^\.Cm (\w+)/m)[1]).sort(), [...cmds].sort());
    for (const cmd of cmds) {
      const body = ctl.slice(ctl.indexOf(`cmd_${cmd}(int argc`));
      const optstring = body.slice(0, body.indexOf("\n}\n")).match(/getopt\(argc, argv, "([^"]*)"\)/)?.[1] ?? "";
      const syn = synopsis1.find((s) => s.startsWith(`\n.Cm ${cmd}\n`) || s.match(new RegExp(`^\\.Cm ${cmd}$`, "m")));
      for (const o of optstring.replace(/:/g, "")) assert.match(syn, new RegExp(`Fl ${o}( |$)`, "m"), `${cmd} -${o}`);
      assert.match(man1, new RegExp(`^(\\.It Cm ${cmd}|\\.Cm ${cmd})`, "m"));
    }
    assert.match(man1, /^\.Sh EXIT STATUS$[^]*^\.It 0$[^]*^\.It 1$[^]*^\.It 2$/m);
  });

  test("lbauth.conf(5) has every config key, with the sample config's defaults", () => {
    const man5 = fs.readFileSync(path.join(mandir, "man5/lbauth.conf.5"), "utf8");
    const keys = [...src("lib/conf.c").matchAll(/K\(LBX_CONF_\w+, "(\w+)"/g)].map((m) => m[1]);
    assert.ok(keys.length >= 20);
    const items = Object.fromEntries(man5.split(/^\.It Cm /m).slice(1).map((s) => [s.split(" ")[0], s]));
    const readmeKeys = [...src("README.md").matchAll(/^\| `(\w+)` \|/gm)].map((m) => m[1]);
    const sample = fs.readFileSync(path.join(root, "share/doc/lbauth/lbauth.conf.sample"), "utf8");
    for (const k of keys) {
      assert.ok(items[k], `${k} in lbauth.conf(5)`);
      assert.ok(readmeKeys.includes(k), `${k} in README's table`);
      assert.match(sample, new RegExp(`^#?${k} = `, "m"), `${k} in the sample`);
      // The sample's uncommented lines are the defaults, but for the
      // key files, which have none.
      const def = items[k].match(/Default:\s*(?:\.(?:Cm|Li) )?(\S+?)\s?\.(?:\n|$)/)?.[1];
      const value = sample.match(new RegExp(`^${k} = (.*)$`, "m"))?.[1];
      if (value !== undefined && def !== undefined) assert.equal(def, value, `${k} default`);
      if (value !== undefined && def === undefined) assert.match(items[k], /No default/, `${k}: no default given`);
    }
    for (const s of ["regular file", "symbolic link", "owned by", "0600"]) assert.ok(man5.includes(s), s);
  });

  test("the systemd units pass systemd-analyze verify", () => {
    const units = tmpdir("lbauth-units-");
    scratch.push(units);
    const service = fs.readFileSync(path.join(root, "share/doc/lbauth/lbauth.service"), "utf8");
    assert.match(service, /^ExecStart=\/usr\/local\/bin\/lbauth --workers 2 --config \/etc\/lbauth\/lbauth\.conf$/m);
    // verify checks that ExecStart's binary exists: point it at the
    // installed one.
    fs.writeFileSync(path.join(units, "lbauth.service"), service.replaceAll("/usr/local/bin/lbauth", path.join(root, "bin/lbauth")));
    fs.copyFileSync(path.join(root, "share/doc/lbauth/lbauth.socket"), path.join(units, "lbauth.socket"));
    // MANPATH: Documentation=man:lbauth(8) must resolve.
    const r = spawnSync("systemd-analyze", ["verify", "./lbauth.socket", "./lbauth.service"], { cwd: units, encoding: "utf8", env: { ...process.env, MANPATH: mandir } });
    assert.equal(r.status, 0, r.stdout + r.stderr);
    assert.equal(r.stdout + r.stderr, "");
  });

  test("a C program built with pkg-config verifies tokens of the installed lbauth run as lbauth.service runs it", async () => {
    // The verifier: the README's example, with the time as an option.
    const dir = tmpdir("lbauth-verifier-");
    scratch.push(dir);
    fs.writeFileSync(path.join(dir, "verify.c"), `#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <lbauth.h>

/* verify JWKS TOKEN [NOW]: prints the payload, exit 0; exit 1 if invalid. */
int
main(int argc, char *argv[])
{
	struct lbauth_verifier	*v;
	char			*payload;
	time_t			 now = argc > 3 ? (time_t)atoll(argv[3]) : time(NULL);
	enum lbauth_err		 rc;

	if (argc < 3 || lbauth_verifier_new(argv[1], strlen(argv[1]), &v) != LBAUTH_OK)
		return 2;
	rc = lbauth_token_verify(v, argv[2], strlen(argv[2]), now, &payload);
	lbauth_verifier_free(v);
	if (rc != LBAUTH_OK) {
		fprintf(stderr, "invalid: %s\\n", lbauth_strerror(rc));
		return 1;
	}
	puts(payload);
	free(payload);
	return 0;
}
`);
    const env = { ...process.env, PKG_CONFIG_PATH: path.join(root, "lib/pkgconfig"), PKG_CONFIG_SYSROOT_DIR: dest };
    const flags = run("pkg-config", ["--cflags", "--libs", "--static", "lbauth"], { env }).trim().split(/\s+/);
    // make SANITIZE=1 installs an instrumented library: link its runtime.
    const san = process.env.SANITIZE === "1" ? ["-fsanitize=address,undefined"] : [];
    run("cc", ["-std=c99", "-Wall", "-Wextra", "-Wpedantic", "-Werror", ...san, "-o", path.join(dir, "verify"), path.join(dir, "verify.c"), ...flags]);
    const verify = (jwks, token, now) => spawnSync(path.join(dir, "verify"), [JSON.stringify(jwks), token, ...(now ? [String(now)] : [])], { encoding: "utf8" });

    // The shipped unit's ExecStart with the installed binary, started
    // by systemd-socket-activate (LISTEN_FDS, as lbauth.socket hands
    // the socket over), as User= with NoNewPrivileges= when we are root.
    const s = makeSetup();
    const service = fs.readFileSync(path.join(root, "share/doc/lbauth/lbauth.service"), "utf8");
    const unit = (k) => service.match(new RegExp(`^${k}=(.*)$`, "m"))[1];
    const argv = unit("ExecStart").split(" ").map((a) => (a === "/etc/lbauth/lbauth.conf" ? "CONF" : a));
    assert.equal(argv[0], `${PREFIX}/bin/lbauth`);
    argv[0] = path.join(root, "bin/lbauth");
    let conf = s.conf;
    let prefix = [];
    if (process.getuid() === 0) {
      conf = setupCopyFor(s, unit("User"));
      prefix = ["setpriv", `--reuid=${unit("User")}`, `--regid=${unit("Group")}`, "--clear-groups", "--no-new-privs"];
    }
    const sock = path.join(s.dir, "lbauth.sock");
    const child = spawn("systemd-socket-activate", ["-l", sock, ...prefix, ...argv.map((a) => (a === "CONF" ? conf : a))], {
      env: { PATH: process.env.PATH }, stdio: ["ignore", "ignore", "pipe"],
    });
    let log = "";
    let exit;
    child.stderr.on("data", (d) => (log += d));
    child.on("exit", (code, sig) => (exit = { code, sig }));
    after(() => { if (!exit) try { process.kill(child.pid, "SIGKILL"); } catch {} });
    for (let t0 = Date.now(); !fs.existsSync(sock); await sleep(20)) assert.ok(Date.now() - t0 < 5000, log);
    const n = await startNginx(s, { sock });
    const ask = () => post(n.url, { body: '{"room":"acme:doc"}', cookie: `session=${s.cookie({ sub: "ada", org: "acme" })}` });

    const r = await ask();
    assert.equal(r.status, 200, r.body + log);
    for (let t0 = Date.now(); !/master \d+ serving with 2 workers/.test(log); await sleep(20)) assert.ok(Date.now() - t0 < 5000, log);
    if (prefix.length) {
      const uid = Number(run("id", ["-u", unit("User")]).trim());
      assert.equal(fs.statSync(`/proc/${child.pid}`).uid, uid, "runs as User=");
    }
    const jwks = s.jwks();
    const t = r.json.token;
    const ok = verify(jwks, t);
    assert.equal(ok.status, 0, ok.stderr);
    const p = JSON.parse(ok.stdout);
    assert.equal(p.uid, "ada");
    assert.equal(p.k, "acc");
    assert.deepEqual(p.perms, { "acme:doc": ["*:write"] });

    // Refused: a payload changed to another user, a changed signature,
    // the keys of another installation, a time after exp.
    const [h, body, sig] = t.split(".");
    const eve = Buffer.from(JSON.stringify({ ...p, uid: "eve" })).toString("base64url");
    const flip = sig.slice(0, 10) + (sig[10] === "A" ? "B" : "A") + sig.slice(11);
    for (const [what, res] of [
      ["payload changed", verify(jwks, `${h}.${eve}.${sig}`)],
      ["signature changed", verify(jwks, `${h}.${body}.${flip}`)],
      ["another key", verify(makeSetup().jwks(), t)],
      ["expired", verify(jwks, t, p.exp + 1)],
    ]) {
      assert.equal(res.status, 1, `${what}: ${res.stdout}${res.stderr}`);
      assert.equal(res.stdout, "", what);
    }
    // A token from the installed binary run as a CGI program.
    const c = spawnSync(path.join(root, "bin/lbauth"), [], {
      input: "{}", encoding: "utf8",
      env: { LBAUTH_CONFIG: s.conf, GATEWAY_INTERFACE: "CGI/1.1", REQUEST_METHOD: "POST", CONTENT_TYPE: "application/json",
        CONTENT_LENGTH: "2", HTTP_COOKIE: `session=${s.cookie({ sub: "bob", org: "acme" })}` },
    });
    assert.match(c.stdout, /^Status: 200 /, c.stdout + c.stderr);
    const bob = verify(jwks, JSON.parse(c.stdout.slice(c.stdout.indexOf("\r\n\r\n"))).token);
    assert.equal(JSON.parse(bob.stdout).uid, "bob");
    assert.deepEqual(JSON.parse(bob.stdout).perms, { "acme:*": ["*:read"] });

    // ExecReload= (kill -HUP $MAINPID), then KillSignal=SIGTERM: the
    // master reloads, then stops within TimeoutStopSec.
    assert.equal(unit("ExecReload"), "/bin/kill -HUP $MAINPID");
    spawnSync("/bin/kill", ["-HUP", String(child.pid)]);
    for (let t0 = Date.now(); !/reloaded/.test(log); await sleep(20)) assert.ok(Date.now() - t0 < 5000, log);
    assert.equal((await ask()).status, 200);
    assert.equal(unit("KillSignal"), "SIGTERM");
    process.kill(child.pid, "SIGTERM");
    const stopBy = Date.now() + Number(unit("TimeoutStopSec")) * 1000;
    while (!exit) { assert.ok(Date.now() < stopBy, log); await sleep(20); }
    assert.deepEqual(exit, { code: 0, sig: null }, log);
  });

  test("make uninstall removes every installed file", () => {
    run("make", ["-s", "-C", ROOT, "uninstall", `DESTDIR=${dest}`, `PREFIX=${PREFIX}`]);
    assert.deepEqual(walk(dest), []);
  });
});
