// @module-tag e2e
// Clients of one process share the verification of identical snapshot bytes (and the tree of a snapshot
// without secrets), so that a thousand of them receiving one publish verify it once. What may be shared is
// only what the bytes and the reader decide together: these tests give the same bytes to clients that must
// decide differently, in both orders, against the real endpoint.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { StrataClient, StrataClientError, type ClientOptions } from "../../src/client/index.js";
import { serializeSnapshot } from "../../src/core/snapshot/index.js";
import { freePort } from "../support/etcd.js";
import { tempdir } from "../support/gitdir.js";
import { newKey } from "../support/snapshots.js";
import { cleanUpAfterEach, startEndpoint, testBackoff } from "./support.js";

const { endpoints, clients } = cleanUpAfterEach();

const base = { app: { name: "demo", replicas: 2 } };

/** A client's first load: the client, or the code it refused with. */
async function firstLoad(options: Omit<ClientOptions, "service">): Promise<StrataClient | string> {
  const c = new StrataClient({ service: "svc", backoff: testBackoff, timeoutMs: 2000, ...options });
  clients.push(c);
  try {
    await c.ready();
    return c;
  } catch (e) {
    if (e instanceof StrataClientError) return e.code;
    throw e;
  }
}

describe("clients of one process given the same snapshot bytes", () => {
  it("the one trusting the signer takes them, the one that does not refuses them (invalid-signature), whichever verified first", async () => {
    const other = newKey().key;
    const ep = await startEndpoint({ extraTrustedKeys: [other.publicKey.text] });
    endpoints.push(ep);
    // Both environments' v1 are signed by `other`, which the endpoint trusts and one client does not.
    for (const environment of ["staging", "production"]) await ep.publish(base, { environment, key: other });
    const trusting = (environment: string): Omit<ClientOptions, "service"> => ({
      endpoint: ep.url,
      environment,
      trustedKeys: [ep.publicKey, other.publicKey.text],
    });
    const distrusting = (environment: string): Omit<ClientOptions, "service"> => ({
      endpoint: ep.url,
      environment,
      trustedKeys: [ep.publicKey],
    });

    // The trusting client verifies first, then the other.
    const a = await firstLoad(trusting("staging"));
    expect(a).toBeInstanceOf(StrataClient);
    expect((a as StrataClient).get("app.replicas")).toBe(2);
    expect(await firstLoad(distrusting("staging"))).toBe("invalid-signature");

    // The other way round.
    expect(await firstLoad(distrusting("production"))).toBe("invalid-signature");
    const b = await firstLoad(trusting("production"));
    expect(b).toBeInstanceOf(StrataClient);
    expect((b as StrataClient).version).toBe(1);

    // While running: a publish signed by `other` reaches two streaming clients; one moves, one refuses it.
    const moving = (await firstLoad(trusting("staging"))) as StrataClient;
    const mainSigned = await ep.publish({ app: { name: "demo", replicas: 3 } }, { environment: "staging" });
    const staying = (await firstLoad(distrusting("staging"))) as StrataClient;
    expect(staying.version).toBe(mainSigned.version);
    const refused = new Promise<StrataClientError>((resolve) => staying.on("error", resolve));
    const moved = new Promise<void>((resolve) => moving.on("change", () => moving.version === 3 && resolve()));
    await ep.publish({ app: { name: "demo", replicas: 4 } }, { environment: "staging", key: other });
    await moved;
    expect((await refused).code).toBe("invalid-signature");
    expect(moving.get("app.replicas")).toBe(4);
    expect(staying.version).toBe(2);
    expect(staying.get("app.replicas")).toBe(3);
  });

  it("a client of another environment refuses bytes another client took (wrong-environment)", async () => {
    const ep = await startEndpoint();
    endpoints.push(ep);
    const v1 = await ep.publish(base, { environment: "staging" });
    const taker = await firstLoad({ endpoint: ep.url, environment: "staging", trustedKeys: [ep.publicKey] });
    expect(taker).toBeInstanceOf(StrataClient);

    // The same bytes reach a production client through its cache file, with no endpoint to ask.
    const dead = `http://127.0.0.1:${await freePort()}`;
    const cacheWith = (name: string): string => {
      const file = join(tempdir(), name);
      writeFileSync(file, serializeSnapshot(v1), { mode: 0o600 });
      return file;
    };
    const c = new StrataClient({
      endpoint: dead,
      environment: "production",
      service: "svc",
      trustedKeys: [ep.publicKey],
      cacheFile: cacheWith("production.json"),
      backoff: testBackoff,
      timeoutMs: 500,
    });
    clients.push(c);
    const refusals: string[] = [];
    c.on("error", (e) => refusals.push(e.code));
    await expect(c.ready()).rejects.toBeInstanceOf(StrataClientError);
    expect(refusals).toContain("wrong-environment");
  });

  it("serves the same frozen configuration to every client of the snapshot, which none can change", async () => {
    const ep = await startEndpoint();
    endpoints.push(ep);
    await ep.publish(base);
    const [a, b] = (await Promise.all(
      [0, 1].map(() => firstLoad({ endpoint: ep.url, environment: "staging", trustedKeys: [ep.publicKey] })),
    )) as StrataClient[];
    const all = a!.getAll() as { app: { replicas: number } };
    expect(b!.getAll()).toBe(all);
    expect(Object.isFrozen(all.app)).toBe(true);
    expect(() => {
      all.app.replicas = 9;
    }).toThrow(TypeError);
    expect(b!.get("app.replicas")).toBe(2);
  });
});
