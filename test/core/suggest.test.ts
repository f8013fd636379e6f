import { describe, expect, it } from "vitest";
import { suggestClosest, suggestKeyPath } from "../../src/core/suggest.js";

describe("suggestClosest", () => {
  it("finds a near miss, whatever the case", () => {
    expect(suggestClosest("replica", ["name", "replicas", "mode"])).toBe("replicas");
    expect(suggestClosest("Mode", ["name", "replicas", "mode"])).toBe("mode");
    expect(suggestClosest("mx", ["max", "min"])).toBe("max");
  });

  it("suggests nothing far away, nor the word itself", () => {
    expect(suggestClosest("zzzzzzzz", ["name", "replicas"])).toBeNull();
    expect(suggestClosest("name", ["name"])).toBeNull();
    expect(suggestClosest("x", [])).toBeNull();
  });

  it("counts two swapped neighbouring letters as one edit", () => {
    expect(suggestClosest("bsae", ["base", "production"])).toBe("base");
    expect(suggestClosest("prodcution", ["base", "production"])).toBe("production");
  });

  it("breaks ties alphabetically, not by order", () => {
    expect(suggestClosest("bat", ["cat", "bad"])).toBe("bad");
    expect(suggestClosest("bat", ["bad", "cat"])).toBe("bad");
  });
});

describe("suggestKeyPath", () => {
  const config = { database: { pool: { max: 5, min: 1 }, host: "db" }, http: { port: 80, hosts: ["a", "b"] } };
  const children = (path: readonly (string | number)[]): string[] | number | null => {
    let node: unknown = config;
    for (const p of path) node = (node as Record<string | number, unknown>)[p];
    if (Array.isArray(node)) return node.length;
    return node !== null && typeof node === "object" ? Object.keys(node) : null;
  };

  it.each([
    ["databse.pool.max", "database.pool.max"],
    ["database.pol.max", "database.pool.max"],
    ["database.pool.mx", "database.pool.max"],
    ["databse.pol", "database.pool"],
    ["http.hots[1]", "http.hosts[1]"],
    ["htp", "http"],
  ])("%s -> %s, segment by segment", (typo, near) => {
    expect(suggestKeyPath(typo, children)).toBe(near);
  });

  it.each(["zzz.pool", "database.zzzzzz", "http.hosts[7]", "database.host.deeper", "database.pool.max"])(
    "nothing for %s (too far, out of range, below a leaf, or no typo at all)",
    (path) => {
      expect(suggestKeyPath(path, children)).toBeNull();
    },
  );
});
