import { describe, expect, it } from "vitest";
import { isStrataError } from "../../../src/core/findings.js";
import type { JsonObject } from "../../../src/core/json.js";
import { generateTypes } from "../../../src/core/schema/typegen.js";

const gen = (schemas: Record<string, JsonObject>): string =>
  generateTypes(
    Object.entries(schemas).map(([name, schema]) => ({ name, file: `schemas/${name}.schema.yaml`, schema })),
    { command: "strata typegen --out t.ts" },
  ).text;

/** The member line of `name` in the output (first match). */
const member = (text: string, name: string): string =>
  text
    .split("\n")
    .find((l) => l.trimStart().startsWith(`readonly ${name}`))
    ?.trim() ?? "";

describe("generateTypes", () => {
  it.each([
    ["a string", { type: "string" }, "x?: string;"],
    ["an integer with a default", { type: "integer", default: 3 }, "x: number;"],
    ["a nullable type", { type: ["null", "string"] }, "x?: string | null;"],
    ["an enum", { enum: ["a", "b", 1, true, null] }, `x?: "a" | "b" | 1 | true | null;`],
    ["a const", { const: "fixed" }, `x?: "fixed";`],
    ["a negative const", { const: -2 }, "x?: -2;"],
    ["an array", { type: "array", items: { type: "integer" } }, "x?: readonly number[];"],
    [
      "an array of a union",
      { type: "array", items: { type: ["string", "integer"] } },
      "x?: readonly (string | number)[];",
    ],
    [
      "a tuple with a rest",
      { type: "array", prefixItems: [{ type: "string" }], items: { type: "boolean" } },
      "x?: readonly [string, ...boolean[]];",
    ],
    ["a oneOf", { oneOf: [{ type: "string" }, { type: "boolean" }] }, "x?: string | boolean;"],
    ["a schema of anything", {}, "x?: unknown;"],
    ["a free-form map", { type: "object" }, "x?: {"],
    ["a $ref with a default", { $ref: "#/$defs/port", default: 1 }, "x: number;"],
  ])("types %s", (_what, schema, expected) => {
    const text = gen({
      ns: { type: "object", $defs: { port: { type: "integer" } }, properties: { x: schema as JsonObject } },
    });
    expect(member(text, "x")).toBe(`readonly ${expected}`);
  });

  it("is the same whatever order the schemas and their properties come in", () => {
    const a = gen({
      zeta: { type: "object", properties: { b: { type: "string" }, a: { type: "integer" } } },
      alpha: { type: "object", properties: { y: { type: "boolean" } } },
    });
    const b = gen({
      alpha: { type: "object", properties: { y: { type: "boolean" } } },
      zeta: { type: "object", properties: { a: { type: "integer" }, b: { type: "string" } } },
    });
    expect(a).toBe(b);
    expect(a.indexOf("export interface AlphaConfig")).toBeLessThan(a.indexOf("export interface ZetaConfig"));
    expect(a).toContain('  | "alpha.y"\n  | "zeta.a"\n  | "zeta.b";');
  });

  it("quotes names that are not identifiers, in interfaces and key paths", () => {
    const text = gen({
      "feature-flags": {
        type: "object",
        properties: { "max-conns": { type: "integer", default: 1 }, "9lives": { type: "string" } },
      },
    });
    expect(text).toContain('readonly "max-conns": number;');
    expect(text).toContain('readonly "9lives"?: string;');
    expect(text).toContain('readonly "feature-flags": FeatureFlagsConfig;');
    expect(text).toContain('readonly "feature-flags.max-conns": number;');
  });

  it("writes JSDoc from description, default and x-deprecated, and cannot be closed early by a description", () => {
    const text = gen({
      ns: {
        type: "object",
        properties: {
          old: { type: "integer", default: 5, description: "Two lines\nend */ here", "x-deprecated": "use new" },
        },
      },
    });
    expect(text).toContain(
      "  /**\n   * Two lines\n   * end *\\/ here\n   * @defaultValue `5`\n   * @deprecated use new\n   */\n  readonly old: number;",
    );
  });

  it("never copies a sensitive key's default into the file", () => {
    const text = gen({
      ns: { type: "object", properties: { token: { type: "string", default: "hunter2-secret", "x-sensitive": true } } },
    });
    expect(text).not.toContain("hunter2-secret");
  });

  it("makes an object present when a default below it creates it, optional otherwise", () => {
    const text = gen({
      ns: {
        type: "object",
        properties: {
          a: {
            type: "object",
            properties: { b: { type: "object", properties: { c: { type: "integer", default: 1 } } } },
          },
          z: { type: "object", properties: { c: { type: "integer" } } },
        },
      },
    });
    expect(member(text, "a")).toBe("readonly a: {");
    expect(member(text, "z")).toBe("readonly z?: {");
    expect(text).toContain('readonly "ns.z.c": number | undefined;');
    expect(text).toContain('readonly "ns.a.b.c": number;');
  });

  it("names a recursive definition instead of expanding it forever", () => {
    const text = gen({
      ns: {
        type: "object",
        $defs: { node: { type: "object", properties: { kids: { type: "array", items: { $ref: "#/$defs/node" } } } } },
        properties: { tree: { $ref: "#/$defs/node" }, self: { $ref: "#" } },
      },
    });
    expect(text).toContain("export interface NsNode {\n  readonly kids?: readonly NsNode[];\n}");
    expect(member(text, "self")).toBe("readonly self?: NsConfig;");
  });

  it("stops a $ref fan-out that would multiply without end, naming the schema", () => {
    const defs: JsonObject = { d0: { type: "string" } };
    for (let i = 1; i <= 30; i++)
      defs[`d${i}`] = {
        type: "object",
        properties: { a: { $ref: `#/$defs/d${i - 1}` }, b: { $ref: `#/$defs/d${i - 1}` } },
      };
    let error: unknown;
    try {
      gen({ bomb: { type: "object", $defs: defs, properties: { x: { $ref: "#/$defs/d30" } } } });
    } catch (e) {
      error = e;
    }
    expect(isStrataError(error) && error.code).toBe("invalid-schema");
    expect((error as Error).message).toMatch(/^schemas\/bomb\.schema\.yaml:1:1: /);
  });

  it("types an empty schema set as having no key paths", () => {
    const { text, keyPaths } = generateTypes([], { command: "strata typegen" });
    expect(text).toContain("export type KeyPath = never;");
    expect(keyPaths).toBe(0);
  });
});

describe("the header", () => {
  it("keeps a hostile file name inside its comment line", () => {
    const { text } = generateTypes([], { command: "strata typegen --out 'a\nexport const pwned = 1;\u2028.ts'" });
    expect(text.split("\n").filter((l) => l.includes("pwned"))).toEqual([
      "//   strata typegen --out 'a?export const pwned = 1;?.ts'",
    ]);
  });
});
