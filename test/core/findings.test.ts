import { describe, expect, it } from "vitest";
import {
  combineExitCodes,
  createFinding,
  ERROR_CODES,
  EXIT,
  exitCodeFor,
  exitCodeForFindings,
  isSecretFailure,
} from "../../src/core/findings.js";

describe("exit codes", () => {
  it.each([
    ["unknown-environment", EXIT.usage],
    ["mac-mismatch", EXIT.secrets],
    ["version-conflict", EXIT.distribution],
    ["invalid-type", EXIT.findings],
  ] as const)("%s -> %i", (code, exit) => expect(exitCodeFor(code)).toBe(exit));

  it("the secret failures are the exit-3 codes: a key could not open a file", () => {
    expect(ERROR_CODES.filter(isSecretFailure)).toEqual(["decryption-failed", "mac-mismatch", "mac-missing"]);
  });

  it("applies the SPEC order 70, 2, 3, 4, 1", () => {
    expect(combineExitCodes([EXIT.findings, EXIT.secrets, EXIT.usage])).toBe(EXIT.usage);
    expect(combineExitCodes([EXIT.findings, EXIT.distribution])).toBe(EXIT.distribution);
    expect(combineExitCodes([])).toBe(EXIT.ok);
  });

  it("ignores warnings", () => {
    const w = createFinding({ code: "unset-nothing", message: "x" });
    expect(w.severity).toBe("warning");
    expect(exitCodeForFindings([w])).toBe(EXIT.ok);
  });
});
