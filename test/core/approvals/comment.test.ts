import { describe, expect, it } from "vitest";
import {
  COMMENT_LIMIT,
  composeStickyComment,
  sameCommentBody,
  STICKY_MARKER,
} from "../../../src/core/approvals/comment.js";

describe("composeStickyComment", () => {
  it("puts the marker first and joins the sections", () => {
    expect(composeStickyComment(["a\n", "b"])).toBe(`${STICKY_MARKER}\na\n\nb\n`);
  });

  it("keeps a body that fits as it is", () => {
    const body = "x".repeat(COMMENT_LIMIT - STICKY_MARKER.length - 2);
    expect(composeStickyComment([body])).toHaveLength(COMMENT_LIMIT);
  });

  it("cuts the overflowing section at a line, keeping the first whole, closing what was open", () => {
    const approvals = "### Approvals\n| rule |\n";
    const diff =
      "<details><summary>production</summary>\n\n```yaml\n" + "key: value\n".repeat(10_000) + "```\n</details>\n";
    const out = composeStickyComment([approvals, diff], 20_000);
    expect(out.length).toBeLessThanOrEqual(20_000);
    expect(out.startsWith(`${STICKY_MARKER}\n### Approvals`)).toBe(true);
    expect(out).not.toMatch(/key: val\n/);
    expect(out.match(/```/g)).toHaveLength(2);
    expect(out).toMatch(/<\/details>\n\n> \[!NOTE\]\n> Truncated/);
  });

  it("compares bodies as a reader sees them", () => {
    expect(sameCommentBody("a\r\nb\n", "a\nb")).toBe(true);
    expect(sameCommentBody("a", "b")).toBe(false);
  });
});
