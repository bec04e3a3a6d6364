// check.mjs: make bench-check.  Recounts the hot path's instructions per
// request with callgrind (tests/bench/insns.mjs: hotpath.c, K=101 minus
// K=1, divided by 100), prints them next to the committed baseline
// tests/bench/insns.txt, and fails if "other" (everything but libsodium)
// is more than twice the baseline's.  No network, no server: a temp
// config and cookie from lbauthctl, two valgrind runs, a few seconds.
// Does not rewrite insns.txt (make bench does).
import fs from "node:fs";
import { spawnSync } from "node:child_process";
import { makeSetup, tmpdir } from "../integ/harness.mjs";
import { measureInsns, readInsns, INSNS_FILE } from "./insns.mjs";

for (const tool of ["valgrind", "callgrind_annotate"]) {
  if (spawnSync("sh", ["-c", `command -v ${tool}`]).status !== 0) {
    console.error(`bench-check: ${tool} is missing (make deps installs it)`);
    process.exit(2);
  }
}
const base = readInsns();
const s = makeSetup({ conf: ["log_requests = no"] });
const work = tmpdir("lbauth-bench-check-");
process.on("exit", () => { for (const d of [s.dir, work]) fs.rmSync(d, { recursive: true, force: true }); });
const cookie = `session=${s.cookie({ sub: "ada", org: "acme", name: "Ada" })}`;
const now = measureInsns(s.conf, cookie, work);
const ratio = (k) => (now[k] / base[k]).toFixed(3);
console.log(`instructions per request   now   baseline (${INSNS_FILE.replace(/.*\/tests\//, "tests/")})   now/baseline`);
for (const k of ["total", "crypto", "other"])
  console.log(`  ${k.padEnd(8)} ${String(now[k]).padStart(16)} ${String(base[k]).padStart(10)} ${ratio(k).padStart(32)}`);
if (now.crypto < 100000) {
  console.error(`FAIL bench-check: crypto ${now.crypto} instructions: the hot path did not verify and sign`);
  process.exit(1);
}
if (now.other > 2 * base.other) {
  console.error(`FAIL bench-check: non-crypto instructions per request ${now.other} > 2 x baseline ${base.other}`);
  process.exit(1);
}
console.log(`ok   bench-check: other ${now.other} <= 2 x ${base.other}`);
