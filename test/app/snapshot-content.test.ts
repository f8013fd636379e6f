import { cpSync, writeFileSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { buildSnapshotContent } from "../../src/app/snapshot-content.js";
import { createSecretsOpener } from "../../src/app/secrets/opener.js";
import { exampleKeyEnv, projectRoot } from "../support/cli.js";
import { cleanupTempdirs, tempdir } from "../support/gitdir.js";

afterAll(cleanupTempdirs);
const runtimeKey = join(projectRoot, "examples/keys/EXAMPLE-ONLY-NOT-A-REAL-KEY.runtime.age.txt");

describe("buildSnapshotContent", () => {
  it("keeps sensitive leaves out of config and encrypts them to the runtime recipients only", async () => {
    const c = await buildSnapshotContent({
      repoDir: projectRoot,
      environment: "production-eu",
      env: { ...process.env, ...exampleKeyEnv },
    });
    expect(c.findings.filter((f) => f.severity === "error")).toEqual([]);
    expect(c.config.database!.password).toBeUndefined();
    expect(c.config.http!.api_tokens).toBeUndefined();
    expect(c.config.database!.host).toBe("db.prod.eu-west-1.internal.acme.example");
    expect(JSON.stringify(c)).not.toContain("example-production-db-password-c91e");
    expect(c.secretSources.map(([p]) => p)).toEqual([
      "environments/production/cache.sops.yaml",
      "environments/production/database.sops.yaml",
      "environments/production/http.sops.yaml",
    ]);
    expect(c.secretSources[0]![1]).toMatch(/^[0-9a-f]{64}$/);
    // The services' identity opens it; the repository's key does not.
    const bytes = new TextEncoder().encode(JSON.stringify(c.secrets));
    const opened = await createSecretsOpener({ env: { SOPS_AGE_KEY_FILE: runtimeKey, HOME: "/nonexistent" } }).open(
      "snapshot.json",
      bytes,
    );
    expect(opened).toMatchObject({
      database: { password: "example-production-db-password-c91e" },
      http: { api_tokens: { payments_partner: "example-prod-partner-token-5d2b8e1a" } },
    });
    await expect(
      createSecretsOpener({ env: { ...exampleKeyEnv, HOME: "/nonexistent" } }).open("snapshot.json", bytes),
    ).rejects.toMatchObject({ code: "decryption-failed" });
  });

  it("refuses to build when sensitive values have no runtime recipients", async () => {
    const dir = tempdir();
    for (const p of ["schemas", "environments", ".sops.yaml"])
      cpSync(join(projectRoot, p), join(dir, p), { recursive: true });
    writeFileSync(
      join(dir, "strata.yaml"),
      readFileSync(join(projectRoot, "strata.yaml"), "utf8").replace(/runtime:[\s\S]*?distribution:/, "distribution:"),
    );
    const c = await buildSnapshotContent({
      repoDir: dir,
      environment: "staging",
      env: { ...process.env, ...exampleKeyEnv },
    });
    expect(c.secrets).toBeNull();
    expect(c.findings).toContainEqual(
      expect.objectContaining({ code: "missing-required", environment: "staging", severity: "error" }),
    );
  });
});
