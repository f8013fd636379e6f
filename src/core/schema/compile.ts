/**
 * The schema engine: JSON Schema 2020-12 with ajv (strict, all errors, ajv-formats) and the `x-`
 * vocabulary of SPEC §3 declared, so strict mode accepts it. One compiler per process; each schema is
 * compiled once.
 */
import { Ajv2020, type ErrorObject, type ValidateFunction } from "ajv/dist/2020.js";
import addFormatsModule from "ajv-formats";
import type { JsonObject } from "../json.js";

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

  constructor() {
    this.ajv = new Ajv2020({ strict: true, allErrors: true, allowUnionTypes: true, verbose: false });
    addFormats(this.ajv);
    for (const k of X_KEYWORDS) this.ajv.addKeyword({ keyword: k.keyword, metaSchema: k.metaSchema });
  }

  /** Checks a user schema against the 2020-12 meta-schema and the x- vocabulary; ajv's own errors. */
  validateSchema(schema: unknown): ErrorObject[] {
    const ok = this.ajv.validateSchema(schema as JsonObject);
    return ok ? [] : [...(this.ajv.errors ?? [])];
  }

  /** Compiles a user schema; throws ajv's error (strict mode, bad $ref) for the caller to locate. */
  compile(schema: JsonObject): Validator {
    // The schema's own $id would register it globally and collide across namespaces; strip it.
    const { $id: _id, ...rest } = schema;
    return this.ajv.compile(rest) as Validator;
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
