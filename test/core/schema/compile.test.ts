import { afterAll, describe, expect, it } from "vitest";
import { SchemaCompiler } from "../../../src/core/schema/compile.js";
import { createValidatorCache } from "../../../src/io/cache/validators.js";
import { cleanupTempdirs, tempdir } from "../../support/gitdir.js";

afterAll(cleanupTempdirs);

const schema = {
  type: "object",
  additionalProperties: false,
  properties: {
    url: { type: "string", format: "uri" },
    n: { type: "integer", maximum: 3 },
    pw: { type: "string", "x-sensitive": true },
    list: { type: "array", "x-merge": { by: "name" } },
  },
};

describe("SchemaCompiler", () => {
  it("accepts the x- vocabulary in strict mode and rejects unknown keywords", () => {
    const c = new SchemaCompiler();
    expect(c.validateSchema(schema)).toEqual([]);
    expect(() => c.compile({ type: "object", maxLenght: 3 })).toThrow(/strict mode/);
    expect(() => c.compile({ type: "array", "x-merge": "sideways" })).toThrow(/x-merge/);
  });

  it("a cached validator (ajv standalone code) behaves as a fresh one, formats included", () => {
    const dir = tempdir();
    const first = new SchemaCompiler({ cache: createValidatorCache(dir) });
    const v1 = first.compile(schema);
    expect(first.cacheHits).toBe(0);
    const second = new SchemaCompiler({ cache: createValidatorCache(dir) });
    const v2 = second.compile(schema);
    expect(second.cacheHits).toBe(1);
    for (const value of [{ url: "https://x.example/a", n: 2 }, { url: "not a uri", n: 9, extra: 1 }]) {
      expect(v2(value)).toBe(v1(value));
      expect(v2.errors?.map((e) => e.keyword)).toEqual(v1.errors?.map((e) => e.keyword));
    }
    expect(v2({ url: "not a uri" })).toBe(false);
  });

  it("ignores a damaged cache entry", () => {
    const dir = tempdir();
    const cache = createValidatorCache(dir)!;
    const c1 = new SchemaCompiler({ cache: { get: () => "this is not javascript {", set: (k, code) => cache.set(k, code) } });
    expect(c1.compile(schema)({ n: 1 })).toBe(true);
    expect(c1.cacheHits).toBe(0);
  });
});

describe("cache switch", () => {
  it("is off with STRATA_NO_CACHE=1, and in CI unless STRATA_CACHE_DIR is set", async () => {
    const { cacheDisabled } = await import("../../../src/io/cache/validators.js");
    expect(cacheDisabled({})).toBe(false);
    expect(cacheDisabled({ STRATA_NO_CACHE: "1" })).toBe(true);
    expect(cacheDisabled({ CI: "true" })).toBe(true);
    expect(cacheDisabled({ CI: "true", STRATA_CACHE_DIR: "/tmp/x" })).toBe(false);
    expect(cacheDisabled({ CI: "false" })).toBe(false);
  });
});
