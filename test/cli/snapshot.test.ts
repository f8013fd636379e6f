import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { serializeSnapshot } from "../../src/core/snapshot/index.js";
import { strata } from "../support/cli.js";
import { cleanupTempdirs, tempdir } from "../support/gitdir.js";
import { makeSnapshot, newKey } from "../support/snapshots.js";

afterAll(() => cleanupTempdirs());
const { key } = newKey();

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
    const r = await strata(["snapshot", "verify", join(dir, file), "--trusted-keys", join(dir, "trusted.txt"), ...extra]);
    expect(r.exitCode).toBe(exit);
    expect(r.stdout + r.stderr).toContain(text);
  });

  it("prints a JSON report and takes the keys from the repository", async () => {
    const { mkdirSync } = await import("node:fs");
    mkdirSync(repo, { recursive: true });
    writeFileSync(join(repo, "strata.yaml"), `version: 1\nenvironments: { production: {} }\nsigning: { trusted_keys: ["${key.publicKey.text}"] }\n`);
    const r = await strata(["snapshot", "verify", join(dir, "good.json"), "--repo", repo, "--format", "json"]);
    expect(r.exitCode).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ schemaVersion: 1, valid: true, environment: "production", version: 1, digest: s.digest, keyid: key.publicKey.keyid });
  });
});
