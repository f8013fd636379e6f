import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { parseYaml } from "../../../src/core/yaml/parse.js";
import { deserializeParsed, serializeParsed } from "../../../src/core/yaml/serialize.js";
import { stringify } from "yaml";

describe("parse cache form", () => {
  it("round-trips nodes, positions and findings", () => {
    const text = "a: 1\nb:\n  c: [x, yes]\n  d: !unset\nlist:\n  - { name: r1, $unset: true }\n";
    const parsed = parseYaml(text, "f.yaml", { keys: "segments", allowUnset: true });
    expect(parsed.findings.length).toBe(1);
    expect(deserializeParsed(serializeParsed(parsed), "f.yaml")).toEqual(parsed);
  });

  it("round-trips arbitrary documents", () => {
    const key = fc.stringMatching(/^[a-z_][a-z0-9_-]{0,8}$/);
    const value = fc.letrec((tie) => ({
      v: fc.oneof(
        { depthSize: "small" },
        fc.string(),
        fc.integer(),
        fc.boolean(),
        fc.constant(null),
        fc.array(tie("v"), { maxLength: 3 }),
        fc.dictionary(key, tie("v"), { maxKeys: 3 }),
      ),
    })).v;
    fc.assert(
      fc.property(fc.dictionary(key, value, { maxKeys: 5 }), (doc) => {
        const parsed = parseYaml(stringify(doc), "g.yaml", { keys: "segments", allowUnset: true });
        expect(deserializeParsed(serializeParsed(parsed), "g.yaml")).toEqual(parsed);
      }),
      { numRuns: 100 },
    );
  });

  it("refuses a damaged entry", () => {
    expect(deserializeParsed("{not json", "f.yaml")).toBeNull();
    expect(deserializeParsed('{"x":1}', "f.yaml")).toBeNull();
  });
});
