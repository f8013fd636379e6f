// @module-tag e2e
// `strata serve` processes (the built CLI) running rollouts: the options checked at start, two servers on one
// etcd agreeing on a rollout, a SIGKILLed server's rollout continued by the other, and a restarted server
// resuming from the store.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RolloutStatusDocument } from "../../src/core/protocol/index.js";
import { etcdMissing, startEtcd, type EtcdHandle } from "../support/etcd.js";
import { cleanupTempdirs, tempdir } from "../support/gitdir.js";
import { spawnServe, type ServeProcess } from "../support/serve.js";
import { newKey } from "../support/snapshots.js";
import {
  CANARY,
  EventReader,
  postReports,
  publisher,
  push,
  report,
  rolloutKey,
  rolloutRepository,
  version,
} from "./rollout-support.js";

const servers: ServeProcess[] = [];
const readers: EventReader[] = [];
afterAll(async () => {
  for (const r of readers) r.close();
  for (const s of servers) await s.stop("SIGKILL");
  cleanupTempdirs();
});

/** A repository with strata.yaml (the canary policy for staging) and the rollout key's file. */
function repository(trusted?: string): { repo: string; keyFile: string } {
  return rolloutRepository(CANARY, trusted);
}

async function serve(args: string[], env: Record<string, string> = {}): Promise<ServeProcess> {
  const s = await spawnServe(args, env);
  servers.push(s);
  return s;
}

async function stream(url: string): Promise<EventReader> {
  const r = await EventReader.open(url);
  readers.push(r);
  return r;
}

async function status(url: string): Promise<RolloutStatusDocument> {
  return (await (await fetch(`${url}/v1/environments/staging/rollout`)).json()) as RolloutStatusDocument;
}

describe("strata serve --rollout-key", () => {
  it("refuses to start (exit 2) when the key's public key is not in rollouts.trusted_keys, or without --repo", async () => {
    const other = newKey();
    const { repo, keyFile } = repository(other.key.publicKey.text);
    const store = `file:${tempdir("strata-rollout-store-")}`;
    await expect(serve(["--store", store, "--repo", repo, "--rollout-key", keyFile])).rejects.toThrow(
      /serve exited 2: .*is not in .*strata\.yaml rollouts\.trusted_keys/s,
    );
    const trustedFile = join(repo, "trusted.txt");
    writeFileSync(trustedFile, `${publisher.key.publicKey.text}\n`);
    await expect(serve(["--store", store, "--rollout-key", keyFile, "--trusted-keys", trustedFile])).rejects.toThrow(
      /serve exited 2: .*--rollout-key needs --repo/s,
    );
    const good = repository();
    await expect(
      serve([
        "--store",
        store,
        "--repo",
        good.repo,
        "--rollout-key",
        good.keyFile,
        "--webhook",
        "slack=http://127.0.0.1:9/x",
      ]),
    ).rejects.toThrow(/serve exited 2: .*the kind is one of cdevents, grafana, datadog/s);
  });

  it("takes the key from STRATA_ROLLOUT_KEY and starts a rollout on a push", async () => {
    const { repo } = repository();
    const s = await serve(["--store", `file:${tempdir("strata-rollout-store-")}`, "--repo", repo], {
      STRATA_ROLLOUT_KEY: rolloutKey.pem,
    });
    const v1 = version(1, null);
    expect((await push(s.url, v1)).status).toBe(201);
    expect((await push(s.url, version(2, v1))).status).toBe(201);
    expect((await status(s.url)).state).toMatchObject({ phase: "progressing", candidate: { version: 2 } });
    // The key never appears in the server's log.
    expect(s.stderr()).not.toContain("PRIVATE KEY");
  });
});

describe.skipIf(etcdMissing)("several servers on one etcd", () => {
  let etcd: EtcdHandle;
  beforeAll(async () => {
    etcd = await startEtcd();
  });
  afterAll(async () => {
    await etcd?.stop();
  });

  it("agree on the rollout; a SIGKILLed server's rollout goes on at the other; a restarted one resumes", async () => {
    const { repo, keyFile } = repository();
    const args = [
      "--store",
      `etcd://${etcd.hostPort}/rollouts`,
      "--repo",
      repo,
      "--rollout-key",
      keyFile,
      "--rollout-interval",
      "200ms",
    ];
    const a = await serve(args);
    const b = await serve(args);
    const atB = await stream(b.url);
    const v1 = version(1, null);
    expect((await push(a.url, v1)).status).toBe(201);
    const v2 = version(2, v1);
    expect((await push(a.url, v2)).status).toBe(201);
    // B learns A's plan through the store, before the version it names.
    const plan = await atB.plan((p) => p.candidate.version === 2);
    await atB.until((f) => f.some((x) => x.event === "snapshot" && x.data.includes('"version":2')));
    const order = atB.frames.map((f) => (f.event === "plan" ? "plan" : `${f.event}:${JSON.parse(f.data).version}`));
    expect(order.indexOf("plan")).toBeLessThan(order.indexOf("snapshot:2"));
    const [sa, sb] = [await status(a.url), await status(b.url)];
    expect(sa.state).toEqual(sb.state);
    expect(sa.plan).toEqual(sb.plan);
    expect(sb.plan?.digest).toBe(plan.digest);

    // A dies at once (no shutdown); the candidate's clients report failures to B, which rolls back.
    await a.stop("SIGKILL");
    expect(
      (await postReports(b.url, [report("canary-a", 2, 20_000, 2_000), report("stable-a", 1, 100_000, 1_000)])).status,
    ).toBe(202);
    const back = await atB.plan((p) => p.phase === "rolled-back" && p.candidate.version === 2);
    expect(back.stable).toEqual({ version: 1, digest: v1.digest });

    // A new version starts a new rollout (from the stable version: v2 never reached everyone).
    const v3 = version(3, v2);
    expect((await push(b.url, v3)).status).toBe(201);
    const third = await atB.plan((p) => p.candidate.version === 3);
    expect(third).toMatchObject({ phase: "progressing", stable: { version: 1 } });
    expect(third.planVersion).toBeGreaterThan(back.planVersion);

    // B dies too; a new server on the same store resumes v3's rollout from the stored record and decides it.
    await b.stop("SIGKILL");
    const c = await serve(args);
    const atC = await stream(c.url);
    const resumed = await atC.plan((p) => p.candidate.version === 3);
    expect(resumed.digest).toBe(third.digest);
    expect(
      (await postReports(c.url, [report("canary-c", 3, 20_000, 2_000), report("stable-c", 1, 100_000, 1_000)])).status,
    ).toBe(202);
    const back3 = await atC.plan((p) => p.phase === "rolled-back" && p.candidate.version === 3);
    expect(back3.planVersion).toBe(third.planVersion + 1);
    const doc = await status(c.url);
    expect(doc.decisions.map((d) => d.action)).toEqual(expect.arrayContaining(["rollback", "start"]));
  });
});
