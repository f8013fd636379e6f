// validate's variable-name collision check walks each environment's config without building leaves or
// texts (docs/performance.md); it must find exactly the collisions the variable renderers refuse.
import { describe, expect, it } from "vitest";
import type { JsonObject } from "../../../src/core/json.js";
import { envVariables, leavesOfTree, variableCollisionWarnings } from "../../../src/core/render/variables.js";

/** What the renderers see: every collision as [name, first path, second path]. */
function rendererCollisions(config: Record<string, JsonObject>): [string, string, string][] {
  return envVariables(leavesOfTree(config)).collisions;
}

function validateCollisions(config: Record<string, JsonObject>): [string, string, string][] {
  const findings = variableCollisionWarnings({ environment: "e", config, leaves: new Map() });
  return findings.map((f) => {
    const m = /^(.+) and (.+) both become the variable (.+)$/.exec(f.message)!;
    return [m[3]!, m[1]!, m[2]!];
  });
}

const configs: Record<string, Record<string, JsonObject>> = {
  "no collision": { db: { host: "h", pool: { max: 1, min: 0 } }, http: { port: 1 } },
  "a dash and an underscore": { db: { "pool-max": 1, pool_max: 2 } },
  "a nested key and a flat one": { db: { pool: { max: 1 }, pool_max: 2 } },
  "across namespaces": { db_pool: { max: 1 }, db: { pool: { max: 2 }, "pool-max": 3 } },
  "case only": { db: { Max: 1, max: 2, MAX: 3 } },
  "empty maps and arrays are leaves": { db: { a: {}, a_b: [1], A: { b: {} } }, empty: {} },
  "keys envName would split": { db: { "a.b": 1, a_b: 2, a: { b: 3 }, "c[0]": 4, c_0: 5, "x]": 6, x: 7 } },
  "non-ASCII case mapping": { db: { straße: 1, STRASSE: 2, ǆ: 3, Ǆ: 4 } },
  "several, the first deep in the last namespace": {
    a: { x: { y: 1 } },
    b: { c: { d: { e: 1 } }, "c-d": { e: 2 }, c_d_e: 3, f: { "g.h": 4 }, f_g: { h: 5 } },
  },
  "a split key's subtree colliding with a plain one": { db: { "a.b": { c: 1 }, a_b_c: 2, "x[1]": { y: 3 }, x_1_y: 4 } },
};

describe("validate's variable-name collisions", () => {
  it.each(Object.entries(configs))("are the renderers' collisions: %s", (_name, config) => {
    expect(validateCollisions(config)).toEqual(rendererCollisions(config));
  });

  it("finds the collisions it should (not only none on both sides)", () => {
    expect(validateCollisions(configs["a nested key and a flat one"]!)).toEqual([
      ["DB_POOL_MAX", "db.pool.max", "db.pool_max"],
    ]);
    expect(validateCollisions(configs["keys envName would split"]!).length).toBeGreaterThan(0);
    // Asked again (the key names are remembered between environments): the same answer.
    for (const config of Object.values(configs)) expect(validateCollisions(config)).toEqual(rendererCollisions(config));
  });

  it("are the renderers' collisions on random configs of related keys (fixed seed)", () => {
    let seed = 24;
    // mulberry32
    const random = (n: number): number => {
      seed = (seed + 0x6d2b79f5) | 0;
      let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
      t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
      return ((t ^ (t >>> 14)) >>> 0) % n;
    };
    const keys = [
      "a",
      "b",
      "a_b",
      "a-b",
      "A",
      "b_c",
      "a_b_c",
      "c",
      "_",
      "a_",
      "ß",
      "SS",
      "x.y",
      "x",
      "y",
      "q[0]",
      "q_0",
    ];
    const tree = (depth: number): JsonObject => {
      const out: JsonObject = {};
      for (let i = random(4); i >= 0; i--) {
        const k = keys[random(keys.length)]!;
        out[k] = depth > 0 && random(2) === 0 ? tree(depth - 1) : random(5) === 0 ? {} : random(10);
      }
      return out;
    };
    // Shared subtrees, as environments share them: a subtree seen before in another config.
    const seen: JsonObject[] = [];
    let withCollisions = 0;
    for (let n = 0; n < 400; n++) {
      const config: Record<string, JsonObject> = {};
      for (let i = random(3); i >= 0; i--) {
        const t = seen.length > 0 && random(3) === 0 ? seen[random(seen.length)]! : tree(2);
        seen.push(t);
        config[["db", "db_pool", "http", "DB"][random(4)]!] = t;
      }
      const expected = rendererCollisions(config);
      if (expected.length > 0) withCollisions++;
      expect(validateCollisions(config)).toEqual(expected);
    }
    expect(withCollisions).toBeGreaterThan(50);
    expect(withCollisions).toBeLessThan(350);
  });
});
