// @module-tag e2e
// A misspelt key given to explain or resolve --key is an invocation problem like a misspelt --env: exit 2,
// with the closest key that has a value.
import { describe, expect, it } from "vitest";
import { exampleKeyEnv, strata } from "../support/cli.js";

describe("a misspelt key on the command line", () => {
  it.each([
    [["explain", "--env", "production", "database.pool.mx"], "database.pool.max"],
    [["resolve", "--env", "production", "--key", "databse.pool", "--format", "json"], "database.pool"],
    [["resolve", "--env", "production", "--key", "database.pol.max", "--format", "yaml"], "database.pool.max"],
  ])("strata %j exits 2 and names %s", async (args, near) => {
    const r = await strata(args, { env: exampleKeyEnv });
    expect(r.exitCode, r.stderr).toBe(2);
    expect(r.stdout).toBe("");
    expect(r.stderr).toContain("[unknown-key]");
    expect(r.stderr).toContain(`did you mean ${near}?`);
  });

  it("a misspelt --env names the closest environment", async () => {
    const r = await strata(["resolve", "--env", "prodcution", "--format", "json"], { env: exampleKeyEnv });
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toMatch(/did you mean production\?/);
  });
});
