/**
 * Local `$ref`s (`#`, `#/$defs/x`): the one walker that navigation, defaults and typegen follow, and the
 * check that turns a `$ref` strata cannot follow into a located `invalid-schema` instead of a crash.
 * Remote references and plain-name fragments (`#anchor`) are ajv's business: not followed here.
 */
import { isJsonObject, type JsonObject } from "../json.js";
import { JsonPointerError, parseFragmentPointer, resolveJsonPointer } from "../json-pointer.js";

export type SchemaPath = (string | number)[];

/** What a `$ref` string refers to inside its schema document. */
export type LocalRef =
  | { kind: "target"; target: JsonObject; path: string[] }
  /** Remote (`other.json#/x`), or a plain-name fragment (`#anchor`). */
  | { kind: "external" }
  /** A fragment that is not a JSON Pointer (`#/%E0`, `#/a~2`). */
  | { kind: "invalid"; reason: string }
  /** A boolean schema (`true`, `false`): valid, with nothing to walk into. */
  | { kind: "boolean" }
  /** A pointer to nothing, or to something that is not a schema. */
  | { kind: "missing" };

const resolved = new WeakMap<JsonObject, Map<string, LocalRef>>();

/** Resolves `ref` against the schema document `root` (memoized per document). */
export function resolveLocalRef(root: JsonObject, ref: string): LocalRef {
  let byRef = resolved.get(root);
  if (byRef === undefined) resolved.set(root, (byRef = new Map()));
  let r = byRef.get(ref);
  if (r === undefined) byRef.set(ref, (r = resolveUncached(root, ref)));
  return r;
}

function resolveUncached(root: JsonObject, ref: string): LocalRef {
  if (!ref.startsWith("#")) return { kind: "external" };
  const fragment = ref.slice(1);
  if (fragment !== "" && !fragment.startsWith("/") && !fragment.startsWith("%2F") && !fragment.startsWith("%2f"))
    return { kind: "external" };
  let path: string[];
  try {
    path = parseFragmentPointer(fragment);
  } catch (e) {
    if (e instanceof JsonPointerError) return { kind: "invalid", reason: e.reason };
    throw e;
  }
  const target = resolveJsonPointer(root, path);
  if (isJsonObject(target)) return { kind: "target", target, path };
  return typeof target === "boolean" ? { kind: "boolean" } : { kind: "missing" };
}

/** One part of a schema: the schema itself, a `$ref` target or an `allOf` member, with where it sits. */
export interface SchemaPart {
  schema: JsonObject;
  path: SchemaPath;
}

/**
 * The parts that all apply where `schema` applies: itself, its local `$ref` target and its `allOf`
 * members, recursively. `oneOf`/`anyOf`/`if` are conditional and deliberately not followed
 * (docs/reference.md, schemas). `seen` breaks cycles: a part already listed is not listed again.
 */
export function schemaParts(
  root: JsonObject,
  schema: JsonObject,
  path: SchemaPath = [],
  seen: Set<JsonObject> = new Set(),
): SchemaPart[] {
  if (seen.has(schema)) return [];
  seen.add(schema);
  const out: SchemaPart[] = [{ schema, path }];
  const target = refTarget(root, schema);
  if (target !== null) out.push(...schemaParts(root, target.target, target.path, seen));
  if (Array.isArray(schema.allOf))
    schema.allOf.forEach((member, i) => {
      if (isJsonObject(member)) out.push(...schemaParts(root, member, [...path, "allOf", i], seen));
    });
  return out;
}

/** The schema's own `$ref`, when it is local and resolves; null otherwise. */
export function refTarget(root: JsonObject, schema: JsonObject): { target: JsonObject; path: string[] } | null {
  if (typeof schema.$ref !== "string") return null;
  const r = resolveLocalRef(root, schema.$ref);
  return r.kind === "target" ? r : null;
}

/** A `$ref` strata cannot follow, with the schema path of the `$ref` keyword. */
export interface RefProblem {
  path: SchemaPath;
  ref: string;
  message: string;
}

/** Keywords whose value is a schema, an array of schemas, or a map of schemas (JSON Schema 2020-12 and draft 7). */
const ONE = [
  "additionalProperties",
  "items",
  "additionalItems",
  "contains",
  "not",
  "if",
  "then",
  "else",
  "propertyNames",
  "unevaluatedItems",
  "unevaluatedProperties",
  "contentSchema",
];
const MANY = ["allOf", "anyOf", "oneOf", "prefixItems", "items"];
const NAMED = ["properties", "patternProperties", "$defs", "definitions", "dependentSchemas"];

/**
 * Every local `$ref` of the document that is not a JSON Pointer, or points at nothing. Subschemas that
 * set their own `$id` start a new resource where `#/...` means something else: their references are left
 * to ajv.
 */
export function checkLocalRefs(root: JsonObject): RefProblem[] {
  const problems: RefProblem[] = [];
  const visit = (schema: JsonObject, path: SchemaPath): void => {
    if (path.length > 0 && typeof schema.$id === "string") return;
    if (typeof schema.$ref === "string") {
      const r = resolveLocalRef(root, schema.$ref);
      if (r.kind === "invalid")
        problems.push({ path: [...path, "$ref"], ref: schema.$ref, message: `is not a JSON Pointer: ${r.reason}` });
      else if (r.kind === "missing")
        problems.push({ path: [...path, "$ref"], ref: schema.$ref, message: "points at no schema in this file" });
    }
    for (const k of ONE) if (isJsonObject(schema[k])) visit(schema[k], [...path, k]);
    for (const k of MANY) {
      const list = schema[k];
      if (Array.isArray(list)) list.forEach((s, i) => isJsonObject(s) && visit(s, [...path, k, i]));
    }
    for (const k of NAMED) {
      const map = schema[k];
      if (isJsonObject(map))
        for (const [name, s] of Object.entries(map)) if (isJsonObject(s)) visit(s, [...path, k, name]);
    }
  };
  visit(root, []);
  return problems;
}
