// @module-tag e2e
import { readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { parsePublicKey, parseSigningKey } from "../../src/core/snapshot/index.js";
import { hashToken } from "../../src/server/index.js";
import { strata } from "../support/cli.js";
import { cleanupTempdirs, tempdir } from "../support/gitdir.js";

afterAll(() => cleanupTempdirs());

describe("strata keys generate", () => {
  it("writes a 0600 PKCS#8 key, prints its public key, and never overwrites", async () => {
    const dir = tempdir();
    const r = await strata(["keys", "generate", "--out", "k.pem"], { cwd: dir });
    expect(r.exitCode).toBe(0);
    const pub = r.stdout.trim();
    expect(parsePublicKey(pub).text).toBe(pub);
    const file = join(dir, "k.pem");
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(parseSigningKey(readFileSync(file, "utf8")).publicKey.text).toBe(pub);
    expect(r.stderr).toContain("signing.trusted_keys");
    const again = await strata(["keys", "generate", "--out", "k.pem"], { cwd: dir });
    expect(again.exitCode).toBe(2);
    expect(again.stderr).toContain("refusing to overwrite");
  });
});

describe("strata serve token create", () => {
  it("prints the token once and stores only its hash with the scopes", async () => {
    const dir = tempdir();
    const r = await strata(
      [
        "serve",
        "token",
        "create",
        "--scope",
        "read:*",
        "--scope",
        "push:staging",
        "--name",
        "ci",
        "--tokens",
        "t.json",
      ],
      { cwd: dir },
    );
    expect(r.exitCode).toBe(0);
    const token = r.stdout.trim();
    expect(token).toMatch(/^strata_[A-Za-z0-9_-]{43}$/);
    const text = readFileSync(join(dir, "t.json"), "utf8");
    expect(text).not.toContain(token);
    expect(JSON.parse(text)).toMatchObject({
      tokens: [{ name: "ci", sha256: hashToken(token), scopes: ["read:*", "push:staging"] }],
    });
    expect(statSync(join(dir, "t.json")).mode & 0o777).toBe(0o600);
    const bad = await strata(["serve", "token", "create", "--scope", "write:*", "--tokens", "t.json"], { cwd: dir });
    expect(bad.exitCode).toBe(2);
    expect(bad.stderr).toContain("invalid scope");
  });
});
