// @module-tag e2e
// Reliability of the SDK against the real endpoint and store: hostile or broken snapshots are refused
// with the right code while the current one stays; crashes and restarts are ridden out.
import { cpSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { createClient, StrataClient, StrataClientError } from "../../src/client/index.js";
import type { JsonObject } from "../../src/core/json.js";
import type { StatusDocument } from "../../src/core/protocol/index.js";
import { serializeSnapshot } from "../../src/core/snapshot/index.js";
import { etcdMissing, startEtcd, type EtcdHandle } from "../support/etcd.js";
import { tempdir } from "../support/gitdir.js";
import { spawnServe, type ServeProcess } from "../support/serve.js";
import { newKey } from "../support/snapshots.js";
import {
  encryptSecrets,
  newAgeIdentity,
  plantVersion,
  signSnapshot,
  startEndpoint,
  testBackoff,
  waitFor,
  type Endpoint,
} from "./support.js";

const endpoints: Endpoint[] = [];
const clients: StrataClient[] = [];
const extra: ServeProcess[] = [];
let etcd: EtcdHandle | null = null;
afterEach(async () => {
  for (const c of clients.splice(0)) await c.close();
  for (const p of extra.splice(0)) await p.stop("SIGKILL");
  for (const e of endpoints.splice(0)) await e.stop();
  await etcd?.stop();
  etcd = null;
});

const base = { app: { name: "demo", replicas: 2 } };
const SECRET = "pl41nt3xt-n3v3r-0n-d1sk";

async function endpoint(store?: string): Promise<Endpoint> {
  const ep = await startEndpoint(store ? { store } : {});
  endpoints.push(ep);
  return ep;
}

async function client(
  ep: Endpoint,
  extraOptions: Partial<Parameters<typeof createClient>[0]> = {},
): Promise<{ c: StrataClient; errors: StrataClientError[] }> {
  const c = new StrataClient({
    endpoint: ep.url,
    environment: "staging",
    service: "svc",
    instance: "t",
    trustedKeys: [ep.publicKey],
    backoff: testBackoff,
    timeoutMs: 2000,
    ...extraOptions,
  });
  clients.push(c);
  const errors: StrataClientError[] = [];
  c.on("error", (e) => errors.push(e));
  await c.ready();
  return { c, errors };
}

describe("refused snapshots: the current one stays and an error names the code", () => {
  it("one byte altered: the endpoint refuses its corrupt store copy, and the same bytes in a cache file are refused (digest-mismatch)", async () => {
    const ep = await endpoint();
    const v1 = await ep.publish(base);
    const good = serializeSnapshot(
      signSnapshot(ep.key, {
        environment: "staging",
        version: 2,
        previous: v1.digest,
        config: { app: { name: "demo", replicas: 3 } },
      }),
    );
    const i = good.indexOf('"replicas":3') + '"replicas":'.length;
    const altered = good.slice(0, i) + "4" + good.slice(i + 1);
    const { c, errors } = await client(ep);
    await ep.stop();
    plantVersion(ep, "staging", 2, altered);
    await ep.start();
    // The endpoint verifies what it reads from its store and never serves these bytes.
    await waitFor(() => ep.process!.stderr().includes("store-corrupt"), "the endpoint's store-corrupt log line");
    const res = await fetch(`${ep.url}/v1/environments/staging/snapshot`);
    expect(await res.text()).not.toContain('"replicas":4');
    expect(c.version).toBe(1);
    expect(c.get("app.replicas")).toBe(2);
    await c.close();
    // The client checks the same bytes itself wherever they come from: here its last-known-good file.
    const cacheFile = join(tempdir(), "cache.json");
    writeFileSync(cacheFile, altered);
    await ep.stop();
    const err = await createClient({
      endpoint: ep.url,
      environment: "staging",
      service: "svc",
      trustedKeys: [ep.publicKey],
      cacheFile,
      timeoutMs: 200,
    }).catch((e: unknown) => e);
    expect((err as Error).message).toContain("was rejected (digest-mismatch)");
    // While the endpoint refused to serve its corrupt copy, the client only saw it as unavailable.
    expect(errors.map((e) => e.code).filter((code) => code !== "unreachable")).toEqual([]);
  });

  it("a snapshot signed by a key the endpoint trusts but the service does not: invalid-signature", async () => {
    const other = newKey().key;
    const ep = await startEndpoint({ extraTrustedKeys: [other.publicKey.text] });
    endpoints.push(ep);
    await ep.publish(base);
    const { c, errors } = await client(ep);
    await ep.publish({ app: { name: "demo", replicas: 7 } }, { key: other });
    await waitFor(() => errors.find((e) => e.code === "invalid-signature"), "an invalid-signature error");
    expect(c.version).toBe(1);
    expect(c.get("app.replicas")).toBe(2);
    expect(c.lastRejected).toEqual({ version: 2, reason: "invalid-signature" });
    // The endpoint records the refusal from the header (fleet status).
    await ep.publish({ app: { name: "demo", replicas: 8 } }, { key: other });
    await waitFor(() => errors.filter((e) => e.code === "invalid-signature").length === 2, "the second refusal");
    const status = (await (await fetch(`${ep.url}/v1/status`)).json()) as StatusDocument;
    expect(status.clients.find((r) => r.instance === "t")).toMatchObject({
      service: "svc",
      kind: "sdk",
      version: 1,
      rejected: { reason: "invalid-signature" },
    });
  });

  it("another environment's snapshot stored under this one: the endpoint refuses it; the client keeps the current one", async () => {
    const ep = await endpoint();
    const v1 = await ep.publish(base);
    const { c } = await client(ep);
    await ep.stop();
    plantVersion(
      ep,
      "staging",
      2,
      serializeSnapshot(
        signSnapshot(ep.key, { environment: "production", version: 2, previous: v1.digest, config: base }),
      ),
    );
    await ep.start();
    await waitFor(() => ep.process!.stderr().includes("store-corrupt"), "the endpoint's store-corrupt log line");
    expect(c.version).toBe(1);
    // (A cache file from another environment is refused by the client with wrong-environment: see "the cache file".)
  });

  it("secrets the service cannot open: decryption-failed; secrets altered after encryption: mac-mismatch", async () => {
    const ep = await endpoint();
    const mine = await newAgeIdentity();
    const theirs = await newAgeIdentity();
    const v1 = await ep.publish(base, { secrets: await encryptSecrets({ app: { password: SECRET } }, mine.recipient) });
    const notMine = await encryptSecrets({ app: { password: SECRET } }, theirs.recipient);
    const { c, errors } = await client(ep, { identity: mine.identity });
    expect(c.get("app.password")).toBe(SECRET);

    await ep.publish(base, { secrets: notMine });
    await waitFor(() => errors.find((e) => e.code === "decryption-failed"), "decryption-failed");
    expect(c.version).toBe(1);

    // A leaf dropped from the document: every remaining value decrypts, but the MAC covered the dropped one.
    const doc = await encryptSecrets({ app: { password: SECRET, user: "app-user" } }, mine.recipient);
    delete (doc.app as JsonObject).user;
    await ep.publish(base, { secrets: doc });
    await waitFor(() => errors.find((e) => e.code === "mac-mismatch"), "mac-mismatch");
    expect(c.version).toBe(1);
    expect(c.get("app.password")).toBe(SECRET);
    for (const e of errors) expect(e.message).not.toContain(SECRET);
    expect(v1.version).toBe(1);
  });

  it("an endpoint restored from an old backup (an older version replayed): version-regression", async () => {
    const ep = await endpoint();
    await ep.publish(base);
    const backup = tempdir("strata-backup-");
    await ep.stop();
    cpSync(ep.dir, backup, { recursive: true });
    await ep.start();
    const { c, errors } = await client(ep);
    await ep.publish({ app: { name: "demo", replicas: 5 } });
    await waitFor(() => c.version === 2, "v2");
    await ep.stop();
    rmSync(ep.dir, { recursive: true, force: true });
    cpSync(backup, ep.dir, { recursive: true });
    await ep.start();
    await waitFor(() => errors.find((e) => e.code === "version-regression"), "version-regression");
    expect(c.version).toBe(2);
    expect(c.get("app.replicas")).toBe(5);
  });
});

describe("the cache file", () => {
  it("a cache newer than what the endpoint serves wins: the endpoint's older version is refused (version-regression)", async () => {
    const ep = await endpoint();
    const v1 = await ep.publish(base);
    const cacheFile = join(tempdir(), "cache.json");
    const v2 = signSnapshot(ep.key, {
      environment: "staging",
      version: 2,
      previous: v1.digest,
      config: { app: { name: "cached", replicas: 9 } },
    });
    writeFileSync(cacheFile, serializeSnapshot(v2));
    const { c, errors } = await client(ep, { cacheFile });
    expect(c.version).toBe(2);
    expect(c.get("app.name")).toBe("cached");
    expect(errors.map((e) => e.code)).toEqual(["version-regression"]);
  });

  it("a cache from another environment is refused (wrong-environment); without the endpoint ready() then fails", async () => {
    const ep = await endpoint();
    await ep.publish(base);
    const cacheFile = join(tempdir(), "cache.json");
    writeFileSync(
      cacheFile,
      serializeSnapshot(
        signSnapshot(ep.key, {
          environment: "production",
          version: 7,
          previous: "sha256:" + "1".repeat(64),
          config: base,
        }),
      ),
    );
    const { c, errors } = await client(ep, { cacheFile });
    expect(c.version).toBe(1);
    expect(errors.map((e) => e.code)).toEqual(["wrong-environment"]);
    await waitFor(
      () => readFileSync(cacheFile, "utf8").includes('"environment":"staging"'),
      "the cache replaced by the verified snapshot",
    );
    await c.close();

    writeFileSync(
      cacheFile,
      serializeSnapshot(
        signSnapshot(ep.key, {
          environment: "production",
          version: 7,
          previous: "sha256:" + "1".repeat(64),
          config: base,
        }),
      ),
    );
    await ep.stop();
    const err = await createClient({
      endpoint: ep.url,
      environment: "staging",
      service: "svc",
      trustedKeys: [ep.publicKey],
      cacheFile,
      timeoutMs: 200,
    }).catch((e: unknown) => e);
    expect((err as StrataClientError).code).toBe("unreachable");
    expect((err as Error).message).toContain("was rejected (wrong-environment)");
  });

  it("a cache older than the endpoint's version is superseded and rewritten", async () => {
    const ep = await endpoint();
    const v1 = await ep.publish(base);
    await ep.publish({ app: { name: "demo", replicas: 3 } });
    const cacheFile = join(tempdir(), "cache.json");
    writeFileSync(cacheFile, serializeSnapshot(v1));
    const { c, errors } = await client(ep, { cacheFile });
    expect(c.version).toBe(2);
    expect(errors).toEqual([]);
    await waitFor(() => readFileSync(cacheFile, "utf8").includes('"version":2'), "the cache rewritten");
  });

  it("secrets stay encrypted in the cache file; no output of the endpoint carries them", async () => {
    const ep = await endpoint();
    const age = await newAgeIdentity();
    await ep.publish(base, { secrets: await encryptSecrets({ app: { password: SECRET } }, age.recipient) });
    const cacheFile = join(tempdir(), "cache.json");
    const { c } = await client(ep, { cacheFile, identity: age.identity });
    expect(c.get("app.password")).toBe(SECRET);
    await ep.publish(base, { secrets: await encryptSecrets({ app: { password: SECRET + "-2" } }, age.recipient) });
    await waitFor(() => c.version === 2, "v2");
    await c.close();
    expect(readFileSync(cacheFile, "utf8")).not.toContain(SECRET);
    expect(readFileSync(cacheFile, "utf8")).toContain("ENC[AES256_GCM");
    expect(ep.process!.stderr()).not.toContain(SECRET);
    // The cache opens again (the MAC of the document as served verifies).
    await ep.stop();
    const again = await createClient({
      endpoint: ep.url,
      environment: "staging",
      service: "svc",
      trustedKeys: [ep.publicKey],
      cacheFile,
      identity: age.identity,
      timeoutMs: 200,
    });
    clients.push(again);
    expect(again.get("app.password")).toBe(SECRET + "-2");
  });
});

describe("crashes and restarts", () => {
  it("server killed during a watch: keeps serving, reconnects, receives what was published meanwhile", async () => {
    const ep = await endpoint();
    await ep.publish(base);
    const { c } = await client(ep);
    const reconnects: number[] = [];
    c.on("reconnect", (e) => reconnects.push(e.attempt));
    await ep.stop("SIGKILL");
    // Published meanwhile through another server on the same store.
    const other = await spawnServe(["--store", ep.store, "--trusted-keys", ep.keysFile]);
    extra.push(other);
    await ep.publish({ app: { name: "demo", replicas: 3 } }, { via: other.url });
    await ep.publish({ app: { name: "demo", replicas: 4 } }, { via: other.url });
    await other.stop();
    expect(c.get("app.replicas")).toBe(2);
    await ep.start();
    await waitFor(() => c.version === 3, "v3 after the restart");
    expect(c.get("app.replicas")).toBe(4);
    expect(reconnects.length).toBeGreaterThan(0);
  });

  it.skipIf(etcdMissing)(
    "two servers on etcd: when the client's server dies, what the other published arrives after it returns",
    async () => {
      etcd = await startEtcd();
      const store = `etcd://${etcd.hostPort}/strata-sdk-${Date.now()}`;
      const ep = await endpoint(store);
      const other = await spawnServe(["--store", store, "--trusted-keys", ep.keysFile]);
      extra.push(other);
      await ep.publish(base);
      const { c } = await client(ep);
      await ep.publish({ app: { name: "demo", replicas: 3 } }, { via: other.url });
      await waitFor(() => c.version === 2, "v2 pushed to the other server");
      await ep.stop("SIGKILL");
      await ep.publish({ app: { name: "demo", replicas: 4 } }, { via: other.url });
      expect(c.version).toBe(2);
      await ep.start();
      await waitFor(() => c.version === 3, "v3 after the server returned");
      expect(c.get("app.replicas")).toBe(4);
    },
  );

  it("clients reconnecting after a restart spread over the backoff window (full jitter)", async () => {
    const ep = await endpoint();
    await ep.publish(base);
    const fleet = await Promise.all(
      Array.from({ length: 20 }, (_, i) => client(ep, { instance: `i-${i}`, backoff: { baseMs: 200, capMs: 1000 } })),
    );
    const delays: number[] = [];
    for (const { c } of fleet)
      c.on("reconnect", (e) => {
        if (e.attempt === 1) delays.push(e.delayMs);
      });
    await ep.stop("SIGKILL");
    await ep.start();
    await ep.publish({ app: { name: "demo", replicas: 3 } });
    await waitFor(() => fleet.every(({ c }) => c.version === 2), "every client on v2");
    // Not a timing assertion: the first delays are drawn independently, not one shared value.
    expect(new Set(delays).size).toBeGreaterThan(1);
  });
});
