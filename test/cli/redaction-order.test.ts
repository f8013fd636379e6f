// The text redactor runs before GitHub's workflow-command escaping (issue 10, item 3): a secret with %,
// CR or LF is escaped into a form that no longer matches, so scrubbing afterwards printed it in clear.
import { describe, expect, it } from "vitest";
import { createFinding } from "../../src/core/findings.js";
import { redactJson, registerSecret, registeredSecrets } from "../../src/core/redact.js";
import { maskCommands } from "../../src/cli/output.js";
import { renderFindingsGithub } from "../../src/cli/render/findings.js";

describe("redaction and workflow commands", () => {
  const secret = "rate=100%\r\nline-two-secret";
  registerSecret(secret);

  it("a secret with %, CR and LF never reaches a workflow command, escaped or not", () => {
    const f = createFinding({
      code: "constraint-violation",
      message: `bad value ${secret} here`,
      hint: `was ${secret}`,
      file: "environments/a/b.yaml",
      line: 1,
      column: 1,
    });
    const out = renderFindingsGithub([f], process.cwd());
    expect(out).not.toContain("rate=100%25%0D%0Aline-two-secret");
    expect(out).not.toContain("line-two-secret");
    expect(out).toContain("<redacted>");
    // Still one well-formed command on one line.
    expect(out.trimEnd().split("\n")).toHaveLength(1);
  });

  it("JSON reports are scrubbed string by string and stay valid", () => {
    registerSecret("true");
    const doc = { ok: true, message: "the flag is true", [secret]: 1 };
    const text = JSON.stringify(redactJson(doc));
    const back = JSON.parse(text);
    expect(back.ok).toBe(true);
    expect(back.message).toBe("the flag is <redacted>");
    expect(text).not.toContain("line-two-secret");
  });

  it("masks every registered value, however short, and each line of a multi-line one, escaped", () => {
    registerSecret("ab");
    expect(registeredSecrets()).toContain("ab");
    const masks = maskCommands(["ab", secret]);
    expect(masks).toEqual(
      expect.arrayContaining([
        "::add-mask::ab\n",
        "::add-mask::rate=100%25\n",
        "::add-mask::line-two-secret\n",
        "::add-mask::rate=100%25%0D%0Aline-two-secret\n",
      ]),
    );
  });
});

describe("server logs", () => {
  it("stay one valid JSON object a line whatever the secrets are", async () => {
    const { createJsonLogger } = await import("../../src/server/log.js");
    registerSecret("true");
    registerSecret("log-secret-value-77");
    const lines: string[] = [];
    createJsonLogger({ write: (l) => lines.push(l) })("info", "opened log-secret-value-77", { ok: true, count: 3 });
    const doc = JSON.parse(lines[0]!);
    expect(doc.ok).toBe(true);
    expect(doc.msg).toBe("opened <redacted>");
  });
});
