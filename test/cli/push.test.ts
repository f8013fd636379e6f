// @module-tag e2e
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
  writeFileSync(
    join(repo, "strata.yaml"),
    `version: 1\nenvironments:\n  staging: {}\nsigning:\n  trusted_keys: ["${key.publicKey.text}"]\ndistribution:\n  endpoint: ${server.url}\n`,
  );
  writeFileSync(join(repo, "key.pem"), pem, { mode: 0o600 });
  const [v1, v2] = makeChain(key, 2);
  await put(server.url, v1!, '"0"');
  await put(server.url, v2!, '"1"');
});
afterAll(async () => {
  await server.server.close();
  cleanupTempdirs();
});

describe("endpoint commands", () => {
  it("history lists versions newest first, as text and JSON", async () => {
    const text = await strata(["history", "--env", "staging", "--repo", repo]);
    expect(text.exitCode).toBe(0);
    expect(text.stdout.split("\n")[0]).toMatch(/^v2 /);
    const json = await strata(["history", "--env", "staging", "--endpoint", server.url, "--format", "json"]);
    expect(JSON.parse(json.stdout)).toMatchObject({
      schemaVersion: 1,
      environment: "staging",
      versions: [{ version: 2 }, { version: 1 }],
    });
  });

  it("status shows versions and clients", async () => {
    await fetch(`${server.url}/v1/environments/staging/snapshot`, {
      headers: { "strata-client": "service=api; instance=a1; version=2; kind=sdk; rejected=3; reason=digest-mismatch" },
    });
    const r = await strata(["status", "--format", "json"], { env: { STRATA_ENDPOINT: server.url } });
    expect(r.exitCode).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({
      schemaVersion: 1,
      environments: [{ environment: "staging", version: 2, clients: { 2: 1 } }],
      clients: [
        {
          environment: "staging",
          service: "api",
          instance: "a1",
          kind: "sdk",
          version: 2,
          connected: false,
          rejected: { version: 3, reason: "digest-mismatch" },
        },
      ],
    });
    const text = (await strata(["status"], { env: { STRATA_ENDPOINT: server.url } })).stdout;
    expect(text).toContain("staging: v2");
    // Each client under its environment: service/instance, kind, version, the refusal it holds now, last seen.
    expect(text).toMatch(/^ {2}api\/a1 \[sdk\]: v2, REFUSING v3 \(digest-mismatch\) since \d+s; last seen \d+s ago$/m);
  });

  it("rollback publishes the old content as a new version", async () => {
    const r = await strata([
      "rollback",
      "--env",
      "staging",
      "--to",
      "1",
      "--repo",
      repo,
      "--signing-key",
      join(repo, "key.pem"),
      "--format",
      "json",
    ]);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({
      schemaVersion: 1,
      ok: true,
      rollbackOf: 1,
      result: { status: "published", version: 3 },
    });
    const current = (await (await fetch(`${server.url}/v1/environments/staging/snapshot`)).json()) as {
      rollbackOf: number;
    };
    expect(current.rollbackOf).toBe(1);
  });

  it("exits 4 when the endpoint is unreachable or conflicts, 2 on bad invocations", async () => {
    expect((await strata(["history", "--env", "staging", "--endpoint", "http://127.0.0.1:9"])).exitCode).toBe(4);
    expect((await strata(["push", "--repo", repo])).exitCode).toBe(2);
    expect((await strata(["rollback", "--env", "staging", "--to", "x", "--repo", repo])).exitCode).toBe(2);
    const noKey = await strata(["rollback", "--env", "staging", "--to", "1", "--repo", repo], {
      env: { STRATA_SIGNING_KEY: "" },
    });
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
        "schemas/app.schema.yaml":
          "type: object\nadditionalProperties: false\nproperties:\n  replicas: { type: integer, default: 1 }\n",
        "environments/staging/app.yaml": "replicas: 2\n",
      });
      writeFileSync(join(dir, "key.pem"), pem, { mode: 0o600 });
      const push = (...extra: string[]) =>
        strata(["push", "--env", "staging", "--signing-key", "key.pem", "--format", "json", ...extra], { cwd: dir });
      const first = await push();
      expect(first.exitCode, first.stderr).toBe(0);
      expect(JSON.parse(first.stdout)).toMatchObject({
        schemaVersion: 1,
        ok: true,
        results: [{ environment: "staging", status: "published", version: 1 }],
      });
      expect(JSON.parse((await push()).stdout)).toMatchObject({ results: [{ status: "unchanged", version: 1 }] });
      writeFileSync(join(dir, "environments/staging/app.yaml"), "replicas: 3\n");
      commitAll(dir, "more replicas");
      expect(JSON.parse((await push()).stdout)).toMatchObject({ results: [{ status: "published", version: 2 }] });
      const current = (await (await fetch(`${s.url}/v1/environments/staging/snapshot`)).json()) as {
        config: unknown;
        source: { commit: string | null };
      };
      expect(current.config).toEqual({ app: { replicas: 3 } });
      expect(JSON.parse((await push("--refresh")).stdout)).toMatchObject({
        results: [{ status: "published", version: 3, action: "refresh" }],
      });
      // Concurrent CLI pushes of new content: one wins, the others exit 4 with version-conflict.
      writeFileSync(join(dir, "environments/staging/app.yaml"), "replicas: 4\n");
      commitAll(dir, "four replicas");
      // (A pusher that reads after the winner finished finds its content current: unchanged, exit 0.)
      const results = await Promise.all([push(), push(), push()]);
      const statuses = results.map(
        (r) => (JSON.parse(r.stdout) as { results: { status: string }[] }).results[0]!.status,
      );
      expect(statuses.filter((st) => st === "published")).toHaveLength(1);
      for (const [i, r] of results.entries()) {
        if (statuses[i] === "conflict") {
          expect(r.exitCode).toBe(4);
          expect(r.stdout).toContain("version-conflict");
        } else expect(r.exitCode).toBe(0);
      }
      // Invalid configuration is refused before anything is sent.
      writeFileSync(join(dir, "environments/staging/app.yaml"), "replicas: lots\n");
      commitAll(dir, "invalid");
      const refused = await push();
      expect(refused.exitCode).toBe(1);
      expect(JSON.parse(refused.stdout)).toMatchObject({ results: [{ status: "refused" }] });
    } finally {
      await s.server.close();
    }
  }, 120_000);
});

describe("strata push --all on the example repository", () => {
  it("publishes every concrete environment with secrets only as ciphertext; a secret-only change is published", async () => {
    const { cpSync, readdirSync, readFileSync, statSync } = await import("node:fs");
    const { gitdir, commitAll } = await import("../support/gitdir.js");
    const { exampleKeyEnv, projectRoot } = await import("../support/cli.js");
    const dir = gitdir({});
    for (const p of ["strata.yaml", ".sops.yaml", "schemas", "environments"])
      cpSync(join(projectRoot, p), join(dir, p), { recursive: true });
    commitAll(dir, "example");
    writeFileSync(join(dir, "key.pem"), pem, { mode: 0o600 });
    const env = exampleKeyEnv;
    const s = await startTestServer({ trustedKeys: [key.publicKey] });
    try {
      const push = async (...args: string[]) => {
        const r = await strata(["push", "--endpoint", s.url, "--signing-key", "key.pem", "--format", "json", ...args], {
          cwd: dir,
          env,
        });
        expect(r.exitCode, r.stderr).toBe(0);
        return (JSON.parse(r.stdout) as { results: { environment: string; status: string; version: number }[] })
          .results;
      };
      expect((await push("--all")).map((r) => [r.environment, r.status, r.version])).toEqual([
        ["development", "published", 1],
        ["staging", "published", 1],
        ["production", "published", 1],
        ["production-eu", "published", 1],
      ]);

      // Every sensitive plaintext of every environment, from resolve --show-secrets.
      const plaintexts = new Set<string>();
      for (const e of ["development", "staging", "production", "production-eu"]) {
        const shown = JSON.parse(
          (await strata(["resolve", "--env", e, "--format", "json", "--show-secrets"], { cwd: dir, env })).stdout,
        ) as unknown;
        const hidden = JSON.parse(
          (await strata(["resolve", "--env", e, "--format", "json", "--redact"], { cwd: dir, env })).stdout,
        ) as unknown;
        const walk = (a: unknown, b: unknown): void => {
          if (b === "<sensitive>" && typeof a === "string") plaintexts.add(a);
          else if (a && b && typeof a === "object" && typeof b === "object")
            for (const k of Object.keys(a)) walk((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]);
        };
        walk(shown, hidden);
      }
      expect(plaintexts.size).toBeGreaterThan(2);
      const files = readdirSync(s.dir, { recursive: true, encoding: "utf8" })
        .map((p) => join(s.dir, p))
        .filter((p) => statSync(p).isFile());
      const stored = files.map((f) => readFileSync(f, "utf8")).join("\n") + s.logs.join("\n");
      for (const p of plaintexts) expect(stored.includes(p), `plaintext of a secret in the store or logs`).toBe(false);
      const production = (await (await fetch(`${s.url}/v1/environments/production/snapshot`)).json()) as {
        secrets: { sops: unknown } | null;
      };
      expect(production.secrets?.sops).toBeTruthy();

      // Unchanged: nothing published. A secret-only change in staging: only staging gets a new version.
      expect((await push("--all")).map((r) => r.status)).toEqual(["unchanged", "unchanged", "unchanged", "unchanged"]);
      const set = await strata(
        [
          "secrets",
          "set",
          "environments/staging/http.sops.yaml",
          "api_tokens.payments_partner",
          '"rotated-partner-token-0001"',
        ],
        { cwd: dir, env },
      );
      expect(set.exitCode, set.stderr).toBe(0);
      commitAll(dir, "rotate the partner token");
      expect((await push("--all")).map((r) => [r.environment, r.status, r.version])).toEqual([
        ["development", "unchanged", 1],
        ["staging", "published", 2],
        ["production", "unchanged", 1],
        ["production-eu", "unchanged", 1],
      ]);
      const staging = (await (await fetch(`${s.url}/v1/environments/staging/snapshot`)).json()) as {
        config: unknown;
        secrets: unknown;
      };
      const v1 = (await (await fetch(`${s.url}/v1/environments/staging/snapshots/1`)).json()) as {
        config: unknown;
        secrets: unknown;
      };
      expect(staging.config).toEqual(v1.config);
      expect(staging.secrets).not.toEqual(v1.secrets);
      expect(JSON.stringify(staging)).not.toContain("rotated-partner-token-0001");
    } finally {
      await s.server.close();
    }
  }, 120_000);
});
