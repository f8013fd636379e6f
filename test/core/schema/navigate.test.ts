// Schema defaults on schemas whose $refs fan out: linear when no default lies below the fan-out, and
// bounded (a located finding, not a hang) when the described value itself is exponential.
import { describe, expect, it } from "vitest";
import type { JsonObject } from "../../../src/core/json.js";
import { collectDefaults } from "../../../src/core/schema/navigate.js";

/** `depth` levels, each object referring to the next level twice (2^depth paths to the bottom). */
function fanOut(depth: number, bottom: JsonObject): JsonObject {
  const defs: Record<string, JsonObject> = {};
  for (let i = 0; i < depth; i++)
    defs[`l${i}`] = {
      type: "object",
      properties: { a: { $ref: `#/$defs/l${i + 1}` }, b: { $ref: `#/$defs/l${i + 1}` } },
    };
  defs[`l${depth}`] = bottom;
  return { type: "object", properties: { top: { $ref: "#/$defs/l0" } }, $defs: defs };
}

describe("collectDefaults on a $ref fan-out", () => {
  it("finds no defaults in a 40-level fan-out without walking its 2^40 paths", () => {
    expect(collectDefaults(fanOut(40, { type: "integer" }))).toEqual({ defaults: [], overflow: null });
  });

  it("still finds the defaults beside a default-free fan-out", () => {
    const schema = fanOut(40, { type: "integer" });
    (schema.properties as JsonObject).port = { type: "integer", default: 8080 };
    expect(collectDefaults(schema).defaults).toEqual([
      { path: ["port"], value: 8080, schemaPath: ["properties", "port", "default"] },
    ]);
  });

  it("collects every default of a small fan-out", () => {
    const { defaults, overflow } = collectDefaults(fanOut(3, { type: "integer", default: 1 }));
    expect(overflow).toBeNull();
    expect(defaults).toHaveLength(8);
    expect(defaults[0]).toEqual({ path: ["top", "a", "a", "a"], value: 1, schemaPath: ["$defs", "l3", "default"] });
  });

  it("stops at the limit where defaults lie below a 30-level fan-out, naming where", () => {
    const { defaults, overflow } = collectDefaults(fanOut(30, { type: "integer", default: 1 }), 10_000);
    expect(overflow).not.toBeNull();
    expect(overflow![0]).toBe("$defs");
    expect(defaults.length).toBeLessThan(10_000);
  });

  it("follows a $ref cycle to a bounded depth", () => {
    const schema: JsonObject = {
      type: "object",
      properties: { node: { $ref: "#/$defs/n" } },
      $defs: { n: { type: "object", properties: { next: { $ref: "#/$defs/n" }, v: { type: "integer", default: 2 } } } },
    };
    const { defaults, overflow } = collectDefaults(schema);
    expect(overflow).toBeNull();
    expect(defaults.map((d) => d.path.join(".")).sort()).toEqual(["node.next.v", "node.v"]);
  });
});
