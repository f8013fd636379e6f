/**
 * The schema engine: JSON Schema 2020-12 with ajv (strict, all errors, ajv-formats) and the `x-`
 * vocabulary of docs/reference.md, schemas declared, so strict mode accepts it. One compiler per process; each schema is
 * compiled once.
 */
import { createHash } from "node:crypto";
import { createRequire } from "node:module";
import { Ajv2020, type ErrorObject, type ValidateFunction } from "ajv/dist/2020.js";
import standaloneCodeModule from "ajv/dist/standalone/index.js";
import addFormatsModule from "ajv-formats";
import type { JsonObject } from "../json.js";

const standaloneCode = ((standaloneCodeModule as unknown as { default?: unknown }).default ?? standaloneCodeModule) as (ajv: Ajv2020, fn: ValidateFunction) => string;
/** Resolves the ajv runtime modules that standalone validator code requires. */
const requireForValidators = createRequire(import.meta.url);

/**
 * Where compiled validators are kept between runs (ajv standalone code keyed by a hash of the schema
 * and of everything that shapes the code). Storage is I/O, so it is injected (io/cache).
 */
export interface ValidatorCodeCache {
  get(key: string): string | null;
  set(key: string, code: string): void;
}

/** Bump when the ajv options or the x- vocabulary change: old cached code must not be reused. */
const CODE_VERSION = "strata-validators-1";

// ajv-formats is CommonJS; under nodenext its default export arrives as the module object.
const addFormats = ((addFormatsModule as unknown as { default?: unknown }).default ?? addFormatsModule) as (ajv: Ajv2020) => Ajv2020;

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
        { type: "object", required: ["by"], additionalProperties: false, properties: { by: { type: "string", pattern: "^[A-Za-z_][A-Za-z0-9_-]*$" } } },
      ],
    },
  },
];

export class SchemaCompiler {
  private readonly ajv: Ajv2020;
  private readonly internal = new Map<string, Validator>();
  private readonly byContent = new Map<string, Validator>();
  private readonly schemaChecks = new Map<string, ErrorObject[]>();
  private readonly cache: ValidatorCodeCache | null;
  /** How many validators came from the cache, for benchmarks and tests. */
  cacheHits = 0;

  constructor(options: { cache?: ValidatorCodeCache | null } = {}) {
    this.cache = options.cache ?? null;
    // `code.source` keeps the generated code so it can be cached as standalone modules.
    this.ajv = new Ajv2020({ strict: true, allErrors: true, allowUnionTypes: true, verbose: false, code: { source: this.cache !== null } });
    addFormats(this.ajv);
    for (const k of X_KEYWORDS) this.ajv.addKeyword({ keyword: k.keyword, metaSchema: k.metaSchema });
  }

  /** Checks a user schema against the 2020-12 meta-schema and the x- vocabulary; ajv's own errors. */
  validateSchema(schema: unknown): ErrorObject[] {
    const key = JSON.stringify(schema);
    let errors = this.schemaChecks.get(key);
    if (!errors) {
      const ok = this.ajv.validateSchema(schema as JsonObject);
      errors = ok ? [] : [...(this.ajv.errors ?? [])];
      this.schemaChecks.set(key, errors);
    }
    return errors;
  }

  /** Compiles a user schema; throws ajv's error (strict mode, bad $ref) for the caller to locate. */
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
      const loaded = loadStandalone(code);
      if (loaded) { this.cacheHits++; return loaded; }
    }
    const validate = this.ajv.compile(schema) as Validator;
    // Schemas that fail validateSchema never get here; the code is ajv's own output for this schema.
    this.cache.set(key, standaloneCode(this.ajv, validate));
    return validate;
  }

  /** Schemas strata ships (strata.yaml), compiled once. */
  compileInternal(name: string, schema: JsonObject): Validator {
    let v = this.internal.get(name);
    if (!v) {
      const { $id: _id, ...rest } = schema;
      v = this.ajv.compile(rest) as Validator;
      this.internal.set(name, v);
    }
    return v;
  }
}

function loadStandalone(code: string): Validator | null {
  try {
    const module = { exports: {} as unknown };
    new Function("require", "module", "exports", code)(requireForValidators, module, module.exports);
    const fn = (module.exports as { default?: unknown }).default ?? module.exports;
    return typeof fn === "function" ? (fn as Validator) : null;
  } catch {
    return null; // a damaged cache entry: compile afresh
  }
}
