import { describe, expect, it } from "vitest";
import { compareMatchingLeaves, findPullRequestNumber } from "../../../src/core/diff/log.js";
import { createGlobMatcher } from "../../../src/core/glob.js";
import { resolved } from "./helpers.js";

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
    const before = resolved("p", {
      "db.port": 1,
      "db.pw": { value: "old-pass", sensitive: true },
      "http.port": 1,
    }).leaves;
    const after = resolved("p", {
      "db.port": 2,
      "db.pw": { value: "new-pass", sensitive: true },
      "http.port": 2,
    }).leaves;
    const changes = compareMatchingLeaves(before, after, createGlobMatcher("db.*"));
    expect(changes).toEqual([
      { key: "db.port", change: "changed", before: 1, after: 2, sensitive: false },
      { key: "db.pw", change: "changed", sensitive: true, certain: true },
    ]);
  });
});
