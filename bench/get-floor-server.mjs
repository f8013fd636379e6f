#!/usr/bin/env node
// The floor of bench/server.bench.mjs's GET rows: a bare node:http server answering every GET with the same
// bytes from memory (200, or 304 for a matching If-None-Match), with the headers `strata serve` sends. No
// routing, no checks, no metrics: what Node's HTTP server costs per request on this machine.
//
//   node bench/get-floor-server.mjs FILE ETAG   (prints {"msg":"listening","url":...} on stderr)
import { readFileSync } from "node:fs";
import { createServer } from "node:http";

const [file, etag] = process.argv.slice(2);
const body = readFileSync(file);
process.on("SIGINT", () => process.exit(0));
const server = createServer((req, res) => {
  if (req.headers["if-none-match"] === etag) {
    res.writeHead(304, { etag, "cache-control": "public, no-cache" });
    res.end();
    return;
  }
  res.writeHead(200, {
    "content-type": "application/json",
    "content-length": body.length,
    etag,
    "cache-control": "public, no-cache",
  });
  res.end(body);
});
server.keepAliveTimeout = 60_000;
server.listen(0, "127.0.0.1", 511, () => {
  process.stderr.write(`${JSON.stringify({ msg: "listening", url: `http://127.0.0.1:${server.address().port}` })}\n`);
});
