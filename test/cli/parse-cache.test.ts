// @module-tag e2e
// The parse cache (docs/performance.md): plain YAML outside the block subset is kept parsed with positions and
// read from the cache on the next run; a file the block subset reads is never written to it.
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { strata } from "../support/cli.js";
import { cleanupTempdirs, tempdir } from "../support/gitdir.js";
import { fixtureRepo } from "../support/repo-fixture.js";

afterAll(cleanupTempdirs);

describe("parse cache", () => {
  it("keeps only files outside the block subset, and answers for them on the next run", async () => {
    // production's file has an anchor: outside the subset. base's file and the schema (flow maps on one line) are in it.
    const repo = fixtureRepo({ "environments/production/app.yaml": "replicas: &r 3\n" });
    const cache = tempdir();
    const env = { STRATA_CACHE_DIR: cache };
    const first = await strata(["resolve", "--repo", repo, "--env", "production", "--format", "env"], { env });
    expect(first.exitCode).toBe(0);
    expect(first.stdout).toContain("APP_REPLICAS='3'");
    const entries = readdirSync(join(cache, "parsed")).filter((f) => f.endsWith(".json"));
    const texts = entries.map((f) => readFileSync(join(cache, "parsed", f), "utf8"));
    // One entry, production's file; none holds base's `checkout` or the schema's `enum`.
    expect(entries).toHaveLength(1);
    expect(texts.some((t) => t.includes("checkout") || t.includes("enum"))).toBe(false);
    // The next run reads the entry: change the value it holds and see it come back.
    const held = /("replicas",\d+,\d+,\["v",\d+,\d+,)3\]/;
    const i = texts.findIndex((t) => held.test(t));
    expect(i).toBeGreaterThanOrEqual(0);
    writeFileSync(join(cache, "parsed", entries[i]!), texts[i]!.replace(held, "$17]"));
    const second = await strata(["resolve", "--repo", repo, "--env", "production", "--format", "env"], { env });
    expect(second.exitCode).toBe(0);
    expect(second.stdout).toContain("APP_REPLICAS='7'");
  });
});
