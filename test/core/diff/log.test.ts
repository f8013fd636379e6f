import { describe, expect, it } from "vitest";
import { compareMatchingLeaves, createKeyMatcher, findPullRequestNumber } from "../../../src/core/diff/log.js";
import { resolved } from "./helpers.js";

describe("createKeyMatcher", () => {
  it.each([
    ["database.pool.max", "database.pool.max", true],
    ["database.pool.max", "database.pool.min", false],
    ["database.*", "database.host", true],
    ["database.*", "database.pool.max", false],
    ["database.**", "database.pool.max", true],
    ["database.**", "databases.x", false],
    ["*.port", "http.port", true],
    ["**.port", "a.b.c.port", true],
    ["data*.host", "database.host", true],
    ["database.pool[0]", "database.pool[0]", true],
  ])("%s ~ %s -> %s", (pattern, key, expected) => expect(createKeyMatcher(pattern)(key)).toBe(expected));
});

describe("findPullRequestNumber", () => {
  it.each([
    ["Merge pull request #42 from acme/feature", 42],
    ["Raise pool size (#17)", 17],
    ["Raise pool size", null],
    ["Fix #3 in passing", null],
  ])("%s -> %s", (subject, expected) => expect(findPullRequestNumber(subject)).toBe(expected));
});

describe("compareMatchingLeaves", () => {
  it("reports only matching keys, redacting sensitive ones", () => {
    const before = resolved("p", { "db.port": 1, "db.pw": { value: "old-pass", sensitive: true }, "http.port": 1 }).leaves;
    const after = resolved("p", { "db.port": 2, "db.pw": { value: "new-pass", sensitive: true }, "http.port": 2 }).leaves;
    const changes = compareMatchingLeaves(before, after, createKeyMatcher("db.*"));
    expect(changes).toEqual([
      { key: "db.port", change: "changed", before: 1, after: 2, sensitive: false },
      { key: "db.pw", change: "changed", sensitive: true, certain: true },
    ]);
  });
});
