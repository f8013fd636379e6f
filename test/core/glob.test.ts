// The one glob matcher (src/core/glob.ts): approval rules, token scopes, `log`, `diff --env`, the SDK's watch.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { createGlobMatcher, matchAnyGlob, matchGlob } from "../../src/core/glob.js";

describe("matchGlob", () => {
  it.each([
    // `**` is zero or more whole segments.
    ["database.**", "database.pool.max", true],
    ["database.**", "database", true],
    ["database.**", "databases.pool", false],
    ["database.**", "databases", false],
    ["**.max", "database.pool.max", true],
    ["**.max", "max", true],
    ["**.max", "maximum", false],
    ["**.port", "a.b.c.port", true],
    ["a.**.z", "a.z", true],
    ["a.**.z", "a.b.c.z", true],
    ["a.**.z", "a.b.c.y", false],
    ["a.**.z", "az", false],
    ["**.**.x", "a.b.x", true],
    ["**.**.x", "x", true],
    ["a.**.**", "a", true],
    ["**", "x.y.z", true],
    ["**", "x", true],
    // `*` is part of one segment, never a dot.
    ["database.*", "database.pool", true],
    ["database.*", "database.host", true],
    ["database.*", "database.pool.max", false],
    ["database.*", "database", false],
    ["*", "x.y", false],
    ["*", "x", true],
    ["*.port", "http.port", true],
    ["*.port", "port", false],
    ["production*", "production-eu", true],
    ["production*", "production", true],
    ["production*", "staging", false],
    ["*-eu", "production-eu", true],
    ["db.p*l.max", "db.pool.max", true],
    ["data*.host", "database.host", true],
    ["a**b", "aXYb", true],
    ["a**b", "a.b", false],
    ["*a*a*a*b", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", false],
    // Everything else is literal.
    ["database.pool.max", "database.pool.max", true],
    ["database.pool.max", "database.pool.min", false],
    ["database.pool[0]", "database.pool[0]", true],
    ["http.allow", "http.allow", true],
    ["a.b", "aXb", false],
    ["a+b", "aab", false],
    ["(a)", "(a)", true],
  ] as const)("%s ~ %s -> %s", (pattern, name, expected) => {
    expect(matchGlob(pattern, name)).toBe(expected);
    expect(createGlobMatcher(pattern)(name)).toBe(expected);
  });

  it("matchAnyGlob is any of the patterns", () => {
    expect(matchAnyGlob(["staging", "production*"], "production-eu")).toBe(true);
    expect(matchAnyGlob(["staging", "production*"], "dev")).toBe(false);
    expect(matchAnyGlob([], "dev")).toBe(false);
  });

  it("agrees with a reference definition (every way of splitting the name among the pattern's segments)", () => {
    const reference = (p: string[], n: string[]): boolean => {
      if (p.length === 0) return n.length === 0;
      const [head, ...rest] = p;
      if (head === "**")
        return Array.from({ length: n.length + 1 }, (_, k) => k).some((k) => reference(rest, n.slice(k)));
      if (n.length === 0) return false;
      const re = new RegExp(
        `^${head!
          .split("*")
          .map((s) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"))
          .join(".*")}$`,
      );
      return re.test(n[0]!) && reference(rest, n.slice(1));
    };
    const segment = fc.constantFrom("a", "b", "ab", "*", "a*", "*b", "**");
    const nameSegment = fc.constantFrom("a", "b", "ab", "ba", "aab");
    fc.assert(
      fc.property(
        fc.array(segment, { minLength: 1, maxLength: 5 }),
        fc.array(nameSegment, { minLength: 1, maxLength: 5 }),
        (p, n) => {
          expect(matchGlob(p.join("."), n.join("."))).toBe(reference(p, n));
        },
      ),
      { numRuns: 2000 },
    );
  });

  it("stays fast on a hostile pattern and a long name (no regular-expression backtracking)", () => {
    const pattern = `${"**.".repeat(50)}${"*a".repeat(50)}b`;
    const name = `${"x.".repeat(2000)}${"a".repeat(5000)}`;
    expect(matchGlob(pattern, name)).toBe(false);
  });
});
