#!/usr/bin/env node
// Benchmarks of the runtime side (the SDK and `strata agent`, issue 11). Prints tables.
//
//   npm run build && node bench/client.bench.mjs [--quick] [--only get,report,fleet,reconnect,rollback,agent,import]
//     [--baseline DIR]  (rollback: DIR is a built checkout of an earlier commit; its SDK takes turns with this one)
//
// - get() against a plain property read of a frozen object (goal within 3×), and allocations per call
//   (goal zero: heap growth and garbage collections over 5 M calls); get() with a health report per call
//   (report()) against get() alone.
// - Reporting on against off, side by side (goal: no measurable change): a request loop of four get() calls
//   with report() per request against the same loop on a client that never reports, and get() alone on each.
// - 1,000 SDK clients in one process on one `strata serve`: memory per client, push → last client p50/p99.
// - 200 of them reconnecting after the server restarts: the spread of their arrivals (full jitter; needs fleet).
// - Rollback decision (abort) → 1,000 SDK clients following a 50% canary on the stable content: p50/p99 of the
//   candidate cohort's switch (goal ≤ 1 s), and the snapshot bodies fetched for it (goal none).
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
// --only SECTIONS: some of get, report, fleet (1,000 clients), reconnect (then 200 of them after a restart), rollback,
// agent, import.
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

/** When `/v1/status` first shows `count` clients running `version` (polled every 50 ms, at most 30 s). */
async function fleetConfirmed(url, version, count) {
  const deadline = performance.now() + 30_000;
  for (;;) {
    const status = await (await fetch(`${url}/v1/status`)).json();
    if (status.clients.filter((c) => c.version === version).length >= count) return performance.now();
    if (performance.now() > deadline)
      throw new Error(`the endpoint's status never showed ${count} clients on v${version}`);
    await sleep(50);
  }
}

const config = (n) => ({
  app: { name: "demo", counter: n },
  database: { host: "db.internal", pool: { max: 10, min: 1, idle_timeout_ms: 30000 } },
  http: { port: 8080, timeout_ms: 2500 },
});

/** Profiles this process between start() and stop(name), each profile written to `${prefix}-${name}-N.cpuprofile`. */
async function profiler(prefix) {
  const { Session } = await import("node:inspector/promises");
  const session = new Session();
  session.connect();
  await session.post("Profiler.enable");
  await session.post("Profiler.setSamplingInterval", { interval: 200 });
  let n = 0;
  return {
    start: () => session.post("Profiler.start"),
    stop: async (name) => {
      const { profile } = await session.post("Profiler.stop");
      writeFileSync(`${prefix}-${name}-${++n}.cpuprofile`, JSON.stringify(profile));
    },
  };
}

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

  // ---- reporting on against off, side by side --------------------------------------------------------------
  // A service's hot loop: each request reads four keys and builds its answer from them. "on": a client whose
  // reporting is running (report() called with each request, its timer armed, its batches sent every 5 s);
  // "off": the same loop on a client that never reports (no totals, no timer). Two rows: the request with
  // report() against without, and get() alone on the reporting client against the silent one (what reporting
  // costs the reads themselves). Rounds alternate the order; ratio = median of the rounds' ratios, spread =
  // their interquartile range.
  if (section("report")) {
    const port = await freePort();
    const s = await serve(port, `file:${join(work, "store-report")}`);
    const url = `http://127.0.0.1:${port}`;
    await publisher(url)(config(0));
    const make = () =>
      new StrataClient({ endpoint: url, environment: "staging", service: "bench", trustedKeys: [key.publicKey.text] });
    const on = [make(), make()];
    const off = [make(), make()];
    await Promise.all([...on, ...off].map((c) => c.ready()));
    const N = quick ? 1_000_000 : 3_000_000;
    let sink = 0;
    const handle = (c, i) =>
      (c.get("database.host").length + c.get("database.pool.max") + c.get("http.port") + c.get("http.timeout_ms") + i) &
      0xff;
    const serveOn = () => {
      for (let i = 0; i < N; i++) {
        const c = on[i & 1];
        sink += handle(c, i);
        c.report({ requests: 1, latencyMs: i & 15 });
      }
    };
    const serveOff = () => {
      for (let i = 0; i < N; i++) sink += handle(off[i & 1], i);
    };
    // The floor: the same request adding one sample to plain counters by hand (what any reporting costs at least).
    const counters = [0, 1].map(() => ({ requests: 0, count: 0, sum: 0, sumSquares: 0 }));
    const serveCounted = () => {
      for (let i = 0; i < N; i++) {
        sink += handle(off[i & 1], i);
        const t = counters[i & 1];
        const l = i & 15;
        t.requests++;
        t.count++;
        t.sum += l;
        t.sumSquares += l * l;
      }
    };
    const getOn = () => {
      for (let i = 0; i < N; i++) sink += on[i & 1].get("database.pool.max");
    };
    const getOff = () => {
      for (let i = 0; i < N; i++) sink += off[i & 1].get("database.pool.max");
    };
    const once = (fn) => {
      const t = process.hrtime.bigint();
      fn();
      return Number(process.hrtime.bigint() - t) / N;
    };
    for (const warm of [serveOn, serveOff, serveCounted, getOn, getOff]) warm();
    const rounds = quick ? 9 : 21;
    const ns = { serveOn: [], serveOff: [], serveCounted: [], getOn: [], getOff: [] };
    for (let r = 0; r < rounds; r++) {
      // Alternate which goes first: a round's second run inherits the first's GC debt and CPU frequency.
      if (r % 2 === 0) {
        ns.serveOff.push(once(serveOff));
        ns.serveOn.push(once(serveOn));
        ns.serveCounted.push(once(serveCounted));
        ns.getOff.push(once(getOff));
        ns.getOn.push(once(getOn));
      } else {
        ns.serveOn.push(once(serveOn));
        ns.serveOff.push(once(serveOff));
        ns.serveCounted.push(once(serveCounted));
        ns.getOn.push(once(getOn));
        ns.getOff.push(once(getOff));
      }
    }
    const ratios = (a, b) => a.map((x, i) => x / b[i]);
    const spread = (xs) =>
      `${pct(xs, 25).toFixed(3)}–${pct(xs, 75).toFixed(3)} (all ${Math.min(...xs).toFixed(3)}–${Math.max(...xs).toFixed(3)})`;
    const serveRatios = ratios(ns.serveOn, ns.serveOff);
    const getRatios = ratios(ns.getOn, ns.getOff);
    const countedRatios = ratios(ns.serveCounted, ns.serveOff);
    const sent = on.reduce((n, c) => n + c.reportStats().sent, 0);
    table(
      `reporting on against off (${rounds} alternated rounds of ${N.toLocaleString("en")}; ns: the fastest round; ratio on/off: the median of the rounds' ratios, spread: quartiles and range)`,
      ["loop", "off ns", "on ns", "on / off", "spread of the ratio"],
      [
        [
          "request: 4 × get() + its answer (+ `report({ requests: 1, latencyMs })` when on)",
          Math.min(...ns.serveOff).toFixed(2),
          Math.min(...ns.serveOn).toFixed(2),
          `${median(serveRatios).toFixed(3)}×`,
          spread(serveRatios),
        ],
        [
          "the same request + one sample added to plain counters by hand (the floor of any reporting)",
          Math.min(...ns.serveOff).toFixed(2),
          Math.min(...ns.serveCounted).toFixed(2),
          `${median(countedRatios).toFixed(3)}×`,
          spread(countedRatios),
        ],
        [
          '`get("database.pool.max")` alone, reporting client against a silent one',
          Math.min(...ns.getOff).toFixed(2),
          Math.min(...ns.getOn).toFixed(2),
          `${median(getRatios).toFixed(3)}×`,
          spread(getRatios),
        ],
      ],
    );
    console.log(
      `batches sent by the reporting clients during the run: ${sent}; dropped ${on.reduce((n, c) => n + c.reportStats().dropped, 0)}`,
    );
    if (sink === 42) console.log("");
    for (const c of [...on, ...off]) await c.close();
    await s.stop();
  }

  // ---- 1,000 clients -------------------------------------------------------------------------------------
  if (section("fleet")) {
    const CLIENTS = 1000;
    const PUSHES = quick ? 5 : 20;
    // The first pushes also compile the client's and the server's paths (the bench's one process runs them
    // 1,000 times at once, a real fleet's processes once each): they are made and not counted.
    const WARM_UP_PUSHES = 2;
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
    const confirmations = [];
    for (let p = 1; p <= WARM_UP_PUSHES + PUSHES; p++) {
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
      if (p > WARM_UP_PUSHES) {
        last.push(Math.max(...lat));
        p50s.push(median(lat));
      }
      // Each push starts from a quiet fleet, as pushes minutes apart do: every client has told the endpoint it
      // runs this version (the requests that say so are spread over a couple of seconds after the switch;
      // in this one process they would otherwise compete with the next push for the CPU).
      const confirmedAt = await fleetConfirmed(url, p + 1, CLIENTS);
      if (p > WARM_UP_PUSHES) confirmations.push(confirmedAt - t0);
    }
    table(
      `${CLIENTS} SDK clients in one process, one \`strata serve\` (file store), ${PUSHES} pushes after ${WARM_UP_PUSHES} not counted`,
      ["measure", "value"],
      [
        ["JS heap per client", `${heapPer.toFixed(1)} KiB`],
        ["RSS per client", `${rssPer.toFixed(1)} KiB`],
        ["push → median client (p50 over pushes)", `${median(p50s).toFixed(0)} ms`],
        ["push → last client p50", `${pct(last, 50).toFixed(0)} ms`],
        ["push → last client p99", `${pct(last, 99).toFixed(0)} ms`],
        ["push → the endpoint's status shows every client on it, p50", `${pct(confirmations, 50).toFixed(0)} ms`],
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

  // ---- rollback: decision → 1,000 clients on the stable content -----------------------------------------------
  if (section("rollback")) {
    const CLIENTS = 1000;
    // --baseline DIR: a checkout of an earlier commit, built (its dist/client): its SDK's fleet and this one's
    // take turns against the same server in this run, so the two are compared on the same load.
    const baselineAt = process.argv.indexOf("--baseline");
    const fleets = [["this build", StrataClient]];
    if (baselineAt > 0) {
      const dir = process.argv[baselineAt + 1];
      const { StrataClient: Baseline } = await import(join(dir, "dist/client/index.js"));
      fleets.push([`baseline (${dir})`, Baseline]);
    }
    // --profile FILE: a CPU profile of this process from each decision to its last switch (FILE-this-N.cpuprofile).
    const profileAt = process.argv.indexOf("--profile");
    const profile = profileAt < 0 ? null : await profiler(process.argv[profileAt + 1]);
    const PASSES = quick ? 1 : 2;
    const ROUNDS = 2; // rollouts per fleet and pass
    const port = await freePort();
    const repo = join(work, "repo-rollback");
    const rollout = generateSigningKey();
    const { mkdirSync } = await import("node:fs");
    mkdirSync(repo, { recursive: true });
    writeFileSync(join(repo, "rollout.pem"), rollout.pem, { mode: 0o600 });
    const rolloutPublic = parseSigningKey(rollout.pem).publicKey.text;
    writeFileSync(
      join(repo, "strata.yaml"),
      [
        "version: 1",
        "environments:",
        "  staging: {}",
        "signing:",
        `  trusted_keys: ["${key.publicKey.text}"]`,
        "rollouts:",
        `  trusted_keys: ["${rolloutPublic}"]`,
        "  environments:",
        "    staging:",
        "      canary: { percent: 50, bake: 1h }",
        "",
      ].join("\n"),
    );
    const caps = ["--max-connections", "4096", "--max-connections-per-client", "4096"];
    const s = await serve(port, `file:${join(work, "store-rollback")}`, [
      ...caps,
      "--repo",
      repo,
      "--rollout-key",
      join(repo, "rollout.pem"),
    ]);
    const url = `http://127.0.0.1:${port}`;
    const publish = publisher(url);
    await publish(config(0));
    let published = 0;
    const bodies = async () => {
      let n = 0;
      for (const m of (await (await fetch(`${url}/metrics`, { headers: { connection: "close" } })).text()).matchAll(
        /^strata_http_requests_total\{([^}]*)\} (\d+)$/gm,
      ))
        if (/method="GET"/.test(m[1]) && /route="(snapshot|version)"/.test(m[1]) && /status="200"/.test(m[1]))
          n += Number(m[2]);
      return n;
    };
    /** One fleet of CLIENTS made with `Client`, ROUNDS rollouts each aborted: its candidates' switch times. */
    const runFleet = async (Client, out) => {
      const clients = [];
      for (let i = 0; i < CLIENTS; i += 50) {
        const batch = Array.from(
          { length: Math.min(50, CLIENTS - i) },
          (_, j) =>
            new Client({
              endpoint: url,
              environment: "staging",
              service: "fleet",
              instance: `r-${i + j}`,
              trustedKeys: [key.publicKey.text],
              rolloutKeys: [rolloutPublic],
              timeoutMs: 30_000,
            }),
        );
        await Promise.all(batch.map((c) => c.ready()));
        clients.push(...batch);
      }
      for (let r = 1; r <= ROUNDS; r++) {
        await publish(config(++published));
        const plan = JSON.parse(
          await (await fetch(`${url}/v1/environments/staging/plan`, { headers: { connection: "close" } })).text(),
        );
        while (!clients.every((c) => c.rollout()?.planVersion === plan.planVersion)) await sleep(20);
        await sleep(500); // the confirmations of the start settled
        const candidates = clients.filter((c) => c.rollout().cohort === "candidate");
        const before = await bodies();
        const arrivals = [];
        const done = new Promise((resolve) => {
          for (const c of candidates) {
            const off = c.on("change", () => {
              arrivals.push(performance.now());
              off();
              if (arrivals.length === candidates.length) resolve();
            });
          }
        });
        if (profile !== null) await profile.start();
        const cpu0 = process.cpuUsage();
        const t0 = performance.now();
        const res = await fetch(`${url}/v1/environments/staging/rollout/abort`, {
          method: "POST",
          headers: { "content-type": "application/json", connection: "close" },
          body: JSON.stringify({ reason: "bench" }),
        });
        if (res.status !== 200) throw new Error(`abort: ${res.status} ${await res.text()}`);
        await done;
        const cpu = process.cpuUsage(cpu0);
        if (profile !== null) await profile.stop(Client === StrataClient ? "this" : "baseline");
        const lat = arrivals.map((a) => a - t0);
        out.switches.push(...lat);
        out.lasts.push(Math.max(...lat));
        out.cpu.push((cpu.user + cpu.system) / 1000);
        out.moved += candidates.length;
        while (!clients.every((c) => c.rollout()?.phase === "aborted")) await sleep(20);
        out.fetched += (await bodies()) - before;
      }
      for (const c of clients) await c.close();
    };
    const results = new Map(fleets.map(([name]) => [name, { switches: [], lasts: [], cpu: [], moved: 0, fetched: 0 }]));
    for (let p = 0; p < PASSES; p++)
      for (const [name, Client] of p % 2 === 0 ? fleets : [...fleets].reverse())
        await runFleet(Client, results.get(name));
    const rows = [];
    const cell = (f) => [...results.values()].map(f);
    rows.push(["clients moved back to the stable content", ...cell((o) => String(o.moved))]);
    rows.push([
      "decision → first client on the stable content",
      ...cell((o) => `${Math.min(...o.switches).toFixed(0)} ms`),
    ]);
    rows.push(["decision → client on the stable content, p50", ...cell((o) => `${pct(o.switches, 50).toFixed(0)} ms`)]);
    rows.push(["decision → client on the stable content, p99", ...cell((o) => `${pct(o.switches, 99).toFixed(0)} ms`)]);
    rows.push(["decision → last client (worst round)", ...cell((o) => `${Math.max(...o.lasts).toFixed(0)} ms`)]);
    rows.push([
      "this process's CPU from the decision to the last switch (median round)",
      ...cell((o) => `${median(o.cpu).toFixed(0)} ms`),
    ]);
    rows.push(["snapshot bodies fetched for the rollbacks", ...cell((o) => String(o.fetched))]);
    table(
      `rollback decision (\`POST …/rollout/abort\`) → ${CLIENTS} SDK clients in one process following a 50% canary, ${PASSES * ROUNDS} rollouts per fleet (fleets take turns)`,
      ["measure", ...results.keys()],
      rows,
    );
    await s.stop();
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
