import { Ajv2020 } from "ajv/dist/2020.js";
import { describe, expect, it } from "vitest";
import { mergeEditorSettings } from "../../../src/core/editor-settings.js";
import type { JsonObject } from "../../../src/core/json.js";
import { createLayerSchema } from "../../../src/core/schema/layer-schema.js";

const schema: JsonObject = {
  type: "object",
  additionalProperties: false,
  required: ["name"],
  properties: {
    name: { type: "string" },
    port: { type: "integer", maximum: 10 },
    token: { type: "string", "x-sensitive": true },
    pool: { type: "object", required: ["max"], minProperties: 1, properties: { max: { type: "integer" } } },
    hosts: { type: "array", "x-merge": { by: "name" }, minItems: 2, items: { $ref: "#/$defs/host" } },
    tags: { type: "array", minItems: 1, items: { type: "string" } },
  },
  $defs: {
    host: {
      type: "object",
      additionalProperties: false,
      required: ["name", "port"],
      properties: { name: { type: "string" }, port: { type: "integer" } },
    },
  },
};

function check(doc: unknown): boolean {
  const ajv = new Ajv2020({ strict: false });
  return ajv.validate(
    createLayerSchema(schema, { namespace: "app", source: "schemas/app.schema.yaml" }),
    doc,
  ) as boolean;
}

describe("createLayerSchema", () => {
  it("leaves the input alone", () => {
    const before = JSON.stringify(schema);
    createLayerSchema(schema, { namespace: "app", source: "x" });
    expect(JSON.stringify(schema)).toBe(before);
  });

  it.each([
    ["an empty layer (required dropped)", {}, true],
    ["a nested partial object", { pool: {} }, true],
    ["!unset (read as null or an empty scalar)", { port: null, pool: "" }, true],
    ["a reference in an integer field", { port: "${other.port}" }, true],
    ["$unset removal items and partial by-merged arrays", { hosts: [{ name: "a", $unset: true }] }, true],
    ["replace arrays keep their limits", { tags: [] }, false],
    ["$unset must be true", { hosts: [{ name: "a", $unset: false }] }, false],
    ["types are still checked", { port: "ten" }, false],
    ["ranges are still checked", { port: 11 }, false],
    ["unknown keys are still errors", { colour: "red" }, false],
    ["an x-sensitive key in a plain file", { token: "hunter2" }, false],
    ["an x-sensitive key may be !unset", { token: null }, true],
  ])("%s", (_what, doc, ok) => {
    expect(check(doc)).toBe(ok);
  });
});

describe("mergeEditorSettings", () => {
  const entries = {
    "yaml.schemas": { "./.strata/schemas/app.layer.schema.json": ["environments/*/app.yaml"] },
    "yaml.customTags": ["!unset scalar"],
  };
  it("writes a new file as plain JSON", () => {
    expect(JSON.parse(mergeEditorSettings(null, entries, "s.json"))).toEqual(entries);
  });
  it("is idempotent and keeps comments", () => {
    const once = mergeEditorSettings(`{\n  // mine\n  "a": 1\n}\n`, entries, "s.json");
    expect(once).toContain("// mine");
    expect(mergeEditorSettings(once, entries, "s.json")).toBe(once);
  });
  it("refuses what it cannot merge, with a location", () => {
    expect(() => mergeEditorSettings(`{ "a": 1 "b": 2 }`, entries, "s.json")).toThrow(
      /s\.json:1:10: not a JSON settings file/,
    );
    expect(() => mergeEditorSettings(`[]`, entries, "s.json")).toThrow(/not a JSON object/);
    expect(() => mergeEditorSettings(`{ "yaml.schemas": [] }`, entries, "s.json")).toThrow(
      /"yaml\.schemas" is not an object/,
    );
  });
});
