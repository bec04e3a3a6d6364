// express.mjs: express session-cookie vectors for tests/unit/test-sid.c,
// made by the real npm cookie-signature (the version express-session
// uses), as express-session writes its cookie:
// encodeURIComponent("s:" + signature.sign(sid, secret)).
//
//	node tests/vectors/sid/express.mjs > tests/vectors/sid/express.h
//
// (run where cookie-signature resolves: npm install cookie-signature@1.0.7)
import { createRequire } from "node:module";
const require = createRequire(process.cwd() + "/");
const sig = require("cookie-signature");
const pkg = require("cookie-signature/package.json");

const A = "keyboard cat", B = "rotated-secret-2024";
const cookie = (sid, secret) => encodeURIComponent("s:" + sig.sign(sid, secret));
const rows = [];
const row = (comment, value, sid) => rows.push({ comment, value, sid });
const ids = ["Hn3xqQ5c0W8yT9w3Q2rUuG1TzYpT8kAa", "a.b.c-dotted_id", "x"];
for (const id of ids) {
  row(`secret A signs "${id}"`, cookie(id, A), sig.unsign(sig.sign(id, A), A));
  row(`secret B (a rotated one) signs "${id}"`, cookie(id, B), sig.unsign(sig.sign(id, B), B));
}
const good = "s:" + sig.sign(ids[0], A);
row("not URL-encoded (npm cookie decodes only when a % is there)", good, sig.unsign(good.slice(2), A));
row("no s: prefix: express-session ignores it", encodeURIComponent(sig.sign(ids[0], A)), false);
row("unknown secret", cookie(ids[0], "other"), false);
const mac = good.slice(good.lastIndexOf(".") + 1);
const flip = good.slice(0, -1) + (good.endsWith("A") ? "B" : "A");
row("last MAC character changed", encodeURIComponent(flip), sig.unsign(flip.slice(2), A) || sig.unsign(flip.slice(2), B));
row("MAC cut short", encodeURIComponent(good.slice(0, -1)), sig.unsign(good.slice(2, -1), A));
row("MAC with '=' padding added", encodeURIComponent(good + "="), sig.unsign(good.slice(2) + "=", A));
row("id changed, MAC kept", encodeURIComponent("s:" + "Z" + ids[0].slice(1) + "." + mac), false);
row("no dot", encodeURIComponent("s:" + ids[0]), sig.unsign(ids[0], A));
row("empty", "", false);

const c = (s) => JSON.stringify(s);
console.log(`/* Made by tests/vectors/sid/express.mjs with cookie-signature ${pkg.version}. */`);
console.log(`#define EXPRESS_SECRET_A ${c(A)}\n#define EXPRESS_SECRET_B ${c(B)}`);
console.log("static const struct { const char *comment, *value, *sid; } express_vectors[] = {");
for (const r of rows) console.log(`\t{ ${c(r.comment)}, ${c(r.value)}, ${r.sid === false ? "NULL" : c(r.sid)} },`);
console.log("};");
