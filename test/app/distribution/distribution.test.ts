import { readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import {
  createEndpointClient,
  generateKeys,
  loadSigningKey,
  loadTrustedKeys,
  parseDuration,
  pushEnvironment,
  pushEnvironments,
  readDistributionSettings,
  readHistory,
  readStatus,
  resolveEndpointUrl,
  rollbackEnvironment,
  buildSnapshot,
  verifySnapshotFile,
  type EndpointClient,
  type SnapshotContent,
} from "../../../src/app/distribution/index.js";
import { createFinding } from "../../../src/core/findings.js";
import { serializeSnapshot } from "../../../src/core/snapshot/index.js";
import { cleanupTempdirs, tempdir } from "../../support/gitdir.js";
import { startTestServer, type TestServer } from "../../support/server.js";
import { fakeSops, newKey } from "../../support/snapshots.js";

const { key, pem } = newKey();
const servers: TestServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.server.close()));
});
afterAll(() => cleanupTempdirs());

async function endpoint(): Promise<EndpointClient> {
  const s = await startTestServer({ trustedKeys: [key.publicKey] });
  servers.push(s);
  return createEndpointClient({ url: s.url });
}

function content(over: Partial<SnapshotContent> = {}): SnapshotContent {
  return {
    config: { app: { replicas: 2 } },
    secrets: null,
    recipients: [],
    secretSources: [],
    source: { repository: "acme/config", commit: "abc123" },
    findings: [],
    ...over,
  };
}

describe("push", () => {
  it("publishes, is a no-op when the content is unchanged, publishes a secret-only change, and --refresh", async () => {
    const ep = await endpoint();
    let c = content();
    const opts = {
      environment: "staging",
      endpoint: ep,
      signingKey: key,
      trustedKeys: [key.publicKey],
      buildContent: async () => c,
      source: { pushedBy: "alice" },
    };
    const first = await pushEnvironment(opts);
    expect(first).toMatchObject({ status: "published", version: 1, action: "publish", exitCode: 0 });
    expect(await pushEnvironment(opts)).toMatchObject({ status: "unchanged", version: 1, exitCode: 0 });
    // Only an encrypted file changed: same config, new secretSources hash -> a new version.
    c = content({
      secrets: fakeSops({ password: "new" }),
      secretSources: [["environments/staging/app.sops.yaml", "b".repeat(64)]],
    });
    expect(await pushEnvironment(opts)).toMatchObject({ status: "published", version: 2, previousVersion: 1 });
    expect(await pushEnvironment({ ...opts, refresh: true })).toMatchObject({
      status: "published",
      version: 3,
      action: "refresh",
    });
    const current = (await ep.current("staging"))!;
    expect(current.previous).toBe((await ep.version("staging", 2))!.digest);
    expect(current.source).toMatchObject({ repository: "acme/config", commit: "abc123", pushedBy: "alice" });
    expect(current.secrets).toEqual(c.secrets);
    const history = await readHistory({ endpoint: ep, environment: "staging" });
    expect(history.map((h) => [h.version, h.action])).toEqual([
      [3, "refresh"],
      [2, "publish"],
      [1, "publish"],
    ]);
  });

  it("refuses invalid configuration without contacting the publish route (exit 1)", async () => {
    const ep = await endpoint();
    const bad = content({
      findings: [
        createFinding({
          code: "invalid-type",
          message: "app.replicas: expected integer",
          file: "environments/staging/app.yaml",
          line: 1,
          column: 10,
        }),
      ],
    });
    const r = await pushEnvironment({
      environment: "staging",
      endpoint: ep,
      signingKey: key,
      trustedKeys: [key.publicKey],
      buildContent: async () => bad,
    });
    expect(r).toMatchObject({ status: "refused", exitCode: 1, version: null });
    expect(await ep.current("staging")).toBeNull();
    // Refused before the endpoint is even asked: exit 1 with the endpoint down too.
    const down = await pushEnvironment({
      environment: "staging",
      endpoint: createEndpointClient({ url: "http://127.0.0.1:9" }),
      signingKey: key,
      trustedKeys: [key.publicKey],
      buildContent: async () => bad,
    });
    expect(down).toMatchObject({ status: "refused", exitCode: 1 });
    // A validate hook's errors refuse too (approvals, policy).
    const hooked = await pushEnvironment({
      environment: "staging",
      endpoint: ep,
      signingKey: key,
      trustedKeys: [key.publicKey],
      buildContent: async () => content(),
      validate: async () => [createFinding({ code: "insufficient-approvals", message: "needs 2" })],
    });
    expect(hooked).toMatchObject({ status: "refused", exitCode: 1 });
  });

  it("on a conflict re-reads and reports the current version (exit 4)", async () => {
    const ep = await endpoint();
    await pushEnvironment({
      environment: "staging",
      endpoint: ep,
      signingKey: key,
      trustedKeys: [key.publicKey],
      buildContent: async () => content(),
    });
    // Someone publishes between our read and our publish.
    const racing: EndpointClient = {
      ...ep,
      async publish(snapshot, expected) {
        await pushEnvironment({
          environment: "staging",
          endpoint: ep,
          signingKey: key,
          trustedKeys: [key.publicKey],
          buildContent: async () => content({ config: { app: { replicas: 9 } } }),
        });
        return ep.publish(snapshot, expected);
      },
    };
    const r = await pushEnvironment({
      environment: "staging",
      endpoint: racing,
      signingKey: key,
      trustedKeys: [key.publicKey],
      buildContent: async () => content({ config: { app: { replicas: 3 } } }),
    });
    expect(r).toMatchObject({ status: "conflict", version: 2, exitCode: 4 });
    expect(r.findings.map((f) => f.code)).toEqual(["version-conflict"]);
  });

  it("--all reports every environment; the exit code is the first that applies", async () => {
    const ep = await endpoint();
    const { results, exitCode } = await pushEnvironments(["staging", "production", "Bad_Name"], {
      endpoint: ep,
      signingKey: key,
      trustedKeys: [key.publicKey],
      buildContent: async () => content(),
    });
    expect(results.map((r) => r.status)).toEqual(["published", "published", "failed"]);
    expect(exitCode).toBe(4);
  });

  it("reports an unreachable endpoint and a refused token as distribution errors", async () => {
    const dead = createEndpointClient({ url: "http://127.0.0.1:9" });
    expect(
      await pushEnvironment({
        environment: "staging",
        endpoint: dead,
        signingKey: key,
        trustedKeys: [key.publicKey],
        buildContent: async () => content(),
      }),
    ).toMatchObject({ status: "failed", exitCode: 4, findings: [{ code: "unreachable" }] });
    const other = newKey().key;
    const ep = await endpoint();
    const r = await pushEnvironment({
      environment: "staging",
      endpoint: ep,
      signingKey: other,
      trustedKeys: [other.publicKey],
      buildContent: async () => content(),
    });
    expect(r).toMatchObject({ status: "failed", exitCode: 4, findings: [{ code: "invalid-signature" }] });
  });
});

describe("rollback", () => {
  it("publishes a new version with the old content and rollbackOf", async () => {
    const ep = await endpoint();
    let c = content();
    const opts = {
      environment: "staging",
      endpoint: ep,
      signingKey: key,
      trustedKeys: [key.publicKey],
      buildContent: async () => c,
    };
    await pushEnvironment(opts);
    c = content({ config: { app: { replicas: 5 } } });
    await pushEnvironment(opts);
    const r = await rollbackEnvironment({
      environment: "staging",
      to: 1,
      endpoint: ep,
      signingKey: key,
      trustedKeys: [key.publicKey],
      source: { pushedBy: "bob" },
    });
    expect(r).toMatchObject({ status: "published", version: 3, exitCode: 0 });
    const v1 = (await ep.version("staging", 1))!;
    const v3 = (await ep.current("staging"))!;
    expect(v3).toMatchObject({
      rollbackOf: 1,
      config: v1.config,
      contentDigest: v1.contentDigest,
      source: { commit: "abc123", pushedBy: "bob" },
    });
    // Rolling back to content that is already current changes nothing; an unknown version is refused.
    expect(
      await rollbackEnvironment({
        environment: "staging",
        to: 1,
        endpoint: ep,
        signingKey: key,
        trustedKeys: [key.publicKey],
      }),
    ).toMatchObject({ status: "unchanged", exitCode: 0 });
    expect(
      await rollbackEnvironment({
        environment: "staging",
        to: 7,
        endpoint: ep,
        signingKey: key,
        trustedKeys: [key.publicKey],
      }),
    ).toMatchObject({ status: "failed", exitCode: 2 });
    // The old version must verify against the trusted keys.
    expect(
      await rollbackEnvironment({
        environment: "staging",
        to: 2,
        endpoint: ep,
        signingKey: key,
        trustedKeys: [newKey().key.publicKey],
      }),
    ).toMatchObject({ status: "failed", findings: [{ code: "invalid-signature" }] });
    const status = await readStatus({ endpoint: ep, environment: "staging" });
    expect(status.environments).toMatchObject([{ environment: "staging", version: 3 }]);
  });
});

describe("snapshot build and verify, keys, settings", () => {
  it("builds version 1 without an endpoint and verifies the file", async () => {
    const dir = tempdir();
    const { snapshot } = await buildSnapshot({
      environment: "staging",
      endpoint: null,
      signingKey: key,
      trustedKeys: [key.publicKey],
      buildContent: async () => content(),
      ttlMs: parseDuration("1d"),
    });
    expect(snapshot).toMatchObject({ version: 1, previous: null });
    expect(Date.parse(snapshot!.expiresAt) - Date.parse(snapshot!.createdAt)).toBe(86_400_000);
    const file = join(dir, "s.json");
    writeFileSync(file, serializeSnapshot(snapshot!));
    expect(await verifySnapshotFile({ file, trustedKeys: [key.publicKey] })).toMatchObject({
      valid: true,
      version: 1,
      keyid: key.publicKey.keyid,
      expired: false,
    });
    await expect(
      verifySnapshotFile({ file, trustedKeys: [key.publicKey], environment: "production" }),
    ).rejects.toMatchObject({ code: "invalid-snapshot" });
    writeFileSync(file, serializeSnapshot({ ...snapshot!, config: { app: { replicas: 99 } } }));
    await expect(verifySnapshotFile({ file, trustedKeys: [key.publicKey] })).rejects.toMatchObject({
      code: "digest-mismatch",
    });
  });

  it("generates a 0600 PKCS#8 key that loads from a file or STRATA_SIGNING_KEY, never overwriting", async () => {
    const out = join(tempdir(), "k.pem");
    const g = await generateKeys({ out });
    expect(statSync(out).mode & 0o777).toBe(0o600);
    expect(g.publicKey).toMatch(/^ed25519:/);
    expect((await loadSigningKey({ file: out })).publicKey.text).toBe(g.publicKey);
    expect((await loadSigningKey({ env: { STRATA_SIGNING_KEY: readFileSync(out, "utf8") } })).publicKey.keyid).toBe(
      g.keyid,
    );
    await expect(generateKeys({ out })).rejects.toMatchObject({ code: "invalid-argument" });
    await expect(loadSigningKey({ env: {} })).rejects.toMatchObject({ code: "invalid-argument" });
    expect(pem).toContain("PRIVATE KEY");
  });

  it("reads trusted keys, endpoint, expiry and concrete environments from strata.yaml", async () => {
    const repo = tempdir();
    writeFileSync(
      join(repo, "strata.yaml"),
      `version: 1\nenvironments:\n  base: { abstract: true }\n  staging: { parent: base }\nsigning:\n  trusted_keys: ["${key.publicKey.text}"]\ndistribution:\n  endpoint: http://127.0.0.1:7070\n  expires_after: 3d\n`,
    );
    expect(await readDistributionSettings(repo)).toMatchObject({
      environments: ["staging"],
      trustedKeys: [key.publicKey.text],
      endpoint: "http://127.0.0.1:7070",
      expiresAfterMs: 3 * 86_400_000,
    });
    expect((await loadTrustedKeys({ repoDir: repo }))[0]!.keyid).toBe(key.publicKey.keyid);
    expect(await resolveEndpointUrl({ repoDir: repo, env: {} })).toBe("http://127.0.0.1:7070");
    expect(await resolveEndpointUrl({ repoDir: repo, env: { STRATA_ENDPOINT: "http://e:1" } })).toBe("http://e:1");
    expect(
      await resolveEndpointUrl({ flag: "http://f:2", repoDir: repo, env: { STRATA_ENDPOINT: "http://e:1" } }),
    ).toBe("http://f:2");
    await expect(loadTrustedKeys({})).rejects.toMatchObject({ code: "invalid-argument" });
    expect(() => parseDuration("7 days")).toThrow(/invalid duration/);
  });

  it("reads strata.yaml through the one schema-checked reader: every problem located, none swallowed", async () => {
    const write = (text: string): string => {
      const repo = tempdir();
      writeFileSync(join(repo, "strata.yaml"), text);
      return repo;
    };
    // Broken YAML, a list at the top, a misspelt distribution key and a non-string endpoint were read as "no settings".
    await expect(readDistributionSettings(write("version: 1\nenvironments:\n  staging: {\n"))).rejects.toMatchObject({
      code: "invalid-config",
      message: expect.stringMatching(/^strata\.yaml:\d+:\d+: /),
    });
    await expect(readDistributionSettings(write("- a\n- b\n"))).rejects.toMatchObject({
      code: "invalid-config",
      message: expect.stringMatching(/^strata\.yaml:1:1: /),
    });
    await expect(
      readDistributionSettings(
        write("version: 1\nenvironments:\n  staging: {}\ndistribution:\n  endpoitn: http://x\n"),
      ),
    ).rejects.toMatchObject({
      code: "invalid-config",
      message: expect.stringMatching(/^strata\.yaml:5:3: .*endpoitn/),
    });
    await expect(
      resolveEndpointUrl({
        repoDir: write("version: 1\nenvironments:\n  staging: {}\ndistribution:\n  endpoint: 7\n"),
        env: {},
      }),
    ).rejects.toMatchObject({ code: "invalid-config", message: expect.stringMatching(/^strata\.yaml:5:13: /) });
  });
});
