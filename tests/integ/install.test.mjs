// install.test.mjs: make install into a DESTDIR puts every file where
// the README says; each man page renders with man -l and passes mandoc
// -T lint; the systemd units pass systemd-analyze verify; a C program
// built with pkg-config against the installed library verifies a token
// the real lbauth minted (and refuses a tampered one); make uninstall
// removes it all.

import { test, after, describe } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { execFileSync, spawnSync } from "node:child_process";
import { ROOT, makeSetup, cgi, tmpdir, stopAll } from "./harness.mjs";

after(stopAll);
const PREFIX = "/usr/local";
const dest = tmpdir("lbauth-install-");
const root = path.join(dest, PREFIX.slice(1));
const files = {
  "bin/lbauth": 0o755, "bin/lbauthctl": 0o755, "include/lbauth.h": 0o644,
  "lib/liblbauth.a": 0o644, "lib/pkgconfig/lbauth.pc": 0o644,
  "share/man/man1/lbauthctl.1": 0o644, "share/man/man5/lbauth.conf.5": 0o644, "share/man/man8/lbauth.8": 0o644,
  "share/doc/lbauth/README.md": 0o644, "share/doc/lbauth/lbauth.conf.sample": 0o644, "share/doc/lbauth/site.conf": 0o644,
  "share/doc/lbauth/lbauth.service": 0o644, "share/doc/lbauth/lbauth.socket": 0o644,
  "share/doc/lbauth/lbauth-fcgid.conf": 0o644, "share/doc/lbauth/lbauth-cgi.conf": 0o644,
  "share/doc/lbauth/htaccess.example": 0o644, "share/lbauth/example-policy.c": 0o644,
};
const run = (cmd, args, opts = {}) => execFileSync(cmd, args, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], ...opts });

describe("make install", () => {
  test("installs every file with its mode, nothing outside PREFIX", () => {
    run("make", ["-s", "-C", ROOT, "install", `DESTDIR=${dest}`, `PREFIX=${PREFIX}`]);
    for (const [f, mode] of Object.entries(files)) {
      const st = fs.statSync(path.join(root, f));
      assert.equal(st.mode & 0o777, mode, f);
    }
    assert.deepEqual(fs.readdirSync(dest), [PREFIX.split("/")[1]]);
    assert.match(fs.readFileSync(path.join(root, "lib/pkgconfig/lbauth.pc"), "utf8"), /^prefix=\/usr\/local$/m);
  });

  for (const page of ["man1/lbauthctl.1", "man5/lbauth.conf.5", "man8/lbauth.8"]) {
    test(`${page} renders and lints clean`, () => {
      const f = path.join(root, "share/man", page);
      const out = run("man", ["-l", f], { env: { ...process.env, MANWIDTH: "80", MANPAGER: "cat", PAGER: "cat" } });
      assert.match(out, /NAME/);
      assert.match(out, /SEE ALSO/);
      const lint = spawnSync("mandoc", ["-T", "lint", "-W", "warning", f], { encoding: "utf8" });
      assert.equal(lint.status, 0, lint.stdout + lint.stderr);
    });
  }

  test("every config key is in lbauth.conf(5)", () => {
    const conf = fs.readFileSync(path.join(ROOT, "lib/conf.c"), "utf8");
    const keys = [...conf.matchAll(/K\(LBX_CONF_\w+, "(\w+)"/g)].map((m) => m[1]);
    const man = fs.readFileSync(path.join(root, "share/man/man5/lbauth.conf.5"), "utf8");
    for (const k of keys) assert.match(man, new RegExp(`^\\.It Cm ${k} `, "m"), k);
  });

  test("the systemd units verify", () => {
    const units = tmpdir("lbauth-units-");
    fs.writeFileSync(path.join(units, "lbauth.service"), fs.readFileSync(path.join(root, "share/doc/lbauth/lbauth.service"), "utf8").replaceAll("/usr/local/bin/lbauth", path.join(root, "bin/lbauth")));
    fs.copyFileSync(path.join(root, "share/doc/lbauth/lbauth.socket"), path.join(units, "lbauth.socket"));
    const r = spawnSync("systemd-analyze", ["verify", "./lbauth.socket", "./lbauth.service"], { cwd: units, encoding: "utf8", env: { ...process.env, MANPATH: path.join(root, "share/man") } });
    assert.equal(r.status, 0, r.stdout + r.stderr);
  });

  test("a C program built with pkg-config verifies lbauth's tokens", async () => {
    const dir = tmpdir("lbauth-verifier-");
    const src = path.join(dir, "verify.c");
    fs.writeFileSync(src, `#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <lbauth.h>
int main(int argc, char **argv) {
	struct lbauth_verifier *v;
	char *payload;
	if (lbauth_verifier_new(argv[1], strlen(argv[1]), &v) != LBAUTH_OK) return 2;
	if (lbauth_token_verify(v, argv[2], strlen(argv[2]), time(NULL), &payload) != LBAUTH_OK) {
		lbauth_verifier_free(v);
		return 1;
	}
	puts(payload);
	free(payload);
	lbauth_verifier_free(v);
	return 0;
}
`);
    const flags = run("pkg-config", ["--cflags", "--libs", "--static", "lbauth"], { env: { ...process.env, PKG_CONFIG_PATH: path.join(root, "lib/pkgconfig"), PKG_CONFIG_SYSROOT_DIR: dest } }).trim().split(/\s+/);
    run("cc", ["-o", path.join(dir, "verify"), src, ...flags]);
    const s = makeSetup();
    const r = await cgi(s, { body: '{"room":"acme:doc"}', cookie: `session=${s.cookie({ sub: "ada", org: "acme" })}` });
    assert.equal(r.status, 200);
    const jwks = JSON.stringify(s.jwks());
    const out = spawnSync(path.join(dir, "verify"), [jwks, r.json.token], { encoding: "utf8" });
    assert.equal(out.status, 0, out.stderr);
    const p = JSON.parse(out.stdout);
    assert.equal(p.uid, "ada");
    assert.deepEqual(p.perms, { "acme:doc": ["*:write"] });
    const t = r.json.token;
    const bad = spawnSync(path.join(dir, "verify"), [jwks, t.slice(0, -3) + (t.at(-3) === "A" ? "B" : "A") + t.slice(-2)], { encoding: "utf8" });
    assert.equal(bad.status, 1);
    const other = spawnSync(path.join(dir, "verify"), [JSON.stringify(makeSetup().jwks()), t], { encoding: "utf8" });
    assert.equal(other.status, 1);
  });

  test("make uninstall removes what install put", () => {
    run("make", ["-s", "-C", ROOT, "uninstall", `DESTDIR=${dest}`, `PREFIX=${PREFIX}`]);
    for (const f of Object.keys(files)) assert.equal(fs.existsSync(path.join(root, f)), false, f);
  });
});
