import { describe, expect, it } from "vitest";
import { resolveInline } from "./harness.js";

const OPEN = "type: object\n";
const ARRAYS = `
type: object
properties:
  replace: { type: array }
  append: { type: array, x-merge: append }
  routes:
    type: array
    x-merge: { by: name }
    items: { type: object, properties: { name: { type: string }, weight: { type: integer }, tags: { type: array, x-merge: append } } }
`;

describe("layer merge (SPEC §4 steps 2-4)", () => {
  it.each([
    [
      "maps merge key by key",
      OPEN,
      { base: "a: { x: 1, y: 2 }", leaf: "a: { y: 3, z: 4 }" },
      { a: { x: 1, y: 3, z: 4 } },
    ],
    ["scalars replace", OPEN, { base: "a: 1", mid: "a: two", leaf: "a: true" }, { a: true }],
    ["a scalar replaces a map", OPEN, { base: "a: { x: 1 }", leaf: "a: 5" }, { a: 5 }],
    ["a map replaces a scalar", OPEN, { base: "a: 5", leaf: "a: { x: 1 }" }, { a: { x: 1 } }],
    ["null is an ordinary value", OPEN, { base: "a: 1", leaf: "a: null" }, { a: null }],
    [
      "!unset removes the key and its subtree",
      OPEN,
      { base: "a: { x: 1, y: { z: 2 } }\nb: 1", leaf: "a: !unset" },
      { b: 1 },
    ],
    ["!unset then set again", OPEN, { base: "a: 1", mid: "a: !unset", leaf: "a: 3" }, { a: 3 }],
    ["arrays replace by default", ARRAYS, { base: "replace: [1, 2]", leaf: "replace: [3]" }, { replace: [3] }],
    [
      "x-merge: append",
      ARRAYS,
      { base: "append: [1, 2]", mid: "append: [3]", leaf: "append: [4]" },
      { append: [1, 2, 3, 4] },
    ],
    [
      "x-merge by field: deep-merge matched, append new, keep parent order",
      ARRAYS,
      {
        base: "routes: [{ name: a, weight: 1 }, { name: b, weight: 2 }]",
        leaf: "routes: [{ name: c, weight: 9 }, { name: a, weight: 5 }]",
      },
      {
        routes: [
          { name: "a", weight: 5 },
          { name: "b", weight: 2 },
          { name: "c", weight: 9 },
        ],
      },
    ],
    [
      "x-merge by field: $unset removes an item",
      ARRAYS,
      { base: "routes: [{ name: a }, { name: b }, { name: c }]", leaf: "routes: [{ name: b, $unset: true }]" },
      { routes: [{ name: "a" }, { name: "c" }] },
    ],
    [
      "x-merge by field: nested x-merge applies inside matched items",
      ARRAYS,
      { base: "routes: [{ name: a, tags: [x] }]", leaf: "routes: [{ name: a, tags: [y] }]" },
      { routes: [{ name: "a", tags: ["x", "y"] }] },
    ],
  ])("%s", (_name, schema, layers, expected) => {
    const { app, findings } = resolveInline(schema, layers);
    expect(findings.filter((f) => f.severity === "error")).toEqual([]);
    expect(app).toEqual(expected);
  });

  it.each([
    ["an item without the field", "routes: [{ weight: 1 }]", /has no "name"/],
    ["two items with the same field in one layer", "routes: [{ name: a }, { name: a }]", /two items/],
    ["$unset that is not true", "routes: [{ name: a, $unset: 1 }]", /must be true/],
    ["!unset inside an item of a replaced array", "replace: [{ a: !unset }]", /!unset inside an array item/],
  ])("invalid-merge: %s", (_name, leaf, message) => {
    const { findings } = resolveInline(ARRAYS, { base: "routes: [{ name: a }]", leaf });
    const f = findings.find((x) => x.code === "invalid-merge");
    expect(f?.message).toMatch(message);
    expect(f).toMatchObject({ file: "environments/leaf/app.yaml", line: 1, environment: "leaf" });
  });

  it("$unset outside an array merged by field is invalid-key", () => {
    const { findings } = resolveInline(OPEN, { leaf: "a: { $unset: true }" });
    expect(findings).toMatchObject([{ code: "invalid-key", line: 1, column: 6 }]);
  });

  it("warns on !unset of a key nothing sets", () => {
    const { findings } = resolveInline(OPEN, { leaf: "ghost: !unset" });
    expect(findings).toMatchObject([
      { code: "unset-nothing", severity: "warning", file: "environments/leaf/app.yaml", line: 1, column: 1 },
    ]);
  });

  it("schema defaults are the lowest layer, and !unset removes a default without reverting to it", () => {
    const schema =
      "type: object\nproperties:\n  a: { type: integer, default: 1 }\n  b: { type: object, properties: { c: { type: string, default: x } } }\n  d: { type: integer, default: 4 }";
    const { app } = resolveInline(schema, { base: "a: 2", leaf: "d: !unset" });
    expect(app).toEqual({ a: 2, b: { c: "x" } });
  });

  it("defaults follow $ref and allOf but not oneOf/anyOf/if", () => {
    const schema = `
type: object
$defs: { port: { type: integer, default: 80 } }
properties:
  p: { $ref: "#/$defs/port" }
  q: { allOf: [ { default: 1 } ] }
  r: { oneOf: [ { type: integer, default: 2 }, { type: string } ] }
  s: { anyOf: [ { type: integer, default: 3 } ] }
`;
    expect(resolveInline(schema, {}).app).toEqual({ p: 80, q: 1 });
  });

  it("records provenance: the setting layer and the layers it overrode", () => {
    const { resolved } = resolveInline("type: object\nproperties:\n  a: { type: integer, default: 1 }", {
      base: "a: 2",
      mid: "\na: 3",
      leaf: "\n\na: 4",
    });
    const leaf = resolved.leaves.get("app.a")!;
    expect(leaf.origin).toEqual({ environment: "leaf", file: "environments/leaf/app.yaml", line: 3, column: 4 });
    expect(leaf.overridden.map((o) => [o.environment, o.line])).toEqual([
      [null, 3],
      ["base", 1],
      ["mid", 2],
    ]);
  });

  it("duplicate-definition: a leaf set in both files of one environment", () => {
    const { findings } = resolveInline(OPEN, { leaf: "a: 1\nb: 2" }, { leaf: "b: 3" });
    expect(findings).toMatchObject([
      { code: "duplicate-definition", file: "environments/leaf/app.sops.yaml", line: 1, key: "app.b" },
    ]);
  });

  it("values from an encrypted layer are sensitive; x-sensitive keys may not be set in plain files", () => {
    const schema = "type: object\nproperties:\n  pw: { type: string, x-sensitive: true }\n  user: { type: string }";
    const ok = resolveInline(schema, { base: "user: u" }, { leaf: "pw: s3cret-value" });
    expect(ok.resolved.leaves.get("app.pw")!.sensitive).toBe(true);
    expect(ok.resolved.leaves.get("app.user")!.sensitive).toBe(false);
    const bad = resolveInline(schema, { base: "pw: plaintext-pw" });
    expect(bad.findings).toMatchObject([
      { code: "sensitive-in-plaintext", file: "environments/base/app.yaml", line: 1, column: 5 },
    ]);
    expect(bad.app).toEqual({});
  });

  it("shares ancestor work between environments without leaking changes", () => {
    const { resolver } = resolveInline(ARRAYS, { base: "append: [1]", mid: "append: [2]", leaf: "append: [3]" });
    expect(resolver.resolve("mid").config.app).toEqual({ append: [1, 2] });
    expect(resolver.resolve("leaf").config.app).toEqual({ append: [1, 2, 3] });
    expect(resolver.resolve("mid").config.app).toEqual({ append: [1, 2] });
  });
});
