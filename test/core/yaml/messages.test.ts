// A YAML mistake is one finding, where the user has to look, saying what to do: an unclosed flow collection
// or quote at the character that opened it (not where the parser gave up), a duplicate key with its name and
// both lines, a missing colon, a tab.
import { describe, expect, it } from "vitest";
import { parseYaml } from "../../../src/core/yaml/parse.js";

const parse = (text: string) => parseYaml(text, "f.yaml", { keys: "segments", allowUnset: true });

describe("a syntax error is one finding where the construct opened", () => {
  it.each([
    ["an unclosed {", "name: checkout\npool: { max: 3\n", 2, 7, /\{ .*never closed.*\}/],
    ["an unclosed { with keys after it", "name: a\npool: { max: 3\nreplicas: 2\nmode: x\n", 2, 7, /never closed/],
    ["an unclosed [", "name: checkout\npool: [1, 2\nreplicas: 2\n", 2, 7, /\[ .*never closed.*\]/],
    ["an unclosed [ inside a closed {", "a:\n  b: { c: [1, 2 }\n", 2, 11, /\[ .*never closed/],
    ["an unclosed double quote", 'name: "checkout\nx: 1\n', 1, 7, /" .*never closed/],
    ["an unclosed single quote", "a: 1\nname: 'checkout\nx: 1\n", 2, 7, /' .*never closed/],
  ])("%s", (_name, text, line, column, message) => {
    const { findings, documents } = parse(text);
    expect(findings).toHaveLength(1);
    expect(findings[0]).toMatchObject({ code: "yaml-syntax", file: "f.yaml", line, column });
    expect(findings[0]!.message).toMatch(message);
    expect(findings[0]!.message.startsWith(`f.yaml:${line}:${column}: `)).toBe(true);
    expect(documents).toEqual([]);
  });
});

describe("YAML messages say what to do", () => {
  it("a duplicate key names the key and both lines", () => {
    const { findings } = parse("name: checkout\npool: 1\nname: other\n");
    expect(findings).toHaveLength(1);
    expect(findings[0]).toMatchObject({ code: "duplicate-key", line: 3, column: 1, key: "name" });
    expect(findings[0]!.message).toBe("f.yaml:3:1: duplicate key name: first on line 1, again on line 3");
    expect(findings[0]!.hint).toMatch(/keep one of them/);
  });

  it("a duplicate key in a nested map, by its dotted path", () => {
    const { findings } = parse("a:\n  x: 1\n  y: 2\n  x: 3\n");
    expect(findings).toMatchObject([{ code: "duplicate-key", line: 4, column: 3, key: "a.x" }]);
    expect(findings[0]!.message).toBe("f.yaml:4:3: duplicate key a.x: first on line 2, again on line 4");
  });

  it.each([
    ["at the top", "gateway\n  host: x\n  port: 3\n", 1, 8, "gateway"],
    ["after other keys", "name: checkout\ngateway\n  host: x\n  port: 3\nlast: 1\n", 2, 8, "gateway"],
    ["nested", "app:\n  tls\n    cert: x\n", 2, 6, "tls"],
  ])("a key without its colon before an indented map (%s) suggests the colon", (_name, text, line, column, key) => {
    const { findings } = parse(text);
    expect(findings).toHaveLength(1);
    expect(findings[0]).toMatchObject({ code: "yaml-syntax", line, column });
    expect(findings[0]!.message).toContain(`missing ':' after ${key}`);
    expect(findings[0]!.hint).toContain(`${key}:`);
  });

  it.each([
    ["a tab as the whole indentation", "name: checkout\npool:\n\tmax: 3\n", 3, 1],
    ["a tab after spaces", "pool:\n  \tmax: 3\n", 2, 3],
  ])("%s says tabs", (_name, text, line, column) => {
    const { findings } = parse(text);
    expect(findings).toHaveLength(1);
    expect(findings[0]).toMatchObject({ code: "yaml-syntax", line, column });
    expect(findings[0]!.message).toMatch(/a tab indents this line/);
    expect(findings[0]!.hint).toMatch(/spaces/);
  });

  it("the over-indented line keeps its own message", () => {
    const { findings } = parse("name: checkout\n  pool: 1\n");
    expect(findings).toHaveLength(1);
    expect(findings[0]!.message).toMatch(/indented more than the key on line 1/);
  });
});
