// push and rollback against a hostile endpoint (a local stand-in that answers what an attacker chooses), and
// the rollback guard against the real endpoint.
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import {
  createEndpointClient,
  pushEnvironment,
  rollbackEnvironment,
  type SnapshotContent,
} from "../../../src/app/distribution/index.js";
import {
  computeContentDigest,
  computeDigest,
  createSnapshot,
  MAX_VERSION,
  serializeSnapshot,
  signDigest,
  type Snapshot,
} from "../../../src/core/snapshot/index.js";
import { cleanupTempdirs } from "../../support/gitdir.js";
import { startTestServer, type TestServer } from "../../support/server.js";
import { newKey } from "../../support/snapshots.js";

const { key } = newKey();
const attacker = newKey().key;
const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  await Promise.all(closers.splice(0).map((c) => c()));
});
afterAll(() => cleanupTempdirs());

const config = { app: { replicas: 2 } };
function content(over: Partial<SnapshotContent> = {}): SnapshotContent {
  return {
    config,
    secrets: null,
    recipients: [],
    secretSources: [],
    source: { repository: "acme/config", commit: "abc123" },
    findings: [],
    ...over,
  };
}

/** An endpoint that answers `current` (raw text) for every read and records every publish attempt. */
async function hostileEndpoint(current: string): Promise<{ url: string; puts: string[] }> {
  const puts: string[] = [];
  const server: Server = createServer((req, res) => {
    let body = "";
    req
      .on("data", (c: Buffer) => (body += c.toString("utf8")))
      .on("end", () => {
        if (req.method === "PUT") {
          puts.push(body);
          res.writeHead(201, { "content-type": "application/json" }).end(JSON.stringify({ version: 0, digest: "" }));
          return;
        }
        res.writeHead(200, { "content-type": "application/json" }).end(current);
      });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  closers.push(() => new Promise((r) => server.close(() => r())));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, puts };
}

function forge(init: { version: number; signer?: typeof key; environment?: string; contentDigest?: string }): Snapshot {
  return createSnapshot(
    {
      environment: init.environment ?? "staging",
      version: init.version,
      previous: init.version === 1 ? null : `sha256:${"e".repeat(64)}`,
      createdAt: new Date(),
      source: {},
      contentDigest: init.contentDigest ?? computeContentDigest({ other: { x: 1 } }, []),
      config: { other: { x: 1 } },
      secrets: null,
    },
    [init.signer ?? key],
  );
}

describe("push verifies the endpoint's current snapshot before building on it", () => {
  const cases: [string, () => string, string][] = [
    [
      "an unsigned current at version 2^53 - 2 with a made-up digest",
      () => {
        const s = forge({ version: 1 });
        return serializeSnapshot({
          ...s,
          version: Number.MAX_SAFE_INTEGER - 1,
          previous: `sha256:${"1".repeat(64)}`,
          digest: `sha256:${"2".repeat(64)}`,
          signatures: [],
        });
      },
      "invalid-snapshot",
    ],
    [
      "a current above the version bound, signed by a trusted key",
      () => {
        const { digest: _d, signatures: _s, ...rest } = forge({ version: 5 });
        const unsigned = { ...rest, version: MAX_VERSION + 1 };
        const digest = computeDigest(unsigned);
        return serializeSnapshot({ ...unsigned, digest, signatures: [signDigest(digest, key)] });
      },
      "invalid-snapshot",
    ],
    [
      "a forged current with a matching contentDigest (a silent no-op)",
      () => serializeSnapshot(forge({ version: 5, signer: attacker, contentDigest: computeContentDigest(config, []) })),
      "invalid-signature",
    ],
    [
      "a current whose content does not match its digest",
      () => {
        const s = forge({ version: 5 });
        return serializeSnapshot({ ...s, config: { other: { x: 2 } } });
      },
      "digest-mismatch",
    ],
    [
      "another environment's current",
      () => serializeSnapshot(forge({ version: 5, environment: "production" })),
      "invalid-snapshot",
    ],
    [
      "a current of another apiVersion",
      () => serializeSnapshot({ ...forge({ version: 5 }), apiVersion: 2 } as unknown as Snapshot),
      "invalid-snapshot",
    ],
  ];
  it.each(cases)("%s: refused with exit 4, nothing published", async (_name, current, code) => {
    const ep = await hostileEndpoint(current());
    const endpoint = createEndpointClient({ url: ep.url });
    const r = await pushEnvironment({
      environment: "staging",
      endpoint,
      signingKey: key,
      trustedKeys: [key.publicKey],
      buildContent: async () => content(),
    });
    expect(r).toMatchObject({ status: "failed", exitCode: 4, findings: [{ code }] });
    expect(r.findings[0]!.message).toMatch(/staging/);
    expect(ep.puts).toEqual([]);
    const rb = await rollbackEnvironment({
      environment: "staging",
      to: 1,
      endpoint,
      signingKey: key,
      trustedKeys: [key.publicKey],
    });
    expect(rb).toMatchObject({ status: "failed", exitCode: 4 });
    expect(ep.puts).toEqual([]);
  });

  it("refuses to build past the version bound even on a genuine chain", async () => {
    const top = forge({ version: MAX_VERSION });
    const ep = await hostileEndpoint(serializeSnapshot(top));
    const r = await pushEnvironment({
      environment: "staging",
      endpoint: createEndpointClient({ url: ep.url }),
      signingKey: key,
      trustedKeys: [key.publicKey],
      buildContent: async () => content(),
    });
    expect(r).toMatchObject({
      status: "failed",
      exitCode: 4,
      findings: [{ code: "invalid-snapshot", message: expect.stringContaining(String(MAX_VERSION)) }],
    });
    expect(ep.puts).toEqual([]);
  });
});

describe("the rollback guard", () => {
  async function real(): Promise<TestServer> {
    const s = await startTestServer({ trustedKeys: [key.publicKey] });
    closers.push(() => s.server.close());
    return s;
  }

  it("refuses a push that would republish the content a rollback replaced, unless forced", async () => {
    const s = await real();
    const endpoint = createEndpointClient({ url: s.url });
    const good = content({ config: { app: { replicas: 2 } } });
    const bad = content({ config: { app: { replicas: 0 } } });
    const opts = { environment: "staging", endpoint, signingKey: key, trustedKeys: [key.publicKey] };
    expect(await pushEnvironment({ ...opts, buildContent: async () => good })).toMatchObject({
      status: "published",
      version: 1,
    });
    expect(await pushEnvironment({ ...opts, buildContent: async () => bad })).toMatchObject({
      status: "published",
      version: 2,
    });
    expect(await rollbackEnvironment({ ...opts, to: 1 })).toMatchObject({ status: "published", version: 3 });
    // HEAD still holds the bad content: a plain push would undo the rollback.
    const refused = await pushEnvironment({ ...opts, buildContent: async () => bad });
    expect(refused).toMatchObject({ status: "refused", exitCode: 4, version: 3, findings: [{ code: "push-failed" }] });
    expect(refused.findings[0]!.message).toContain(
      "version 3 rolled back to the content of version 1, replacing version 2",
    );
    expect(refused.findings[0]!.hint).toMatch(/--force/);
    expect((await endpoint.current("staging"))!.version).toBe(3);
    // A fix forward is published; so is the old content with force.
    expect(await pushEnvironment({ ...opts, buildContent: async () => bad, force: true })).toMatchObject({
      status: "published",
      version: 4,
    });
    expect(await rollbackEnvironment({ ...opts, to: 1 })).toMatchObject({ status: "published", version: 5 });
    expect(
      await pushEnvironment({ ...opts, buildContent: async () => content({ config: { app: { replicas: 3 } } }) }),
    ).toMatchObject({ status: "published", version: 6 });
  });
});
