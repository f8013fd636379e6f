import { describe, expect, it } from "vitest";
import { matchGlob } from "../../../src/core/approvals/glob.js";

describe("matchGlob (SPEC §2)", () => {
  it.each([
    ["database.**", "database.pool.max", true],
    ["database.**", "database", true],
    ["database.**", "databases.pool", false],
    ["database.*", "database.pool", true],
    ["database.*", "database.pool.max", false],
    ["**.max", "database.pool.max", true],
    ["**.max", "max", true],
    ["a.**.z", "a.z", true],
    ["a.**.z", "a.b.c.z", true],
    ["a.**.z", "a.b.c.y", false],
    ["production*", "production-eu", true],
    ["production*", "production", true],
    ["production*", "staging", false],
    ["**", "x.y.z", true],
    ["*", "x.y", false],
    ["db.p*l.max", "db.pool.max", true],
    ["http.allow", "http.allow", true],
    ["a.b", "aXb", false],
  ] as const)("%s ~ %s -> %s", (pattern, name, expected) => expect(matchGlob(pattern, name)).toBe(expected));
});
