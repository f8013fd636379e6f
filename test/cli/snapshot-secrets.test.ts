// @module-tag e2e
// A snapshot's `secrets`, exactly as served and as `snapshot --out` writes it, is a standard SOPS JSON
// document whose MAC verifies (docs/distribution.md); a snapshot whose secrets fail their MAC is reported.
import { execFileSync } from "node:child_process";
import { createDecipheriv, createHash } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { generateIdentity, identityToRecipient } from "age-encryption";
import { decryptSops } from "sops-age";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { encryptDocument } from "../../src/app/secrets/encrypt-document.js";
import type { JsonObject } from "../../src/core/json.js";
import { parseSigningKey, parseSnapshot, serializeSnapshot } from "../../src/core/snapshot/index.js";
import { jsonToTree } from "../../src/core/sops/document.js";
import type { Branch } from "../../src/core/sops/tree.js";
import { exampleKeyEnv, noKeyEnv, projectRoot, strata } from "../support/cli.js";
import { cleanupTempdirs, tempdir } from "../support/gitdir.js";
import { startTestServer, type TestServer } from "../support/server.js";
import { makeSnapshot, newKey } from "../support/snapshots.js";
import { lacking } from "../support/shared.js";

const missing = lacking("a published snapshot's secrets (the age CLI)", { tool: "age" });

const keys = join(projectRoot, "examples/keys");
const runtimeKeyFile = join(keys, "EXAMPLE-ONLY-NOT-A-REAL-KEY.runtime.age.txt");
const runtimeIdentity = readFileSync(runtimeKeyFile, "utf8")
  .split("\n")
  .find((l) => l.startsWith("AGE-SECRET-KEY-"))!;
const signingKeyFile = join(keys, "EXAMPLE-ONLY-NOT-A-REAL-SIGNING-KEY.pem");
const runtimeEnv = { ...noKeyEnv, SOPS_AGE_KEY_FILE: runtimeKeyFile };
const PASSWORD = "example-production-db-password-c91e";

let server: TestServer;
let dir: string;
let served: string;
beforeAll(async () => {
  server = await startTestServer({ trustedKeys: [parseSigningKey(readFileSync(signingKeyFile, "utf8")).publicKey] });
  dir = tempdir();
  const push = await strata(
    ["push", "--env", "production", "--signing-key", signingKeyFile, "--endpoint", server.url, "--format", "json"],
    { env: { ...noKeyEnv, ...exampleKeyEnv } },
  );
  expect(push.exitCode, push.stderr).toBe(0);
  served = await (await fetch(`${server.url}/v1/environments/production/snapshot`)).text();
  writeFileSync(join(dir, "served.json"), served);
}, 120_000);
afterAll(async () => {
  await server?.server.close();
  cleanupTempdirs();
});

/** `jq .secrets`: the member as the served bytes order it (the by-hand recipe of docs/distribution.md). */
function extractSecrets(snapshotFile: string, out: string): string {
  const text = execFileSync("jq", [".secrets", snapshotFile], { encoding: "utf8" });
  writeFileSync(out, text);
  return text;
}

/**
 * The MAC checked independently of strata: the data key from the real `age` binary, the stored MAC opened
 * with node's AES-GCM (additional data: lastmodified), SHA-512 over the values sops-age decrypted, in
 * document order (no integer-like keys here, so JSON.parse keeps the file's order).
 */
function independentMacCheck(sopsText: string, values: unknown): boolean {
  const doc = JSON.parse(sopsText) as { sops: { age: { enc: string }[]; mac: string; lastmodified: string } };
  const dataKey = execFileSync("age", ["--decrypt", "-i", runtimeKeyFile], { input: doc.sops.age[0]!.enc });
  const m = /^ENC\[AES256_GCM,data:(.*),iv:(.+),tag:(.+),type:str\]$/.exec(doc.sops.mac)!;
  const d = createDecipheriv("aes-256-gcm", dataKey, Buffer.from(m[2]!, "base64"));
  d.setAAD(Buffer.from(doc.sops.lastmodified));
  d.setAuthTag(Buffer.from(m[3]!, "base64"));
  const stored = Buffer.concat([d.update(Buffer.from(m[1]!, "base64")), d.final()]).toString("utf8");
  const hash = createHash("sha512");
  const walk = (v: unknown): void => {
    if (Array.isArray(v)) v.forEach(walk);
    else if (v !== null && typeof v === "object") Object.values(v).forEach(walk);
    else if (typeof v === "string") hash.update(v);
    else hash.update(String(v));
  };
  walk(values);
  return hash.digest("hex").toUpperCase() === stored;
}

describe.skipIf(missing)("a published snapshot's secrets", () => {
  it("open with `strata secrets decrypt` (MAC checked) and with sops-age, and the MAC verifies independently", async () => {
    const text = extractSecrets(join(dir, "served.json"), join(dir, "s.sops.json"));
    const decrypted = await strata(["secrets", "decrypt", join(dir, "s.sops.json"), "--format", "json"], {
      env: runtimeEnv,
    });
    expect(decrypted.exitCode, decrypted.stderr).toBe(0);
    const values = JSON.parse(decrypted.stdout) as JsonObject;
    expect(values).toMatchObject({ database: { password: PASSWORD } });
    const viaSopsAge: unknown = await decryptSops(text, { secretKey: runtimeIdentity, fileType: "json" });
    expect(viaSopsAge).toEqual(values);
    expect(independentMacCheck(text, viaSopsAge)).toBe(true);
  });

  it("open with strata's core reader (the SDK's), MAC checked", async () => {
    const { openSnapshotSecrets } = await import("../../src/core/snapshot/index.js");
    const { Decrypter, armor } = await import("age-encryption");
    const snapshot = parseSnapshot(served);
    const opened = await openSnapshotSecrets(snapshot.secrets!, async ({ enc }) => {
      const d = new Decrypter();
      d.addIdentity(runtimeIdentity);
      return d.decrypt(armor.decode(enc));
    });
    expect(opened.values).toMatchObject({ database: { password: PASSWORD } });
    expect(opened.plaintexts).toContain(PASSWORD);
  });

  it("`strata snapshot --out` writes secrets that open with the MAC checked, and `snapshot verify` checks it", async () => {
    const out = join(dir, "built.json");
    const built = await strata(
      ["snapshot", "--env", "production", "--out", out, "--signing-key", signingKeyFile, "--endpoint", server.url],
      { env: { ...noKeyEnv, ...exampleKeyEnv } },
    );
    expect(built.exitCode, built.stderr).toBe(0);
    extractSecrets(out, join(dir, "built.sops.json"));
    const decrypted = await strata(["secrets", "decrypt", join(dir, "built.sops.json")], { env: runtimeEnv });
    expect(decrypted.exitCode, decrypted.stderr).toBe(0);
    expect(decrypted.stdout).toContain(PASSWORD);

    const verified = await strata(["snapshot", "verify", out, "--repo", projectRoot, "--format", "json"], {
      env: runtimeEnv,
    });
    expect(verified.exitCode, verified.stderr).toBe(0);
    expect(JSON.parse(verified.stdout)).toMatchObject({
      valid: true,
      environment: "production",
      secrets: { status: "verified", reason: null },
    });
    const text = await strata(["snapshot", "verify", out, "--repo", projectRoot], { env: runtimeEnv });
    expect(text.stdout).toContain("secrets: SOPS MAC verified");
    // Without a runtime identity verify says plainly that it did not check the secrets.
    const noId = await strata(["snapshot", "verify", out, "--repo", projectRoot, "--format", "json"], {
      env: noKeyEnv,
    });
    expect(noId.exitCode, noId.stderr).toBe(0);
    expect(JSON.parse(noId.stdout)).toMatchObject({
      secrets: { status: "unchecked", reason: expect.stringContaining("no age identity") },
    });
    expect((await strata(["snapshot", "verify", out, "--repo", projectRoot], { env: noKeyEnv })).stdout).toContain(
      "secrets: SOPS MAC not checked",
    );
    // The repository's identity is not a runtime recipient: still not checked, and said so.
    const wrongId = await strata(["snapshot", "verify", out, "--repo", projectRoot, "--format", "json"], {
      env: { ...noKeyEnv, ...exampleKeyEnv },
    });
    expect(JSON.parse(wrongId.stdout)).toMatchObject({
      secrets: { status: "unchecked", reason: expect.stringContaining("not a recipient") },
    });
    for (const r of [verified, text, noId, wrongId]) expect(r.stdout + r.stderr).not.toContain(PASSWORD);
  });
});

describe("a snapshot built before the fix (secrets encrypted in another key order than published)", () => {
  const { key } = newKey();
  let file: string;
  let trusted: string;
  let identity: string;
  let secrets: JsonObject;
  beforeAll(async () => {
    identity = await generateIdentity();
    writeFileSync(join(dir, "runtime.txt"), identity + "\n");
    // The old build: a tree in leaf order (not canonical order), encrypted, then published as canonical JSON.
    const tree = jsonToTree({
      zeta: { token: "old-zeta-token-81f2" },
      alpha: { token: "old-alpha-token-3c9d" },
    }) as Branch;
    secrets = JSON.parse(
      await encryptDocument(tree, { format: "json", age: [await identityToRecipient(identity)], env: noKeyEnv }),
    ) as JsonObject;
    file = join(dir, "old.json");
    writeFileSync(file, serializeSnapshot(makeSnapshot(key, { environment: "production", secrets })));
    trusted = join(dir, "trusted.txt");
    writeFileSync(trusted, key.publicKey.text + "\n");
  });

  it("`snapshot verify` reports mac-mismatch naming the snapshot's secrets, exit 3", async () => {
    const r = await strata(["snapshot", "verify", file, "--trusted-keys", trusted], {
      env: { ...noKeyEnv, SOPS_AGE_KEY_FILE: join(dir, "runtime.txt") },
    });
    expect(r.exitCode).toBe(3);
    expect(r.stderr).toMatch(/mac-mismatch.*old\.json: the secrets of production v1 fail their SOPS MAC/);
    expect(r.stdout + r.stderr).not.toMatch(/old-(zeta|alpha)-token/);
    // Without an identity: signature fine, MAC not checked, and said so (never reported as verified).
    const noId = await strata(["snapshot", "verify", file, "--trusted-keys", trusted, "--format", "json"], {
      env: noKeyEnv,
    });
    expect(noId.exitCode).toBe(0);
    expect(JSON.parse(noId.stdout)).toMatchObject({ secrets: { status: "unchecked" } });
  });

  it("the core reader refuses it with mac-mismatch", async () => {
    const { openSnapshotSecrets } = await import("../../src/core/snapshot/index.js");
    const { Decrypter, armor } = await import("age-encryption");
    const published = parseSnapshot(readFileSync(file, "utf8")).secrets!;
    await expect(
      openSnapshotSecrets(published, async ({ enc }) => {
        const d = new Decrypter();
        d.addIdentity(identity);
        return d.decrypt(armor.decode(enc));
      }),
    ).rejects.toMatchObject({ code: "mac-mismatch" });
  });
});
