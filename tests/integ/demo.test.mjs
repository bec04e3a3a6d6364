// demo.test.mjs: "make run" works, seen through a real browser.
//
// It runs nginx/run.sh itself (what "make run" runs) with PORT and
// LB_PORT on free loopback ports and RUN_DIR in a temporary folder:
// the Liveblocks dev server, lbauth (backend = liveblocks, --workers 2,
// the user and room access from the demo's SQLite database:
// identity_query, policy = sql), the sign-in helper demo/login (which
// writes sessions and memberships into that database) and nginx
// serving the demo page.  Then Debian's Chromium (/usr/bin/chromium,
// headless), driven by playwright-core, opens the page as four people
// in four browser contexts (separate cookie jars): ada and bob, members
// of acme:whiteboard, meet there, see each other, their cursors and one
// shared counter; cy, not a member, gets lbauth's 403 there and may only
// read acme:standup; gus, in no room, gets 403.  Then ada removes bob
// from the room in its Members panel and adds cy: bob's next token is
// refused and cy's grants write, with no sign-out.  Playwright's launch() gives the
// browser a fresh temporary profile (user-data-dir) that it deletes on
// close; no browser is downloaded.  Finally run.sh is stopped with
// SIGTERM, as Ctrl-C stops it, and every process it started must be
// gone.  ada's room view is saved as tests/out/demo-room.png.

import { test, before, after, describe } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { chromium } from "playwright-core";
import { ROOT, tmpdir, freePort } from "./harness.mjs";

const CHROMIUM = "/usr/bin/chromium";
const SCREENSHOT = path.join(ROOT, "tests/out/demo-room.png");
const ROOM = "acme:whiteboard";
const WAIT = 20000;	// ms for anything the page waits on

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function alive(pid) {
  try { process.kill(pid, 0); return true; } catch { return false; }
}

// nginx/run.sh in its own process group, its output in a log file.
async function startRunSh() {
  const dir = tmpdir("lbauth-demo-");
  const port = await freePort();
  let lbPort = await freePort();
  while (lbPort === port) lbPort = await freePort();
  const logFile = path.join(dir, "run.log");
  const out = fs.openSync(logFile, "a");
  const child = spawn("sh", [path.join(ROOT, "nginx/run.sh")], {
    cwd: dir,
    env: { ...process.env, PORT: String(port), LB_PORT: String(lbPort), RUN_DIR: path.join(dir, "run") },
    stdio: ["ignore", out, out],
    detached: true,
  });
  fs.closeSync(out);
  const stack = { child, dir, logFile, port, lbPort, exited: false, base: `http://127.0.0.1:${port}` };
  stack.log = () => fs.readFileSync(logFile, "utf8");
  stack.done = new Promise((resolve) => child.on("exit", (code, sig) => {
    stack.exited = true;
    resolve({ code, sig });
  }));
  const t0 = Date.now();
  for (;;) {
    const text = stack.log();
    if (text.includes("The demo is running:")) break;
    if (stack.exited) throw new Error(`nginx/run.sh exited before it was ready:\n${text}`);
    if (Date.now() - t0 > 90000) throw new Error(`nginx/run.sh was not ready in 90 s:\n${text}`);
    await sleep(100);
  }
  // The PIDs of what it started, from its banner.
  stack.pids = [...stack.log().matchAll(/^ {2}\S+(?: \S+)? +pid (\d+)/gm)].map((m) => Number(m[1]));
  return stack;
}

let stack, browser;
process.on("exit", () => {
  // Last resort, if the test process ends without after(): the group.
  if (stack && !stack.exited) try { process.kill(-stack.child.pid, "SIGKILL"); } catch {}
});

before(async () => {
  stack = await startRunSh();
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
      "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
});

after(async () => {
  await browser?.close();
  if (!stack) return;
  if (!stack.exited) {
    process.kill(stack.child.pid, "SIGTERM");
    const t = setTimeout(() => { try { process.kill(-stack.child.pid, "SIGKILL"); } catch {} }, 15000);
    await stack.done;
    clearTimeout(t);
  }
  // run.sh's output (its request log) stays as a test artifact.
  fs.mkdirSync(path.dirname(SCREENSHOT), { recursive: true });
  fs.copyFileSync(stack.logFile, path.join(path.dirname(SCREENSHOT), "demo-run.log"));
  fs.rmSync(stack.dir, { recursive: true, force: true });
});

// A browser context (its own cookies) signed in as user through the
// page's sign-in list; returns its page showing the rooms.
async function signIn(user) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 820 } });
  const page = await context.newPage();
  const problems = [];
  page.on("pageerror", (e) => problems.push(String(e)));
  page.problems = problems;
  await page.goto(`${stack.base}/`);
  await page.click(`a.user-card[data-user="${user}"]`, { timeout: WAIT });
  await page.waitForSelector(`a[data-room="${ROOM}"]`, { timeout: WAIT });
  return page;
}

async function enter(page, room) {
  await page.click(`a[data-room="${room}"]`, { timeout: WAIT });
  await page.waitForURL((u) => new URL(u).searchParams.get("room") === room, { timeout: WAIT });
}

const text = (page, sel) => page.locator(sel).first().textContent({ timeout: WAIT });

async function waitText(page, sel, want) {
  await page.waitForFunction(([s, w]) => {
    const el = document.querySelector(s);
    return el !== null && (w instanceof RegExp ? w.test(el.textContent) : el.textContent.trim() === w);
  }, [sel, want], { timeout: WAIT });
}

async function counterOf(page) {
  await page.waitForFunction(() => /^-?\d+$/.test(document.querySelector("#counter-value")?.textContent ?? ""),
    null, { timeout: WAIT });
  return Number(await text(page, "#counter-value"));
}

async function waitCounter(page, n) {
  await page.waitForFunction((v) => document.querySelector("#counter-value")?.textContent === String(v),
    n, { timeout: WAIT });
}

describe("make run: the demo page in Chromium", () => {
  let ada, bob, cy, gus;

  test("run.sh printed the URL after its self-test and started everything on loopback", () => {
    assert.match(stack.log(), new RegExp(`The demo is running: http://127\\.0\\.0\\.1:${stack.port}/`));
    assert.equal(stack.pids.length, 4, stack.log());
    for (const p of stack.pids) assert.ok(alive(p), `pid ${p} is not running`);
    const conf = fs.readFileSync(path.join(stack.dir, "run/lbauth.conf"), "utf8");
    assert.match(conf, /^backend = liveblocks$/m);
    assert.match(conf, /^session_format = raw$/m);
    assert.match(conf, /^sql_driver = sqlite$/m);
    assert.match(conf, /^policy = sql$/m);
    assert.match(conf, new RegExp(`^liveblocks_base_url = http://127\\.0\\.0\\.1:${stack.lbPort}$`, "m"));
    assert.equal(fs.readFileSync(path.join(stack.dir, "run/liveblocks.secret"), "utf8"), "sk_localdev\n");
  });

  test("the sign-in helper: an unknown user is a 400 JSON answer, never a cookie", async () => {
    const r = await fetch(`${stack.base}/login?user=mallory`, { redirect: "manual" });
    assert.equal(r.status, 400);
    assert.equal(r.headers.get("set-cookie"), null);
    assert.equal((await r.json()).error, "unknown_user");
    const ok = await fetch(`${stack.base}/login?user=ada`, { redirect: "manual" });
    assert.equal(ok.status, 303);
    assert.equal(ok.headers.get("location"), "/");
    // A random session id (a row of the demo's sessions table).
    assert.match(ok.headers.get("set-cookie"), /^session=[0-9a-f]{64}; Path=\/; HttpOnly; SameSite=Lax$/);
  });

  test("ada and bob (org acme) sign in, enter the same room and see each other", async () => {
    ada = await signIn("ada");
    bob = await signIn("bob");
    assert.match(await text(ada, "#whoami"), /Ada Lovelace/);
    await enter(ada, ROOM);
    await enter(bob, ROOM);
    for (const p of [ada, bob]) await waitText(p, "#access", "can write");
    // Each sees the other's name and avatar (the cookie's info, through
    // lbauth, the dev server's token and the room connection).
    await ada.waitForSelector('#people li[data-user="bob"]', { timeout: WAIT });
    await bob.waitForSelector('#people li[data-user="ada"]', { timeout: WAIT });
    assert.match(await text(ada, '#people li[data-user="bob"]'), /Bob Kahn/);
    assert.match(await text(bob, '#people li[data-user="ada"]'), /Ada Lovelace/);
    assert.match(await bob.getAttribute('#people li[data-user="ada"] img', "src"), /^data:image\/svg\+xml,/);
    assert.match(await text(ada, '#people li[data-user="ada"]'), /\(you\)/);
    // The decision panel shows lbauth's grant for the room.
    const row = ada.locator(`#decisions tbody tr[data-room="${ROOM}"][data-status="200"]`);
    await row.first().waitFor({ timeout: WAIT });
    assert.match(await row.first().textContent(), /acme:whiteboard\s*\*:write/);
  });

  test("a click on + in one window changes the counter in the other", async () => {
    const start = await counterOf(bob);
    assert.equal(await ada.isDisabled("#counter-plus"), false);
    await waitCounter(ada, start);
    await ada.click("#counter-plus");
    await waitCounter(bob, start + 1);
    await bob.click("#counter-plus");
    await bob.click("#counter-plus");
    await waitCounter(ada, start + 3);
    await bob.click("#counter-minus");
    await waitCounter(ada, start + 2);
  });

  test("two writers who open a new room at the same moment share one counter", async () => {
    // Both clients find the room's storage empty and both add the
    // initial counter; the server keeps the later one.  The page must
    // follow the counter that won, or one window's clicks go nowhere.
    const room = `acme:race-${process.pid}`;
    // A new room has no members: ada makes both writers members first
    // (POST /members, what the page's Members panel sends).
    for (const user of ["ada", "bob"]) {
      const r = await ada.context().request.post(`${stack.base}/members`, { data: { room, user, access: "full" } });
      assert.equal(r.status(), 200, await r.text());
    }
    const url = `${stack.base}/?room=${encodeURIComponent(room)}`;
    const [a, b] = await Promise.all([ada.context().newPage(), bob.context().newPage()]);
    await Promise.all([a.goto(url), b.goto(url)]);
    for (const p of [a, b]) await waitText(p, "#access", "can write");
    assert.equal(await counterOf(a), 0);
    assert.equal(await counterOf(b), 0);
    await a.click("#counter-plus");
    await b.click("#counter-plus");
    await waitCounter(a, 2);
    await waitCounter(b, 2);
    await Promise.all([a.close(), b.close()]);
  });

  test("live cursors: bob sees ada's pointer and ada sees bob's", async () => {
    const box = await ada.locator("#board").boundingBox();
    await ada.mouse.move(box.x + box.width * 0.3, box.y + box.height * 0.45);
    await ada.mouse.move(box.x + box.width * 0.32, box.y + box.height * 0.5, { steps: 4 });
    await bob.waitForSelector('#board .cursor[data-user="ada"]', { timeout: WAIT });
    assert.match(await text(bob, '#board .cursor[data-user="ada"]'), /Ada Lovelace/);
    const bb = await bob.locator("#board").boundingBox();
    await bob.mouse.move(bb.x + bb.width * 0.62, bb.y + bb.height * 0.35);
    await bob.mouse.move(bb.x + bb.width * 0.6, bb.y + bb.height * 0.4, { steps: 4 });
    await ada.waitForSelector('#board .cursor[data-user="bob"]', { timeout: WAIT });
    await sleep(300);	// let the cursor's short CSS transition end
    fs.mkdirSync(path.dirname(SCREENSHOT), { recursive: true });
    await ada.screenshot({ path: SCREENSHOT, fullPage: true });
  });

  test("cy is no member of acme:whiteboard: lbauth's sql policy answers 403, the page says no access", async () => {
    cy = await signIn("cy");
    await enter(cy, ROOM);
    await cy.waitForSelector('[data-testid="no-access"]', { timeout: WAIT });
    assert.match(await text(cy, '[data-testid="no-access"]'), /lbauth refused Cy Young \(org globex\) a token: 403 forbidden/);
    assert.equal((await text(cy, "#access")).trim(), "no access");
    assert.equal(await cy.isDisabled("#counter-plus"), true);
    const rows = cy.locator(`#decisions tbody tr[data-room="${ROOM}"]`);
    await rows.first().waitFor({ timeout: WAIT });
    assert.equal(await rows.first().getAttribute("data-status"), "403");
    await sleep(1000);
    assert.equal(await rows.count(), 1, "the client retried a 403");
    assert.equal(await ada.locator('#people li[data-user="cy"]').count(), 0);
  });

  test("cy may read acme:standup (her membership's access is read)", async () => {
    await cy.goto(`${stack.base}/?room=acme:standup`);
    await waitText(cy, "#access", "read-only");
    assert.equal(await cy.isDisabled("#counter-plus"), true);
    const row = cy.locator('#decisions tbody tr[data-room="acme:standup"][data-status="200"]').first();
    await row.waitFor({ timeout: WAIT });
    assert.match(await row.textContent(), /acme:standup\s*\*:read/);
  });

  test("a token without a room that does not cover the room: the Liveblocks server refuses (4001)", async () => {
    // cy's room-less grant is read on her rooms (acme:standup,
    // globex:lobby), not acme:whiteboard.
    await cy.goto(`${stack.base}/?room=${encodeURIComponent(ROOM)}&view=1`);
    await cy.waitForSelector('[data-testid="no-access"]', { timeout: WAIT });
    assert.match(await text(cy, '[data-testid="no-access"]'), /4001/);
    const row = cy.locator('#decisions tbody tr[data-status="200"]').first();
    await row.waitFor({ timeout: WAIT });
    const t = await row.textContent();
    assert.match(t, /acme:standup\s*\*:read/);
    assert.match(t, /globex:lobby\s*\*:read/);
    assert.match(t, /nothing for acme:whiteboard/);
  });

  test("gus (no org, in no room) is refused by lbauth itself: the panel shows the 403", async () => {
    gus = await signIn("gus");
    await enter(gus, ROOM);
    await gus.waitForSelector('[data-testid="no-access"]', { timeout: WAIT });
    assert.match(await text(gus, '[data-testid="no-access"]'), /lbauth refused Gus Guest \(no org\) a token: 403 forbidden/);
    const rows = gus.locator(`#decisions tbody tr[data-room="${ROOM}"]`);
    await rows.first().waitFor({ timeout: WAIT });
    assert.equal(await rows.first().getAttribute("data-status"), "403");
    assert.match(await rows.first().textContent(), /403\s*forbidden/);
    await sleep(1000);
    assert.equal(await rows.count(), 1, "the client retried a 403");
  });

  test("view only: a token without a room reads every room of bob's: + and - are disabled", async () => {
    const page = await bob.context().newPage();
    await page.goto(`${stack.base}/?room=${encodeURIComponent(ROOM)}&view=1`);
    await waitText(page, "#access", "read-only");
    const value = await counterOf(page);
    assert.equal(value, await counterOf(ada));
    assert.equal(await page.isDisabled("#counter-plus"), true);
    assert.equal(await page.isDisabled("#counter-minus"), true);
    const row = page.locator('#decisions tbody tr[data-status="200"]').first();
    const t = await row.textContent();
    assert.match(t, /acme:whiteboard\s*\*:read/);
    assert.match(t, /acme:standup\s*\*:read/);
    await page.close();
  });

  test("ada removes bob from the room and adds cy: their next tokens follow, with no sign-out", async () => {
    const member = (page, user) => `#members li[data-user="${user}"]`;
    await ada.waitForSelector(`${member(ada, "bob")}[data-access="full"]`, { timeout: WAIT });
    await ada.click(`${member(ada, "bob")} button[data-action="remove"]`);
    await ada.waitForSelector(`${member(ada, "bob")}[data-access="none"]`, { timeout: WAIT });
    // bob is still signed in; his next token request (a reload) is refused.
    await bob.reload();
    await bob.waitForSelector('[data-testid="no-access"]', { timeout: WAIT });
    assert.match(await text(bob, '[data-testid="no-access"]'), /lbauth refused Bob Kahn \(org acme\) a token: 403 forbidden/);
    assert.match(await text(bob, "#whoami"), /Bob Kahn/);
    // lbauthctl explain, the dry run the banner shows, reads the same.
    const explain = (user) => spawnSync(path.join(ROOT, "lbauthctl"),
      ["explain", "-c", path.join(stack.dir, "run/lbauth.conf"), "--user", user, "--room", ROOM], { encoding: "utf8" });
    let ex = explain("bob");
    assert.match(ex.stdout, /^policy: sql \(room_query\)$/m, ex.stderr);
    assert.match(ex.stdout, /^result: 403 forbidden/m);
    // cy, refused a moment ago, is let in to write.
    await ada.click(`${member(ada, "cy")} button[data-action="full"]`);
    await ada.waitForSelector(`${member(ada, "cy")}[data-access="full"]`, { timeout: WAIT });
    ex = explain("cy");
    assert.match(ex.stdout, /^ {2}acme:whiteboard \*:write$/m, ex.stdout);
    assert.match(ex.stdout, /^result: 200/m);
    await cy.goto(`${stack.base}/?room=${encodeURIComponent(ROOM)}`);
    await waitText(cy, "#access", "can write");
    await ada.waitForSelector('#people li[data-user="cy"]', { timeout: WAIT });
    const row = cy.locator(`#decisions tbody tr[data-room="${ROOM}"][data-status="200"]`).first();
    assert.match(await row.textContent(), /acme:whiteboard\s*\*:write/);
    // bob back in: his next token grants the room again.
    await ada.click(`${member(ada, "bob")} button[data-action="full"]`);
    await ada.waitForSelector(`${member(ada, "bob")}[data-access="full"]`, { timeout: WAIT });
    await bob.reload();
    await waitText(bob, "#access", "can write");
  });

  test("signing out clears the cookie: the sign-in list again", async () => {
    await bob.goto(`${stack.base}/logout`);
    await bob.waitForSelector('a.user-card[data-user="ada"]', { timeout: WAIT });
    assert.match(await text(bob, "#whoami"), /not signed in/);
    const r = await bob.context().request.post(`${stack.base}/api/liveblocks-auth`, { data: { room: ROOM } });
    assert.equal(r.status(), 401);
  });

  test("no page error in any window", () => {
    for (const p of [ada, bob, cy, gus]) assert.deepEqual(p?.problems ?? [], []);
  });

  test("SIGTERM (as Ctrl-C) stops run.sh and every process it started", async () => {
    await browser.close();
    browser = null;
    process.kill(stack.child.pid, "SIGTERM");
    let timer;
    const r = await Promise.race([stack.done,
      new Promise((resolve) => { timer = setTimeout(resolve, 20000, "timeout"); })]);
    clearTimeout(timer);
    assert.notEqual(r, "timeout", "run.sh did not stop within 20 s");
    for (const p of stack.pids) {
      for (let i = 0; i < 50 && alive(p); i++) await sleep(100);
      assert.ok(!alive(p), `pid ${p} still running`);
    }
  });
});
