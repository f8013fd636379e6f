// The SOPS `version` field (issue 10, item 8): every 3.x is read, another major is a warning, none is refused.
import { describe, expect, it } from "vitest";
import { checkSopsVersion } from "../../../src/core/sops/metadata.js";

describe("checkSopsVersion", () => {
  it.each(["3.13.2", "3.7.3", "3.0.0", "3", "3.9"])("accepts %s", (v) => expect(checkSopsVersion(v)).toBeNull());
  it.each(["4.0.0", "2.0.1", "10.1", "next"])("warns on %s", (v) =>
    expect(checkSopsVersion(v)?.severity).toBe("warning"),
  );
  it.each(["", "  "])("refuses a missing version (%j)", (v) => expect(checkSopsVersion(v)?.severity).toBe("error"));
});
