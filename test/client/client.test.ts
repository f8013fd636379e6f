// @module-tag e2e
// The SDK against the real `strata serve` (built CLI) and its file store: first load, verification,
// live updates, the read API, the cache file and the Strata-Client header.
import { lstatSync, readFileSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { createClient, StrataClient, StrataClientError, type WatchEvent } from "../../src/client/index.js";
import { serializeSnapshot } from "../../src/core/snapshot/index.js";
import { tempdir } from "../support/gitdir.js";
import { encryptSecrets, newAgeIdentity, startEndpoint, testBackoff, waitFor, type Endpoint } from "./support.js";

const endpoints: Endpoint[] = [];
const clients: StrataClient<Record<string, unknown>>[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) await c.close();
  for (const e of endpoints.splice(0)) await e.stop();
});

async function endpoint(): Promise<Endpoint> {
  const ep = await startEndpoint();
  endpoints.push(ep);
  return ep;
}

function track<C extends StrataClient<Record<string, unknown>>>(c: C): C {
  clients.push(c);
  return c;
}

const base = {
  database: { host: "db.internal", pool: { max: 10, min: 1 } },
  features: { beta: false, regions: ["eu", "us"] },
};
const SECRET = "s3cr3t-pa55w0rd-7f2a";

describe("createClient", () => {
  it("loads, verifies and serves the effective config with secrets decrypted in memory", async () => {
    const ep = await endpoint();
    const age = await newAgeIdentity();
    await ep.publish(base, { secrets: await encryptSecrets({ database: { password: SECRET } }, age.recipient) });
    const cacheFile = join(tempdir(), "strata.json");
    const c = track(
      await createClient({
        endpoint: ep.url,
        environment: "staging",
        service: "checkout",
        instance: "i-1",
        trustedKeys: [ep.publicKey],
        identity: age.identity,
        cacheFile,
      }),
    );
    expect(c.version).toBe(1);
    expect(c.get("database.pool.max")).toBe(10);
    expect(c.get("database.password")).toBe(SECRET);
    expect(c.get("features.regions")).toEqual(["eu", "us"]);
    expect(c.get("database.pool")).toEqual({ max: 10, min: 1 });
    expect(c.get("nope.missing", 42)).toBe(42);
    expect(c.get("database.pool.max", 42)).toBe(10);
    expect(() => c.get("database.pool.maxx")).toThrow(expect.objectContaining({ code: "unknown-key" }));
    const all = c.getAll() as { database: { pool: { max: number } } };
    expect(Object.isFrozen(all)).toBe(true);
    expect(Object.isFrozen(all.database.pool)).toBe(true);
    expect(() => {
      (all.database.pool as { max: number }).max = 1;
    }).toThrow(TypeError);
    expect(c.isStale()).toBe(false);

    // The cache file: exactly as received, mode 0600, no plaintext.
    await waitFor(() => {
      try {
        return statSync(cacheFile).size > 0;
      } catch {
        return false;
      }
    }, "the cache file");
    const served = await (await fetch(`${ep.url}/v1/environments/staging/snapshot`)).text();
    expect(readFileSync(cacheFile, "utf8")).toBe(served);
    expect(statSync(cacheFile).mode & 0o777).toBe(0o600);
    expect(readFileSync(cacheFile, "utf8")).not.toContain(SECRET);
    expect(served).not.toContain(SECRET);

    // Fleet status: the endpoint saw the header.
    const status = (await (await fetch(`${ep.url}/v1/status`)).json()) as {
      clients: { service: string; instance: string; version: number }[];
    };
    expect(status.clients).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ service: "checkout", instance: "i-1", version: 1, kind: "sdk" }),
      ]),
    );
    expect(ep.process!.stderr()).not.toContain(SECRET);
  });

  it("follows pushes over the event stream: change events, watch callbacks per changed leaf, atomic swap", async () => {
    const ep = await endpoint();
    await ep.publish(base);
    const c = track(
      await createClient({
        endpoint: ep.url,
        environment: "staging",
        service: "svc",
        trustedKeys: [ep.publicKey],
        backoff: testBackoff,
      }),
    );
    const seen: WatchEvent[] = [];
    const all: WatchEvent[] = [];
    const stop = c.watch("database.**", (e) => seen.push(e));
    c.watch("**", (e) => all.push(e));
    c.watch("features.*", () => undefined);
    const changes: number[] = [];
    c.on("change", (e) => changes.push(e.version));
    const before = c.getAll();
    await ep.publish({
      ...base,
      database: { host: "db2.internal", pool: { max: 20, min: 1 } },
      features: { beta: true, regions: ["eu"] },
    });
    await waitFor(() => c.version === 2, "v2");
    expect(changes).toEqual([2]);
    expect(seen).toEqual([
      { key: "database.host", before: "db.internal", after: "db2.internal", version: 2 },
      { key: "database.pool.max", before: 10, after: 20, version: 2 },
    ]);
    expect(all.map((e) => e.key)).toEqual(["database.host", "database.pool.max", "features.beta", "features.regions"]);
    // The old tree is untouched: readers holding it never see a half-updated object.
    expect((before as typeof base).database.host).toBe("db.internal");
    stop();
    await ep.publish({ ...base, database: { host: "db3.internal", pool: { max: 20, min: 1 } } });
    await waitFor(() => c.version === 3, "v3");
    expect(seen).toHaveLength(2);
    expect(c.get("database.host")).toBe("db3.internal");
  });

  it("follows pushes by long-polling", async () => {
    const ep = await endpoint();
    await ep.publish(base);
    const c = track(
      await createClient({
        endpoint: ep.url,
        environment: "staging",
        service: "svc",
        trustedKeys: [ep.publicKey],
        transport: "long-poll",
        waitSeconds: 5,
        backoff: testBackoff,
      }),
    );
    await ep.publish({ ...base, features: { beta: true, regions: [] } });
    await waitFor(() => c.version === 2, "v2 by long-poll");
    expect(c.get("features.beta")).toBe(true);
  });

  it("reports staleness past expiresAt and keeps serving", async () => {
    const ep = await endpoint();
    const createdAt = new Date(Date.now() - 60_000);
    // Valid when it arrives (an expired one is refused), then it expires while in use.
    await ep.publish(base, { createdAt, expiresAt: new Date(Date.now() + 3000) });
    const c = track(
      new StrataClient({ endpoint: ep.url, environment: "staging", service: "svc", trustedKeys: [ep.publicKey] }),
    );
    const stale: number[] = [];
    c.on("stale", (e) => stale.push(e.version));
    await c.ready();
    expect(c.isStale()).toBe(false);
    await waitFor(() => stale.length === 1, "the stale event");
    expect(c.isStale()).toBe(true);
    expect(c.get("database.host")).toBe("db.internal");
  });

  it("refuses bad options with invalid-argument", () => {
    expect(
      () => new StrataClient({ endpoint: "http://x", environment: "staging", service: "s", trustedKeys: [] }),
    ).toThrow(expect.objectContaining({ code: "invalid-argument" }));
    expect(
      () =>
        new StrataClient({ endpoint: "http://x", environment: "staging", service: "s", trustedKeys: ["ed25519:nope"] }),
    ).toThrow(StrataClientError);
  });

  it("an unknown key before ready() says to await ready()", () => {
    const c = new StrataClient({
      endpoint: "http://127.0.0.1:9",
      environment: "staging",
      service: "s",
      trustedKeys: ["ed25519:" + Buffer.alloc(32).toString("base64")],
    });
    expect(() => c.get("a")).toThrow(/await ready\(\)/);
  });
});

describe("start without the endpoint", () => {
  it("starts from a verified cache file, then catches up when the endpoint comes back", async () => {
    const ep = await endpoint();
    await ep.publish(base);
    const cacheFile = join(tempdir(), "strata.json");
    writeFileSync(cacheFile, serializeSnapshot(ep.published.get("staging")![0]!), { mode: 0o600 });
    await ep.stop();
    const c = track(
      await createClient({
        endpoint: ep.url,
        environment: "staging",
        service: "svc",
        trustedKeys: [ep.publicKey],
        cacheFile,
        timeoutMs: 500,
        backoff: testBackoff,
      }),
    );
    expect(c.version).toBe(1);
    expect(c.get("database.host")).toBe("db.internal");
    await ep.start();
    await ep.publish({ ...base, features: { beta: true, regions: [] } });
    await waitFor(() => c.version === 2, "v2 after the endpoint returned");
    await waitFor(() => readFileSync(cacheFile, "utf8").includes('"version":2'), "the cache file updated");
  });

  it("the cache file is written by the one atomic writer: a link out of its directory is refused, one inside it replaced", async () => {
    const ep = await endpoint();
    const v1 = await ep.publish(base);
    const load = async (cacheFile: string): Promise<StrataClientError[]> => {
      const c = track(
        new StrataClient({
          endpoint: ep.url,
          environment: "staging",
          service: "svc",
          trustedKeys: [ep.publicKey],
          cacheFile,
        }),
      );
      const errors: StrataClientError[] = [];
      c.on("error", (e) => errors.push(e));
      await c.ready();
      await c.close();
      return errors;
    };
    // A link to a file elsewhere: the victim keeps its bytes, the write is refused and reported.
    const dir = tempdir("strata-sdk-link-");
    const victim = join(tempdir("strata-sdk-elsewhere-"), "victim.txt");
    writeFileSync(victim, "keep me\n", { mode: 0o644 });
    symlinkSync(victim, join(dir, "out.json"));
    const outErrors = await load(join(dir, "out.json"));
    expect(readFileSync(victim, "utf8")).toBe("keep me\n");
    expect(outErrors.at(-1)?.message).toMatch(/cannot write the cache file .*out\.json/);
    // A link to a sibling: replaced by the cache file itself (mode 0600), the sibling untouched.
    writeFileSync(join(dir, "sibling.txt"), "sibling\n");
    symlinkSync(join(dir, "sibling.txt"), join(dir, "in.json"));
    await load(join(dir, "in.json"));
    expect(lstatSync(join(dir, "in.json")).isSymbolicLink()).toBe(false);
    expect(statSync(join(dir, "in.json")).mode & 0o777).toBe(0o600);
    expect(readFileSync(join(dir, "in.json"), "utf8")).toBe(serializeSnapshot(v1));
    expect(readFileSync(join(dir, "sibling.txt"), "utf8")).toBe("sibling\n");
  });

  it("without a cache, ready() rejects after timeoutMs naming the endpoint and what was tried", async () => {
    const ep = await endpoint();
    await ep.stop();
    const missing = join(tempdir(), "none.json");
    const err = await createClient({
      endpoint: ep.url,
      environment: "staging",
      service: "svc",
      trustedKeys: [ep.publicKey],
      cacheFile: missing,
      timeoutMs: 300,
      backoff: testBackoff,
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StrataClientError);
    expect((err as StrataClientError).code).toBe("unreachable");
    expect((err as Error).message).toContain(ep.url);
    // Offline, a service tries its own chain (the endpoint would say whether the environment declares services).
    expect((err as Error).message).toContain("GET " + ep.url + "/v1/environments/staging/services/svc/snapshot");
    expect((err as Error).message).toContain(`the cache file ${missing} does not exist`);
  });
});
