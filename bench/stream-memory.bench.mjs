#!/usr/bin/env node
// What one idle event stream costs a Node process, layer by layer: a bare TCP socket that answered with an
// event-stream head (node:net, no HTTP parser or request objects kept) against a bare node:http server
// holding the same stream (the floor of bench/fleet.bench.mjs). `strata serve` is measured against the
// second in bench/fleet.bench.mjs; this shows what part of it is Node's HTTP layer, which no server built on
// node:http sheds while the stream is open.
//
//   node bench/stream-memory.bench.mjs [--streams 9000] [--rounds 2]
//
// Run it with each Node version to compare them (the figure moves with Node's release). Loopback only.
import { fork } from "node:child_process";
import http from "node:http";
import net from "node:net";
import { loadavg } from "node:os";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";

const HEAD = { "content-type": "text/event-stream", "cache-control": "no-cache", connection: "close" };

if (process.argv[2] === "--child") {
  const kind = process.argv[3];
  const held = new Set();
  const server =
    kind === "net"
      ? net.createServer((s) => {
          held.add(s);
          s.once("data", () =>
            s.write(
              `HTTP/1.1 200 OK\r\n${Object.entries(HEAD)
                .map(([k, v]) => `${k}: ${v}\r\n`)
                .join("")}\r\nretry: 2000\n\n`,
            ),
          );
          s.on("close", () => held.delete(s));
        })
      : http.createServer((req, res) => {
          res.removeHeader("transfer-encoding");
          res.writeHead(200, HEAD);
          res.write("retry: 2000\n\n");
          held.add(res);
          res.on("close", () => held.delete(res));
        });
  server.maxConnections = 100_000;
  process.on("message", (m) => {
    if (m === "measure") process.send({ rss: process.memoryUsage().rss, held: held.size });
  });
  process.on("disconnect", () => process.exit(0));
  server.listen(0, "127.0.0.1", 511, () => process.send({ port: server.address().port }));
} else {
  const { values } = parseArgs({
    options: { streams: { type: "string", default: "9000" }, rounds: { type: "string", default: "2" } },
  });
  const streams = Number(values.streams);
  const results = { net: [], http: [] };
  for (let round = 0; round < Number(values.rounds); round++) {
    for (const kind of round % 2 === 0 ? ["net", "http"] : ["http", "net"]) {
      const child = fork(fileURLToPath(import.meta.url), ["--child", kind]);
      const reply = () => new Promise((r) => child.once("message", r));
      const measure = () => {
        const p = reply();
        child.send("measure");
        return p;
      };
      const { port } = await reply();
      const before = await measure();
      const sockets = [];
      // In batches: a listen backlog of 511. A stream is open once its head has arrived.
      for (let i = 0; i < streams; i += 250)
        await Promise.all(
          Array.from(
            { length: Math.min(250, streams - i) },
            () =>
              new Promise((resolve, reject) => {
                const s = net.connect(port, "127.0.0.1");
                s.once("data", resolve);
                s.once("error", reject);
                s.write(
                  "GET /v1/environments/staging/events HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n\r\n",
                );
                sockets.push(s);
              }),
          ),
        );
      const after = await measure();
      if (after.held !== streams) throw new Error(`${kind}: ${after.held} of ${streams} streams held`);
      results[kind].push((after.rss - before.rss) / streams / 1024);
      for (const s of sockets) s.destroy();
      child.disconnect();
    }
  }
  const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  console.log(
    `\nidle event streams, ${streams} per process, Node ${process.version}, load ${loadavg()[0].toFixed(2)}\n`,
  );
  console.log("| server | RSS per idle stream, KiB (median; each round) |");
  console.log("|---|---|");
  for (const kind of ["net", "http"])
    console.log(
      `| ${kind === "net" ? "bare TCP socket (node:net)" : "bare node:http stream"} | ${median(results[kind]).toFixed(1)} (${results[kind].map((x) => x.toFixed(1)).join(", ")}) |`,
    );
}
