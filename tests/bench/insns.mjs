// insns.mjs: instructions per request on lbauth's hot path, counted by
// callgrind (deterministic, unlike time): tests/bench/hotpath.c serves
// one fixed request K times in one process; (count(101) - count(1)) /
// 100 is one request, split into libsodium ("crypto") and the rest.
// Used by make bench (which writes tests/bench/insns.txt) and by
// tests/integ/insns.test.mjs (which compares against that file).
import fs from "node:fs";
import path from "node:path";
import { execFileSync, spawnSync } from "node:child_process";
import { ROOT } from "../integ/harness.mjs";

export const INSNS_FILE = path.join(ROOT, "tests/bench/insns.txt");

export function measureInsns(conf, cookie, dir) {
  const bin = path.join(dir, "hotpath");
  execFileSync("cc", ["-O2", "-g", "-o", bin, path.join(ROOT, "tests/bench/hotpath.c"), path.join(ROOT, "liblbauth.a"),
    ...execFileSync("pkg-config", ["--cflags", "--libs", "json-c", "libsodium"], { encoding: "utf8" }).trim().split(/\s+/), "-ldl"]);
  const count = (k) => {
    const out = path.join(dir, `cg.${k}`);
    const r = spawnSync("valgrind", ["--tool=callgrind", `--callgrind-out-file=${out}`, bin, conf, String(k), cookie], { encoding: "utf8" });
    if (r.status !== 0) throw new Error(`hotpath: ${r.stderr}`);
    const ann = spawnSync("callgrind_annotate", ["--inclusive=no", "--threshold=100", "--auto=no", out], { encoding: "utf8" }).stdout;
    let crypto = 0, other = 0, table = false;
    for (const line of ann.split("\n")) {
      if (/file:function/.test(line)) { table = true; continue; }
      const m = /^\s*([\d,]+) \(/.exec(line);
      if (!table || !m) continue;
      const n = Number(m[1].replaceAll(",", ""));
      if (/libsodium/.test(line)) crypto += n; else other += n;
    }
    return { crypto, other };
  };
  const a = count(1), b = count(101);
  const r = { crypto: Math.round((b.crypto - a.crypto) / 100), other: Math.round((b.other - a.other) / 100) };
  r.total = r.crypto + r.other;
  return r;
}

export function readInsns() {
  const t = fs.readFileSync(INSNS_FILE, "utf8");
  const get = (k) => Number(new RegExp(`^${k} (\\d+)$`, "m").exec(t)[1]);
  return { total: get("total"), crypto: get("crypto"), other: get("other") };
}

export function writeInsns(r) {
  fs.writeFileSync(INSNS_FILE, `# Instructions per request on the hot path (callgrind, tests/bench/hotpath.c),\n# written by make bench; tests/integ/insns.test.mjs fails if "other" doubles.\ntotal ${r.total}\ncrypto ${r.crypto}\nother ${r.other}\n`);
}
