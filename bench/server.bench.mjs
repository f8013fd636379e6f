#!/usr/bin/env node
// Benchmarks of the distribution endpoint on loopback (issue 5). Prints a table.
//
//   npm run build && node bench/server.bench.mjs [--quick] [--only get,watchers,push,size] [--before DIR]
//
// Needs (Debian): apt-get install -y nginx wrk etcd-server   (taskset is in util-linux)
// - GET current (200 and 304): `strata serve` (file store) vs nginx (worker_processes 1) serving the same
//   JSON file, both pinned to CPU 0, wrk pinned to CPU 1, so the load generator is not what is measured; and
//   a bare node:http server with the same bytes and headers (bench/get-floor-server.mjs): Node's floor.
//   With --before DIR (an earlier checkout, built: `npm ci && npm run build` there), its `strata serve`
//   takes a turn in the same rounds, on the same CPU, with the same snapshot.
// - Push-to-watcher latency with 1,000 watchers (SSE; long-poll too): file store, one server; etcd, watchers
//   on one server and pushes through another.
// - Push latency of a 1 MB snapshot; store size after 1,000 versions.
import { execFile, execFileSync, spawn, spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import http from "node:http";
import { cpus, tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { etcdArgs, etcdHealthy, freePort, listeningUrl } from "./lib.mjs";

const execFileAsync = promisify(execFile);
const root = fileURLToPath(new URL("..", import.meta.url));
const { computeContentDigest, createSnapshot, generateSigningKey, parseSigningKey, serializeSnapshot } = await import(
  join(root, "dist/core/snapshot/index.js")
);

const quick = process.argv.includes("--quick");
// --only SECTIONS: some of get (against nginx), watchers (push-to-watcher), push (1 MB), size (1,000 versions).
const onlyAt = process.argv.indexOf("--only");
const only = onlyAt < 0 ? null : new Set(process.argv[onlyAt + 1]?.split(","));
const section = (name) => only === null || only.has(name);
const beforeAt = process.argv.indexOf("--before");
const beforeRoot = beforeAt < 0 ? null : process.argv[beforeAt + 1];
const DURATION = quick ? "3s" : "10s";
// GET against nginx: ROUNDS alternated pairs of WINDOW each.
const ROUNDS = quick ? 3 : 7;
const WINDOW = "3s";
const WATCHERS = 1000;
const PUSHES = quick ? 10 : 30;
const have = (bin) => spawnSync("sh", ["-c", `command -v ${bin}`]).status === 0;
const multiCore = cpus().length >= 2 && have("taskset");
const pin = (cpu, cmd, args) => (multiCore ? ["taskset", ["-c", String(cpu), cmd, ...args]] : [cmd, args]);
// This process (watchers' clients, pushes) stays off the server's CPU too.
if (multiCore) execFileSync("taskset", ["-cp", "1", String(process.pid)], { stdio: "ignore" });
const work = mkdtempSync(join(tmpdir(), "strata-bench-"));
const children = [];
const rows = [];
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function start(cpu, cmd, args, env = {}) {
  const [c, a] = pin(cpu, cmd, args);
  const child = spawn(c, a, { env: { ...process.env, ...env }, stdio: ["ignore", "ignore", "pipe"] });
  children.push(child);
  return child;
}

async function startServe(store, cpu = 0, from = root) {
  const child = start(cpu, process.execPath, [
    join(from, "bin/strata.mjs"),
    "serve",
    "--store",
    store,
    "--listen",
    "127.0.0.1:0",
    "--trusted-keys",
    join(work, "trusted.txt"),
    "--max-body",
    "16M",
    // 1,000 watchers from one address: above the default per-address cap (128), as a fleet behind one NAT.
    "--max-connections",
    "4096",
    "--max-connections-per-client",
    "4096",
  ]);
  return listeningUrl(child);
}

async function startEtcd() {
  const { url, args } = etcdArgs({
    name: "b",
    dataDir: join(work, "etcd"),
    clientPort: await freePort(),
    peerPort: await freePort(),
    extra: ["--max-request-bytes", String(16 << 20)],
  });
  start(0, "etcd", args);
  await etcdHealthy(url);
  return url.slice("http://".length);
}

const { pem } = generateSigningKey();
const key = parseSigningKey(pem);
writeFileSync(join(work, "trusted.txt"), key.publicKey.text + "\n");

function makeConfig(bytes, seed) {
  // Realistic-ish: many namespaces of small values, padded to the requested size.
  const config = {};
  let size = 0;
  for (let n = 0; size < bytes; n++) {
    const ns = {};
    for (let k = 0; k < 20; k++)
      ns[`key_${k}`] =
        k % 3 === 0 ? `value-${seed}-${n}-${k}-${"x".repeat(24)}` : k % 3 === 1 ? n * k + seed : k % 2 === 0;
    config[`ns${n}`] = ns;
    size += JSON.stringify(ns).length + 8;
  }
  return config;
}

function snapshot(environment, version, previous, config) {
  return createSnapshot(
    {
      environment,
      version,
      previous,
      createdAt: new Date(),
      source: { repository: "bench", commit: null, pushedBy: "bench" },
      contentDigest: computeContentDigest(config, []),
      config,
      secrets: null,
    },
    [key],
  );
}

async function publish(url, s, body = serializeSnapshot(s)) {
  const res = await fetch(`${url}/v1/environments/${s.environment}/snapshot`, {
    method: "PUT",
    headers: { "if-match": `"${s.version - 1}"`, "content-type": "application/json" },
    body,
  });
  if (res.status !== 201) throw new Error(`publish ${s.version}: ${res.status} ${await res.text()}`);
}

/**
 * Runs wrk without blocking this process's event loop: a synchronous run would leave the idle keep-alive
 * sockets of fetch's pool unread while the server closes them, and the next fetch would be sent on one.
 */
async function wrk(url, headers = [], duration = DURATION) {
  const args = ["-t1", "-c50", `-d${duration}`, "--latency", ...headers.flatMap((h) => ["-H", h]), url];
  const [c, a] = pin(1, "wrk", args);
  const { stdout: out } = await execFileAsync(c, a, { encoding: "utf8" });
  const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1]);
  const p99 = /99%\s+([\d.]+\w+)/.exec(out)?.[1] ?? "?";
  const codes = /Non-2xx or 3xx responses: (\d+)/.exec(out)?.[1];
  return { rps, p99, errors: codes ? Number(codes) : 0 };
}

function quantile(sorted, q) {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}

/** SSE watchers on `url`; resolves each push's version with the receive times of every watcher. */
async function sseWatchers(url, environment, n) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: Infinity });
  const arrivals = new Map();
  let connected = 0;
  await new Promise((resolve, reject) => {
    for (let i = 0; i < n; i++) {
      const req = http.get(
        `${url}/v1/environments/${environment}/events`,
        { agent, headers: { "last-event-id": "999999999" } },
        (res) => {
          if (++connected === n) resolve();
          let buf = "";
          res.setEncoding("utf8");
          res.on("data", (d) => {
            buf += d;
            let i;
            while ((i = buf.indexOf("\n\n")) >= 0) {
              const block = buf.slice(0, i);
              buf = buf.slice(i + 2);
              const m = /^id: (\d+)$/m.exec(block);
              if (m) {
                const v = Number(m[1]);
                if (!arrivals.has(v)) arrivals.set(v, []);
                arrivals.get(v).push(performance.now());
              }
            }
          });
        },
      );
      req.on("error", reject);
    }
  });
  return { arrivals, close: () => agent.destroy() };
}

/** Long-poll watchers: each re-polls with If-None-Match after every answer. */
async function longPollWatchers(url, environment, n, startVersion) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: Infinity });
  const arrivals = new Map();
  let stopped = false;
  const poll = (seen) => {
    if (stopped) return;
    const req = http.get(
      `${url}/v1/environments/${environment}/snapshot?wait=60`,
      { agent, headers: { "if-none-match": `"${seen}"` } },
      (res) => {
        const v = Number(String(res.headers.etag ?? `"${seen}"`).replace(/"/g, ""));
        res.resume();
        res.on("end", () => {
          if (res.statusCode === 200 && v > seen) {
            if (!arrivals.has(v)) arrivals.set(v, []);
            arrivals.get(v).push(performance.now());
          }
          poll(Math.max(v, seen));
        });
      },
    );
    req.on("error", () => undefined);
  };
  for (let i = 0; i < n; i++) poll(startVersion);
  await sleep(1500);
  return {
    arrivals,
    close: () => {
      stopped = true;
      agent.destroy();
    },
  };
}

async function pushToWatcher(label, pushUrl, watchUrl, kind) {
  const environment = `latency-${kind}-${rows.length}`;
  let prev = snapshot(environment, 1, null, makeConfig(2000, 0));
  await publish(pushUrl, prev);
  await sleep(300);
  const watchers =
    kind === "sse"
      ? await sseWatchers(watchUrl, environment, WATCHERS)
      : await longPollWatchers(watchUrl, environment, WATCHERS, 1);
  await sleep(500);
  const latencies = [];
  const acks = [];
  let missing = 0;
  for (let i = 0; i < PUSHES; i++) {
    const next = snapshot(environment, prev.version + 1, prev.digest, makeConfig(2000, i + 1));
    const t0 = performance.now();
    await publish(pushUrl, next);
    acks.push(performance.now() - t0);
    // Wait until every watcher has it (or 5 s).
    for (let w = 0; w < 100 && (watchers.arrivals.get(next.version)?.length ?? 0) < WATCHERS; w++) await sleep(50);
    const got = watchers.arrivals.get(next.version) ?? [];
    missing += WATCHERS - got.length;
    for (const t of got) latencies.push(t - t0);
    prev = next;
    await sleep(100);
  }
  watchers.close();
  latencies.sort((a, b) => a - b);
  acks.sort((a, b) => a - b);
  rows.push([
    `${label} (${kind})`,
    `p50 ${quantile(latencies, 0.5).toFixed(1)} ms, p99 ${quantile(latencies, 0.99).toFixed(1)} ms`,
    `${WATCHERS} watchers x ${PUSHES} pushes, from PUT sent to event read by the client${missing ? `, ${missing} missed` : ""}; the PUT itself p50 ${quantile(acks, 0.5).toFixed(1)} ms`,
  ]);
}

async function serverNotify(url) {
  const text = await (await fetch(`${url}/metrics`)).text();
  const buckets = [...text.matchAll(/^strata_push_to_notify_seconds_bucket\{le="([^"]+)"\} (\d+)$/gm)].map((m) => [
    m[1],
    Number(m[2]),
  ]);
  const total = buckets.at(-1)?.[1] ?? 0;
  const q = (p) => buckets.find(([, c]) => c >= p * total)?.[0] ?? "?";
  return `p50 <= ${q(0.5) * 1000} ms, p99 <= ${q(0.99) * 1000} ms`;
}

/** Two servers on one etcd (started on first use), or null without etcd. */
let etcd = null;
async function etcdPair() {
  if (!have("etcd")) return null;
  if (etcd === null) {
    const hostPort = await startEtcd();
    const [a, b] = [await startServe(`etcd://${hostPort}/bench`, 0), await startServe(`etcd://${hostPort}/bench`, 0)];
    etcd = { hostPort, a, b };
  }
  return etcd;
}

function du(dir) {
  let total = 0;
  const walk = (d) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else total += statSync(p).size;
    }
  };
  walk(dir);
  return total;
}

try {
  if (!multiCore) console.error("note: fewer than 2 CPUs or no taskset: server and load generator share CPUs");
  // --- GET current vs nginx ---
  const storeDir = join(work, "store");
  const url = await startServe(`file:${storeDir}`);
  const s1 = snapshot("staging", 1, null, makeConfig(4096, 1));
  await publish(url, s1);
  const body = serializeSnapshot(s1);
  if (!section("get")) {
    // left out (--only)
  } else if (have("nginx") && have("wrk")) {
    const www = join(work, "www/v1/environments/staging");
    mkdirSync(www, { recursive: true });
    writeFileSync(join(www, "snapshot"), body);
    const port = await freePort();
    writeFileSync(
      join(work, "nginx.conf"),
      `worker_processes 1; daemon off; user root; pid ${work}/nginx.pid; error_log ${work}/nginx-error.log;
events { worker_connections 4096; }
http { access_log off; keepalive_requests 1000000; server { listen 127.0.0.1:${port}; root ${work}/www; default_type application/json; } }\n`,
    );
    const proxy = start(0, "nginx", ["-c", join(work, "nginx.conf"), "-p", work]);
    const nginxUrl = `http://127.0.0.1:${port}/v1/environments/staging/snapshot`;
    // Ready when it answers (a loaded machine can take seconds to start it).
    let etag = null;
    while (etag === null) {
      if (proxy.exitCode !== null) throw new Error("nginx exited");
      etag = await fetch(nginxUrl).then(
        (r) => r.headers.get("etag"),
        () => null,
      );
      if (etag === null) await sleep(50);
    }
    const strataUrl = `${url}/v1/environments/staging/snapshot`;
    // The floor: a bare node:http server with the same bytes and headers (bench/get-floor-server.mjs), on
    // the same CPU as the others.
    const floorChild = start(0, process.execPath, [
      join(root, "bench", "get-floor-server.mjs"),
      join(www, "snapshot"),
      '"1"',
    ]);
    const floorUrl = `${await listeningUrl(floorChild, "floor server")}/v1/environments/staging/snapshot`;
    let beforeUrl = null;
    if (beforeRoot !== null) {
      const at = await startServe(`file:${join(work, "store-before")}`, 0, beforeRoot);
      await publish(at, s1);
      beforeUrl = `${at}/v1/environments/staging/snapshot`;
      await wrk(beforeUrl);
    }
    await wrk(strataUrl); // warm up
    await wrk(floorUrl);
    // Alternated short windows (strata, node, nginx, then the reverse, …): on a shared machine the load
    // moves within seconds, so a ratio is the median of each round's, not one long window against another.
    const pairs = { 200: [], 304: [] };
    for (let round = 0; round < ROUNDS; round++) {
      for (const status of [200, 304]) {
        const run = {
          strata: () => wrk(strataUrl, status === 304 ? ['If-None-Match: "1"'] : [], WINDOW),
          node: () => wrk(floorUrl, status === 304 ? ['If-None-Match: "1"'] : [], WINDOW),
          nginx: () => wrk(nginxUrl, status === 304 ? [`If-None-Match: ${etag}`] : [], WINDOW),
          before: () => wrk(beforeUrl, status === 304 ? ['If-None-Match: "1"'] : [], WINDOW),
        };
        const order = [...(beforeUrl === null ? [] : ["before"]), "strata", "node", "nginx"];
        if (round % 2 === 1) order.reverse();
        const got = {};
        for (const who of order) got[who] = await run[who]();
        pairs[status].push(got);
      }
    }
    const size = `${(body.length / 1024).toFixed(1)} KiB body`;
    const med = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
    for (const status of [200, 304]) {
      const ps = pairs[status];
      const ratios = ps.map((p) => p.strata.rps / p.nginx.rps);
      rows.push([
        `GET current ${status}, strata serve`,
        `${Math.round(med(ps.map((p) => p.strata.rps)))} req/s (p99 ${ps.at(-1).strata.p99})`,
        `${(med(ratios) * 100).toFixed(0)}% of nginx (median of ${ROUNDS} alternated ${WINDOW} pairs: ${ratios.map((r) => r.toFixed(2)).join(", ")})${status === 200 ? `; ${size}` : ""}`,
      ]);
      if (beforeUrl !== null) {
        const ofBefore = ps.map((p) => p.strata.rps / p.before.rps);
        rows.push([
          `GET current ${status}, strata serve before (${beforeRoot})`,
          `${Math.round(med(ps.map((p) => p.before.rps)))} req/s (p99 ${ps.at(-1).before.p99})`,
          `${(med(ps.map((p) => p.before.rps / p.nginx.rps)) * 100).toFixed(0)}% of nginx; now ${(med(ofBefore) * 100).toFixed(0)}% of before (${ofBefore.map((r) => r.toFixed(2)).join(", ")})`,
        ]);
      }
      const floorRatios = ps.map((p) => p.node.rps / p.nginx.rps);
      const ofFloor = ps.map((p) => p.strata.rps / p.node.rps);
      rows.push([
        `GET current ${status}, bare node:http (the floor)`,
        `${Math.round(med(ps.map((p) => p.node.rps)))} req/s (p99 ${ps.at(-1).node.p99})`,
        `${(med(floorRatios) * 100).toFixed(0)}% of nginx (${floorRatios.map((r) => r.toFixed(2)).join(", ")}); strata ${(med(ofFloor) * 100).toFixed(0)}% of it`,
      ]);
      rows.push([
        `GET current ${status}, nginx`,
        `${Math.round(med(ps.map((p) => p.nginx.rps)))} req/s (p99 ${ps.at(-1).nginx.p99})`,
        status === 200 ? "worker_processes 1, same file" : "",
      ]);
    }
  } else rows.push(["GET current vs nginx", "skipped", "needs nginx and wrk"]);

  // --- push-to-watcher latency ---
  if (section("watchers")) {
    await pushToWatcher("push-to-watcher, file store", url, url, "sse");
    await pushToWatcher("push-to-watcher, file store", url, url, "longpoll");
    rows.push([
      "push-to-notify inside the server, file store",
      await serverNotify(url),
      "strata_push_to_notify_seconds: store publish to watchers written",
    ]);
    const pair = await etcdPair();
    if (pair !== null) await pushToWatcher("push-to-watcher, etcd, across 2 servers", pair.a, pair.b, "sse");
    else rows.push(["push-to-watcher, etcd", "skipped", "needs etcd"]);
  }

  // --- 1 MB push ---
  const pushTargets = section("push") ? [["file", url]] : [];
  if (section("push") && (await etcdPair()) !== null) pushTargets.push(["etcd", (await etcdPair()).a]);
  for (const [label, target] of pushTargets) {
    const env = `big-${label}`;
    let prev = null;
    const times = [];
    let signMs = 0;
    for (let i = 0; i < (quick ? 5 : 15); i++) {
      const t0 = performance.now();
      const s = snapshot(env, (prev?.version ?? 0) + 1, prev?.digest ?? null, makeConfig(1 << 20, i));
      const body = serializeSnapshot(s);
      const t1 = performance.now();
      await publish(target, s, body);
      times.push(performance.now() - t1);
      signMs += t1 - t0;
      prev = s;
    }
    times.sort((x, y) => x - y);
    rows.push([
      `push 1 MB snapshot, ${label} store`,
      `p50 ${quantile(times, 0.5).toFixed(0)} ms, max ${times.at(-1).toFixed(0)} ms`,
      `${(Buffer.byteLength(serializeSnapshot(prev)) / 1048576).toFixed(2)} MiB body; HTTP PUT to 201 (parse, verify, store); building and signing it took ${(signMs / times.length).toFixed(0)} ms more`,
    ]);
  }

  // --- store size after 1,000 versions ---
  const sizeDir = join(work, "size-store");
  const targets = section("size") ? [["file", await startServe(`file:${sizeDir}`, 0), () => du(sizeDir)]] : [];
  const sizePair = section("size") ? await etcdPair() : null;
  if (sizePair !== null) {
    // etcd's own figure (the data dir holds preallocated 64 MB WAL segments, so du would mislead).
    const dbSize = async () =>
      Number(
        (
          await (
            await fetch(`http://${sizePair.hostPort}/v3/maintenance/status`, { method: "POST", body: "{}" })
          ).json()
        ).dbSizeInUse ?? NaN,
      );
    const before = await dbSize();
    targets.push(["etcd", sizePair.a, async () => (await dbSize()) - before]);
  }
  for (const [label, sizeUrl, measure] of targets) {
    let prev = null;
    let bytes = 0;
    const t0 = performance.now();
    for (let v = 1; v <= 1000; v++) {
      const config = makeConfig(4096, 0);
      config.ns0.key_1 = v; // one value changes per version, as in real pushes
      const s = snapshot("sized", v, prev?.digest ?? null, config);
      bytes = serializeSnapshot(s).length;
      await publish(sizeUrl, s);
      prev = s;
    }
    const elapsed = performance.now() - t0;
    const total = await measure();
    rows.push([
      `store size after 1,000 versions (${label})`,
      `${(total / 1024 / 1024).toFixed(2)} MiB`,
      `${(total / 1000 / 1024).toFixed(1)} KiB/version for a ${(bytes / 1024).toFixed(1)} KiB snapshot; 1,000 sequential pushes in ${(elapsed / 1000).toFixed(1)} s${label === "etcd" ? " (growth of etcd's dbSizeInUse, before compaction)" : ""}`,
    ]);
  }
} finally {
  // SIGTERM first: nginx's master takes its worker down with it (SIGKILL would orphan the worker).
  for (const c of children) c.kill("SIGTERM");
  await sleep(1000);
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill("SIGKILL");
  await sleep(200);
  rmSync(work, { recursive: true, force: true });
}

const w = [Math.max(...rows.map((r) => r[0].length)), Math.max(...rows.map((r) => r[1].length))];
console.log(
  `\nstrata serve benchmarks (${new Date().toISOString()}, node ${process.version}, ${cpus().length} CPUs${multiCore ? ", server on CPU 0, load on CPU 1" : ""})\n`,
);
console.log(`| ${"measure".padEnd(w[0])} | ${"result".padEnd(w[1])} | notes |`);
console.log(`|${"-".repeat(w[0] + 2)}|${"-".repeat(w[1] + 2)}|-------|`);
for (const r of rows) console.log(`| ${r[0].padEnd(w[0])} | ${r[1].padEnd(w[1])} | ${r[2]} |`);
