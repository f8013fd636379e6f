// @module-tag slow
// YAML that YAML 1.1 readers (PyYAML, standing in for kubectl's and helm's go-yaml) and YAML 1.2 readers
// read as the same value: checked through a real YAML 1.1 reader, not through the library that wrote it.
import { spawnSync } from "node:child_process";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import type { JsonValue } from "../../../src/core/json.js";
import { readsAsAnotherType, renderYaml, yamlNumber } from "../../../src/core/render/yaml.js";
import { lacking, needsPyYaml } from "../../support/shared.js";

const PYTHON = "/usr/bin/python3";
const noPyyaml = lacking("YAML 1.1 reading of renderYaml", needsPyYaml);

/** What PyYAML's safe_load makes of the text, as JSON. */
function readWithPyYaml(text: string): unknown {
  const r = spawnSync(
    PYTHON,
    [
      "-c",
      "import sys, json, yaml; sys.stdout.write(json.dumps(yaml.safe_load(sys.stdin.buffer.read().decode('utf-8')), ensure_ascii=True))",
    ],
    { input: text, encoding: "utf8", maxBuffer: 64 * 1024 * 1024 },
  );
  if (r.status !== 0) throw new Error(`PyYAML could not read:\n${text}\n${r.stderr}`);
  return JSON.parse(r.stdout) as unknown;
}

/** The same value for PyYAML (1.1), and for the yaml package reading 1.2 and 1.1. */
function expectReadBack(value: JsonValue): void {
  const text = renderYaml(value);
  expect(readWithPyYaml(text)).toEqual(value);
  expect(parse(text)).toEqual(value);
  expect(parse(text, { version: "1.1" })).toEqual(value);
}

const TRICKY = [
  "yes",
  "Yes",
  "YES",
  "no",
  "NO",
  "on",
  "On",
  "off",
  "OFF",
  "y",
  "Y",
  "n",
  "N",
  "true",
  "False",
  "null",
  "Null",
  "~",
  "",
  " ",
  "=",
  "<<",
  "1_000",
  "1:30",
  "12:30:45",
  "190:20:30",
  "2026-01-02",
  "2001-12-14t21:59:43.10-05:00",
  "2002-12-14 21:59:43",
  "0755",
  "0o17",
  "0x1F",
  "0b101",
  "+1",
  "-1",
  "1e3",
  "1.0e+3",
  "1e",
  ".5",
  "5.",
  ".inf",
  "-.Inf",
  "+.INF",
  ".NaN",
  "nan",
  "inf",
  "+inf",
  "-Infinity",
  "1__0",
  "._1",
  "0.",
  "- a",
  "-",
  "?",
  ":",
  "a: b",
  "#x",
  "a #b",
  "|",
  ">",
  "!tag",
  "&a",
  "*a",
  "%x",
  "@x",
  "`x",
  "'x'",
  '"x"',
  "[a]",
  "{a}",
  "a,b",
  "---",
  "...",
  "--- a",
  "multi\nline",
  "multi\nline\n",
  "trailing\n\n",
  "\n",
  " lead",
  "trail ",
  "tab\there",
  "\ttab",
  "cr\rlf",
  "nel\u0085x",
  "ls\u2028x",
  "ps\u2029x",
  "bom\ufeffx",
  "\ufeff",
  "del\x7f",
  "c1\x9b",
  "nul\0",
  "bell\x07",
  "esc\x1b[31m",
  "nbsp\u00a0x",
  "é",
  "日本",
  "😀",
  "\uffff",
  "\ufffe",
  "a\\b",
  "a'b\"c",
];

describe("YAML output that 1.1 and 1.2 readers read alike", () => {
  it.skipIf(noPyyaml)("quotes the strings a 1.1 reader would read as booleans, numbers or dates", () => {
    const values = { a: "yes", b: "NO", c: "on", d: "y", e: "1_000", f: "1:30", g: "2026-01-02" };
    const text = renderYaml(values);
    expect(readWithPyYaml(text)).toEqual(values);
    expect(text).toContain('a: "yes"');
  });

  it.skipIf(noPyyaml)("reads back every tricky string as a value and as a key, and numbers as numbers", () => {
    expectReadBack({
      values: TRICKY,
      keys: Object.fromEntries(TRICKY.map((s, i) => [s, i])),
      numbers: [0, 1, -1, 42, 9007199254740991, -9007199254740991, 0.5, -2.25, 1e-7, 1.5e-7, 1e21, 5e300, 123.456],
      nested: { list: [{ yes: "no" }, [], {}, null, true, false], empty: {} },
    });
  });

  it.skipIf(noPyyaml)("property: any string, as a value and as a key, any finite number", () => {
    const string = fc.oneof(
      fc.string({ unit: "binary", maxLength: 12 }),
      fc.string({ unit: "grapheme", maxLength: 12 }),
      fc.string({ unit: fc.constantFrom(..."yYnN01:._-+eE \n\t#'\"xo"), maxLength: 8 }),
      fc.constantFrom(...TRICKY),
    );
    const number = fc.oneof(
      fc.integer({ min: -(2 ** 53) + 1, max: 2 ** 53 - 1 }),
      fc.double({ noNaN: true, noDefaultInfinity: true }).filter((n) => !Object.is(n, -0)),
    );
    fc.assert(
      fc.property(fc.array(string, { minLength: 50, maxLength: 100 }), fc.array(number), (strings, numbers) => {
        expectReadBack({ strings, keyed: Object.fromEntries(strings.map((s, i) => [s, i])), numbers });
      }),
      { numRuns: 30 },
    );
  });

  it.each([
    ["yes", true],
    ["1:30", true],
    ["3 replicas", true],
    ["-Infinity", true],
    ["hello", false],
    ["v1.2.3", false],
    ["_1", false],
  ])("readsAsAnotherType(%j) is %s", (text, expected) => {
    expect(readsAsAnotherType(text)).toBe(expected);
  });

  it.each([
    [1e-7, "1.0e-7"],
    [1.5e21, "1.5e+21"],
    [42, "42"],
    [-0.5, "-0.5"],
  ])("writes %d as %s", (n, text) => {
    expect(yamlNumber(n)).toBe(text);
  });
});
