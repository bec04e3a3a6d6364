// insns.test.mjs: lbauth's per-request cost, held to its baseline.  The
// hot path (tests/bench/hotpath.c: parse, cookie verify, policy, mint)
// is counted in instructions with callgrind, which is deterministic; the
// non-crypto part must stay under twice tests/bench/insns.txt (written by
// make bench), so a change that doubles it fails here, and the non-crypto
// share must stay under a quarter of the crypto (issue target).
import { test } from "node:test";
import assert from "node:assert/strict";
import { makeSetup, tmpdir } from "./harness.mjs";
import { measureInsns, readInsns } from "../bench/insns.mjs";

const sanitized = process.env.SANITIZE === "1";
test("instructions per request stay within 2x of the baseline", { skip: sanitized && "sanitizer build: callgrind cannot run ASan code" }, () => {
  const s = makeSetup({ conf: ["log_requests = no"] });
  const cookie = `session=${s.cookie({ sub: "ada", org: "acme", name: "Ada" })}`;
  const now = measureInsns(s.conf, cookie, tmpdir("lbauth-insns-"));
  const base = readInsns();
  assert.ok(now.crypto > 100000, `crypto ${now.crypto}: the hot path did not sign`);
  assert.ok(now.other <= 2 * base.other, `non-crypto instructions per request ${now.other} > 2 x baseline ${base.other}`);
  assert.ok(now.other <= 0.25 * now.crypto, `non-crypto ${now.other} > 25% of crypto ${now.crypto}`);
});
