// `strata keys generate` adds its public key to signing.trusted_keys by editing strata.yaml's text: the new
// line goes where it belongs and nothing else changes (comments, alignment, quoting, flow maps).
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { addTrustedKey } from "../../../src/core/settings/edit.js";

const KEY = "ed25519:2Zb6n6L8o3zQKqYwv1Hh8w0hN1sGQyZcQ3o6bqWm0kI=";
const OTHER = "ed25519:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=";

const INIT = `# yaml-language-server: $schema=.strata/strata.schema.json
version: 1
environments:
  base:       { abstract: true, description: Shared defaults }
  production: { parent: base, production: true }
# runtime:
#   recipients:            # age recipients
signing:
  trusted_keys: []       # strata keys generate adds its public key here
# distribution:
#   endpoint: http://127.0.0.1:7070
approvals:
  rules:
    - name: production
      from: ["@your-org/sre"]
`;

/** What the edit must leave alone: every line of the original, in order. */
function keepsEveryLine(before: string, after: string, changedLine?: RegExp): void {
  const kept = before.split("\n").filter((l) => !changedLine?.test(l));
  let at = 0;
  const lines = after.split("\n");
  for (const l of kept) {
    const found = lines.indexOf(l, at);
    expect(found, `line ${JSON.stringify(l)} kept in order`).toBeGreaterThanOrEqual(at);
    at = found + 1;
  }
}

describe("addTrustedKey", () => {
  it("fills init's empty list, keeping its comment, and changes nothing else", () => {
    const { text, added } = addTrustedKey(INIT, KEY);
    expect(added).toBe(true);
    expect(text).toContain(
      `signing:\n  trusted_keys:       # strata keys generate adds its public key here\n    - ${KEY}\n# distribution:`,
    );
    keepsEveryLine(INIT, text, /^ {2}trusted_keys: \[\]/);
    expect(parse(text)).toEqual({ ...parse(INIT), signing: { trusted_keys: [KEY] } });
  });

  it("appends to a block list after its last item", () => {
    const before = `version: 1\nenvironments:\n  dev: {}\nsigning:\n  trusted_keys:\n    - ${OTHER}   # ci\n  # more soon\nlast: 1\n`;
    const { text } = addTrustedKey(before, KEY);
    expect(text).toBe(
      `version: 1\nenvironments:\n  dev: {}\nsigning:\n  trusted_keys:\n    - ${OTHER}   # ci\n    - ${KEY}\n  # more soon\nlast: 1\n`,
    );
  });

  it("keeps a flow list's items, as a block list", () => {
    const before = `signing:\n  trusted_keys: [${OTHER}]\nversion: 1\n`;
    const { text } = addTrustedKey(before, KEY);
    expect(parse(text)).toEqual({ signing: { trusted_keys: [OTHER, KEY] }, version: 1 });
    expect(text).toBe(`signing:\n  trusted_keys:\n    - ${OTHER}\n    - ${KEY}\nversion: 1\n`);
  });

  it("adds trusted_keys to a signing map that has none", () => {
    const before = "version: 1\nsigning:\n    algorithm: ed25519\nother: 1\n";
    const { text } = addTrustedKey(before, KEY);
    expect(parse(text)).toEqual({ version: 1, signing: { algorithm: "ed25519", trusted_keys: [KEY] }, other: 1 });
    expect(text).toContain(`    trusted_keys:\n        - ${KEY}\nother: 1`);
  });

  it("adds a signing section at the end when there is none, in the file's indentation", () => {
    const before = "version: 1\nenvironments:\n    dev: {}\n# a closing comment\n";
    const { text } = addTrustedKey(before, KEY);
    expect(text).toBe(`${before}signing:\n    trusted_keys:\n        - ${KEY}\n`);
  });

  it("adds nothing when the key is there already", () => {
    const before = `signing:\n  trusted_keys:\n    - ${KEY}\n`;
    expect(addTrustedKey(before, KEY)).toEqual({ text: before, added: false });
  });

  it("keeps CRLF line endings and a missing final newline", () => {
    const before = "version: 1\r\nsigning:\r\n  trusted_keys: []";
    const { text } = addTrustedKey(before, KEY);
    expect(text).toBe(`version: 1\r\nsigning:\r\n  trusted_keys:\r\n    - ${KEY}\r\n`);
  });

  it.each([
    ["a file that does not parse", "version: [1\n", /does not parse/],
    ["trusted_keys that is not a list", "signing:\n  trusted_keys: some-key\n", /signing\.trusted_keys is not a list/],
    ["a top level that is not a map", "- a\n- b\n", /not a map/],
  ])("refuses %s, naming the problem", (_name, before, message) => {
    expect(() => addTrustedKey(before, KEY)).toThrow(message);
  });

  it("falls back to a structural edit for shapes it cannot edit as text, still keeping comments", () => {
    const before = "# settings\nversion: 1\nsigning: { other: 1 }   # flow\n";
    const { text } = addTrustedKey(before, KEY);
    expect(parse(text)).toEqual({ version: 1, signing: { other: 1, trusted_keys: [KEY] } });
    expect(text).toContain("# settings");
  });
});
