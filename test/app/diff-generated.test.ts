// @module-tag e2e
// The diff of a generated repository against the generator's own, independent resolution of both commits.
import { execFileSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { diffConfig } from "../../src/app/diff.js";
import type { JsonValue } from "../../src/core/json.js";
import { cleanupTempdirs, tempdir } from "../support/gitdir.js";
import { generatorPath, lacking, needsGenerator } from "../support/shared.js";

afterAll(cleanupTempdirs);

type Expected = { change: string; before?: JsonValue; after?: JsonValue };

function flatten(value: JsonValue, prefix: string, out: Map<string, JsonValue>): Map<string, JsonValue> {
  if (value !== null && typeof value === "object" && !Array.isArray(value) && Object.keys(value).length > 0) {
    for (const [k, v] of Object.entries(value)) flatten(v, prefix ? `${prefix}.${k}` : k, out);
  } else out.set(prefix, value);
  return out;
}

function expectedDiff(dir: string): Record<string, Record<string, Expected>> {
  const result: Record<string, Record<string, Expected>> = {};
  for (const file of readdirSync(join(dir, ".expected"))) {
    const env = file.replace(/\.json$/, "");
    const before = flatten(
      JSON.parse(readFileSync(join(dir, ".expected-base", file), "utf8")) as JsonValue,
      "",
      new Map(),
    );
    const after = flatten(JSON.parse(readFileSync(join(dir, ".expected", file), "utf8")) as JsonValue, "", new Map());
    const changes: Record<string, Expected> = {};
    for (const [k, v] of after) {
      if (!before.has(k)) changes[k] = { change: "added", after: v };
      else if (JSON.stringify(before.get(k)) !== JSON.stringify(v))
        changes[k] = { change: "changed", before: before.get(k)!, after: v };
    }
    for (const [k, v] of before) if (!after.has(k)) changes[k] = { change: "removed", before: v };
    if (Object.keys(changes).length > 0) result[env] = changes;
  }
  return result;
}

const missing = lacking("diff of a generated repository", needsGenerator);

describe.skipIf(missing)(
  "diff of a generated repository (gen-config-repo.mjs --features --git --changes 200 --expected)",
  () => {
    it("matches the difference of .expected-base/ and .expected/, incremental or not", async () => {
      const dir = join(tempdir(), "repo");
      execFileSync(process.execPath, [generatorPath, dir, "--features", "--git", "--changes", "200", "--expected"], {
        stdio: "pipe",
      });
      const expected = expectedDiff(dir);
      expect(Object.keys(expected).length).toBeGreaterThan(5);
      for (const incremental of [true, false]) {
        const { result } = await diffConfig({ dir, base: "HEAD~1", head: "HEAD", incremental });
        expect(result.problems).toEqual([]);
        const actual: Record<string, Record<string, Expected>> = {};
        for (const [env, d] of Object.entries(result.environments)) {
          expect(d.invalid).toEqual([]);
          actual[env] = Object.fromEntries(
            d.changes.map((c) => [
              c.key,
              {
                change: c.change,
                ...("before" in c ? { before: c.before } : {}),
                ...("after" in c ? { after: c.after } : {}),
              },
            ]),
          );
        }
        // toEqual ignores key order.
        expect(actual).toEqual(expected);
        expect(result.changedLayers.length).toBeGreaterThan(0);
        for (const layer of result.changedLayers)
          for (const env of layer.reaches) expect(result.environments[env]).toBeDefined();
      }
    }, 120_000);
  },
);
