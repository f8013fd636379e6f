/**
 * The schema engine: JSON Schema 2020-12 with ajv (strict, all errors, ajv-formats) and the `x-`
 * vocabulary of docs/reference.md, schemas declared, so strict mode accepts it. One compiler per process; each schema is
 * compiled once.
 */
import { createHash } from "node:crypto";
import { createRequire } from "node:module";
import { Script } from "node:vm";
import type { Ajv2020, ErrorObject, ValidateFunction } from "ajv/dist/2020.js";
import { isJsonObject, type JsonObject } from "../json.js";
import { formatJsonPointer } from "../json-pointer.js";
import { checkLocalRefs } from "./refs.js";

/** Resolves the ajv runtime modules that standalone validator code requires, and ajv itself. */
const requireForValidators = createRequire(import.meta.url);

/**
 * ajv, loaded on first use (it is CommonJS, so a synchronous require): a run whose validators and schema
 * checks all come from the cache never loads or builds it.
 */
function loadAjv(): {
  Ajv: typeof Ajv2020;
  addFormats: (ajv: Ajv2020) => Ajv2020;
  standaloneCode: (ajv: Ajv2020, fn: ValidateFunction) => string;
} {
  const pick = <T>(m: unknown): T => ((m as { default?: unknown }).default ?? m) as T;
  return {
    Ajv: (requireForValidators("ajv/dist/2020.js") as { Ajv2020: typeof Ajv2020 }).Ajv2020,
    addFormats: pick(requireForValidators("ajv-formats")),
    standaloneCode: pick(requireForValidators("ajv/dist/standalone/index.js")),
  };
}

/**
 * Where compiled validators are kept between runs (ajv standalone code keyed by a hash of the schema
 * and of everything that shapes the code). Storage is I/O, so it is injected (io/cache).
 */
export interface ValidatorCodeCache {
  get(key: string): string | null;
  set(key: string, code: string): void;
  /**
   * V8's compiled form of a cached validator's code (its code cache), when the storage keeps one: loading
   * it skips parsing and compiling the validator again, which costs more than validating.
   */
  getCompiled?(key: string): Uint8Array | null;
  /**
   * Offers the compiled form; the storage calls `produce` late (at exit), after the validator has run, so
   * the data holds the functions V8 compiled lazily on the first validation too.
   */
  setCompiled?(key: string, produce: () => Uint8Array): void;
}

/**
 * Validators of strata's own schemas (strata.yaml's) generated when strata is built, by the key
 * {@link SchemaCompiler.compileInternal} computes from the schema: a build whose schema differs has other
 * keys, so its code is never used for this one. Reading them is I/O, so it is injected (io/cache).
 */
export type ShippedValidators = (key: string) => string | null;

/** Bump when the ajv options or the x- vocabulary change: old cached code must not be reused. */
const CODE_VERSION = "strata-validators-3";
/** The cache entry that records a schema passed the meta-schema check. */
const VALID = "// valid\n";

export type Validator = ValidateFunction & { errors?: ErrorObject[] | null };
export type { ErrorObject };

const X_KEYWORDS: { keyword: string; metaSchema: JsonObject }[] = [
  { keyword: "x-sensitive", metaSchema: { type: "boolean" } },
  { keyword: "x-restart-required", metaSchema: { type: "boolean" } },
  { keyword: "x-deprecated", metaSchema: { type: "string", minLength: 1 } },
  { keyword: "x-owner", metaSchema: { type: "string", minLength: 1 } },
  { keyword: "x-approvers", metaSchema: { type: "array", items: { type: "string", minLength: 1 } } },
  {
    keyword: "x-merge",
    metaSchema: {
      anyOf: [
        { enum: ["replace", "append"] },
        {
          type: "object",
          required: ["by"],
          additionalProperties: false,
          properties: { by: { type: "string", pattern: "^[A-Za-z_][A-Za-z0-9_-]*$" } },
        },
      ],
    },
  },
];

export class SchemaCompiler {
  private readonly internal = new Map<string, Validator>();
  private readonly byContent = new Map<string, Validator>();
  private readonly schemaChecks = new Map<string, ErrorObject[]>();
  private readonly cache: ValidatorCodeCache | null;
  private readonly shipped: ShippedValidators | null;
  /** How many validators came from the cache, for benchmarks and tests. */
  cacheHits = 0;
  /** How many of strata's own validators came from the build, for tests. */
  shippedHits = 0;

  constructor(options: { cache?: ValidatorCodeCache | null; shipped?: ShippedValidators | null } = {}) {
    this.cache = options.cache ?? null;
    this.shipped = options.shipped ?? null;
  }

  private ajvInstance: Ajv2020 | undefined;
  private standaloneCode: ((ajv: Ajv2020, fn: ValidateFunction) => string) | undefined;
  private get ajv(): Ajv2020 {
    if (!this.ajvInstance) {
      const { Ajv, addFormats, standaloneCode } = loadAjv();
      // `code.source` keeps the generated code so it can be cached as standalone modules. ajv's optimisation
      // pass (dropping unused names from the generated code) is half of compiling and changes no result: it
      // pays for code that is cached and loaded again, not for code used once (no cache).
      // `validateSchema: false`: ajv would check each schema against the meta-schema again as it compiles
      // it; every user schema has passed `validateSchema` below before it is compiled (repository.ts).
      // `ownProperties`: a schema property named `constructor` or `toString` is read from the value's own keys,
      // not found on every object's prototype (which made every value of such a namespace fail).
      const ajv = new Ajv({
        strict: true,
        allErrors: true,
        ownProperties: true,
        allowUnionTypes: true,
        verbose: false,
        validateSchema: false,
        code: { source: this.cache !== null, optimize: this.cache !== null },
      });
      addFormats(ajv);
      for (const k of X_KEYWORDS) ajv.addKeyword({ keyword: k.keyword, metaSchema: k.metaSchema });
      this.ajvInstance = ajv;
      this.standaloneCode = standaloneCode;
    }
    return this.ajvInstance;
  }

  /**
   * Checks a user schema against the 2020-12 meta-schema and the x- vocabulary (ajv's own errors), then its
   * local `$ref`s (refs.ts): one strata cannot follow is an error at the `$ref`, not a crash later.
   */
  validateSchema(schema: unknown): ErrorObject[] {
    const key = JSON.stringify(schema);
    let errors = this.schemaChecks.get(key);
    if (!errors) {
      // A schema that passed once passes again: the cache remembers it (failures are checked afresh).
      const cacheKey = this.cache
        ? createHash("sha256").update(CODE_VERSION).update("\0schema-check\0").update(key).digest("hex")
        : "";
      if (this.cache?.get(cacheKey) === VALID) errors = [];
      else {
        const ok = this.ajv.validateSchema(schema as JsonObject);
        errors = ok ? refErrors(schema) : [...(this.ajv.errors ?? [])];
        if (errors.length === 0) this.cache?.set(cacheKey, VALID);
      }
      this.schemaChecks.set(key, errors);
    }
    return errors;
  }

  /**
   * Compiles a user schema that passed {@link validateSchema}; throws ajv's error (strict mode, bad $ref) for
   * the caller to locate.
   */
  compile(schema: JsonObject): Validator {
    // The schema's own $id would register it globally and collide across namespaces; strip it.
    const { $id: _id, ...rest } = schema;
    // ajv caches by object identity; the same schema read twice (the two sides of a diff) is two
    // objects, so remember validators by content too.
    const key = createHash("sha256").update(CODE_VERSION).update("\0").update(JSON.stringify(rest)).digest("hex");
    const known = this.byContent.get(key);
    if (known) return known;
    const validate = this.compileUncached(key, rest);
    this.byContent.set(key, validate);
    return validate;
  }

  private compileUncached(key: string, schema: JsonObject): Validator {
    if (!this.cache) return this.ajv.compile(schema) as Validator;
    const code = this.cache.get(key);
    if (code !== null) {
      const loaded = loadStandalone(code, key, this.cache);
      if (loaded) {
        this.cacheHits++;
        return loaded;
      }
    }
    const validate = this.ajv.compile(schema) as Validator;
    // Schemas that fail validateSchema never get here; the code is ajv's own output for this schema.
    this.cache.set(key, this.standaloneCode!(this.ajv, validate));
    return validate;
  }

  /** Schemas strata ships (strata.yaml), compiled once. */
  compileInternal(name: string, schema: JsonObject): Validator {
    let v = this.internal.get(name);
    if (!v) {
      const { $id: _id, ...rest } = schema;
      const key = createHash("sha256")
        .update(CODE_VERSION)
        .update("\0internal\0")
        .update(name)
        .update("\0")
        .update(JSON.stringify(rest))
        .digest("hex");
      // With no cache (CI), the code generated when strata was built: the schema is not compiled on every
      // run. (A cache keeps that code too, with V8's compiled form of it.)
      const code = this.cache ? null : this.shipped?.(key);
      const shipped = code ? loadStandalone(code, key, null) : null;
      if (shipped) this.shippedHits++;
      v = shipped ?? this.compileUncached(key, rest);
      this.internal.set(name, v);
    }
    return v;
  }
}

/** The local `$ref`s strata cannot follow, as ajv-shaped errors at the `$ref` keyword. */
function refErrors(schema: unknown): ErrorObject[] {
  if (!isJsonObject(schema)) return [];
  return checkLocalRefs(schema).map((p) => ({
    keyword: "$ref",
    instancePath: formatJsonPointer(p.path),
    schemaPath: "#/$ref",
    params: { $ref: p.ref },
    message: p.message,
  }));
}

function loadStandalone(code: string, key: string, cache: ValidatorCodeCache | null): Validator | null {
  try {
    const module = { exports: {} as unknown };
    // A vm.Script rather than new Function: its compiled form can be cached. V8 checks only its own
    // version and flags and the source's length; the storage checks that the data is for this code.
    const cachedData = cache?.getCompiled?.(key) ?? undefined;
    const script = new Script(`(function (require, module, exports) {${code}\n})`, {
      filename: `strata-validator-${key}.cjs`,
      ...(cachedData ? { cachedData } : {}),
    });
    if (cache?.setCompiled && (!cachedData || script.cachedDataRejected === true))
      cache.setCompiled(key, () => script.createCachedData());
    (script.runInThisContext() as (r: NodeJS.Require, m: { exports: unknown }, e: unknown) => void)(
      requireForValidators,
      module,
      module.exports,
    );
    const fn = (module.exports as { default?: unknown }).default ?? module.exports;
    return typeof fn === "function" ? (fn as Validator) : null;
  } catch {
    return null; // a damaged cache entry: compile afresh
  }
}
