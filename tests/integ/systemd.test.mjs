// systemd.test.mjs: the shipped systemd units, with all their hardening,
// under a real systemd as PID 1.
//
// There is no systemd running on a CI machine, so the test boots one:
// systemd-nspawn starts the machine's own systemd in a container whose
// root is an overlay of this machine's root with a tmpfs on top (nothing
// it writes reaches the host; the host's network namespace is shared,
// so it reaches the dev server on 127.0.0.1).  It is booted straight
// into one oneshot unit (systemd.unit=lbauth-test.service) that runs a
// script and powers the container off.  The script installs the units
// from systemd/ as README says, starts lbauth.socket and lbauth.service
// (User=www-data, NoNewPrivileges, SystemCallFilter=@system-service,
// MemoryDenyWriteExecute, ProtectSystem=strict, ...), asks for a token
// with cgi-fcgi over the socket, records the workers' credentials and
// seccomp state, switches the config to backend = liveblocks and
// reloads (systemctl reload: the new workers dlopen libcurl and use the
// network profile under the unit's filters), asks again, and stops the
// service.  The host then checks what the script left in the shared
// folder.  Booting, the test and power-off take about 3 s.

import { test, before, after, describe } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { execFileSync, spawnSync } from "node:child_process";
import { ROOT, makeSetup, startDevServer, tmpdir, ctl, payload, stopAll } from "./harness.mjs";

const NEEDS = process.getuid() !== 0 ? "needs root (mounts and systemd-nspawn)" : false;
// In the ASan build (make asan) LeakSanitizer's exit-time check needs
// ptrace, which the unit's SystemCallFilter refuses: the master would
// exit 1 and the unit end "failed".  That build gets a drop-in that
// turns the leak check off; everything else is the same.  (Leaks are
// checked by the rest of the suite under ASan and by make valgrind.)
const SANITIZED = process.env.SANITIZE === "1";

const inside = String.raw`#!/bin/sh
# Runs in the container as lbauth-test.service; results go to /sdtest.
exec >/sdtest/script.log 2>&1
set -x
mkdir -p /etc/lbauth
cp /sdtest/local/lbauth.conf /sdtest/local/sign.key /sdtest/local/cookie.secret /etc/lbauth/
cp /sdtest/lb/liveblocks.secret /etc/lbauth/
chown www-data:www-data /etc/lbauth/sign.key /etc/lbauth/cookie.secret /etc/lbauth/liveblocks.secret
chmod 600 /etc/lbauth/sign.key /etc/lbauth/cookie.secret /etc/lbauth/liveblocks.secret
cp /usr/local/share/doc/lbauth/lbauth.socket /usr/local/share/doc/lbauth/lbauth.service /etc/systemd/system/
systemctl daemon-reload
systemctl start lbauth.socket lbauth.service
req() {
	env -i REQUEST_METHOD=POST CONTENT_TYPE=application/json \
	    CONTENT_LENGTH=$(wc -c </sdtest/body) HTTP_COOKIE="$(cat /sdtest/cookie)" \
	    HTTP_HOST=127.0.0.1 SERVER_PORT=80 SCRIPT_NAME=/api/liveblocks-auth \
	    cgi-fcgi -bind -connect /run/lbauth/lbauth.sock </sdtest/body
}
workers() {
	for p in $(pgrep -u www-data -x lbauth); do
		printf '%s ' "$p"
		grep -E '^(Uid|NoNewPrivs|Seccomp|CapEff):' /proc/$p/status | tr -s '\t\n' '  '
		echo
	done
}
until_log() {	# until_log REGEX: wait up to 5 s for it in the unit's journal
	i=0
	while [ $i -lt 50 ] && ! journalctl -u lbauth.service --no-pager | grep -q "$1"; do
		sleep 0.1; i=$((i + 1))
	done
}
until_log 'serving with 2 workers'
ls -ln /run/lbauth/lbauth.sock >/sdtest/socket.txt
req >/sdtest/answer-local.txt
workers >/sdtest/workers-local.txt
cp /sdtest/lb/lbauth.conf /etc/lbauth/lbauth.conf
systemctl reload lbauth.service
until_log 'reloaded'
sleep 0.5	# the old generation finishes and exits
req >/sdtest/answer-liveblocks.txt
workers >/sdtest/workers-liveblocks.txt
systemctl stop lbauth.service
systemctl is-active lbauth.service >/sdtest/state.txt
journalctl -u lbauth.service --no-pager -o cat >/sdtest/journal.txt
echo done >/sdtest/done
`;

const unit = `[Unit]
Description=lbauth under a real systemd: the shipped units, then power off
After=basic.target

[Service]
Type=oneshot
ExecStart=/bin/sh /sdtest/inside.sh
ExecStopPost=/bin/systemctl poweroff --no-block
`;

// The root overlay: a tmpfs for the upper layer, this machine's root
// below.  Unmounted (and the folder removed) in after().
function overlay(dir) {
  const top = path.join(dir, "top"), merged = path.join(dir, "merged");
  fs.mkdirSync(top);
  fs.mkdirSync(merged);
  execFileSync("mount", ["-t", "tmpfs", "-o", "size=256m", "tmpfs", top]);
  fs.mkdirSync(path.join(top, "upper"));
  fs.mkdirSync(path.join(top, "work"));
  execFileSync("mount", ["-t", "overlay", "overlay", "-o",
    `lowerdir=/,upperdir=${top}/upper,workdir=${top}/work`, merged]);
  return { top, merged };
}

// "PID Uid: 33 33 33 33 CapEff: 0000000000000000 ..." -> { Uid: "33", ... }
function parseStatus(line) {
  const w = line.trim().split(/\s+/), s = {};
  for (let i = 1; i + 1 < w.length; i++) if (w[i].endsWith(":")) s[w[i].slice(0, -1)] = w[i + 1];
  return s;
}

describe("the shipped systemd units under a real systemd (PID 1 in a container)", { skip: NEEDS }, () => {
  let dir, ov, dev, local, lb, out, boot;

  before(async () => {
    dir = tmpdir("lbauth-systemd-");
    dev = await startDevServer();
    local = makeSetup();
    lb = makeSetup({ backend: "liveblocks", baseUrl: dev.url });
    out = path.join(dir, "sdtest");
    fs.mkdirSync(out);
    fs.cpSync(local.dir, path.join(out, "local"), { recursive: true });
    fs.cpSync(lb.dir, path.join(out, "lb"), { recursive: true });
    // The config as it will sit in /etc/lbauth: the liveblocks one keeps
    // the local cookie secret, so one cookie serves both.
    fs.appendFileSync(path.join(out, "lb/lbauth.conf"), "");
    const lbConf = fs.readFileSync(path.join(out, "lb/lbauth.conf"), "utf8")
      .replace(/^cookie_secret_file = .*$/m, "cookie_secret_file = cookie.secret");
    fs.writeFileSync(path.join(out, "lb/lbauth.conf"), lbConf);
    fs.writeFileSync(path.join(out, "cookie"), `session=${local.cookie({ sub: "ada", org: "acme", name: "Ada" })}`);
    fs.writeFileSync(path.join(out, "body"), '{"room":"acme:doc-1"}');
    fs.writeFileSync(path.join(out, "inside.sh"), inside);
    fs.chmodSync(out, 0o755);
    ov = overlay(dir);
    // make install, as README says, into the container's /usr/local.
    execFileSync("make", ["-s", "-C", ROOT, "install", `DESTDIR=${ov.merged}`, "PREFIX=/usr/local"], { stdio: "ignore" });
    fs.writeFileSync(path.join(ov.merged, "etc/systemd/system/lbauth-test.service"), unit);
    if (SANITIZED) {
      fs.mkdirSync(path.join(ov.merged, "etc/systemd/system/lbauth.service.d"));
      fs.writeFileSync(path.join(ov.merged, "etc/systemd/system/lbauth.service.d/asan.conf"),
        "[Service]\nEnvironment=ASAN_OPTIONS=detect_leaks=0\n");
    }
    boot = spawnSync("systemd-nspawn", ["-q", "--keep-unit", "--register=no", "--link-journal=no",
      "-D", ov.merged, `--bind=${out}:/sdtest`, "-b", "--", "systemd.unit=lbauth-test.service"],
    { encoding: "utf8", timeout: 120000 });
  });

  after(() => {
    stopAll();
    if (ov) {
      spawnSync("umount", [ov.merged]);
      spawnSync("umount", [ov.top]);
    }
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  const file = (name) => fs.readFileSync(path.join(out, name), "utf8");
  const tokenOf = (answer) => {
    assert.match(answer, /^Status: 200 OK\r\n/, answer);
    return JSON.parse(answer.slice(answer.indexOf("\r\n\r\n") + 4)).token;
  };

  test("systemd booted, ran the script to its end and powered off", () => {
    assert.equal(boot.status, 0, `${boot.stdout}\n${boot.stderr}`);
    assert.ok(fs.existsSync(path.join(out, "done")), file("script.log"));
  });

  test("lbauth.socket: the socket belongs to www-data, mode 0660", () => {
    const uid = execFileSync("id", ["-u", "www-data"], { encoding: "utf8" }).trim();
    assert.match(file("socket.txt"), new RegExp(`^srw-rw---- 1 ${uid} ${uid} `));
  });

  test("backend = local: a token that lbauthctl verifies", () => {
    const token = tokenOf(file("answer-local.txt"));
    const r = ctl(["verify", "-c", local.conf, token]);
    assert.match(r, /"uid":"ada"/);
  });

  test("master and workers: www-data, no capabilities, no new privileges, seccomp", () => {
    for (const name of ["workers-local.txt", "workers-liveblocks.txt"]) {
      const lines = file(name).trim().split("\n");
      assert.equal(lines.length, 3, `${name}: master and 2 workers\n${file(name)}`);
      const uid = execFileSync("id", ["-u", "www-data"], { encoding: "utf8" }).trim();
      for (const l of lines) {
        const s = parseStatus(l);
        assert.equal(s.Uid, uid, l);
        assert.equal(s.CapEff, "0000000000000000", l);
        assert.equal(s.NoNewPrivs, "1", l);
        assert.equal(s.Seccomp, "2", l);	// filter mode: the unit's, and lbauth's own in the workers
      }
    }
  });

  test("systemctl reload to backend = liveblocks: the dev server's token through libcurl, under the unit's filters", () => {
    const token = tokenOf(file("answer-liveblocks.txt"));
    const p = payload(token);
    assert.equal(p.k, "acc");
    assert.equal(p.uid, "ada");
    assert.deepEqual(p.perms["acme:doc-1"], ["*:write"]);
    assert.match(file("journal.txt"), /reloaded \/etc\/lbauth\/lbauth\.conf/);
  });

  test("systemctl stop: the master stops its workers and exits; nothing was killed", () => {
    assert.equal(file("state.txt").trim(), "inactive");
    const j = file("journal.txt");
    assert.match(j, /master \d+ stopped/);
    assert.doesNotMatch(j, /killed by signal|exited with|SIGSYS|Bad system call|core-dump/i);
    assert.equal((j.match(/status=200/g) ?? []).length, 2, j);
  });
});
