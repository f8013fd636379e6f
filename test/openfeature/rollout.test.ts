// @module-tag e2e
// SPLIT: the provider on a client that follows a signed rollout plan. The versions come from a real
// `strata serve` (the built CLI): a first client reads the candidate and keeps it in its cache file. The
// service then restarts while the endpoint is down, with the plan it followed in its plan cache (a plan signed
// by a rollout key, naming the stable and the candidate versions the publishing key signed): the restarted
// client follows that plan from its cache files, and the provider reports the split.
import { OpenFeature, type Client, type EvaluationContext } from "@openfeature/server-sdk";
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
import { newKey } from "../support/snapshots.js";

const endpoints: Endpoint[] = [];
const clients: StrataClient[] = [];
afterEach(async () => {
  await OpenFeature.close();
  for (const c of clients.splice(0)) await c.close();
  for (const e of endpoints.splice(0)) await e.stop();
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
  let onCandidate: string | undefined;
  let onStable: string | undefined;
  for (let n = 0; onCandidate === undefined || onStable === undefined; n++) {
    const id = `user-${n}`;
    if (versionFor(plan, { entity: id }).role === "candidate") onCandidate ??= id;
    else onStable ??= id;
  }
  return { onCandidate, onStable };
}

describe("during a rollout", () => {
  it("reason SPLIT; the variant is the version the evaluation read: the process's, or the targeting key's cohort", async () => {
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
