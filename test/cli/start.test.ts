// @module-tag e2e
// The README's quick start stays true: `npm start` runs the main job end to end on the example repository.
import { execa } from "execa";
import { describe, expect, it } from "vitest";
import { projectRoot } from "../support/cli.js";

describe("npm start", () => {
  it("validates, resolves, explains, serves, pushes every environment and prints the status", async () => {
    const r = await execa(process.execPath, ["scripts/start.mjs"], {
      cwd: projectRoot,
      reject: false,
      env: { NO_COLOR: "1", SOPS_AGE_KEY_FILE: undefined, GITHUB_ACTIONS: "" },
      timeout: 150_000,
    });
    expect(r.exitCode, String(r.stderr)).toBe(0);
    const out = String(r.stdout);
    expect(out).toContain("4 environment(s) valid");
    for (const env of ["development", "staging", "production", "production-eu"])
      expect(out).toContain(`✓ ${env}: published version 1`);
    expect(out).toContain("= production: unchanged, still version 1");
    expect(out).toMatch(/production-eu: v1, published/);
    for (const secret of [
      "example-production-db-password-c91e",
      "example-prod-partner-token-5d2b8e1a",
      "example-production-redis-token-0b6d",
    ])
      expect(out + String(r.stderr)).not.toContain(secret);
  }, 180_000);
});
