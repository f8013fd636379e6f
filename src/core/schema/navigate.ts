/**
 * Walking a schema along a value's path: which subschemas apply at `pool.max` or `routes[2]`, their
 * `x-` metadata, and the defaults that form the lowest layer (docs/reference.md, schemas).
 */
import { isJsonObject, type JsonObject, type JsonValue } from "../json.js";
import type { KeyMetadata } from "../model.js";
import { schemaParts } from "./refs.js";

export type PathSegment = string | number;

/** The subschemas that apply where `schema` applies (its `$ref` target and `allOf` parts: refs.ts). */
function deref(root: JsonObject, schema: JsonObject): JsonObject[] {
  return schemaParts(root, schema).map((p) => p.schema);
}

/** The subschemas (after $ref/allOf) that apply at `path` under the namespace root. */
export function schemasAt(root: JsonObject, path: readonly PathSegment[]): JsonObject[] {
  let current = deref(root, root);
  for (const seg of path) {
    const next: JsonObject[] = [];
    for (const s of current) {
      if (typeof seg === "string") {
        const props = s.properties;
        if (isJsonObject(props) && Object.hasOwn(props, seg) && isJsonObject(props[seg]))
          next.push(...deref(root, props[seg]));
        else {
          let matched = false;
          if (isJsonObject(s.patternProperties)) {
            for (const [pattern, sub] of Object.entries(s.patternProperties)) {
              if (isJsonObject(sub) && safeRegExp(pattern)?.test(seg)) {
                next.push(...deref(root, sub));
                matched = true;
              }
            }
          }
          if (!matched && isJsonObject(s.additionalProperties)) next.push(...deref(root, s.additionalProperties));
        }
      } else {
        if (Array.isArray(s.prefixItems) && seg < s.prefixItems.length) {
          const sub = s.prefixItems[seg];
          if (isJsonObject(sub)) next.push(...deref(root, sub));
        } else if (isJsonObject(s.items)) next.push(...deref(root, s.items));
      }
    }
    current = next;
    if (current.length === 0) break;
  }
  return current;
}

const regexCache = new Map<string, RegExp | null>();
function safeRegExp(pattern: string): RegExp | null {
  let r = regexCache.get(pattern);
  if (r === undefined) {
    try {
      r = new RegExp(pattern, "u");
    } catch {
      r = null;
    }
    regexCache.set(pattern, r);
  }
  return r;
}

/** What a key without a schema (or without `x-` keywords) has. */
export function noMetadata(): KeyMetadata {
  return {
    sensitive: false,
    restartRequired: false,
    deprecated: null,
    owner: null,
    approvers: [],
    merge: null,
    description: null,
  };
}

/** `x-` metadata at a path; `x-sensitive` also applies to everything below a sensitive key. */
export function metadataAt(root: JsonObject, path: readonly PathSegment[]): KeyMetadata {
  const meta = noMetadata();
  for (let i = 0; i <= path.length; i++) {
    for (const s of schemasAt(root, path.slice(0, i))) {
      if (s["x-sensitive"] === true) meta.sensitive = true;
      if (i !== path.length) continue;
      if (s["x-restart-required"] === true) meta.restartRequired = true;
      if (typeof s["x-deprecated"] === "string") meta.deprecated = s["x-deprecated"];
      if (typeof s["x-owner"] === "string") meta.owner = s["x-owner"];
      if (Array.isArray(s["x-approvers"]))
        for (const a of s["x-approvers"])
          if (typeof a === "string" && !meta.approvers.includes(a)) meta.approvers.push(a);
      const m = s["x-merge"];
      if (m === "append" || m === "replace") meta.merge = m;
      else if (isJsonObject(m) && typeof m.by === "string") meta.merge = { by: m.by };
      if (typeof s.description === "string" && meta.description === null) meta.description = s.description;
    }
  }
  // Owners inherited from an enclosing key when the leaf names none.
  if (meta.owner === null) {
    for (let i = path.length - 1; i >= 0 && meta.owner === null; i--) {
      for (const s of schemasAt(root, path.slice(0, i)))
        if (typeof s["x-owner"] === "string") {
          meta.owner = s["x-owner"];
          break;
        }
    }
  }
  return meta;
}

/** One schema default with the path (under the namespace) where it goes and the schema path that gave it. */
export interface SchemaDefault {
  path: string[];
  value: JsonValue;
  /** Path of the `default` keyword inside the schema document, to locate it. */
  schemaPath: (string | number)[];
}

/** What `collectDefaults` found, and where it stopped if the schema expands past the limit. */
export interface CollectedDefaults {
  defaults: SchemaDefault[];
  /** The schema path where the expansion ran out of budget (a `$ref` fan-out); null when it finished. */
  overflow: (string | number)[] | null;
}

/**
 * How many subschemas one namespace's defaults may walk. `$ref`s that fan out (each level referring to
 * the next twice) describe a value exponentially larger than the schema: the walk stops here and the
 * schema gets a located finding instead of hanging `validate`.
 */
export const DEFAULTS_EXPANSION_LIMIT = 100_000;

/**
 * Defaults (docs: "Schemas"): walk `properties` from the root, following `$ref` and `allOf`, never `oneOf`,
 * `anyOf` or `if`; each `default` goes at its path. Deeper defaults are listed after the ones above
 * them, so applying them in order fills objects that a parent default created. Subschemas with no
 * `default` anywhere below are not walked (decided once per subschema, so a default-free fan-out costs
 * time linear in the schema); the rest is bounded by `limit`.
 */
export function collectDefaults(root: JsonObject, limit = DEFAULTS_EXPANSION_LIMIT): CollectedDefaults {
  const out: SchemaDefault[] = [];
  const yields = findDefaultBearing(root);
  let budget = limit;
  let overflow: (string | number)[] | null = null;
  const visit = (schema: JsonObject, schemaPath: (string | number)[], path: string[], stack: JsonObject[]): void => {
    if (overflow !== null || stack.includes(schema) || path.length > 64) return;
    if (--budget < 0) {
      overflow = schemaPath;
      return;
    }
    const parts = schemaParts(root, schema, schemaPath);
    for (const { schema: s, path: p } of parts) {
      if (path.length > 0 && Object.hasOwn(s, "default"))
        out.push({ path, value: s.default as JsonValue, schemaPath: [...p, "default"] });
    }
    for (const { schema: s, path: p } of parts) {
      if (!isJsonObject(s.properties)) continue;
      for (const [key, sub] of Object.entries(s.properties)) {
        if (isJsonObject(sub) && yields.has(sub))
          visit(sub, [...p, "properties", key], [...path, key], [...stack, schema]);
      }
    }
  };
  visit(root, [], [], []);
  return { defaults: out, overflow };
}

/**
 * The subschemas from which the walk can reach a `default` (through `$ref`, `allOf` and `properties`):
 * every subschema once, then a reverse walk from the ones that carry a default. Linear in the schema.
 */
function findDefaultBearing(root: JsonObject): Set<JsonObject> {
  const parents = new Map<JsonObject, JsonObject[]>();
  const carriers: JsonObject[] = [];
  const seen = new Set<JsonObject>([root]);
  const queue: JsonObject[] = [root];
  while (queue.length > 0) {
    const schema = queue.pop()!;
    const parts = deref(root, schema);
    if (parts.some((s) => Object.hasOwn(s, "default"))) carriers.push(schema);
    for (const s of parts) {
      if (!isJsonObject(s.properties)) continue;
      for (const sub of Object.values(s.properties)) {
        if (!isJsonObject(sub)) continue;
        const list = parents.get(sub);
        if (list === undefined) parents.set(sub, [schema]);
        else list.push(schema);
        if (!seen.has(sub)) {
          seen.add(sub);
          queue.push(sub);
        }
      }
    }
  }
  const bearing = new Set<JsonObject>(carriers);
  const work = [...carriers];
  while (work.length > 0) {
    for (const parent of parents.get(work.pop()!) ?? [])
      if (!bearing.has(parent)) {
        bearing.add(parent);
        work.push(parent);
      }
  }
  return bearing;
}

/** Where the `required` keyword that names `key` sits, for locating missing-required. */
export function requiredKeywordPath(
  root: JsonObject,
  parentPath: readonly PathSegment[],
  key: string,
): (string | number)[] | null {
  // Re-walk with paths: the parent's subschemas, find one whose `required` lists the key.
  const walk = (
    schema: JsonObject,
    schemaPath: (string | number)[],
    rest: readonly PathSegment[],
  ): (string | number)[] | null => {
    for (const { schema: s, path: p } of schemaParts(root, schema, schemaPath)) {
      if (rest.length === 0) {
        if (Array.isArray(s.required) && s.required.includes(key)) return [...p, "required", s.required.indexOf(key)];
        continue;
      }
      const [seg, ...tail] = rest;
      if (typeof seg === "string" && isJsonObject(s.properties) && isJsonObject(s.properties[seg])) {
        const r = walk(s.properties[seg] as JsonObject, [...p, "properties", seg], tail);
        if (r) return r;
      } else if (typeof seg === "number" && isJsonObject(s.items)) {
        const r = walk(s.items, [...p, "items"], tail);
        if (r) return r;
      }
    }
    return null;
  };
  return walk(root, [], parentPath);
}
