#!/usr/bin/env node
// Rollback decision → 1,000 SSE clients: the real `strata serve` endpoint (in this process, file store) runs a
// canary; raw event-stream readers (node:http, one connection each, as many SDK processes would hold; in
// this process too) follow the environment's stream; health reports with a breach are posted, the decision
// loop rolls back, and each reader's arrival of the rolled-back plan is timed from the decision and from the
// report that caused it (which adds up to one
// --rollout-interval). The decision's time is the plan's createdAt (the loop's clock when it decided; the
// same machine's wall clock, millisecond resolution). Peer: AWS AppConfig's agent sees a rollback at its next poll (45 s by default).
// Usage: npm run build && node bench/rollout-server.bench.mjs [--clients N] [--rounds N]
import { existsSync } from "node:fs";
import { request } from "node:http";
import { loadavg } from "node:os";
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { machine, root, table, tmp } from "./lib.mjs";

if (!existsSync(join(root, "dist/server/index.js"))) {
  console.error("bench/rollout-server.bench.mjs needs the build: run `npm run build` first");
  process.exit(1);
}
const arg = (name, dflt) => {
  const i = process.argv.indexOf(name);
  return i < 0 ? dflt : Number(process.argv[i + 1]);
};
const CLIENTS = arg("--clients", 1000);
const ROUNDS = arg("--rounds", 5);
const INTERVAL_MS = 100;

const { startServer, createJsonLogger } = await import(join(root, "dist/server/index.js"));
const { openStore } = await import(join(root, "dist/io/stores/index.js"));
const { parseRolloutSettings } = await import(join(root, "dist/core/rollout/index.js"));
const { parseYaml } = await import(join(root, "dist/core/yaml/parse.js"));
const { generateSigningKey, parseSigningKey, createSnapshot, computeContentDigest, serializeSnapshot } = await import(
  join(root, "dist/core/snapshot/index.js")
);

const publisher = parseSigningKey(generateSigningKey().pem);
const rolloutKey = parseSigningKey(generateSigningKey().pem);
const yaml = [
  "version: 1",
  "environments:",
  "  production: {}",
  "rollouts:",
  `  trusted_keys: ["${rolloutKey.publicKey.text}"]`,
  "  environments:",
  "    production:",
  "      canary: { percent: 5, bake: 15m }",
  "      gates:",
  "        - { metric: error-rate, max_increase: 1%, min_samples: 1000 }",
  "",
].join("\n");
const settings = parseRolloutSettings(
  parseYaml(yaml, "strata.yaml", { keys: "any", allowUnset: false }).documents[0],
).settings;

const log = createJsonLogger({ level: "warn" });
const store = await openStore(`file:${tmp("strata-rollout-bench-")}`);
const server = await startServer(
  {
    store,
    trustedKeys: [publisher.publicKey],
    tokens: null,
    log,
    limits: { maxConnections: CLIENTS + 200, maxConnectionsPerAddress: CLIENTS + 200 },
    rollouts: {
      key: rolloutKey,
      settings,
      chains: new Map([["production", ["production"]]]),
      prometheus: null,
      webhooks: [],
      intervalMs: INTERVAL_MS,
    },
  },
  { host: "127.0.0.1", port: 0 },
);
const { port } = server.address;

function snapshot(version, previous) {
  const config = { app: { release: version } };
  return createSnapshot(
    {
      environment: "production",
      version,
      previous: previous?.digest ?? null,
      rollbackOf: null,
      createdAt: new Date(),
      source: {
        repository: null,
        commit: null,
        pullRequest: null,
        approvedBy: [],
        pushedBy: "bench",
        emergency: false,
      },
      contentDigest: computeContentDigest(config, []),
      config,
      secrets: null,
    },
    [publisher],
  );
}
async function push(s) {
  const res = await fetch(`${server.url}/v1/environments/production/snapshot`, {
    method: "PUT",
    headers: { "content-type": "application/json", "if-match": `"${s.version - 1}"` },
    body: serializeSnapshot(s),
  });
  if (res.status !== 201) throw new Error(`push ${s.version}: ${res.status} ${await res.text()}`);
}

/** One raw SSE reader: calls onPlan(plan, now) for each `plan` frame. */
function reader(i, onPlan) {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: "127.0.0.1",
        port,
        path: "/v1/environments/production/events",
        headers: { accept: "text/event-stream", "strata-client": `instance=bench-${i}` },
        agent: false,
      },
      (res) => {
        if (res.statusCode !== 200) return reject(new Error(`reader ${i}: ${res.statusCode}`));
        res.setEncoding("utf8");
        let buffer = "";
        res.on("data", (chunk) => {
          buffer += chunk;
          let k;
          while ((k = buffer.indexOf("\n\n")) >= 0) {
            const block = buffer.slice(0, k);
            buffer = buffer.slice(k + 2);
            if (block.startsWith("event: plan\n"))
              onPlan(JSON.parse(block.slice(block.indexOf("data: ") + 6)), performance.now(), Date.now());
          }
        });
        resolve(req);
      },
    );
    req.on("error", reject);
    req.end();
  });
}

const loadBefore = loadavg()
  .map((x) => x.toFixed(2))
  .join(", ");
let previous = snapshot(1, null);
await push(previous);
let waiting = null;
const arrivals = [];
const requests = [];
for (let i = 0; i < CLIENTS; i++)
  requests.push(
    await reader(i, (plan, now, wall) => {
      if (waiting !== null && plan.phase === "rolled-back" && plan.candidate.version === waiting.version) {
        // The plan's createdAt is the clock the decision was made with (the loop's `now`).
        arrivals.push([now, wall - Date.parse(plan.createdAt)]);
        if (arrivals.length === CLIENTS) waiting.done();
      }
    }),
  );

const fromDecision = [];
const fromReport = [];
for (let round = 0; round < ROUNDS; round++) {
  const candidate = snapshot(previous.version + 1, previous);
  await push(candidate);
  previous = candidate;
  arrivals.length = 0;
  const all = new Promise((resolve) => {
    waiting = { version: candidate.version, done: resolve };
  });
  const reportedAt = performance.now();
  const res = await fetch(`${server.url}/v1/environments/production/reports`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({
      reports: [
        { instance: `canary-${round}`, version: candidate.version, requests: 20000, errors: 2000, intervalMs: 300000 },
        { instance: `stable-${round}`, version: 1, requests: 100000, errors: 1000, intervalMs: 300000 },
      ],
    }),
  });
  if (res.status !== 202) throw new Error(`reports: ${res.status}`);
  await all;
  waiting = null;
  for (const [t, sinceDecision] of arrivals) {
    fromDecision.push(sinceDecision);
    fromReport.push(t - reportedAt);
  }
}

const q = (xs, p) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)];
};
const ms = (x) => `${x.toFixed(1)} ms`;
table(
  `Rollback → ${CLIENTS} SSE clients on the rolled-back plan (${ROUNDS} rollouts, ${fromDecision.length} arrivals; --rollout-interval ${INTERVAL_MS}ms)`,
  ["measure", "p50", "p99", "max", "peer (AWS AppConfig agent)"],
  [
    [
      "rollback decision (plan createdAt) → plan received",
      ms(q(fromDecision, 50)),
      ms(q(fromDecision, 99)),
      ms(Math.max(...fromDecision)),
      "next poll: 45 s by default",
    ],
    [
      "breaching report accepted → plan received",
      ms(q(fromReport, 50)),
      ms(q(fromReport, 99)),
      ms(Math.max(...fromReport)),
      "",
    ],
  ],
);
console.log(`\n${machine()}`);
console.log(`load average before: ${loadBefore}; after: ${spawnSync("uptime", { encoding: "utf8" }).stdout.trim()}`);
for (const r of requests) r.destroy();
await server.close();
process.exit(0);
