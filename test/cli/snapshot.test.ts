// @module-tag e2e
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { serializeSnapshot } from "../../src/core/snapshot/index.js";
import { strata } from "../support/cli.js";
import { cleanupTempdirs, tempdir } from "../support/gitdir.js";
import { makeSnapshot, newKey } from "../support/snapshots.js";

afterAll(() => cleanupTempdirs());
const { key, pem: signingPem } = newKey();

describe("strata snapshot verify", () => {
  const dir = tempdir();
  const repo = join(dir, "repo");
  writeFileSync(join(dir, "trusted.txt"), key.publicKey.text + "\n");
  const s = makeSnapshot(key, { environment: "production" });
  writeFileSync(join(dir, "good.json"), serializeSnapshot(s));
  writeFileSync(join(dir, "tampered.json"), serializeSnapshot({ ...s, config: { app: { name: "evil" } } }));
  writeFileSync(join(dir, "other.json"), serializeSnapshot(makeSnapshot(newKey().key, {})));
  writeFileSync(join(dir, "garbage.json"), "{");

  it.each([
    ["good.json", [], 0, "production v1"],
    ["good.json", ["--env", "staging"], 4, "invalid-snapshot"],
    ["tampered.json", [], 4, "digest-mismatch"],
    ["other.json", [], 4, "invalid-signature"],
    ["garbage.json", [], 4, "invalid-snapshot"],
    ["missing.json", [], 2, "unreadable-file"],
  ])("%s %j -> exit %i", async (file, extra, exit, text) => {
    const r = await strata([
      "snapshot",
      "verify",
      join(dir, file),
      "--trusted-keys",
      join(dir, "trusted.txt"),
      ...extra,
    ]);
    expect(r.exitCode).toBe(exit);
    expect(r.stdout + r.stderr).toContain(text);
  });

  it("prints a JSON report and takes the keys from the repository", async () => {
    const { mkdirSync } = await import("node:fs");
    mkdirSync(repo, { recursive: true });
    writeFileSync(
      join(repo, "strata.yaml"),
      `version: 1\nenvironments: { production: {} }\nsigning: { trusted_keys: ["${key.publicKey.text}"] }\n`,
    );
    const r = await strata(["snapshot", "verify", join(dir, "good.json"), "--repo", repo, "--format", "json"]);
    expect(r.exitCode).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({
      schemaVersion: 1,
      valid: true,
      environment: "production",
      version: 1,
      digest: s.digest,
      keyid: key.publicKey.keyid,
    });
  });
});

describe("strata snapshot --env", () => {
  it("builds the signed snapshot push would send (version 1 without an endpoint) and it verifies", async () => {
    const { gitdir } = await import("../support/gitdir.js");
    const repo = gitdir({
      "strata.yaml": `version: 1\nenvironments:\n  staging: {}\nsigning:\n  trusted_keys: ["${key.publicKey.text}"]\n`,
      "schemas/app.schema.yaml": "type: object\nproperties:\n  replicas: { type: integer, default: 1 }\n",
      "environments/staging/app.yaml": "replicas: 2\n",
    });
    const signing = join(repo, "k.pem");
    writeFileSync(signing, signingPem, { mode: 0o600 });
    const built = await strata(["snapshot", "--env", "staging", "--out", "s.json", "--signing-key", signing], {
      cwd: repo,
      env: { STRATA_ENDPOINT: "" },
    });
    expect(built.exitCode, built.stderr).toBe(0);
    const verified = await strata(["snapshot", "verify", "s.json", "--env", "staging", "--format", "json"], {
      cwd: repo,
    });
    expect(verified.exitCode, verified.stderr).toBe(0);
    expect(JSON.parse(verified.stdout)).toMatchObject({ valid: true, environment: "staging", version: 1 });
    const printed = await strata(["snapshot", "--env", "staging", "--signing-key", signing], {
      cwd: repo,
      env: { STRATA_ENDPOINT: "" },
    });
    expect(JSON.parse(printed.stdout)).toMatchObject({
      kind: "strata.snapshot",
      environment: "staging",
      version: 1,
      previous: null,
      config: { app: { replicas: 2 } },
      secrets: null,
    });
  });
});
