// @module-tag e2e
// A store whose files were truncated or tampered with: the endpoint verifies every version it reads, refuses
// to serve bytes that do not verify (500 store-corrupt, a log line naming the file), and keeps every other
// environment and /v1/status working; `strata status` shows the corrupted environment and exits 4.
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { strata } from "../support/cli.js";
import { cleanupTempdirs, tempdir } from "../support/gitdir.js";
import { put, startTestServer, type TestServer } from "../support/server.js";
import { makeChain, newKey } from "../support/snapshots.js";

const { key } = newKey();
const servers: TestServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.server.close()));
});
afterAll(() => cleanupTempdirs());

async function serve(dir: string): Promise<TestServer> {
  const s = await startTestServer({ trustedKeys: [key.publicKey], dir });
  servers.push(s);
  return s;
}

/** A store with staging v1..v2 and production v1, served by a fresh server after `corrupt` ran on it. */
async function corruptedStore(corrupt: (file: string) => void): Promise<TestServer> {
  const dir = tempdir("strata-store-");
  const first = await serve(dir);
  for (const v of makeChain(key, 2)) expect((await put(first.url, v, `"${v.version - 1}"`)).status).toBe(201);
  for (const v of makeChain(key, 1, "production")) expect((await put(first.url, v, '"0"')).status).toBe(201);
  await first.server.close();
  corrupt(join(dir, "envs", "staging", "v", "000000000002.json"));
  return serve(dir);
}

async function expectCorrupt(s: TestServer, file: string): Promise<void> {
  for (const path of ["/v1/environments/staging/snapshot", "/v1/environments/staging/snapshots/2"]) {
    const r = await fetch(`${s.url}${path}`);
    expect(r.status, path).toBe(500);
    expect(r.headers.get("cache-control")).toBeNull();
    const body = (await r.json()) as { error: { code: string; message: string } };
    expect(body.error.code).toBe("store-corrupt");
  }
  // The dashboard's diff reads its two versions through the same verifying reader: never diffed.
  for (const query of ["from=1&to=2", "from=2&to=1"]) {
    const r = await fetch(`${s.url}/ui/api/environments/staging/diff?${query}`);
    expect(r.status, query).toBe(500);
    const text = await r.text();
    expect(JSON.parse(text)).toMatchObject({ error: { code: "store-corrupt" } });
    expect(text).not.toContain('"after":99');
  }
  const line = s.logs
    .map((l) => JSON.parse(l) as { msg: string; file?: string; environment?: string })
    .find((l) => l.msg === "store-corrupt");
  expect(line).toMatchObject({ file, environment: "staging" });
  // Every other version and environment is still served, and /v1/status answers, naming the broken one.
  expect((await fetch(`${s.url}/v1/environments/staging/snapshots/1`)).status).toBe(200);
  expect((await fetch(`${s.url}/v1/environments/production/snapshot`)).status).toBe(200);
  const status = await fetch(`${s.url}/v1/status`);
  expect(status.status).toBe(200);
  expect(((await status.json()) as { environments: unknown[] }).environments).toEqual([
    {
      environment: "production",
      version: 1,
      digest: expect.any(String),
      publishedAt: expect.any(String),
      createdAt: expect.any(String),
      expiresAt: expect.any(String),
      ageSeconds: expect.any(Number),
      expired: false,
      clients: {},
    },
    { environment: "staging", error: { code: "store-corrupt", message: expect.stringContaining("staging v2") } },
  ]);
}

describe("corrupted store files", () => {
  it("a truncated version file is not served", async () => {
    let path = "";
    const s = await corruptedStore((file) => {
      path = file;
      const text = readFileSync(file, "utf8");
      writeFileSync(file, text.slice(0, text.length / 2));
    });
    await expectCorrupt(s, path);
  });

  it("a tampered version file that is still valid JSON is not served", async () => {
    let path = "";
    const s = await corruptedStore((file) => {
      path = file;
      const doc = JSON.parse(readFileSync(file, "utf8")) as { config: { app: { replicas: number } } };
      doc.config.app.replicas = 99;
      writeFileSync(file, JSON.stringify(doc));
    });
    await expectCorrupt(s, path);
  });

  it("a version file signed by an untrusted key, or holding another version, is not served", async () => {
    const other = newKey().key;
    const s = await corruptedStore((file) => {
      const forged = makeChain(other, 2)[1]!;
      writeFileSync(file, JSON.stringify(forged));
    });
    expect(
      ((await (await fetch(`${s.url}/v1/environments/staging/snapshot`)).json()) as { error: { code: string } }).error
        .code,
    ).toBe("store-corrupt");
    const t = await corruptedStore((file) =>
      writeFileSync(file, readFileSync(file.replace("000000000002", "000000000001"))),
    );
    expect(
      ((await (await fetch(`${t.url}/v1/environments/staging/snapshots/2`)).json()) as { error: { code: string } })
        .error.code,
    ).toBe("store-corrupt");
  });

  it("strata status shows the corrupted environment and exits 4", async () => {
    const s = await corruptedStore((file) => writeFileSync(file, "{"));
    const text = await strata(["status", "--endpoint", s.url]);
    expect(text.exitCode, text.stderr).toBe(4);
    expect(text.stdout).toMatch(/^staging: STORE CORRUPT \(store-corrupt\): .*staging v2/m);
    expect(text.stdout).toMatch(/^production: v1, published/m);
    const json = await strata(["status", "--endpoint", s.url, "--format", "json"]);
    expect(json.exitCode).toBe(4);
    expect(JSON.parse(json.stdout)).toMatchObject({
      environments: [{ environment: "production" }, { environment: "staging", error: { code: "store-corrupt" } }],
    });
  });
});
