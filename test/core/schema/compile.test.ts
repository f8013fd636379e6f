import { afterAll, describe, expect, it } from "vitest";
import { SchemaCompiler, type ValidatorCodeCache } from "../../../src/core/schema/compile.js";
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
    for (const value of [
      { url: "https://x.example/a", n: 2 },
      { url: "not a uri", n: 9, extra: 1 },
    ]) {
      expect(v2(value)).toBe(v1(value));
      expect(v2.errors?.map((e) => e.keyword)).toEqual(v1.errors?.map((e) => e.keyword));
    }
    expect(v2({ url: "not a uri" })).toBe(false);
  });

  it("offers V8's compiled form of a loaded validator, reuses a good one and survives a damaged one", () => {
    const code = new Map<string, string>();
    const offered: Array<[string, () => Uint8Array]> = [];
    const store = (compiled: Uint8Array | null): ValidatorCodeCache => ({
      get: (k) => code.get(k) ?? null,
      set: (k, c) => void code.set(k, c),
      getCompiled: () => compiled,
      setCompiled: (k, produce) => void offered.push([k, produce]),
    });
    const check = (v: (x: unknown) => boolean): void => {
      expect(v({ url: "https://x.example/a", n: 2 })).toBe(true);
      expect(v({ url: "not a uri" })).toBe(false);
    };
    check(new SchemaCompiler({ cache: store(null) }).compile(schema)); // compiled by ajv: nothing to offer yet
    expect(offered).toEqual([]);
    const loaded = new SchemaCompiler({ cache: store(null) });
    check(loaded.compile(schema));
    expect(loaded.cacheHits).toBe(1);
    expect(offered).toHaveLength(1);
    const compiled = offered[0]![1]();
    expect(compiled.byteLength).toBeGreaterThan(0);
    offered.length = 0;
    check(new SchemaCompiler({ cache: store(compiled) }).compile(schema));
    expect(offered).toEqual([]); // accepted: nothing new to write
    // Damaged data for a validator this process has not compiled yet (V8 keeps what it compiled in memory).
    const other = { ...schema, title: "another" };
    code.clear();
    new SchemaCompiler({ cache: store(null) }).compile(other);
    check(new SchemaCompiler({ cache: store(new Uint8Array([1, 2, 3, 4])) }).compile(other));
    expect(offered).toHaveLength(1); // rejected by V8: compiled from the code, and offered afresh
  });

  it("remembers that a schema passed the meta-schema check; a failing one is checked every time", () => {
    const dir = tempdir();
    const bad = { type: "object", properties: { n: { type: "integr" } } };
    const first = new SchemaCompiler({ cache: createValidatorCache(dir) });
    expect(first.validateSchema(schema)).toEqual([]);
    expect(first.validateSchema(bad)).not.toEqual([]);
    const second = new SchemaCompiler({ cache: createValidatorCache(dir) });
    expect(second.validateSchema(schema)).toEqual([]);
    expect(second.validateSchema(bad)).not.toEqual([]);
  });

  it("ignores a damaged cache entry", () => {
    const dir = tempdir();
    const cache = createValidatorCache(dir)!;
    const c1 = new SchemaCompiler({
      cache: { get: () => "this is not javascript {", set: (k, code) => cache.set(k, code) },
    });
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
