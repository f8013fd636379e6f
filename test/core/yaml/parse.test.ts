import { describe, expect, it } from "vitest";
import { toPlain } from "../../../src/core/yaml/nodes.js";
import { decodeText, parseYaml } from "../../../src/core/yaml/parse.js";
import { checkIntegerLiteral } from "../../../src/core/yaml/scalars.js";

const values = { keys: "segments", allowUnset: true } as const;
const parse = (text: string, opts: Parameters<typeof parseYaml>[2] = values) => parseYaml(text, "f.yaml", opts);
const codes = (text: string, opts?: Parameters<typeof parseYaml>[2]) => parse(text, opts).findings.map((f) => f.code);

describe("parseYaml", () => {
  it("keeps the line and column of every node", () => {
    const { documents } = parse("a:\n  b: 1\n  c: [x, y]\n");
    const root = documents[0]!;
    if (root.kind !== "map") throw new Error("map expected");
    const a = root.entries.get("a")!;
    expect(a.keyPos).toEqual({ file: "f.yaml", line: 1, column: 1 });
    if (a.value.kind !== "map") throw new Error("map expected");
    expect(a.value.entries.get("b")!.value.pos).toEqual({ file: "f.yaml", line: 2, column: 6 });
    const c = a.value.entries.get("c")!.value;
    if (c.kind !== "seq") throw new Error("seq expected");
    expect(c.items[1]!.pos).toMatchObject({ line: 3, column: 10 });
  });

  it("reports duplicate keys with their location", () => {
    const { findings } = parse("a: 1\nb: 2\na: 3\n");
    expect(findings).toMatchObject([{ code: "duplicate-key", line: 3, column: 1 }]);
  });

  it.each(["__proto__", "constructor", "prototype", "toString", "1abc", "a.b", "../x", "has space", "é"])(
    "rejects the key %j and never sets it",
    (key) => {
      const text = `${JSON.stringify(key)}: { polluted: true }\nok: 1\n`;
      const { documents, findings } = parse(text);
      expect(findings).toMatchObject([{ code: "invalid-key", line: 1, column: 1 }]);
      const plain = toPlain(documents[0]!) as Record<string, unknown>;
      expect(Object.keys(plain)).toEqual(["ok"]);
      expect(({} as Record<string, unknown>).polluted).toBeUndefined();
      expect(Object.getPrototypeOf(plain)).toBe(Object.prototype);
    },
  );

  it("keeps a __proto__ key of a schema file as an own property, never the prototype", () => {
    const { documents } = parse('a: { "constructor": { type: string } }\n', { keys: "any", allowUnset: false });
    const plain = toPlain(documents[0]!) as { a: Record<string, unknown> };
    expect(Object.hasOwn(plain.a, "constructor")).toBe(true);
    expect(codes('"__proto__": 1\n', { keys: "any", allowUnset: false })).toEqual(["invalid-key"]);
  });

  it("stops an alias bomb at the alias limit", () => {
    const lines = ['a: &a ["x","x","x","x","x","x","x","x","x","x"]'];
    for (let i = 1; i < 10; i++)
      lines.push(
        `${String.fromCharCode(97 + i)}: &${String.fromCharCode(97 + i)} [${Array(10)
          .fill(`*${String.fromCharCode(96 + i)}`)
          .join(",")}]`,
      );
    // 10^10 values if expanded. The count stops at the limit: the finding sits at the alias that crossed it
    // (line 2's second `*a`: 10 + 10 + 10 expansions... past 100), so nothing after it was expanded.
    const { findings } = parse(lines.join("\n") + "\n");
    expect(findings).toEqual([
      expect.objectContaining({
        code: "yaml-limit",
        line: 2,
        column: 11,
        message: "f.yaml:2:11: more than 100 alias expansions",
      }),
    ]);
  });

  it.each([
    ["flow", "a: " + "[".repeat(20000) + "]".repeat(20000)],
    ["block", Array.from({ length: 20000 }, (_, i) => " ".repeat(i) + "k:").join("\n")],
    ["moderate", Array.from({ length: 200 }, (_, i) => " ".repeat(i) + "k:").join("\n") + " 1"],
  ])("rejects %s nesting past 128 levels with yaml-limit", (_name, text) => {
    expect(codes(text)).toContain("yaml-limit");
  });

  it("accepts a BOM and CRLF line endings", () => {
    const bytes = new TextEncoder().encode("\ufeffa: 1\r\nb:\r\n  c: two\r\n");
    const decoded = decodeText(bytes, "f.yaml");
    if (!("text" in decoded)) throw new Error("text expected");
    const { documents, findings } = parse(decoded.text);
    expect(findings).toEqual([]);
    expect(toPlain(documents[0]!)).toEqual({ a: 1, b: { c: "two" } });
    const root = documents[0]!;
    if (root.kind !== "map") throw new Error();
    expect(root.entries.get("b")!.keyPos.line).toBe(2);
  });

  it("rejects binary garbage as not UTF-8 text, with the offset", () => {
    const decoded = decodeText(new Uint8Array([0x61, 0x3a, 0x20, 0xff, 0xfe, 0x00, 0x01]), "bin.yaml");
    expect(decoded).toMatchObject({ finding: { code: "yaml-syntax", file: "bin.yaml", line: 1, column: 4 } });
    expect(decodeText(new TextEncoder().encode("a: 1\nb: \u0000\n"), "nul.yaml")).toMatchObject({
      finding: { code: "yaml-syntax", line: 2 },
    });
  });

  it.each([["yes"], ["No"], ["on"], ["OFF"], ["y"], ["010"], ["1:30"], ["1_000"]])(
    "warns about %s, which YAML 1.1 reads differently",
    (v) => {
      const { findings } = parse(`k: ${v}\n`);
      expect(findings).toMatchObject([{ code: "yaml-1.1-ambiguity", severity: "warning", line: 1, column: 4 }]);
      expect(findings[0]!.hint).toBeTruthy();
    },
  );

  it("does not warn about quoted strings or ordinary values", () => {
    expect(codes('a: "yes"\nb: true\nc: 10\nd: 0.5\ne: "010"\n')).toEqual([]);
  });

  it("supports merge keys", () => {
    const { documents, findings } = parse("base: &b { x: 1, y: 2 }\nchild:\n  <<: *b\n  y: 3\n");
    expect(findings).toEqual([]);
    expect(toPlain(documents[0]!)).toEqual({ base: { x: 1, y: 2 }, child: { x: 1, y: 3 } });
  });

  it("reads !unset in values files and refuses it elsewhere", () => {
    const ok = parse("a: !unset\n");
    expect(ok.documents[0]).toMatchObject({ kind: "map" });
    expect(codes("a: !unset\n", { keys: "segments", allowUnset: false })).toEqual(["yaml-syntax"]);
    expect(codes("a: !unset 3\n")).toEqual(["yaml-syntax"]);
  });

  it("reports syntax errors with their location", () => {
    const { findings } = parse("a: 1\nb: [1, 2\nc: 3\n");
    expect(findings[0]).toMatchObject({ code: "yaml-syntax" });
    expect(findings[0]!.line).toBeGreaterThanOrEqual(2);
  });

  it("rejects unsupported tags and a second document", () => {
    expect(codes("a: !!binary aGk=\n")).toEqual(["yaml-syntax"]);
    expect(codes("a: 1\n---\nb: 2\n")).toEqual(["yaml-syntax"]);
  });

  it.each([
    ["under a map value", "name: x\ndb:\n  host: a\n    port: 5\n", 4, 5],
    ["at the top level", "name: x\n  other: y\n", 2, 3],
    ["in a sequence item", "a:\n  - b: 1\n     c: 2\n", 3, 6],
    ["after a blank line", "a: 1\n\n   b: 2\n", 3, 4],
  ])("reports an over-indented line %s once, at that line", (_name, text, line, column) => {
    const { findings } = parse(text);
    expect(findings).toHaveLength(1);
    expect(findings[0]).toMatchObject({ code: "yaml-syntax", line, column });
    expect(findings[0]!.message).toMatch(/indented more than the key on line/);
    expect(findings[0]!.message).not.toMatch(/nesting|128/);
  });

  it.each(["9007199254740992", "9007199254740993", "-9007199254740993", "18446744073709551615", "0x20000000000001"])(
    "refuses the integer %s outside ±(2^53-1) with the range",
    (n) => {
      const { documents, findings } = parse(`a: 1\nb: ${n}\n`);
      expect(findings).toMatchObject([{ code: "invalid-type", line: 2, column: 4 }]);
      expect(findings[0]!.message).toContain("-9007199254740991 to 9007199254740991");
      expect(toPlain(documents[0]!)).toEqual({ a: 1 });
    },
  );

  it.each([
    ["9007199254740991", 9007199254740991],
    ["-9007199254740991", -9007199254740991],
    ["1e300", 1e300],
    ["9007199254740993.0", 9007199254740992],
    ['"9007199254740993"', "9007199254740993"],
  ])("keeps %s (safe integers, floats and strings)", (src, value) => {
    const { documents, findings } = parse(`b: ${src}\n`);
    expect(findings).toEqual([]);
    expect(toPlain(documents[0]!)).toEqual({ b: value });
  });

  it("checkIntegerLiteral is the reusable check", () => {
    expect(checkIntegerLiteral("9007199254740993", 9007199254740992)).toMatch(/outside/);
    expect(checkIntegerLiteral("12", 12)).toBeNull();
    expect(checkIntegerLiteral("1e20", 1e20)).toBeNull();
    expect(checkIntegerLiteral("9007199254740993", 9007199254740993n)).toMatch(/outside/);
  });
});
