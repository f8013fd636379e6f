#!/usr/bin/env node
// The floor of bench/fleet.bench.mjs: a bare node:http server that holds event streams with the same head
// as `strata serve` and writes each frame POSTed to /publish to every open stream (`POST /publish?id=N`; `GET /streams` counts them). No store, no etcd, no
// signature, no routing: what one publish to N streams costs Node and the kernel on this machine, and what
// an idle stream costs a Node HTTP server.
//
//   node bench/fleet-floor-server.mjs   (prints {"msg":"listening","url":...} on stderr, as `strata serve` does)
import { createServer } from "node:http";

const streams = new Set();
const server = createServer((req, res) => {
  if (req.method === "POST" && req.url.startsWith("/publish?id=")) {
    const id = Number(req.url.slice("/publish?id=".length));
    const chunks = [];
    req.on("data", (c) => chunks.push(c));
    req.on("end", () => {
      const frame = Buffer.concat([Buffer.from(`event: snapshot\nid: ${id}\n`), Buffer.concat(chunks)]);
      for (const s of streams) s.write(frame);
      res.end();
    });
    return;
  }
  if (req.url === "/streams") return void res.end(String(streams.size));
  // The same head and body framing as strata's event streams.
  res.removeHeader("transfer-encoding");
  res.writeHead(200, {
    "content-type": "text/event-stream",
    "cache-control": "no-cache",
    connection: "close",
    "x-accel-buffering": "no",
  });
  res.write("retry: 2000\n\n");
  streams.add(res);
  res.on("close", () => streams.delete(res));
});
server.maxConnections = 100_000;
server.listen(0, "127.0.0.1", 511, () => {
  process.stderr.write(`${JSON.stringify({ msg: "listening", url: `http://127.0.0.1:${server.address().port}` })}\n`);
});
