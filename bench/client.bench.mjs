#!/usr/bin/env node
// Benchmarks of the runtime side (the SDK and `strata agent`, issue 11). Prints tables.
//
//   npm run build && node bench/client.bench.mjs [--quick] [--only get,fleet,reconnect,agent,import]
//
// - get() against a plain property read of a frozen object (goal within 3×), and allocations per call
//   (goal zero: heap growth and garbage collections over 5 M calls); get() with a health report per call
//   (report()) against get() alone (goal: no measurable change).
// - 1,000 SDK clients in one process on one `strata serve`: memory per client, push → last client p50/p99.
// - 200 of them reconnecting after the server restarts: the spread of their arrivals (full jitter; needs fleet).
// - Push → agent file replaced → --exec run: p50/p99 over 100 pushes.
// - Cold `import("strata-config/client")` against a bare `node` start.
import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PerformanceObserver } from "node:perf_hooks";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { cli, machine, median, root, table, time } from "./lib.mjs";

const quick = process.argv.includes("--quick");
// --only SECTIONS: some of get, fleet (1,000 clients), reconnect (then 200 of them after a restart), agent, import.
const onlyAt = process.argv.indexOf("--only");
const only = onlyAt < 0 ? null : new Set(process.argv[onlyAt + 1]?.split(","));
const section = (name) => only === null || only.has(name);
// A gc() to measure heap growth from a clean start, without asking run.mjs for --expose-gc.
setFlagsFromString("--expose-gc");
const gc = runInNewContext("gc");
const { computeContentDigest, createSnapshot, generateSigningKey, parseSigningKey, serializeSnapshot } = await import(
  join(root, "dist/core/snapshot/index.js")
);
const { StrataClient } = await import(join(root, "dist/client/index.js"));

const work = mkdtempSync(join(tmpdir(), "strata-bench-client-"));
const children = new Set();
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const pct = (xs, p) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
};

function freePort() {
  return new Promise((resolve) => {
    const s = createServer();
    s.listen(0, "127.0.0.1", () => {
      const p = s.address().port;
      s.close(() => resolve(p));
    });
  });
}

const { pem } = generateSigningKey();
const key = parseSigningKey(pem);
const keysFile = join(work, "trusted.txt");
writeFileSync(keysFile, key.publicKey.text + "\n");

/** `strata serve` on a fixed port over a file store (restartable), its stderr kept. */
async function serve(port, store, extra = []) {
  const child = spawn(
    process.execPath,
    [cli, "serve", "--listen", `127.0.0.1:${port}`, "--store", store, "--trusted-keys", keysFile, ...extra],
    { stdio: ["ignore", "ignore", "pipe"] },
  );
  children.add(child);
  let err = "";
  child.stderr.on("data", (d) => (err += d.toString()));
  for (;;) {
    if (err.includes('"msg":"listening"')) break;
    if (child.exitCode !== null) throw new Error(`serve exited: ${err}`);
    await sleep(20);
  }
  return {
    child,
    log: () => err,
    stop: () =>
      new Promise((r) => {
        child.once("exit", r);
        child.kill("SIGKILL");
      }).then(() => children.delete(child)),
  };
}

function publisher(url, environment = "staging") {
  let prev = null;
  return async (config) => {
    const snapshot = createSnapshot(
      {
        environment,
        version: (prev?.version ?? 0) + 1,
        previous: prev?.digest ?? null,
        createdAt: new Date(),
        source: {},
        contentDigest: computeContentDigest(config, [["n", String((prev?.version ?? 0) + 1)]]),
        config,
        secrets: null,
      },
      [key],
    );
    const res = await fetch(`${url}/v1/environments/${environment}/snapshot`, {
      method: "PUT",
      // A new connection each time: 1,000 clients can hold this process's event loop for seconds, long enough
      // for the server to close an idle pooled socket that fetch would then send on.
      headers: { "content-type": "application/json", "if-match": `"${prev?.version ?? 0}"`, connection: "close" },
      body: serializeSnapshot(snapshot),
    });
    if (res.status !== 201) throw new Error(`publish: ${res.status} ${await res.text()}`);
    prev = snapshot;
    return snapshot;
  };
}

const config = (n) => ({
  app: { name: "demo", counter: n },
  database: { host: "db.internal", pool: { max: 10, min: 1, idle_timeout_ms: 30000 } },
  http: { port: 8080, timeout_ms: 2500 },
});

try {
  console.log(`\nmachine: ${machine()}${quick ? " (--quick)" : ""}`);

  // ---- get() -------------------------------------------------------------------------------------------
  if (section("get")) {
    const port = await freePort();
    const s = await serve(port, `file:${join(work, "store-get")}`);
    const url = `http://127.0.0.1:${port}`;
    await publisher(url)(config(0));
    // Two clients and two frozen trees, used alternately: a loop reading one constant object would have the
    // read hoisted out of it by the compiler, which no request handler gets.
    const cs = [0, 1].map(
      () =>
        new StrataClient({
          endpoint: url,
          environment: "staging",
          service: "bench",
          trustedKeys: [key.publicKey.text],
        }),
    );
    await Promise.all(cs.map((c) => c.ready()));
    const plains = cs.map((c) => c.getAll());
    const N = quick ? 2_000_000 : 5_000_000;
    let sink = 0;
    const runGet = () => {
      for (let i = 0; i < N; i++) sink += cs[i & 1].get("database.pool.max");
    };
    const runPlain = () => {
      for (let i = 0; i < N; i++) sink += plains[i & 1].database.pool.max;
    };
    const runFallback = () => {
      for (let i = 0; i < N; i++) sink += cs[i & 1].get("database.pool.maxx", 1);
    };
    // A request handler that reports each request (one latency sample): the reports go out every 5 s.
    const runReport = () => {
      for (let i = 0; i < N; i++) {
        sink += cs[i & 1].get("database.pool.max");
        cs[i & 1].report({ requests: 1, latencyMs: i & 15 });
      }
    };
    // The three loops in turn, round after round (the machine may be shared and loaded): ns per call is the
    // lowest of the rounds, the ratio the median of each round's own ratio to the plain read.
    const rounds = quick ? 7 : 15;
    const once = (fn) => {
      const t = process.hrtime.bigint();
      fn();
      return Number(process.hrtime.bigint() - t) / N;
    };
    for (const warm of [runGet, runPlain, runFallback, runReport]) warm(); // warm-up (optimised)
    const samples = { get: [], plain: [], fallback: [], report: [] };
    for (let r = 0; r < rounds; r++) {
      samples.plain.push(once(runPlain));
      samples.get.push(once(runGet));
      samples.fallback.push(once(runFallback));
      samples.report.push(once(runReport));
    }
    const best = (xs) => Math.min(...xs);
    const ratioTo = (xs) => median(xs.map((x, i) => x / samples.plain[i]));
    const nsGet = best(samples.get);
    const nsPlain = best(samples.plain);
    const nsFallback = best(samples.fallback);
    const nsReport = best(samples.report);
    const alloc = (fn) => {
      let gcs = 0;
      const obs = new PerformanceObserver((list) => {
        gcs += list.getEntries().length;
      });
      obs.observe({ entryTypes: ["gc"] });
      gc();
      const before = process.memoryUsage().heapUsed;
      fn();
      const after = process.memoryUsage().heapUsed;
      obs.disconnect();
      return { bytesPerCall: Math.max(0, after - before) / N, gcs };
    };
    const aGet = alloc(runGet);
    const aFallback = alloc(runFallback);
    const aReport = alloc(runReport);
    await sleep(50); // let the gc observer deliver
    table(
      `get() against a plain property read (ns per call: the fastest of ${rounds} alternated rounds of ${N.toLocaleString("en")}; ratio: the median of the rounds' ratios)`,
      ["read", "ns/call", "vs plain", "heap bytes/call", "GCs during the run"],
      [
        ["frozen object: `o.database.pool.max`", nsPlain.toFixed(2), "1.00×", "-", "-"],
        [
          '`client.get("database.pool.max")`',
          nsGet.toFixed(2),
          `${ratioTo(samples.get).toFixed(2)}×`,
          aGet.bytesPerCall.toFixed(4),
          String(aGet.gcs),
        ],
        [
          '`client.get("database.pool.maxx", 1)` (fallback)',
          nsFallback.toFixed(2),
          `${ratioTo(samples.fallback).toFixed(2)}×`,
          aFallback.bytesPerCall.toFixed(4),
          String(aFallback.gcs),
        ],
        [
          '`client.get("database.pool.max")` + `client.report({ requests: 1, latencyMs })`',
          nsReport.toFixed(2),
          `${ratioTo(samples.report).toFixed(2)}×`,
          aReport.bytesPerCall.toFixed(4),
          String(aReport.gcs),
        ],
      ],
    );
    const onOff = median(samples.report.map((x, i) => x / samples.get[i]));
    console.log(
      `reporting on / off (get() + report() against get() alone, median of the rounds' ratios): ${onOff.toFixed(2)}×; batches sent ${cs.reduce((n, c) => n + c.reportStats().sent, 0)}, dropped ${cs.reduce((n, c) => n + c.reportStats().dropped, 0)}`,
    );
    if (sink === 42) console.log("");
    for (const c of cs) await c.close();
    await s.stop();
  }

  // ---- 1,000 clients -------------------------------------------------------------------------------------
  if (section("fleet")) {
    const CLIENTS = 1000;
    const PUSHES = quick ? 5 : 20;
    const port = await freePort();
    // 1,000 clients from one address: above the server's default per-address cap (128), as a fleet behind
    // one NAT would be; the operator raises it with these flags.
    const caps = ["--max-connections", "4096", "--max-connections-per-client", "4096"];
    const s = await serve(port, `file:${join(work, "store-fleet")}`, caps);
    const url = `http://127.0.0.1:${port}`;
    const publish = publisher(url);
    await publish(config(0));
    gc();
    const heap0 = process.memoryUsage().heapUsed;
    const rss0 = process.memoryUsage().rss;
    const clients = [];
    for (let i = 0; i < CLIENTS; i += 50) {
      const batch = Array.from(
        { length: Math.min(50, CLIENTS - i) },
        (_, j) =>
          new StrataClient({
            endpoint: url,
            environment: "staging",
            service: "fleet",
            instance: `i-${i + j}`,
            trustedKeys: [key.publicKey.text],
            timeoutMs: 30_000,
          }),
      );
      await Promise.all(batch.map((c) => c.ready()));
      clients.push(...batch);
    }
    await sleep(1000); // every event stream open
    gc();
    const heapPer = (process.memoryUsage().heapUsed - heap0) / CLIENTS / 1024;
    const rssPer = (process.memoryUsage().rss - rss0) / CLIENTS / 1024;
    const last = [];
    const p50s = [];
    for (let p = 1; p <= PUSHES; p++) {
      const arrivals = [];
      const done = new Promise((resolve) => {
        for (const c of clients) {
          const off = c.on("change", () => {
            arrivals.push(performance.now());
            off();
            if (arrivals.length === CLIENTS) resolve();
          });
        }
      });
      const t0 = performance.now();
      await publish(config(p));
      await done;
      const lat = arrivals.map((a) => a - t0);
      last.push(Math.max(...lat));
      p50s.push(median(lat));
      await sleep(200);
    }
    table(
      `${CLIENTS} SDK clients in one process, one \`strata serve\` (file store), ${PUSHES} pushes`,
      ["measure", "value"],
      [
        ["JS heap per client", `${heapPer.toFixed(1)} KiB`],
        ["RSS per client", `${rssPer.toFixed(1)} KiB`],
        ["push → median client (p50 over pushes)", `${median(p50s).toFixed(0)} ms`],
        ["push → last client p50", `${pct(last, 50).toFixed(0)} ms`],
        ["push → last client p99", `${pct(last, 99).toFixed(0)} ms`],
      ],
    );

    // ---- reconnect spread: a subset of the fleet, after a server restart ----------------------------------
    if (!section("reconnect")) {
      for (const c of clients) await c.close();
      await s.stop();
    } else {
      for (const c of clients.slice(200)) await c.close();
      const fleet = clients.slice(0, 200);
      await s.stop();
      const restartedAt = Date.now();
      // The log records every request with its time and Strata-Client header.
      const s2 = await serve(port, `file:${join(work, "store-fleet")}`, ["--log-level", "debug", ...caps]);
      const upAt = Date.now();
      await sleep(Math.max(0, 35_000 - (Date.now() - restartedAt)));
      const first = new Map();
      for (const line of s2.log().split("\n")) {
        const m = /"time":"([^"]+)".*"client":"service=fleet; instance=(i-\d+);/.exec(line);
        if (m && !first.has(m[2])) first.set(m[2], Date.parse(m[1]));
      }
      const arrivals = [...first.values()].map((t) => t - upAt).sort((a, b) => a - b);
      table(
        "200 clients reconnecting after a server restart (backoff 500 ms base, 30 s cap, full jitter)",
        ["measure", "value"],
        [
          ["clients back within 35 s", `${first.size} / ${fleet.length}`],
          ["first arrival after the server was up", `${arrivals[0] ?? NaN} ms`],
          ["median arrival", `${pct(arrivals, 50) ?? NaN} ms`],
          ["p90 arrival", `${pct(arrivals, 90) ?? NaN} ms`],
          ["last arrival", `${arrivals.at(-1) ?? NaN} ms`],
          [
            "largest number arriving in one 100 ms window",
            String(Math.max(0, ...arrivals.map((a) => arrivals.filter((b) => b >= a && b < a + 100).length))),
          ],
        ],
      );
      for (const c of fleet) await c.close();
      await s2.stop();
    }
  }

  // ---- agent ----------------------------------------------------------------------------------------------
  if (section("agent")) {
    const PUSHES = quick ? 20 : 100;
    const port = await freePort();
    const s = await serve(port, `file:${join(work, "store-agent")}`);
    const url = `http://127.0.0.1:${port}`;
    const publish = publisher(url);
    await publish(config(0));
    const out = join(work, "agent.json");
    const execLog = join(work, "exec.log");
    writeFileSync(execLog, "");
    const agent = spawn(
      process.execPath,
      [
        cli,
        "agent",
        "--endpoint",
        url,
        "--env",
        "staging",
        "--trusted-keys",
        keysFile,
        "--out",
        out,
        "--exec",
        `date +%s%N >> ${execLog}`,
      ],
      { stdio: ["ignore", "ignore", "pipe"] },
    );
    children.add(agent);
    let log = "";
    agent.stderr.on("data", (d) => (log += d.toString()));
    while (!log.includes("wrote the configuration")) await sleep(20);
    const toFile = [];
    const toExec = [];
    for (let p = 1; p <= PUSHES; p++) {
      const lines = () => readFileSync(execLog, "utf8").trim().split("\n").filter(Boolean);
      const before = lines().length;
      const t0 = Date.now();
      await publish(config(p));
      while (lines().length === before) await sleep(2);
      const execAt = Number(lines().at(-1)) / 1e6;
      const m = [
        ...log.matchAll(/"time":"([^"]+)","level":"info","msg":"wrote the configuration","version":(\d+)/g),
      ].find((x) => Number(x[2]) === p + 1);
      if (m) toFile.push(Date.parse(m[1]) - t0);
      toExec.push(execAt - t0);
    }
    agent.kill("SIGTERM");
    await new Promise((r) => agent.once("exit", r));
    children.delete(agent);
    table(
      `push → \`strata agent\`: file replaced, then --exec run (${PUSHES} pushes, one at a time)`,
      ["measure", "p50", "p99"],
      [
        ["push → file replaced", `${pct(toFile, 50)} ms`, `${pct(toFile, 99)} ms`],
        ["push → --exec command running", `${pct(toExec, 50).toFixed(0)} ms`, `${pct(toExec, 99).toFixed(0)} ms`],
      ],
    );
    await s.stop();
  }

  // ---- cold import --------------------------------------------------------------------------------------------
  if (section("import")) {
    const runs = quick ? 5 : 15;
    const bare = time(process.execPath, ["--input-type=module", "-e", ""], { runs });
    const sdk = time(process.execPath, ["--input-type=module", "-e", 'await import("strata-config/client")'], { runs });
    const sdkUsed = time(
      process.execPath,
      [
        "--input-type=module",
        "-e",
        'const { StrataClient } = await import("strata-config/client"); new StrataClient({ endpoint: "http://127.0.0.1:9", environment: "e", service: "s", trustedKeys: ["ed25519:' +
          key.publicKey.text.slice(8) +
          '"] });',
      ],
      { runs },
    );
    table(
      `cold import (whole process, median of ${runs}, from the package root by its name)`,
      ["command", "wall", "import cost (− bare node)"],
      [
        ["`node -e ''`", `${bare.toFixed(0)} ms`, "-"],
        ['`await import("strata-config/client")`', `${sdk.toFixed(0)} ms`, `${(sdk - bare).toFixed(0)} ms`],
        ["… and construct a client (keys parsed)", `${sdkUsed.toFixed(0)} ms`, `${(sdkUsed - bare).toFixed(0)} ms`],
      ],
    );
  }
  console.log(`\nload average at the end: ${spawnSync("uptime", { encoding: "utf8" }).stdout.trim()}`);
} finally {
  for (const c of children) c.kill("SIGKILL");
  rmSync(work, { recursive: true, force: true });
}
