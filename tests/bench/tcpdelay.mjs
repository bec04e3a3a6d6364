// tcpdelay.mjs: a TCP proxy on 127.0.0.1 that holds every chunk for a
// fixed time in each direction, to stand for the network between a
// server and a database on another machine (the round trip is twice
// the delay).  Benchmark tool only: loopback.  Chunks keep their order:
// the delay is constant, so the timers fire in the order they were set.
//
//   node tcpdelay.mjs --target PORT --delay MS
// prints "tcpdelay listening on PORT" once it listens.
import net from "node:net";

const arg = (name, dflt) => { const i = process.argv.indexOf(`--${name}`); return i > 0 ? process.argv[i + 1] : dflt; };
const target = Number(arg("target"));
const delay = Number(arg("delay", "0.5"));
if (!target) { console.error("usage: tcpdelay.mjs --target PORT [--delay MS]"); process.exit(2); }

// Passes what from sends to to, delay ms later; ends and errors follow.
function pipeLate(from, to) {
  from.on("data", (d) => setTimeout(() => to.write(d), delay));
  from.on("end", () => setTimeout(() => to.end(), delay));
  from.on("error", () => to.destroy());
}

const server = net.createServer({ noDelay: true }, (client) => {
  const up = net.connect({ port: target, host: "127.0.0.1", noDelay: true });
  pipeLate(client, up);
  pipeLate(up, client);
  client.on("close", () => up.destroy());
  up.on("close", () => client.destroy());
});
server.listen(0, "127.0.0.1", () => console.log(`tcpdelay listening on ${server.address().port}`));
for (const sig of ["SIGINT", "SIGTERM"]) process.on(sig, () => process.exit(0));
