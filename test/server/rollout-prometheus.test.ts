// @module-tag e2e
// A PromQL gate through the endpoint's own decision loop, with nothing stood in: the built `strata serve
// --prometheus`, a real Prometheus (Debian's package) scraping a synthetic service, and the service's
// instances reading their config through the SDK (one small HTTP target per instance, each exporting its
// request counter labelled by the SDK's metricLabels() and its metricsText()). The service fails more
// requests when `payments.timeout_ms` is too small. strata.yaml carries the gate as a user writes it.
//
// - a bad change is caught in the canary cohort and rolled back; the stable cohort never runs it;
// - a good change passes the gate and is promoted to everyone;
// - a quiet service (too few requests for the gate's minimum) holds: neither promoted nor rolled back, and
//   the status says why.
import { writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { StrataClient } from "../../src/client/index.js";
import type { RolloutStatusDocument } from "../../src/core/protocol/index.js";
import { versionFor, type RolloutPlan } from "../../src/core/rollout/plan.js";
import type { JsonObject } from "../../src/core/json.js";
import { cleanupTempdirs, tempdir } from "../support/gitdir.js";
import { spawnServe, type ServeProcess } from "../support/serve.js";
import { lacking } from "../support/shared.js";
import { freePort, startPrometheus, type PrometheusHandle } from "../io/prometheus/daemons.js";
import { parseRolloutSettings } from "../../src/core/rollout/index.js";
import { parseYaml } from "../../src/core/yaml/parse.js";
import { createPrometheusClient } from "../../src/io/prometheus/client.js";
import { openStore } from "../../src/io/stores/index.js";
import { startServer, type RunningServer } from "../../src/server/index.js";
import { EventReader, postReports, publisher, push, report, rolloutKey, version } from "./rollout-support.js";

const missing = lacking("the PromQL gate through strata serve", { tool: "prometheus" });

/** The gate as a user writes it (docs/rollouts.md): the service's own counter, split by the config version. */
const GATE = [
  "      - name: http-errors",
  "        metric: prometheus",
  `        bad: 'sum(increase(synthetic_requests_total{environment="{{environment}}",code="500",strata_config_version="{{version}}"}[{{window}}])) or vector(0)'`,
  `        total: 'sum(increase(synthetic_requests_total{environment="{{environment}}",strata_config_version="{{version}}"}[{{window}}]))'`,
  "        max_increase: 2%",
  "        min_samples: 1000",
];

function strataYaml(): string {
  return [
    "version: 1",
    "environments:",
    "  staging: {}",
    "  quiet: {}",
    "signing:",
    `  trusted_keys: ["${publisher.key.publicKey.text}"]`,
    "rollouts:",
    `  trusted_keys: ["${rolloutKey.key.publicKey.text}"]`,
    "  environments:",
    "    staging:",
    "      canary: { percent: 20, bake: 2s }",
    "      gates:",
    ...GATE,
    "    quiet:",
    "      canary: { percent: 50, bake: 1s }",
    "      gates:",
    ...GATE,
    "",
  ].join("\n");
}

/** Requests per instance between two scrapes, and how many fail with the config it runs. */
function traffic(
  environment: string,
  config: { timeout_ms?: unknown } | undefined,
): { requests: number; errors: number } {
  if (environment === "quiet") return { requests: 2, errors: 0 };
  // A timeout below what the payment provider needs fails a quarter of the requests; otherwise 1%.
  const bad = typeof config?.timeout_ms === "number" && config.timeout_ms < 100;
  return { requests: 500, errors: bad ? 125 : 5 };
}

/** One instance of the synthetic service: an SDK client and its /metrics, which Prometheus scrapes. */
interface Instance {
  id: string;
  environment: string;
  port: number;
  http: Server;
  client: StrataClient | null;
  /** Every config version this instance ever ran (from ready() and its change events). */
  ran: Set<number>;
  /** Counters per version and status code, as the service's metrics library keeps them. */
  counts: Map<string, number>;
}

async function startInstance(environment: string, id: string): Promise<Instance> {
  const instance: Instance = {
    id,
    environment,
    port: await freePort(),
    http: createServer(),
    client: null,
    ran: new Set(),
    counts: new Map(),
  };
  instance.http.on("request", (req, res) => {
    const c = instance.client;
    if (req.url !== "/metrics" || c === null) return void res.writeHead(c === null ? 503 : 404).end();
    // One scrape = one round of traffic, served with the config in use now: the counts Prometheus sees
    // are exact multiples of it, per version.
    const { strata_config_version } = c.metricLabels();
    const t = traffic(environment, c.get("payments") as { timeout_ms?: unknown });
    for (const [code, n] of [
      ["200", t.requests - t.errors],
      ["500", t.errors],
    ] as const) {
      const key = `${strata_config_version}\u0000${code}`;
      instance.counts.set(key, (instance.counts.get(key) ?? 0) + n);
    }
    const lines = [
      "# HELP synthetic_requests_total Requests served, by config version and status code.",
      "# TYPE synthetic_requests_total counter",
    ];
    for (const [key, n] of instance.counts) {
      const [v, code] = key.split("\u0000");
      lines.push(
        `synthetic_requests_total{environment="${environment}",strata_config_version="${v}",code="${code}"} ${n}`,
      );
    }
    res.writeHead(200, { "content-type": "text/plain; version=0.0.4" }).end(`${lines.join("\n")}\n${c.metricsText()}`);
  });
  await new Promise<void>((resolve) => instance.http.listen(instance.port, "127.0.0.1", resolve));
  return instance;
}

async function connect(instance: Instance, url: string): Promise<void> {
  const c = new StrataClient({
    endpoint: url,
    environment: instance.environment,
    service: "payments",
    instance: instance.id,
    trustedKeys: [publisher.key.publicKey.text],
    rolloutKeys: [rolloutKey.key.publicKey.text],
    backoff: { baseMs: 50, capMs: 400 },
    timeoutMs: 30_000,
  });
  c.on("change", (e) => instance.ran.add(e.version));
  await c.ready();
  instance.ran.add(c.version);
  instance.client = c;
}

const config = (timeoutMs: number, release: number): Record<string, JsonObject> => ({
  payments: { timeout_ms: timeoutMs, release },
});

let serve: ServeProcess;
let prometheus: PrometheusHandle;
const staging: Instance[] = [];
const quiet: Instance[] = [];
const readers: EventReader[] = [];

async function status(environment: string): Promise<RolloutStatusDocument> {
  const res = await fetch(`${serve.url}/v1/environments/${environment}/rollout`);
  expect(res.status).toBe(200);
  return (await res.json()) as RolloutStatusDocument;
}

async function plan(environment: string): Promise<RolloutPlan> {
  const res = await fetch(`${serve.url}/v1/environments/${environment}/plan`);
  expect(res.status).toBe(200);
  return (await res.json()) as RolloutPlan;
}

/** How many instances Prometheus has seen serve `version` in `environment` (its own count, from the scrapes). */
async function instancesSeenOn(environment: string, v: number): Promise<number> {
  const query = `count(count by (instance) (synthetic_requests_total{environment="${environment}",strata_config_version="${v}"}))`;
  const res = await fetch(`${prometheus.url}/api/v1/query?${new URLSearchParams({ query })}`);
  const doc = (await res.json()) as { data: { result: { value: [number, string] }[] } };
  return Number(doc.data.result[0]?.value[1] ?? 0);
}

describe.skipIf(missing)("a PromQL gate in strata serve's decision loop (real Prometheus, SDK instances)", () => {
  beforeAll(async () => {
    for (let i = 0; i < 10; i++) staging.push(await startInstance("staging", `payments-${i}`));
    for (let i = 0; i < 4; i++) quiet.push(await startInstance("quiet", `quiet-${i}`));
    prometheus = await startPrometheus(
      [...staging, ...quiet].map((i) => i.port),
      { scrapeInterval: "500ms" },
    );
    const repo = tempdir("strata-prom-rollout-repo-");
    writeFileSync(join(repo, "strata.yaml"), strataYaml());
    const keyFile = join(repo, "rollout.pem");
    writeFileSync(keyFile, rolloutKey.pem, { mode: 0o600 });
    serve = await spawnServe([
      "--store",
      `file:${tempdir("strata-prom-rollout-store-")}`,
      "--repo",
      repo,
      "--rollout-key",
      keyFile,
      "--prometheus",
      prometheus.url,
      "--rollout-interval",
      "250ms",
    ]);
  }, 180_000);

  afterAll(async () => {
    for (const r of readers) r.close();
    for (const i of [...staging, ...quiet]) {
      await i.client?.close();
      i.http.closeAllConnections();
      await new Promise<void>((resolve) => i.http.close(() => resolve()));
    }
    await serve?.stop("SIGKILL");
    await prometheus?.stop();
    cleanupTempdirs();
  });

  it("a bad change is caught in the canary cohort and rolled back before it reaches the rest; a good one is promoted", async () => {
    const events = await EventReader.open(serve.url);
    readers.push(events);
    const v1 = version(1, null, { config: config(2000, 1) });
    expect((await push(serve.url, v1)).status).toBe(201);
    await Promise.all(staging.map((i) => connect(i, serve.url)));

    // v2 sets a timeout the payment provider cannot meet.
    const v2 = version(2, v1, { config: config(5, 2) });
    expect((await push(serve.url, v2)).status).toBe(201);
    const started = await events.plan((p) => p.candidate.version === 2 && p.phase === "progressing");
    const roles = new Map(
      staging.map((i) => [i.id, versionFor(started as unknown as RolloutPlan, { instance: i.id }).role]),
    );
    // 20% of the ten instances the server knows: two in the canary.
    expect([...roles.values()].filter((r) => r === "candidate")).toHaveLength(2);

    const back = await events.plan((p) => p.candidate.version === 2 && p.phase === "rolled-back");
    expect(back.cohort.basisPoints).toBe(0);
    expect(back.reason).toMatch(/http-errors/);
    const doc = await status("staging");
    expect(doc.state).toMatchObject({ phase: "rolled-back", stable: { version: 1 }, candidate: { version: 2 } });
    const rollback = doc.decisions.find((d) => d.action === "rollback")!;
    expect(rollback.actor).toBe("strata serve");
    const breach = rollback.breaches![0]!;
    expect(breach).toMatchObject({ gate: "http-errors", metric: "prometheus", threshold: 0.02 });
    // The rates Prometheus measured: a quarter of the canary's requests failed, 1% of the control's.
    expect(breach.value).toBeCloseTo(0.25, 2);
    expect(breach.control).toBeCloseTo(0.01, 2);
    expect(breach.samples.candidate).toBeGreaterThanOrEqual(1000);
    expect(breach.samples.control).toBeGreaterThanOrEqual(1000);

    // Every instance is back on v1; the stable cohort never ran v2, by its own account and by Prometheus'.
    await vi.waitFor(() => expect(staging.map((i) => i.client!.version)).toEqual(staging.map(() => 1)), {
      timeout: 30_000,
      interval: 50,
    });
    for (const i of staging) expect([i.id, i.ran.has(2)]).toEqual([i.id, roles.get(i.id) === "candidate"]);
    expect(await instancesSeenOn("staging", 2)).toBe(2);

    // v3 is a good change (the timeout stays sane): the gate passes, the bake ends, everyone runs it.
    const v3 = version(3, v2, { config: config(2500, 3) });
    expect((await push(serve.url, v3)).status).toBe(201);
    const done = await events.plan((p) => p.candidate.version === 3 && p.phase === "promoted");
    expect(done.stable.version).toBe(1);
    expect(done.cohort.basisPoints).toBe(10_000);
    const promoted = (await status("staging")).decisions.find((d) => d.action === "promote")!;
    expect(promoted.evaluations).toContainEqual(
      expect.objectContaining({ gate: "http-errors", metric: "prometheus", verdict: "pass" }),
    );
    await vi.waitFor(() => expect(staging.map((i) => i.client!.version)).toEqual(staging.map(() => 3)), {
      timeout: 30_000,
      interval: 50,
    });
  }, 180_000);

  it("a quiet service with too few samples holds, neither passing nor failing, and the status says why", async () => {
    const v1 = version(1, null, { environment: "quiet", config: config(2000, 1) });
    expect((await push(serve.url, v1)).status).toBe(201);
    await Promise.all(quiet.map((i) => connect(i, serve.url)));
    const v2 = version(2, v1, { environment: "quiet", config: config(5, 2) });
    expect((await push(serve.url, v2)).status).toBe(201);
    const started = await plan("quiet");
    expect(started).toMatchObject({ phase: "progressing", candidate: { version: 2 } });

    // Prometheus has both cohorts' series (their counts are small), and the bake is long over: the loop
    // holds on the gate because of too few samples, not for want of data.
    const held = await vi.waitFor(
      async () => {
        const d = await status("quiet");
        const hold = d.decisions[0]!;
        expect(hold.action).toBe("hold");
        const gate = hold.evaluations.find((e) => e.gate === "http-errors");
        expect(gate).toMatchObject({ verdict: "inconclusive", reason: "too-few-samples" });
        return d;
      },
      { timeout: 60_000, interval: 100 },
    );
    expect(held.state?.phase).toBe("progressing");
    const hold = held.decisions[0]!;
    expect(hold.holds).toContainEqual(expect.objectContaining({ code: "gate", gate: "http-errors" }));
    expect(hold.evaluations[0]!.detail).toMatch(/candidate and \d+ control samples; each cohort needs 1,000/);
    expect(held.decisions.some((d) => d.action === "rollback" || d.action === "promote")).toBe(false);
    // Nothing moved: the plan is the one the push made.
    expect((await plan("quiet")).planVersion).toBe(started.planVersion);
    expect(await instancesSeenOn("quiet", 2)).toBe(2);
  }, 120_000);
});

describe("a Prometheus that never answers", () => {
  let hanging: Server;
  let server: RunningServer | null = null;
  afterAll(async () => {
    await server?.close();
    hanging?.closeAllConnections();
    await new Promise<void>((resolve) => (hanging ? hanging.close(() => resolve()) : resolve()));
    cleanupTempdirs();
  });

  it("holds neither its own chain's breach nor another chain's rollback: stopping harm never waits for a query", async () => {
    // Accepts the connection and never answers (an overloaded Prometheus during an incident); the client's
    // timeout is longer than the test, so only a loop that does not wait for it can roll anything back.
    hanging = createServer(() => undefined);
    const port = await freePort();
    await new Promise<void>((resolve) => hanging.listen(port, "127.0.0.1", resolve));
    const yaml = [
      "version: 1",
      "environments:",
      "  staging: {}",
      "  production: {}",
      "rollouts:",
      `  trusted_keys: ["${rolloutKey.key.publicKey.text}"]`,
      "  environments:",
      "    staging:",
      "      canary: { percent: 5, bake: 1s }",
      "      gates:",
      "      - { metric: error-rate, max_increase: 1%, min_samples: 1000 }",
      ...GATE,
      "    production:",
      "      canary: { percent: 5, bake: 1s }",
      "      gates:",
      "      - { metric: error-rate, max_increase: 1%, min_samples: 1000 }",
      "",
    ].join("\n");
    const { documents, findings } = parseYaml(yaml, "strata.yaml", { keys: "any", allowUnset: false });
    expect(findings).toEqual([]);
    const parsed = parseRolloutSettings(documents[0] ?? null);
    expect(parsed.findings).toEqual([]);
    server = await startServer(
      {
        store: await openStore(`file:${tempdir("strata-prom-hang-")}`),
        trustedKeys: [publisher.key.publicKey],
        tokens: null,
        rollouts: {
          key: rolloutKey.key,
          settings: parsed.settings,
          chains: new Map([
            ["staging", ["staging"]],
            ["production", ["production"]],
          ]),
          prometheus: createPrometheusClient({ url: `http://127.0.0.1:${port}`, timeoutMs: 600_000 }),
          webhooks: [],
          intervalMs: 100,
        },
      },
      { host: "127.0.0.1", port: 0 },
    );
    const url = server.url;
    const events = {
      staging: await EventReader.open(url, "/v1/environments/staging/events"),
      production: await EventReader.open(url, "/v1/environments/production/events"),
    };
    readers.push(events.staging, events.production);
    for (const environment of ["staging", "production"] as const) {
      const v1 = version(1, null, { environment });
      expect((await push(url, v1)).status).toBe(201);
      expect((await push(url, version(2, v1, { environment }))).status).toBe(201);
      await events[environment].plan((p) => p.candidate.version === 2 && p.phase === "progressing");
    }
    // Production has no Prometheus gate; staging's also waits on the Prometheus that never answers.
    for (const environment of ["production", "staging"] as const) {
      const res = await postReports(
        url,
        [report("canary-a", 2, 20_000, 2_000), report("stable-a", 1, 50_000, 500)],
        undefined,
        environment,
      );
      expect(res.status).toBe(202);
      const back = await events[environment].plan((p) => p.phase === "rolled-back");
      expect(back.reason).toMatch(/error-rate/);
    }
    const doc = (await (await fetch(`${url}/v1/environments/staging/rollout`)).json()) as RolloutStatusDocument;
    const rollback = doc.decisions.find((d) => d.action === "rollback")!;
    expect(rollback.breaches!.map((b) => b.gate)).toEqual(["error-rate"]);
    // The Prometheus gate was not waited for, and says so.
    expect(rollback.evaluations.find((e) => e.gate === "http-errors")).toMatchObject({ verdict: "inconclusive" });
  }, 60_000);
});
