// @module-tag e2e
// `strata push` end to end: a dirty working tree, the rollback guard and --force, and a hostile current.
import { createHash } from "node:crypto";
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { digestOf, parseSnapshot, serializeSnapshot, verifySnapshot } from "../../src/core/snapshot/index.js";
import { strata } from "../support/cli.js";
import { cleanupTempdirs, commitAll, gitdir } from "../support/gitdir.js";
import { put, startTestServer, type TestServer } from "../support/server.js";
import { makeChain, newKey } from "../support/snapshots.js";

const { key, pem } = newKey();
const servers: TestServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.server.close()));
});
afterAll(() => cleanupTempdirs());

async function setup(): Promise<{
  dir: string;
  s: TestServer;
  push: (...extra: string[]) => ReturnType<typeof strata>;
}> {
  const s = await startTestServer({ trustedKeys: [key.publicKey] });
  servers.push(s);
  const dir = gitdir({
    "strata.yaml": `version: 1\nenvironments:\n  staging: {}\nsigning:\n  trusted_keys: ["${key.publicKey.text}"]\ndistribution:\n  endpoint: ${s.url}\n`,
    "schemas/app.schema.yaml":
      "type: object\nadditionalProperties: false\nproperties:\n  replicas: { type: integer }\n",
    "environments/staging/app.yaml": "replicas: 2\n",
  });
  writeFileSync(join(dir, "key.pem"), pem, { mode: 0o600 });
  const push = (...extra: string[]) =>
    strata(["push", "--env", "staging", "--signing-key", "key.pem", "--format", "json", ...extra], { cwd: dir });
  return { dir, s, push };
}

const current = async (url: string) =>
  parseSnapshot(await (await fetch(`${url}/v1/environments/staging/snapshot`)).text());

describe("a dirty working tree", () => {
  it("is refused unless --allow-dirty, which records source.dirty and the digest of the uncommitted content", async () => {
    const { dir, s, push } = await setup();
    const head = commitAll(dir, "head");
    expect((await push()).exitCode).toBe(0);
    expect((await current(s.url)).source).not.toHaveProperty("dirty");
    writeFileSync(join(dir, "environments/staging/app.yaml"), "replicas: 5\n");
    writeFileSync(join(dir, "schemas/db.schema.yaml"), "type: object\nproperties:\n  pool: { type: integer }\n");
    writeFileSync(join(dir, "environments/staging/db.yaml"), "pool: 4\n");
    rmSync(join(dir, "schemas/app.schema.yaml"));
    writeFileSync(
      join(dir, "schemas/app.schema.yaml"),
      "type: object\nadditionalProperties: false\nproperties:\n  replicas: { type: integer, minimum: 1 }\n",
    );
    const refused = await push();
    expect(refused.exitCode).toBe(2);
    expect(refused.stderr).toMatch(/uncommitted changes to the configuration \(environments\/staging\/app\.yaml/);
    expect(refused.stderr).toMatch(/--allow-dirty/);
    expect(refused.stderr).not.toMatch(/\n\s+at /);
    expect((await current(s.url)).version).toBe(1);

    const allowed = await push("--allow-dirty");
    expect(allowed.exitCode, allowed.stderr).toBe(0);
    const v2 = await current(s.url);
    expect(v2.version).toBe(2);
    expect(v2.config).toEqual({ app: { replicas: 5 }, db: { pool: 4 } });
    const sha = (p: string) =>
      createHash("sha256")
        .update(readFileSync(join(dir, p)))
        .digest("hex");
    const expected = digestOf([
      ["environments/staging/app.yaml", sha("environments/staging/app.yaml")],
      ["environments/staging/db.yaml", sha("environments/staging/db.yaml")],
      ["schemas/app.schema.yaml", sha("schemas/app.schema.yaml")],
      ["schemas/db.schema.yaml", sha("schemas/db.schema.yaml")],
    ]);
    expect(v2.source).toMatchObject({ commit: head, dirty: true, dirtyDigest: expected });
    // The marker is signed: it is part of the digest.
    expect(() => verifySnapshot(v2, [key.publicKey])).not.toThrow();
    expect(() =>
      verifySnapshot({ ...v2, source: { ...v2.source, dirtyDigest: digestOf([]) } }, [key.publicKey]),
    ).toThrow(/digest/);
    expect((await strata(["history", "--env", "staging"], { cwd: dir })).stdout.split("\n")[0]).toContain(
      `${head.slice(0, 12)} (dirty)`,
    );
    // Files outside the configuration (the key, notes) do not make the tree dirty.
    commitAll(dir, "commit it");
    writeFileSync(join(dir, "NOTES.md"), "x\n");
    expect((await push()).exitCode).toBe(0);
  }, 120_000);
});

describe("the rollback guard", () => {
  it("refuses to republish the content a rollback replaced; --force publishes it", async () => {
    const { dir, s, push } = await setup();
    expect((await push()).exitCode).toBe(0);
    writeFileSync(join(dir, "environments/staging/app.yaml"), "replicas: 0\n");
    commitAll(dir, "bad change");
    expect((await push()).exitCode).toBe(0);
    const rb = await strata(["rollback", "--env", "staging", "--to", "1", "--signing-key", "key.pem"], { cwd: dir });
    expect(rb.exitCode, rb.stderr).toBe(0);
    const again = await push();
    expect(again.exitCode).toBe(4);
    expect(JSON.parse(again.stdout)).toMatchObject({
      ok: false,
      results: [{ status: "refused", version: 3, findings: [{ code: "push-failed" }] }],
    });
    const text = await strata(["push", "--env", "staging", "--signing-key", "key.pem"], { cwd: dir });
    expect(text.exitCode).toBe(4);
    expect(text.stderr).toContain("✗ staging: refused");
    expect(text.stderr).toContain("rolled back to the content of version 1, replacing version 2");
    expect(text.stderr).toContain("--force");
    const forced = await push("--force");
    expect(forced.exitCode, forced.stderr).toBe(0);
    expect(JSON.parse(forced.stdout)).toMatchObject({ results: [{ status: "published", version: 4 }] });
    expect((await current(s.url)).config).toEqual({ app: { replicas: 0 } });
  }, 120_000);
});

describe("a hostile current", () => {
  it("exits 4 naming what failed when the current is signed by an untrusted key", async () => {
    const { s, push } = await setup();
    // A store written behind the endpoint's back (the server trusts only `key`, the repository too).
    const other = newKey().key;
    const [forged] = makeChain(other, 1);
    const s2 = await startTestServer({ trustedKeys: [other.publicKey] });
    servers.push(s2);
    expect((await put(s2.url, forged!, '"0"')).status).toBe(201);
    const r = await push("--endpoint", s2.url);
    expect(r.exitCode).toBe(4);
    expect(JSON.parse(r.stdout)).toMatchObject({
      results: [
        {
          status: "failed",
          findings: [{ code: "invalid-signature", message: expect.stringContaining("current snapshot of staging") }],
        },
      ],
    });
    expect((await fetch(`${s2.url}/v1/environments/staging/snapshot`)).headers.get("etag")).toBe('"1"');
    expect(serializeSnapshot(forged!)).toBe(await (await fetch(`${s2.url}/v1/environments/staging/snapshot`)).text());
    expect((await fetch(`${s.url}/v1/environments/staging/snapshot`)).status).toBe(404);
  }, 60_000);
});
