#!/usr/bin/env node
// A fleet on loopback: etcd, two `strata serve` on it (the built CLI), and N event-stream clients split
// across them, held by several child processes of this one (a process may hold at most 20,000 open files
// here). One publish through the first server; every client records when the event reached it.
//
//   npm run build && node bench/fleet.bench.mjs [--clients 20000] [--servers 2] [--per-process 5000]
//        [--pushes 5] [--rounds 1] [--before DIR] [--floor] [--snapshot-bytes 2000] [--timeout 300]
//
// Prints, per round: the receipt times of each publish (from the PUT sent to the event read by a client:
// p50, p99, max, over all clients and pushes), the spread (last − first receipt of a publish), clients that
// never got an event, the servers' resident memory per open connection (RSS with the clients idle minus RSS
// before they connected, over the connections), and etcd's own count of watchers (one per server, however
// many clients). With --before DIR (an earlier checkout, built: `npm ci && npm run build`
// there), the same rounds alternate between its CLI and this one, and the medians of both are printed side by
// side. With --floor, bare node:http servers (bench/fleet-floor-server.mjs) take a turn in each round with the
// same clients, sent each publish by the bench directly: what this machine's kernel and Node cost alone.
// Needs etcd (Debian: etcd-server; STRATA_ETCD names another binary). Loopback only; every child is killed when the run ends or at --timeout.
import { fork, spawn } from "node:child_process";
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import net from "node:net";
import { loadavg } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { etcdArgs, etcdHealthy, freePort, listeningUrl, machine, median, root, table, tmp } from "./lib.mjs";

const now = () => performance.timeOrigin + performance.now();
/** The etcd binary (STRATA_ETCD overrides: another version, another path). */
const ETCD = process.env.STRATA_ETCD ?? "etcd";
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
/** The build label of bench/fleet-floor-server.mjs in a round's rotation. */
const FLOOR = Symbol("floor");

// ---- a client process: N raw event-stream connections -------------------------------------------------------
if (process.argv[2] === "--child") {
  /** version → receipt times (epoch ms) */
  const arrivals = new Map();
  const sockets = [];
  let connected = 0;
  process.on("disconnect", () => process.exit(0));
  process.on("message", async (m) => {
    if (m.type === "connect") {
      const { targets, environment, lastEventId } = m;
      const open = (target) =>
        new Promise((resolve) => {
          const [host, port] = target.split(":");
          const s = net.connect(Number(port), host);
          s.setNoDelay(true);
          let tail = "";
          let answered = false;
          s.on("data", (chunk) => {
            const t = now();
            const text = tail + chunk.toString("latin1");
            if (!answered) {
              answered = true;
              connected++;
              resolve();
            }
            // A frame's id line: data lines are JSON, so a raw line break never occurs inside them.
            for (const hit of text.matchAll(/\nid: (\d+)\n/g)) {
              const v = Number(hit[1]);
              let list = arrivals.get(v);
              if (list === undefined) arrivals.set(v, (list = []));
              list.push(t);
            }
            tail = text.slice(-24);
          });
          s.on("error", () => resolve());
          s.on("close", () => {
            if (!answered) resolve();
          });
          s.write(
            `GET /v1/environments/${environment}/events HTTP/1.1\r\nHost: ${target}\r\nAccept: text/event-stream\r\n` +
              `Last-Event-ID: ${lastEventId}\r\n\r\n`,
          );
          sockets.push(s);
        });
      // In batches: a listen backlog of 511 and two busy cores.
      for (let i = 0; i < m.count; i += 250)
        await Promise.all(
          Array.from({ length: Math.min(250, m.count - i) }, (_, j) => open(targets[(i + j) % targets.length])),
        );
      process.send({ type: "connected", connected });
    } else if (m.type === "collect") {
      const times = arrivals.get(m.version) ?? [];
      process.send({ type: "times", version: m.version, times });
    } else if (m.type === "count") {
      process.send({ type: "count", version: m.version, n: arrivals.get(m.version)?.length ?? 0 });
    }
  });
} else await main();

async function main() {
  const { values: opts } = parseArgs({
    options: {
      clients: { type: "string", default: "20000" },
      servers: { type: "string", default: "2" },
      "per-process": { type: "string", default: "5000" },
      pushes: { type: "string", default: "5" },
      rounds: { type: "string", default: "1" },
      before: { type: "string" },
      "snapshot-bytes": { type: "string", default: "2000" },
      timeout: { type: "string", default: "300" },
      floor: { type: "boolean", default: false },
    },
  });
  const CLIENTS = Number(opts.clients);
  const SERVERS = Number(opts.servers);
  const PER_PROCESS = Math.min(18_000, Number(opts["per-process"]));
  const PUSHES = Number(opts.pushes);
  const ROUNDS = Number(opts.rounds);
  const deadline = Date.now() + Number(opts.timeout) * 1000 * ROUNDS * (opts.before ? 2 : 1);

  const { computeContentDigest, createSnapshot, generateSigningKey, parseSigningKey, serializeSnapshot } = await import(
    join(root, "dist/core/snapshot/index.js")
  );
  const work = tmp("strata-bench-fleet-");
  const { pem } = generateSigningKey();
  const key = parseSigningKey(pem);
  writeFileSync(join(work, "trusted.txt"), key.publicKey.text + "\n");

  const children = [];
  const killAll = () => {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill("SIGKILL");
  };
  process.on("exit", killAll);
  const guard = setTimeout(() => {
    console.error(`fleet bench: over --timeout, stopping`);
    killAll();
    process.exit(2);
  }, deadline - Date.now());
  guard.unref();

  async function startEtcd(dir) {
    const { url, args } = etcdArgs({
      name: "fleet",
      dataDir: dir,
      clientPort: await freePort(),
      peerPort: await freePort(),
    });
    const child = spawn(ETCD, args, { stdio: "ignore" });
    children.push(child);
    await etcdHealthy(url);
    return { url, child };
  }

  async function startServe(checkout, store) {
    const child = spawn(
      process.execPath,
      [
        join(checkout, "bin/strata.mjs"),
        "serve",
        "--store",
        store,
        "--listen",
        "127.0.0.1:0",
        "--trusted-keys",
        join(work, "trusted.txt"),
        // The whole fleet from one address (loopback): above the default caps, as behind a NAT.
        "--max-connections",
        String(CLIENTS + 1000),
        "--max-connections-per-client",
        String(CLIENTS + 1000),
      ],
      { stdio: ["ignore", "ignore", "pipe"] },
    );
    children.push(child);
    const url = await listeningUrl(child);
    child.stderr.resume();
    return { url, child };
  }

  /** A floor server (bench/fleet-floor-server.mjs), started like `strata serve`. */
  async function startFloor() {
    const child = spawn(process.execPath, [join(root, "bench", "fleet-floor-server.mjs")], {
      stdio: ["ignore", "ignore", "pipe"],
    });
    children.push(child);
    return { url: await listeningUrl(child, "floor server"), child };
  }

  const rssKiB = (pid) => Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))[1]);

  function makeConfig(bytes, seed) {
    const config = {};
    let size = 0;
    for (let n = 0; size < bytes; n++) {
      const ns = {};
      for (let k = 0; k < 10; k++) ns[`key_${k}`] = k % 2 === 0 ? `value-${seed}-${n}-${k}` : n * k + seed;
      config[`ns${n}`] = ns;
      size += JSON.stringify(ns).length + 8;
    }
    return config;
  }

  let chain = null;
  function nextSnapshot(environment, seed) {
    const config = makeConfig(Number(opts["snapshot-bytes"]), seed);
    const s = createSnapshot(
      {
        environment,
        version: (chain?.version ?? 0) + 1,
        previous: chain?.digest ?? null,
        createdAt: new Date(),
        source: { repository: "bench", commit: null, pushedBy: "bench" },
        contentDigest: computeContentDigest(config, []),
        config,
        secrets: null,
      },
      [key],
    );
    chain = s;
    return s;
  }

  async function publish(url, s) {
    const res = await fetch(`${url}/v1/environments/${s.environment}/snapshot`, {
      method: "PUT",
      headers: { "if-match": `"${s.version - 1}"`, "content-type": "application/json" },
      body: serializeSnapshot(s),
    });
    if (res.status !== 201) throw new Error(`publish ${s.version}: ${res.status} ${await res.text()}`);
  }

  /** Asks every client process; resolves with their answers. */
  function ask(procs, message, type) {
    return Promise.all(
      procs.map(
        (p) =>
          new Promise((resolve) => {
            const on = (m) => {
              if (m.type !== type) return;
              p.off("message", on);
              resolve(m);
            };
            p.on("message", on);
            p.send(message);
          }),
      ),
    );
  }

  const q = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];

  async function round(label, checkout, n) {
    // The floor: bare node:http servers, each sent every publish by the bench itself (no etcd between them).
    const floor = checkout === FLOOR;
    const etcd = floor ? null : await startEtcd(join(work, `etcd-${n}`));
    const store = floor ? null : `etcd://${etcd.url.slice("http://".length)}/fleet`;
    const servers = [];
    for (let i = 0; i < SERVERS; i++) servers.push(await (floor ? startFloor() : startServe(checkout, store)));
    const environment = "production";
    chain = null;
    const first = nextSnapshot(environment, 0);
    if (floor) chain = { version: first.version, digest: first.digest };
    else {
      await publish(servers[0].url, first);
      // Every server has loaded the current version (its first GET), then settles.
      for (const s of servers) await fetch(`${s.url}/v1/environments/${environment}/snapshot`).then((r) => r.text());
    }
    await sleep(1000);
    const rssBefore = servers.map((s) => rssKiB(s.child.pid));

    const procs = [];
    const targets = servers.map((s) => s.url.slice("http://".length));
    for (let left = CLIENTS, i = 0; left > 0; left -= PER_PROCESS, i++) {
      const p = fork(new URL(import.meta.url).pathname, ["--child"], {
        stdio: ["ignore", "inherit", "inherit", "ipc"],
      });
      children.push(p);
      procs.push(p);
      // Rotate the targets so every server gets its share from every process.
      const mine = targets.map((_, j) => targets[(i + j) % targets.length]);
      p.send({ type: "connect", targets: mine, environment, lastEventId: 1, count: Math.min(PER_PROCESS, left) });
    }
    const t0 = now();
    const connected = (
      await Promise.all(
        procs.map(
          (p) => new Promise((resolve) => p.once("message", (m) => resolve(m.type === "connected" ? m.connected : 0))),
        ),
      )
    ).reduce((a, b) => a + b, 0);
    const connectSeconds = (now() - t0) / 1000;
    // Idle with every stream open: what a connection costs the server at rest.
    await sleep(3000);
    const rssIdle = servers.map((s) => rssKiB(s.child.pid));
    const streams = await Promise.all(
      servers.map(async (s) =>
        floor
          ? Number(await fetch(`${s.url}/streams`).then((r) => r.text()))
          : Number(
              /^strata_watchers\{kind="sse"\} (\d+)$/m.exec(
                await fetch(`${s.url}/metrics`).then((r) => r.text()),
              )?.[1] ?? NaN,
            ),
      ),
    );
    const etcdMetrics = floor ? "" : await fetch(`${etcd.url}/metrics`).then((r) => r.text());
    const etcdWatchers = Number(/^etcd_debugging_mvcc_watcher_total (\d+)/m.exec(etcdMetrics)?.[1] ?? NaN);
    const etcdStreams = Number(/^etcd_debugging_mvcc_watch_stream_total (\d+)/m.exec(etcdMetrics)?.[1] ?? NaN);

    const latencies = [];
    const spreads = [];
    const p99s = [];
    let missing = 0;
    for (let i = 1; i <= PUSHES; i++) {
      const s = nextSnapshot(environment, i);
      const sent = now();
      if (floor) {
        chain = { version: s.version, digest: s.digest };
        const body = `data: ${JSON.stringify({ environment, version: s.version, digest: s.digest })}\n\n`;
        await Promise.all(servers.map((x) => fetch(`${x.url}/publish?id=${s.version}`, { method: "POST", body })));
      } else await publish(servers[0].url, s);
      // Until every connected client has it, or 10 s.
      for (let w = 0; w < 200; w++) {
        const counts = await ask(procs, { type: "count", version: s.version }, "count");
        if (counts.reduce((a, c) => a + c.n, 0) >= connected) break;
        await sleep(50);
      }
      const times = (await ask(procs, { type: "collect", version: s.version }, "times")).flatMap((m) => m.times);
      missing += connected - times.length;
      const lat = times.map((t) => t - sent).sort((a, b) => a - b);
      latencies.push(...lat);
      if (lat.length > 0) {
        spreads.push(lat.at(-1) - lat[0]);
        p99s.push(q(lat, 99));
      }
      await sleep(1000);
    }
    latencies.sort((a, b) => a - b);
    for (const p of procs) p.kill("SIGKILL");
    for (const s of servers) s.child.kill("SIGKILL");
    etcd?.child.kill("SIGKILL");
    await sleep(500);
    const perConnection = servers.map((_, i) => ((rssIdle[i] - rssBefore[i]) * 1024) / Math.max(1, streams[i]));
    return {
      label,
      connected,
      connectSeconds,
      streams,
      etcdWatchers,
      etcdStreams,
      p50: q(latencies, 50),
      p99: q(latencies, 99),
      max: latencies.at(-1),
      p99OfPushes: median(p99s),
      spread: median(spreads),
      missing,
      perConnectionKiB: perConnection.map((b) => b / 1024),
      rssIdleMiB: rssIdle.map((k) => k / 1024),
    };
  }

  const builds = [
    ...(opts.before
      ? [
          ["before", opts.before],
          ["after", root],
        ]
      : [["this", root]]),
    ...(opts.floor ? [["floor", FLOOR]] : []),
  ];
  const results = [];
  console.log(
    `fleet bench: ${CLIENTS} clients over ${SERVERS} servers on one etcd, ${PUSHES} pushes per round, ` +
      `${Math.ceil(CLIENTS / PER_PROCESS)} client processes; ${machine()}; load average ${loadavg()
        .map((l) => l.toFixed(2))
        .join(" ")}`,
  );
  for (let r = 0; r < ROUNDS; r++) {
    for (const [label, checkout] of r % 2 === 0 ? builds : [...builds].reverse()) {
      const res = await round(label, checkout, results.length);
      res.load = loadavg()[0];
      results.push(res);
      console.log(JSON.stringify(res));
    }
  }
  const f = (x, d = 0) => (Number.isFinite(x) ? x.toFixed(d) : "?");
  const kib = (xs) => xs.map((k) => f(k, 1)).join(", ");
  table(
    "One publish to the fleet (receipt = PUT sent → event read by the client)",
    [
      "build",
      "round",
      "clients",
      "p50 ms",
      "p99 ms",
      "max ms",
      "spread ms",
      "missing",
      "KiB/conn (RSS)",
      "etcd watchers",
      "load",
    ],
    results.map((r, i) => [
      r.label,
      String(Math.floor(i / builds.length) + 1),
      `${r.connected} (${r.streams.join("+")})`,
      f(r.p50),
      f(r.p99),
      f(r.max),
      f(r.spread),
      String(r.missing),
      kib(r.perConnectionKiB),
      Number.isNaN(r.etcdWatchers) ? "-" : `${r.etcdWatchers} (${r.etcdStreams} streams)`,
      f(r.load, 2),
    ]),
  );
  if (builds.length > 1) {
    const labels = builds.map(([label]) => label);
    const by = (label, field) => median(results.filter((r) => r.label === label).map(field));
    const row = (name, field, d) => [name, ...labels.map((l) => f(by(l, field), d))];
    table(
      `Medians over rounds (the floor: bare node:http servers, each sent every publish directly)`,
      ["measure", ...labels],
      [
        row("p99 receipt, ms", (r) => r.p99, 0),
        row("spread, ms", (r) => r.spread, 0),
        row("server RSS per idle connection, KiB", (r) => median(r.perConnectionKiB), 1),
      ],
    );
  }
  rmSync(work, { recursive: true, force: true });
  clearTimeout(guard);
  killAll();
}
