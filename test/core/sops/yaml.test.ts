import { describe, expect, it } from "vitest";
import { stores } from "../../../src/core/sops/stores/index.js";
import { parseYamlBranches } from "../../../src/core/sops/stores/yaml-parse.js";
import { emitYaml } from "../../../src/core/sops/stores/yaml-emit.js";
import { SopsFloat, SopsInt, SopsTime, Branch } from "../../../src/core/sops/tree.js";
import { resolvePlainScalar } from "../../../src/core/sops/yaml-scalars.js";
import { readFileSync } from "node:fs";
import { conformance } from "../../support/shared.js";

const roundTrip = (t: string): string => emitYaml(parseYamlBranches(t));

describe("YAML as go-yaml v3 writes it for sops", () => {
  it.each([
    [
      "4-space indent, sequences indented under keys",
      'a:\n    b: 1\n    c:\n        - x\n        - "y"\n        - z\n',
    ],
    ["mappings in sequences", "l:\n    - a: 1\n      b: 2\n    - c: 3\n"],
    ["literal blocks", "k: |\n    line one\n    line two\nz: |-\n    two\n    lines\nw: |+\n    kept\n\nend: 1\n"],
    ["quoting", 'a: "123"\nb: "true"\nc: \'x: y\'\nd: ""\ne: "2026-01-01T00:00:00Z"\nf: \' lead\'\ng: "tab\\there"\n'],
    ["empty collections", "a: {}\nb: []\n"],
    [
      "comments: head, nested head, foot",
      "# top\na: 1\n# before b\nb:\n    # first in b\n    c: x\n    d: w\n    # foot of b\ne: 2\n",
    ],
    ["comments in sequences", "l:\n    - a\n    # between\n    - b\n"],
    ["multi-document streams", "a: 1\n---\nb: 2\n"],
    ["nested sequences", "l:\n    - - a\n      - b\n"],
    ["long and multi-line keys as complex keys", `? ${"k".repeat(129)}\n: v\n? |-\n    two\n    lines\n: w\n`],
    ["unicode: printable kept, emoji escaped", 'a: héllo\nb: "\\U0001F600"\n'],
  ])("%s", (_name, text) => expect(roundTrip(text)).toBe(text));

  it("normalizes to go-yaml's output (2-space input, quoted styles, floats)", () => {
    expect(roundTrip("a:\n  b: 'x'\n  num: 1.0\n  old: y\n  big: 1234568000.0\n  list:\n  - 1\n")).toBe(
      'a:\n    b: x\n    num: 1\n    old: "y"\n    big: 1.234568e+09\n    list:\n        - 1\n',
    );
  });

  it("types plain scalars like go-yaml", () => {
    expect(resolvePlainScalar("12")).toEqual(new SopsInt(12n));
    expect(resolvePlainScalar("0x1F")).toEqual(new SopsInt(31n));
    expect(resolvePlainScalar("1.5")).toEqual(new SopsFloat(1.5));
    expect(resolvePlainScalar("true")).toBe(true);
    expect(resolvePlainScalar("yes")).toBe("yes");
    expect(resolvePlainScalar("~")).toBeNull();
    expect(resolvePlainScalar("2001-12-14")).toEqual(new SopsTime("2001-12-14T00:00:00Z"));
    expect(resolvePlainScalar("2001-12-14T21:59:43.10-05:00")).toEqual(new SopsTime("2001-12-14T21:59:43.1-05:00"));
  });

  it("re-emits sops' example.yaml data exactly (comments at every depth)", () => {
    const text = readFileSync(conformance("sops/example.yaml"), "utf8");
    const doc = stores.yaml.parseEncrypted(text);
    const dataPart = text.slice(0, text.indexOf("sops:\n"));
    expect(emitYaml(doc.branches)).toBe(dataPart);
  });

  it("rejects duplicate keys, sequences at the top and non-string keys", () => {
    expect(() => parseYamlBranches("a: 1\na: 2\n")).toThrow(/YAML syntax error/);
    expect(() => parseYamlBranches("- a\n")).toThrow(/sequences are not supported/);
    expect(() => parseYamlBranches("1: a\n")).toThrow(/only string keys/);
  });

  it("expands aliases", () => {
    const [b] = parseYamlBranches("a: &x hello\nb: *x\n");
    expect((b as Branch).items.map((i) => i.value)).toEqual(["hello", "hello"]);
  });
});
