// @module-tag e2e
import { existsSync, readFileSync, statSync, writeFileSync } from "node:fs";
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

describe("strata keys generate in a repository", () => {
  it("adds the public key to signing.trusted_keys, editing only that line, and the repository still validates", async () => {
    const dir = tempdir();
    expect((await strata(["init", "config"], { cwd: dir })).exitCode).toBe(0);
    const repo = join(dir, "config");
    const before = readFileSync(join(repo, "strata.yaml"), "utf8");
    const r = await strata(["keys", "generate", "--out", "../signing.pem"], { cwd: join(repo, "environments") });
    expect(r.exitCode, r.stderr).toBe(0);
    const pub = r.stdout.trim();
    expect(r.stderr).toContain(`added the public key below to signing.trusted_keys in ${join(repo, "strata.yaml")}`);
    const after = readFileSync(join(repo, "strata.yaml"), "utf8");
    // Only the list changed: every other line of the file is as it was, comments included.
    expect(after.replace(/ {2}trusted_keys:[^\n]*\n {4}- [^\n]+\n/, "")).toBe(
      before.replace(/ {2}trusted_keys: \[\][^\n]*\n/, ""),
    );
    expect(after).toContain(`  trusted_keys:       # keys whose snapshots are trusted`);
    expect(after).toContain(`    - ${pub}\n`);
    const validate = await strata(["validate", "--skip-secrets"], { cwd: repo });
    expect(validate.exitCode, validate.stdout + validate.stderr).toBe(0);
    // A second key is added beside the first.
    const second = await strata(["keys", "generate", "--out", join(dir, "second.pem"), "--repo", repo], { cwd: dir });
    expect(second.exitCode, second.stderr).toBe(0);
    expect(readFileSync(join(repo, "strata.yaml"), "utf8")).toContain(`    - ${pub}\n    - ${second.stdout.trim()}\n`);
  });

  it("--no-trust leaves strata.yaml alone; a strata.yaml that cannot take the key leaves no key behind", async () => {
    const dir = tempdir();
    expect((await strata(["init", "config"], { cwd: dir })).exitCode).toBe(0);
    const repo = join(dir, "config");
    const before = readFileSync(join(repo, "strata.yaml"), "utf8");
    const r = await strata(["keys", "generate", "--out", join(dir, "k.pem"), "--no-trust"], { cwd: repo });
    expect(r.exitCode, r.stderr).toBe(0);
    expect(readFileSync(join(repo, "strata.yaml"), "utf8")).toBe(before);
    writeFileSync(join(repo, "strata.yaml"), before.replace("trusted_keys: []", "trusted_keys: one-key"));
    const bad = await strata(["keys", "generate", "--out", join(dir, "k2.pem")], { cwd: repo });
    expect(bad.exitCode).toBe(1);
    expect(bad.stderr).toMatch(/\[invalid-config\] strata\.yaml:\d+:\d+: signing\.trusted_keys is not a list/);
    expect(existsSync(join(dir, "k2.pem"))).toBe(false);
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
