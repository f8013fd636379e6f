// The CLI's one writer of the job summary and of error annotations (src/cli/output.ts): appended, scrubbed of
// registered secrets, escaped per the workflow-command rules.
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { appendStepSummary, errorAnnotation } from "../../src/cli/output.js";
import { registerSecret } from "../../src/core/redact.js";

const saved = process.env.GITHUB_STEP_SUMMARY;
afterEach(() => {
  if (saved === undefined) delete process.env.GITHUB_STEP_SUMMARY;
  else process.env.GITHUB_STEP_SUMMARY = saved;
});

describe("the job summary", () => {
  it("appends a line-terminated, scrubbed block; nothing without GITHUB_STEP_SUMMARY", () => {
    const file = join(mkdtempSync(join(tmpdir(), "strata-summary-")), "summary.md");
    writeFileSync(file, "before\n");
    process.env.GITHUB_STEP_SUMMARY = file;
    registerSecret("hunter2-summary-secret");
    appendStepSummary("## strata hunter2-summary-secret");
    expect(readFileSync(file, "utf8")).toBe("before\n## strata <redacted>\n");
    delete process.env.GITHUB_STEP_SUMMARY;
    expect(() => appendStepSummary("x")).not.toThrow();
    expect(readFileSync(file, "utf8")).toBe("before\n## strata <redacted>\n");
  });
});

describe("error annotations", () => {
  it("title the code, locate the error, carry the hint, escape and scrub every part", () => {
    registerSecret("s3cr%t\nline");
    expect(errorAnnotation("unreachable", "cannot reach http://x: refused", "check --endpoint")).toBe(
      "::error title=unreachable::cannot reach http://x: refused%0Ahint: check --endpoint\n",
    );
    expect(
      errorAnnotation("invalid-config", "a:b, s3cr%t\nline", null, { file: "dir,x/strata.yaml", line: 3, column: 7 }),
    ).toBe("::error file=dir%2Cx/strata.yaml,line=3,col=7,title=invalid-config::a:b, <redacted>\n");
  });
});
