// @module-tag e2e
// SPLIT: the provider on clients that follow a signed rollout plan. First against a real `strata serve` (the
// built CLI) that runs the rollout itself (--repo with a canary policy in strata.yaml, --rollout-key): each
// process runs its cohort's version, a targeting key reads its entity's, and an abort sends the candidate
// cohort back with a ConfigurationChanged event. Then a service restarted during a rollout while the endpoint
// is down: the plan it followed, in its plan cache, still splits (and a secret stays refused on both sides).
import {
  OpenFeature,
  ProviderEvents,
  type Client,
  type EvaluationContext,
  type EventDetails,
} from "@openfeature/server-sdk";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { StrataClient } from "../../src/client/index.js";
import type { JsonObject } from "../../src/core/json.js";
import {
  POSITIONS,
  rolloutIdFor,
  serializePlan,
  signPlan,
  versionFor,
  type RolloutPlan,
} from "../../src/core/rollout/index.js";
import { serializeSnapshot, type Snapshot } from "../../src/core/snapshot/index.js";
import { StrataProvider } from "../../src/openfeature/index.js";
import { encryptSecrets, newAgeIdentity, startEndpoint, testBackoff, type Endpoint } from "../client/support.js";
import { tempdir } from "../support/gitdir.js";
import { spawnServe, type ServeProcess } from "../support/serve.js";
import { newKey } from "../support/snapshots.js";
import {
  CANARY,
  publisher,
  push,
  rolloutKey as serverRolloutKey,
  strataYaml,
  version,
} from "../server/rollout-support.js";

const endpoints: Endpoint[] = [];
const servers: ServeProcess[] = [];
const clients: StrataClient[] = [];
afterEach(async () => {
  await OpenFeature.close();
  for (const c of clients.splice(0)) await c.close();
  for (const e of endpoints.splice(0)) await e.stop();
  for (const s of servers.splice(0)) await s.stop("SIGKILL");
});

const stable: Record<string, JsonObject> = { checkout: { banner: "Stable", new_flow: false } };
const candidate: Record<string, JsonObject> = { checkout: { banner: "Candidate", new_flow: true } };

/** A plan of `rollout` with half of the entities and none of the instances on the candidate. */
function halfOfEntities(v1: Snapshot, v2: Snapshot, rolloutKey: ReturnType<typeof newKey>["key"]): RolloutPlan {
  const now = Date.now();
  return signPlan(
    {
      kind: "strata.rollout-plan",
      apiVersion: 1,
      environment: "staging",
      service: null,
      rollout: rolloutIdFor("staging", null, v2.version, 1),
      planVersion: 1,
      phase: "progressing",
      stable: { version: v1.version, digest: v1.digest },
      candidate: { version: v2.version, digest: v2.digest },
      cohort: { basisPoints: 5000, instances: [0, 0], entities: [0, POSITIONS / 2] },
      createdAt: new Date(now).toISOString(),
      expiresAt: new Date(now + 24 * 3600 * 1000).toISOString(),
      reason: "canary at 50% of entities",
    },
    [rolloutKey],
  );
}

/** The first entity id of the form `user-N` on each side of the plan. */
function entities(plan: RolloutPlan): { onCandidate: string; onStable: string } {
  return sides(
    plan,
    (n) => ({ entity: `user-${n}` }),
    (s) => s.entity,
  );
}

/** The first instance id of the form `pod-N` on each side of the plan. */
function instances(plan: RolloutPlan): { onCandidate: string; onStable: string } {
  return sides(
    plan,
    (n) => ({ instance: `pod-${n}` }),
    (s) => s.instance,
  );
}

function sides<S extends { entity: string } | { instance: string }>(
  plan: RolloutPlan,
  subject: (n: number) => S,
  id: (s: S) => string,
): { onCandidate: string; onStable: string } {
  let onCandidate: string | undefined;
  let onStable: string | undefined;
  for (let n = 0; onCandidate === undefined || onStable === undefined; n++) {
    const s = subject(n);
    if (versionFor(plan, s).role === "candidate") onCandidate ??= id(s);
    else onStable ??= id(s);
  }
  return { onCandidate, onStable };
}

describe("a rollout run by strata serve", () => {
  it("each process evaluates its cohort's version, a targeting key its entity's; an abort is a ConfigurationChanged", async () => {
    const repo = tempdir("strata-of-rollout-repo-");
    writeFileSync(join(repo, "strata.yaml"), strataYaml(CANARY));
    const keyFile = join(repo, "rollout.pem");
    writeFileSync(keyFile, serverRolloutKey.pem, { mode: 0o600 });
    const serve = await spawnServe([
      "--store",
      `file:${tempdir("strata-of-rollout-store-")}`,
      "--repo",
      repo,
      "--rollout-key",
      keyFile,
      "--rollout-interval",
      "200ms",
    ]);
    servers.push(serve);
    const v1 = version(1, null, { config: stable });
    expect((await push(serve.url, v1)).status).toBe(201);
    expect((await push(serve.url, version(2, v1, { config: candidate }))).status).toBe(201);
    // The canary's plan (5%, held by its gate until 1,000 samples: no report comes, so it stays).
    const plan = (await (await fetch(`${serve.url}/v1/environments/staging/plan`)).json()) as RolloutPlan;
    expect(plan).toMatchObject({ phase: "progressing", stable: { version: 1 }, candidate: { version: 2 } });
    const pods = instances(plan);
    const users = entities(plan);

    const flagsOf = async (instance: string): Promise<Client> => {
      const client = new StrataClient({
        endpoint: serve.url,
        environment: "staging",
        service: "checkout",
        instance,
        trustedKeys: [publisher.key.publicKey.text],
        rolloutKeys: [serverRolloutKey.key.publicKey.text],
        backoff: testBackoff,
      });
      clients.push(client);
      await OpenFeature.setProviderAndWait(instance, new StrataProvider(client));
      return OpenFeature.getClient(instance);
    };
    const onStable = await flagsOf(pods.onStable);
    const onCandidate = await flagsOf(pods.onCandidate);
    const metadata = { environment: "staging", rollout: plan.rollout, stable: 1, candidate: 2 };

    expect(await onStable.getStringDetails("checkout.banner", "")).toMatchObject({
      value: "Stable",
      variant: "1",
      reason: "SPLIT",
      flagMetadata: { ...metadata, version: 1, cohort: "stable" },
    });
    expect(await onCandidate.getStringDetails("checkout.banner", "")).toMatchObject({
      value: "Candidate",
      variant: "2",
      reason: "SPLIT",
      flagMetadata: { ...metadata, version: 2, cohort: "candidate" },
    });
    // A request about a user reads the user's version, whichever process evaluates it.
    for (const flags of [onStable, onCandidate]) {
      expect(
        await flags.getBooleanDetails("checkout.new_flow", false, { targetingKey: users.onCandidate }),
      ).toMatchObject({ value: true, variant: "2", reason: "SPLIT", flagMetadata: { cohort: "candidate" } });
      expect(await flags.getBooleanDetails("checkout.new_flow", true, { targetingKey: users.onStable })).toMatchObject({
        value: false,
        variant: "1",
        reason: "SPLIT",
        flagMetadata: { cohort: "stable" },
      });
    }

    // The operator aborts: the plan sends every client to the stable version, the candidate process at once.
    const changed = new Promise<EventDetails | undefined>((resolve) =>
      onCandidate.addHandler(ProviderEvents.ConfigurationChanged, resolve),
    );
    const abort = await fetch(`${serve.url}/v1/environments/staging/rollout/abort`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ reason: "openfeature test" }),
    });
    expect(abort.status, await abort.text()).toBe(200);
    const details = await changed;
    expect(details?.flagsChanged).toEqual(["checkout.banner", "checkout.new_flow"]);
    expect(details?.metadata).toEqual({ version: 1, previousVersion: 2 });
    // Nothing is split any more: the stable version, STATIC, for the process and every user alike.
    for (const context of [{}, { targetingKey: users.onCandidate }] as EvaluationContext[])
      expect(await onCandidate.getStringDetails("checkout.banner", "", context)).toEqual({
        flagKey: "checkout.banner",
        value: "Stable",
        variant: "1",
        reason: "STATIC",
        flagMetadata: { environment: "staging", version: 1 },
      });
  });
});

describe("a service restarted during a rollout while the endpoint is down", () => {
  it("still splits by the plan in its plan cache: reason SPLIT, the variant the version each evaluation read", async () => {
    const ep = await startEndpoint();
    endpoints.push(ep);
    const age = await newAgeIdentity();
    const v1 = await ep.publish(stable, {
      secrets: await encryptSecrets({ checkout: { api_key: "split-secret-stable" } }, age.recipient),
    });
    const v2 = await ep.publish(candidate, {
      secrets: await encryptSecrets({ checkout: { api_key: "split-secret-candidate" } }, age.recipient),
    });
    const dir = tempdir("strata-of-rollout-");
    const cacheFile = join(dir, "strata.json");
    const options = {
      endpoint: ep.url,
      environment: "staging",
      service: "checkout",
      trustedKeys: [ep.publicKey],
      identity: age.identity,
      cacheFile,
      backoff: testBackoff,
    };
    // The first run: the candidate, from the endpoint, into the cache file.
    const first = new StrataClient(options);
    await first.ready();
    expect(first.version).toBe(2);
    await first.close();
    await ep.stop();

    const rolloutKey = newKey().key;
    const plan = halfOfEntities(v1, v2, rolloutKey);
    writeFileSync(
      `${cacheFile}.plan`,
      JSON.stringify({
        kind: "strata.client-plan-cache",
        plan: serializePlan(plan),
        versions: [serializeSnapshot(v1)],
      }),
      { mode: 0o600 },
    );
    const { onCandidate, onStable } = entities(plan);

    const client = new StrataClient({ ...options, rolloutKeys: [rolloutKey.publicKey.text], timeoutMs: 300 });
    clients.push(client);
    await client.ready();
    expect(client.source).toBe("cache");
    // No instance runs the candidate: this process runs the stable version.
    expect(client.rollout()).toMatchObject({ stable: 1, candidate: 2, running: 1, cohort: "stable" });

    const domain = "strata-split";
    await OpenFeature.setProviderAndWait(domain, new StrataProvider(client));
    const flags: Client = OpenFeature.getClient(domain);
    const metadata = { environment: "staging", rollout: plan.rollout, stable: 1, candidate: 2 };

    const own = await flags.getStringDetails("checkout.banner", "");
    expect(own).toMatchObject({ value: "Stable", variant: "1", reason: "SPLIT" });
    expect(own.flagMetadata).toEqual({ ...metadata, version: 1, cohort: "stable" });

    const forCandidate = await flags.getStringDetails("checkout.banner", "", { targetingKey: onCandidate });
    expect(forCandidate).toMatchObject({ value: "Candidate", variant: "2", reason: "SPLIT" });
    expect(forCandidate.flagMetadata).toEqual({ ...metadata, version: 2, cohort: "candidate" });
    expect(await flags.getBooleanDetails("checkout.new_flow", false, { targetingKey: onCandidate })).toMatchObject({
      value: true,
      variant: "2",
    });

    const forStable = await flags.getStringDetails("checkout.banner", "", { targetingKey: onStable });
    expect(forStable).toMatchObject({ value: "Stable", variant: "1", reason: "SPLIT" });
    expect(forStable.flagMetadata).toEqual({ ...metadata, version: 1, cohort: "stable" });

    // The same entity gets the same answer on every evaluation; a secret stays refused on both sides.
    expect((await flags.getStringDetails("checkout.banner", "", { targetingKey: onCandidate })).variant).toBe("2");
    const contexts: EvaluationContext[] = [{ targetingKey: onCandidate }, { targetingKey: onStable }, {}];
    for (const context of contexts) {
      const secret = await flags.getStringDetails("checkout.api_key", "none", context);
      expect(secret).toMatchObject({ value: "none", reason: "ERROR", errorCode: "GENERAL" });
      expect(JSON.stringify(secret)).not.toContain("split-secret");
    }
  });
});
