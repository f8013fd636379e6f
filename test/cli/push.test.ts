// The endpoint commands against a real server: push, history, status, rollback.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { strata } from "../support/cli.js";
import { cleanupTempdirs, tempdir } from "../support/gitdir.js";
import { put, startTestServer, type TestServer } from "../support/server.js";
import { makeChain, makeSnapshot, newKey } from "../support/snapshots.js";

const { key, pem } = newKey();
let server: TestServer;
let repo: string;
beforeAll(async () => {
  server = await startTestServer({ trustedKeys: [key.publicKey] });
  repo = tempdir();
  writeFileSync(join(repo, "strata.yaml"), `version: 1\nenvironments:\n  staging: {}\nsigning:\n  trusted_keys: ["${key.publicKey.text}"]\ndistribution:\n  endpoint: ${server.url}\n`);
  writeFileSync(join(repo, "key.pem"), pem, { mode: 0o600 });
  const [v1, v2] = makeChain(key, 2);
  await put(server.url, v1!, '"0"');
  await put(server.url, v2!, '"1"');
});
afterAll(async () => { await server.server.close(); cleanupTempdirs(); });

describe("endpoint commands", () => {
  it("history lists versions newest first, as text and JSON", async () => {
    const text = await strata(["history", "--env", "staging", "--repo", repo]);
    expect(text.exitCode).toBe(0);
    expect(text.stdout.split("\n")[0]).toMatch(/^v2 /);
    const json = await strata(["history", "--env", "staging", "--endpoint", server.url, "--format", "json"]);
    expect(JSON.parse(json.stdout)).toMatchObject({ schemaVersion: 1, environment: "staging", versions: [{ version: 2 }, { version: 1 }] });
  });

  it("status shows versions and clients", async () => {
    await fetch(`${server.url}/v1/environments/staging/snapshot`, { headers: { "strata-client": "service=api; instance=a1; version=2" } });
    const r = await strata(["status", "--format", "json"], { env: { STRATA_ENDPOINT: server.url } });
    expect(r.exitCode).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ schemaVersion: 1, environments: [{ environment: "staging", version: 2, clients: { 2: 1 } }], clients: [{ service: "api", instance: "a1", version: 2 }] });
    expect((await strata(["status"], { env: { STRATA_ENDPOINT: server.url } })).stdout).toContain("staging: v2");
  });

  it("rollback publishes the old content as a new version", async () => {
    const r = await strata(["rollback", "--env", "staging", "--to", "1", "--repo", repo, "--signing-key", join(repo, "key.pem"), "--format", "json"]);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ schemaVersion: 1, ok: true, rollbackOf: 1, result: { status: "published", version: 3 } });
    const current = (await (await fetch(`${server.url}/v1/environments/staging/snapshot`)).json()) as { rollbackOf: number };
    expect(current.rollbackOf).toBe(1);
  });

  it("exits 4 when the endpoint is unreachable or conflicts, 2 on bad invocations", async () => {
    expect((await strata(["history", "--env", "staging", "--endpoint", "http://127.0.0.1:9"])).exitCode).toBe(4);
    expect((await strata(["push", "--repo", repo])).exitCode).toBe(2);
    expect((await strata(["rollback", "--env", "staging", "--to", "x", "--repo", repo])).exitCode).toBe(2);
    const noKey = await strata(["rollback", "--env", "staging", "--to", "1", "--repo", repo], { env: { STRATA_SIGNING_KEY: "" } });
    expect(noKey.exitCode).toBe(2);
    expect(noKey.stderr).toContain("no signing key");
    // A snapshot built on a stale version is a conflict for the endpoint: exit 4 through the CLI's client.
    const stale = makeSnapshot(key, { version: 2, previous: makeChain(key, 1)[0]!.digest });
    expect((await put(server.url, stale, '"1"')).status).toBe(409);
  });
});

describe("strata push", () => {
  it("publishes, is a no-op when unchanged, publishes a change; conflicts exit 4", async () => {
    const { gitdir, commitAll } = await import("../support/gitdir.js");
    const s = await startTestServer({ trustedKeys: [key.publicKey] });
    try {
      const dir = gitdir({
        "strata.yaml": `version: 1\nenvironments:\n  base: { abstract: true }\n  staging: { parent: base }\nsigning:\n  trusted_keys: ["${key.publicKey.text}"]\ndistribution:\n  endpoint: ${s.url}\n`,
        "schemas/app.schema.yaml": "type: object\nadditionalProperties: false\nproperties:\n  replicas: { type: integer, default: 1 }\n",
        "environments/staging/app.yaml": "replicas: 2\n",
      });
      writeFileSync(join(dir, "key.pem"), pem, { mode: 0o600 });
      const push = (...extra: string[]) => strata(["push", "--env", "staging", "--signing-key", "key.pem", "--format", "json", ...extra], { cwd: dir });
      const first = await push();
      expect(first.exitCode, first.stderr).toBe(0);
      expect(JSON.parse(first.stdout)).toMatchObject({ schemaVersion: 1, ok: true, results: [{ environment: "staging", status: "published", version: 1 }] });
      expect(JSON.parse((await push()).stdout)).toMatchObject({ results: [{ status: "unchanged", version: 1 }] });
      writeFileSync(join(dir, "environments/staging/app.yaml"), "replicas: 3\n");
      commitAll(dir, "more replicas");
      expect(JSON.parse((await push()).stdout)).toMatchObject({ results: [{ status: "published", version: 2 }] });
      const current = (await (await fetch(`${s.url}/v1/environments/staging/snapshot`)).json()) as { config: unknown; source: { commit: string | null } };
      expect(current.config).toEqual({ app: { replicas: 3 } });
      expect(JSON.parse((await push("--refresh")).stdout)).toMatchObject({ results: [{ status: "published", version: 3, action: "refresh" }] });
      // Concurrent CLI pushes of new content: one wins, the others exit 4 with version-conflict.
      writeFileSync(join(dir, "environments/staging/app.yaml"), "replicas: 4\n");
      // (A pusher that reads after the winner finished finds its content current: unchanged, exit 0.)
      const results = await Promise.all([push(), push(), push()]);
      const statuses = results.map((r) => (JSON.parse(r.stdout) as { results: { status: string }[] }).results[0]!.status);
      expect(statuses.filter((st) => st === "published")).toHaveLength(1);
      for (const [i, r] of results.entries()) {
        if (statuses[i] === "conflict") {
          expect(r.exitCode).toBe(4);
          expect(r.stdout).toContain("version-conflict");
        } else expect(r.exitCode).toBe(0);
      }
      // Invalid configuration is refused before anything is sent.
      writeFileSync(join(dir, "environments/staging/app.yaml"), "replicas: lots\n");
      const refused = await push();
      expect(refused.exitCode).toBe(1);
      expect(JSON.parse(refused.stdout)).toMatchObject({ results: [{ status: "refused" }] });
    } finally {
      await s.server.close();
    }
  }, 120_000);
});
