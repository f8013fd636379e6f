// The one `$ref` walker: which references strata follows, and the ones it reports instead of crashing on.
import { describe, expect, it } from "vitest";
import type { JsonObject } from "../../../src/core/json.js";
import { checkLocalRefs, resolveLocalRef, schemaParts } from "../../../src/core/schema/refs.js";

const ROOT: JsonObject = {
  type: "object",
  $defs: { port: { type: "integer" }, "a b": { type: "string" }, "x/y": { type: "null" }, yes: true },
  properties: { p: { $ref: "#/$defs/port" } },
};

describe("resolveLocalRef", () => {
  it.each<[string, string, string[] | null]>([
    ["#", "target", []],
    ["#/$defs/port", "target", ["$defs", "port"]],
    ["#/$defs/a%20b", "target", ["$defs", "a b"]],
    ["#/$defs/x~1y", "target", ["$defs", "x/y"]],
    ["#/$defs/yes", "boolean", null],
    ["#/$defs/nope", "missing", null],
    ["#/type", "missing", null],
    ["#/%E0", "invalid", null],
    ["#/$defs/a~2", "invalid", null],
    ["#anchor", "external", null],
    ["other.schema.json#/x", "external", null],
  ])("%s is %s", (ref, kind, path) => {
    const r = resolveLocalRef(ROOT, ref);
    expect(r.kind).toBe(kind);
    if (path) expect(r).toMatchObject({ path });
  });
});

describe("schemaParts", () => {
  it("follows $ref and allOf with their schema paths, once each, through cycles", () => {
    const root: JsonObject = {
      $defs: { a: { allOf: [{ $ref: "#/$defs/b" }] }, b: { $ref: "#/$defs/a", type: "object" } },
      $ref: "#/$defs/a",
    };
    expect(schemaParts(root, root).map((p) => p.path)).toEqual([
      [],
      ["$defs", "a"],
      ["$defs", "a", "allOf", 0],
      ["$defs", "b"],
    ]);
  });

  it("does not follow a $ref it cannot decode", () => {
    const root: JsonObject = { $ref: "#/%E0" };
    expect(schemaParts(root, root)).toHaveLength(1);
  });
});

describe("checkLocalRefs", () => {
  it("reports every local $ref that is not a pointer or points at nothing, with the $ref's path", () => {
    const root: JsonObject = {
      type: "object",
      properties: {
        a: { $ref: "#/%E0" },
        b: { type: "array", prefixItems: [{ $ref: "#/$defs/none" }], items: { $ref: "#/$defs/ok" } },
        c: { $ref: "#/$defs/ok" },
        d: { $id: "https://example.com/inner", $ref: "#/elsewhere" },
      },
      $defs: { ok: { type: "string" }, deep: { not: { $ref: "#/a~2" } } },
      default: { $ref: "#/%E0" },
    };
    expect(checkLocalRefs(root)).toEqual([
      { path: ["properties", "a", "$ref"], ref: "#/%E0", message: expect.stringContaining("not a JSON Pointer") },
      {
        path: ["properties", "b", "prefixItems", 0, "$ref"],
        ref: "#/$defs/none",
        message: expect.stringContaining("no schema"),
      },
      { path: ["$defs", "deep", "not", "$ref"], ref: "#/a~2", message: expect.stringContaining("~0") },
    ]);
  });
});
