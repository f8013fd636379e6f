// @module-tag e2e
// Rollouts of a service's chain (`/v1/environments/{env}/services/{svc}/…`): a push to it under a policy (its
// environment's, or its own in strata.yaml `rollouts.services`) starts a rollout as an environment's push
// does: a signed plan stored before the head moves and sent before the version on the service's own stream,
// the decision loop on the reports posted to the service's chain, the status, the operators' actions through
// the built CLI (`--service`), the SDK following the plan, and two servers on one etcd agreeing on it.
import { Ajv2020 } from "ajv/dist/2020.js";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { StrataClient } from "../../src/client/index.js";
import type { JsonObject } from "../../src/core/json.js";
import type { AuditDocument, RolloutStatusDocument } from "../../src/core/protocol/index.js";
import {
  parseRolloutSettings,
  signedVersion,
  verifyPlanText,
  type RolloutSettings,
} from "../../src/core/rollout/index.js";
import { versionFor, type RolloutPlan } from "../../src/core/rollout/plan.js";
import { strataYamlSchema } from "../../src/core/settings/strata-yaml-schema.js";
import {
  computeContentDigest,
  createSnapshot,
  serializeSnapshot,
  type Snapshot,
} from "../../src/core/snapshot/index.js";
import { toPlain } from "../../src/core/yaml/nodes.js";
import { parseYaml } from "../../src/core/yaml/parse.js";
import { openStore } from "../../src/io/stores/index.js";
import { createJsonLogger, startServer, type RunningServer } from "../../src/server/index.js";
import { strata } from "../support/cli.js";
import { etcdMissing, startEtcd, type EtcdHandle } from "../support/etcd.js";
import { cleanupTempdirs, tempdir } from "../support/gitdir.js";
import { testBackoff, waitFor } from "../client/support.js";
import { EventReader, publisher, report, rolloutKey } from "./rollout-support.js";

/**
 * staging: a 5% canary for 1 s with an error-rate gate, which its services follow; production: no policy.
 * billing overrides staging with all-at-once; checkout has its own 50% canary in production.
 */
const STRATA_YAML = [
  "version: 1",
  "environments:",
  "  staging: {}",
  "  production: {}",
  "signing:",
  `  trusted_keys: ["${publisher.key.publicKey.text}"]`,
  "services:",
  "  checkout: { namespaces: [app] }",
  "  billing: { namespaces: [app] }",
  "rollouts:",
  `  trusted_keys: ["${rolloutKey.key.publicKey.text}"]`,
  "  environments:",
  "    staging:",
  "      canary: { percent: 5, bake: 1s }",
  "      gates:",
  "        - { metric: error-rate, max_increase: 1%, min_samples: 1000 }",
  "  services:",
  "    billing:",
  "      staging: all-at-once",
  "    checkout:",
  "      production:",
  "        canary: { percent: 50, bake: 1h }",
  "",
].join("\n");

function parse(text: string) {
  const { documents, findings } = parseYaml(text, "strata.yaml", { keys: "any", allowUnset: false });
  expect(findings).toEqual([]);
  return documents[0]!;
}

function settingsOf(text: string): RolloutSettings {
  const parsed = parseRolloutSettings(parse(text));
  expect(parsed.findings).toEqual([]);
  return parsed.settings;
}

interface Endpoint {
  server: RunningServer;
  url: string;
  logs: string[];
}

const running: RunningServer[] = [];
const readers: EventReader[] = [];
const clients: StrataClient[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) await c.close();
  for (const r of readers.splice(0)) r.close();
  for (const s of running.splice(0)) await s.close();
});
afterAll(() => cleanupTempdirs());

async function start(options: { store?: string; intervalMs?: number; noKey?: boolean } = {}): Promise<Endpoint> {
  const logs: string[] = [];
  const store = await openStore(options.store ?? `file:${tempdir("strata-rollout-svc-")}`);
  const server = await startServer(
    {
      store,
      trustedKeys: [publisher.key.publicKey],
      tokens: null,
      log: createJsonLogger({ level: "debug", write: (l) => logs.push(l) }),
      rollouts:
        options.noKey === true
          ? null
          : {
              key: rolloutKey.key,
              settings: settingsOf(STRATA_YAML),
              chains: new Map([
                ["staging", ["staging"]],
                ["production", ["production"]],
              ]),
              prometheus: null,
              webhooks: [],
              intervalMs: options.intervalMs ?? 60_000,
            },
    },
    { host: "127.0.0.1", port: 0 },
  );
  running.push(server);
  return { server, url: server.url, logs };
}

function serviceVersion(
  n: number,
  previous: Snapshot | null,
  service: string,
  environment = "staging",
  config: Record<string, JsonObject> = { app: { name: service, release: n } },
): Snapshot {
  return createSnapshot(
    {
      environment,
      service,
      version: n,
      previous: previous?.digest ?? null,
      rollbackOf: null,
      createdAt: new Date(),
      source: {
        repository: "acme/config",
        commit: "0123456789abcdef0123456789abcdef01234567",
        pullRequest: 9,
        approvedBy: [],
        pushedBy: "test",
        emergency: false,
      },
      contentDigest: computeContentDigest(config, []),
      config,
      secrets: null,
    },
    [publisher.key],
  );
}

const chainPath = (s: { environment: string; service?: string }): string =>
  `/v1/environments/${s.environment}/services/${s.service!}`;

async function pushService(url: string, s: Snapshot): Promise<void> {
  const res = await fetch(`${url}${chainPath(s)}/snapshot`, {
    method: "PUT",
    headers: { "content-type": "application/json", "if-match": `"${s.version - 1}"` },
    body: serializeSnapshot(s),
  });
  expect(res.status, await res.text()).toBe(201);
}

async function serviceStream(url: string, service: string, environment = "staging"): Promise<EventReader> {
  const r = await EventReader.open(url, `${chainPath({ environment, service })}/events`);
  readers.push(r);
  return r;
}

async function status(url: string, service: string, environment = "staging"): Promise<RolloutStatusDocument> {
  const res = await fetch(`${url}${chainPath({ environment, service })}/rollout`);
  expect(res.status).toBe(200);
  return (await res.json()) as RolloutStatusDocument;
}

/** v1 then v2 of a service's chain; v2 is the candidate. `between` runs once v1 is published. */
async function stableAndCandidate(
  url: string,
  service: string,
  environment = "staging",
  between: () => Promise<unknown> = () => Promise.resolve(),
) {
  const v1 = serviceVersion(1, null, service, environment);
  await pushService(url, v1);
  await between();
  const v2 = serviceVersion(2, v1, service, environment);
  await pushService(url, v2);
  return { v1, v2 };
}

describe("a push to a service's chain under its environment's policy", () => {
  it("starts a rollout: a signed plan for the service, before the version on the service's own stream", async () => {
    const s = await start();
    const v1 = serviceVersion(1, null, "checkout");
    await pushService(s.url, v1);
    const events = await serviceStream(s.url, "checkout");
    await events.until((f) => f.some((x) => x.event === "snapshot"));
    const v2 = serviceVersion(2, v1, "checkout");
    await pushService(s.url, v2);
    const plan = await events.plan((p) => p.candidate.version === 2);
    expect(plan).toMatchObject({
      phase: "progressing",
      stable: { version: 1, digest: v1.digest },
      candidate: { version: 2, digest: v2.digest },
      cohort: { basisPoints: 500 },
    });
    await events.until((f) => f.some((x) => x.event === "snapshot" && x.data.includes('"version":2')));
    const order = events.frames.map((f) => (f.event === "plan" ? "plan" : `${f.event}:${JSON.parse(f.data).version}`));
    expect(order.indexOf("plan")).toBeLessThan(order.indexOf("snapshot:2"));

    // The plan as served verifies as the SDK of the service checks it, and not as the environment's.
    const res = await fetch(`${s.url}/v1/environments/staging/services/checkout/plan`);
    expect(res.status).toBe(200);
    const text = await res.text();
    const check = (service: string | null) =>
      verifyPlanText(text, {
        environment: "staging",
        service,
        rolloutKeys: [rolloutKey.key.publicKey],
        signedVersions: [
          signedVersion(v1, [publisher.key.publicKey], "checkout"),
          signedVersion(v2, [publisher.key.publicKey], "checkout"),
        ],
        previous: null,
        now: Date.now(),
      });
    expect(check("checkout").ok).toBe(true);
    expect(check(null)).toMatchObject({ ok: false });
    expect((JSON.parse(text) as RolloutPlan).service).toBe("checkout");

    const doc = await status(s.url, "checkout");
    expect(doc).toMatchObject({
      environment: "staging",
      service: "checkout",
      policy: "canary 5% for 1s; gates error-rate",
      state: { service: "checkout", phase: "progressing", percent: 500, candidate: { version: 2 } },
      plan: { planVersion: plan.planVersion, digest: plan.digest },
    });
    expect(doc.state?.rolloutId).toBe("staging/checkout@v2.p1");
    expect(doc.decisions[0]).toMatchObject({ action: "start", actor: "strata serve" });
    // The environment's own chain has no rollout: the service's is its own.
    expect((await fetch(`${s.url}/v1/environments/staging/plan`)).status).toBe(404);
    expect(s.logs.some((l) => l.includes('"msg":"rollout"') && l.includes('"service":"checkout"'))).toBe(true);
  });

  it("the loop rolls it back on the reports its clients post to the service's chain", async () => {
    const s = await start({ intervalMs: 100 });
    let events: EventReader | undefined;
    await stableAndCandidate(
      s.url,
      "checkout",
      "staging",
      async () => (events = await serviceStream(s.url, "checkout")),
    );
    await events!.plan((p) => p.phase === "progressing");
    const res = await fetch(`${s.url}/v1/environments/staging/services/checkout/reports`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        reports: [
          report("canary-a", 2, 20_000, 2_000),
          report("canary-b", 2, 20_000, 2_000),
          report("stable-a", 1, 50_000, 500),
          report("stable-b", 1, 50_000, 500),
        ],
      }),
    });
    expect(res.status).toBe(202);
    const back = await events!.plan((p) => p.phase === "rolled-back");
    expect(back.cohort.basisPoints).toBe(0);
    const doc = await status(s.url, "checkout");
    expect(doc.state).toMatchObject({ phase: "rolled-back", service: "checkout" });
    expect(doc.decisions[0]).toMatchObject({ action: "rollback", actor: "strata serve" });
    expect(doc.decisions[0]!.breaches![0]).toMatchObject({ gate: "error-rate", metric: "error-rate" });
  });
});

describe("per-service policies (strata.yaml rollouts.services)", () => {
  it("a service's own policy overrides its environment's, both ways", async () => {
    const s = await start();
    // billing in staging: all-at-once, though staging has a canary.
    let billing: EventReader | undefined;
    await stableAndCandidate(
      s.url,
      "billing",
      "staging",
      async () => (billing = await serviceStream(s.url, "billing")),
    );
    await billing!.until((f) => f.some((x) => x.event === "snapshot" && x.data.includes('"version":2')));
    expect(billing!.frames.map((f) => f.event)).not.toContain("plan");
    expect((await fetch(`${s.url}/v1/environments/staging/services/billing/plan`)).status).toBe(404);
    expect(await status(s.url, "billing")).toMatchObject({ policy: "all-at-once", state: null });
    // checkout in production: a 50% canary, though production has no policy.
    await stableAndCandidate(s.url, "checkout", "production");
    expect(await status(s.url, "checkout", "production")).toMatchObject({
      policy: "canary 50% for 1h",
      state: { phase: "progressing", percent: 5000, service: "checkout" },
    });
    // A service without an override follows its environment's (none in production: all at once).
    await stableAndCandidate(s.url, "billing", "production");
    expect((await fetch(`${s.url}/v1/environments/production/services/billing/plan`)).status).toBe(404);
  });

  it("is validated with located errors: undeclared services and environments, a malformed policy", () => {
    const base = STRATA_YAML.split("\n").slice(0, STRATA_YAML.split("\n").indexOf("  services:", 10));
    const bad = [
      ...base,
      "  services:",
      "    chekout:",
      "      staging: all-at-once",
      "    checkout:",
      "      prod: all-at-once",
      "      staging: { canary: { percent: 5 } }",
      "",
    ].join("\n");
    const { findings } = parseRolloutSettings(parse(bad));
    expect(findings.map((f) => [f.code, f.line, f.message])).toEqual([
      [
        "unknown-service",
        expect.any(Number),
        'strata.yaml:18:5: rollouts.services names "chekout", which is not a service declared under services:',
      ],
      ["unknown-environment", expect.any(Number), expect.stringContaining('"prod"')],
      ["missing-required", expect.any(Number), expect.stringContaining("rollouts.services.checkout.staging.canary")],
    ]);
    expect(findings[0]).toMatchObject({ file: "strata.yaml", hint: "did you mean checkout?" });
    // The shipped JSON Schema (editors) says the same of the section's shape.
    const validate = new Ajv2020({ allErrors: true, strict: false }).compile(strataYamlSchema as unknown as object);
    expect(validate(toPlain(parse(STRATA_YAML)))).toBe(true);
    const malformed = STRATA_YAML.replace("      staging: all-at-once", "      staging: gradual");
    expect(validate(toPlain(parse(malformed)))).toBe(false);
  });
});

describe("operators and the SDK", () => {
  it("strata rollout status|pause|resume|promote --env E --service S act on the service's rollout", async () => {
    const s = await start();
    await stableAndCandidate(s.url, "checkout");
    const run = (args: string[]) => strata(["rollout", ...args, "--endpoint", s.url]);
    const st = await run(["status", "--env", "staging", "--service", "checkout", "--format", "json"]);
    expect(st.exitCode, st.stderr).toBe(0);
    expect(JSON.parse(st.stdout)).toMatchObject({ service: "checkout", state: { phase: "progressing" } });
    const paused = await run(["pause", "--env", "staging", "--service", "checkout", "--reason", "looking"]);
    expect(paused.exitCode, paused.stderr).toBe(0);
    expect((await status(s.url, "checkout")).state).toMatchObject({ phase: "paused" });
    const again = await run(["pause", "--env", "staging", "--service", "checkout"]);
    expect(again.exitCode).toBe(4);
    expect(again.stderr).toContain("rollout-conflict");
    // The environment's own chain has nothing to pause.
    const env = await run(["pause", "--env", "staging"]);
    expect(env.exitCode).toBe(4);
    expect(env.stderr).toContain("rollout-conflict");
    expect((await run(["resume", "--env", "staging", "--service", "checkout"])).exitCode).toBe(0);
    const promoted = await run(["promote", "--env", "staging", "--service", "checkout"]);
    expect(promoted.exitCode, promoted.stderr).toBe(0);
    const doc = await status(s.url, "checkout");
    expect(doc.state).toMatchObject({ phase: "promoted", percent: 10_000 });
    expect(doc.decisions.slice(0, 3).map((d) => [d.action, d.actor])).toEqual([
      ["promote", "local"],
      ["resume", "local"],
      ["pause", "local"],
    ]);
  });

  it("the SDK reading a service follows its chain's plan: each instance on its cohort's version, back on abort", async () => {
    const s = await start();
    const v1 = serviceVersion(1, null, "checkout", "production");
    await pushService(s.url, v1);
    const ids = Array.from({ length: 6 }, (_, i) => `svc-pod-${i}`);
    const fleet = await Promise.all(
      ids.map(async (instance) => {
        const c = new StrataClient({
          endpoint: s.url,
          environment: "production",
          service: "checkout",
          instance,
          trustedKeys: [publisher.key.publicKey.text],
          rolloutKeys: [rolloutKey.key.publicKey.text],
          backoff: testBackoff,
          timeoutMs: 30_000,
        });
        clients.push(c);
        await c.ready();
        return c;
      }),
    );
    for (const c of fleet) expect(c.version).toBe(1);
    await pushService(s.url, serviceVersion(2, v1, "checkout", "production"));
    const res = await fetch(`${s.url}/v1/environments/production/services/checkout/plan`);
    const plan = (await res.json()) as RolloutPlan;
    expect(plan).toMatchObject({ service: "checkout", phase: "progressing", candidate: { version: 2 } });
    await waitFor(() => fleet.every((c) => c.rollout()?.planVersion === plan.planVersion), "every client on the plan");
    const roles = ids.map((instance) => versionFor(plan, { instance }).role);
    // Calibrated on the service's own clients: half of the six on each side.
    expect(roles.filter((r) => r === "candidate")).toHaveLength(3);
    fleet.forEach((c, i) => {
      expect(c.version).toBe(roles[i] === "candidate" ? 2 : 1);
      expect(c.get("app.release")).toBe(roles[i] === "candidate" ? 2 : 1);
    });
    const abort = await fetch(`${s.url}/v1/environments/production/services/checkout/rollout/abort`, {
      method: "POST",
    });
    expect(abort.status, await abort.clone().text()).toBe(200);
    await waitFor(() => fleet.every((c) => c.rollout()?.phase === "aborted"), "every client hearing the abort");
    for (const c of fleet) expect(c.version).toBe(1);
  });
});

describe.skipIf(etcdMissing)("a service's rollout on etcd", () => {
  let etcd: EtcdHandle | undefined;
  afterAll(async () => {
    await etcd?.stop();
  });

  it("two servers agree: the other serves the plan before the version, and acts on the same record", async () => {
    etcd = await startEtcd();
    const store = `etcd://${etcd.hostPort}/svc-rollouts`;
    const a = await start({ store });
    const b = await start({ store });
    const v1 = serviceVersion(1, null, "checkout");
    await pushService(a.url, v1);
    const onA = await serviceStream(a.url, "checkout");
    const onB = await serviceStream(b.url, "checkout");
    await onB.until((f) => f.some((x) => x.event === "snapshot"));
    await pushService(a.url, serviceVersion(2, v1, "checkout"));
    const plan = await onB.plan((p) => p.candidate.version === 2);
    await onB.until((f) => f.some((x) => x.event === "snapshot" && x.data.includes('"version":2')));
    const order = onB.frames.map((f) => (f.event === "plan" ? "plan" : `${f.event}:${JSON.parse(f.data).version}`));
    expect(order.indexOf("plan")).toBeLessThan(order.indexOf("snapshot:2"));
    expect((await status(b.url, "checkout")).plan?.digest).toBe(plan.digest);
    const paused = await fetch(`${b.url}/v1/environments/staging/services/checkout/rollout/pause`, { method: "POST" });
    expect(paused.status).toBe(200);
    // A hears B's plan through the store's watch.
    await onA.plan((p) => p.phase === "paused");
    expect((await status(a.url, "checkout")).state).toMatchObject({ phase: "paused", service: "checkout" });
    // Both decisions are in the audit every server reads from the store (written with the record on etcd).
    const audit = (await (await fetch(`${a.url}/v1/audit`)).json()) as AuditDocument;
    expect(audit.rollouts.map((r) => [r.service, r.rollout, r.action, r.actor])).toEqual([
      ["checkout", "staging/checkout@v2.p1", "start", "strata serve"],
      ["checkout", "staging/checkout@v2.p1", "pause", "local"],
    ]);
  });
});
