/**
 * `strata typegen`: a standalone TypeScript declaration of the effective config described by the
 * namespace schemas. Pure: schemas in, text out. The walk follows the same rules as navigate.ts
 * (local `$ref`, `allOf` merged, `properties`/`required`/`default`), and also reads the keywords that
 * shape a value's type (`type`, `enum`, `const`, `items`, `prefixItems`, `additionalProperties`,
 * `patternProperties`, `oneOf`/`anyOf`).
 */
import { errorAt } from "../findings.js";
import { isJsonObject, type JsonObject, type JsonValue } from "../json.js";
import { formatJsonPointer } from "../json-pointer.js";
import { refTarget, schemaParts } from "./refs.js";

export interface TypegenNamespace {
  name: string;
  /** Repository-relative path of the schema file, named in the interface's JSDoc. */
  file: string;
  schema: JsonObject;
}

export interface TypegenOptions {
  /** The command to name in the header, e.g. `strata typegen --out types/strata-config.ts`. */
  command: string;
}

/** The type of a value, before it is printed. */
type TypeNode =
  | { kind: "unknown" }
  | { kind: "never" }
  | { kind: "primitive"; name: "string" | "number" | "boolean" | "null" }
  | { kind: "literal"; text: string }
  | { kind: "array"; items: TypeNode }
  | { kind: "tuple"; items: TypeNode[]; rest: TypeNode | null }
  | { kind: "object"; props: Prop[]; index: TypeNode | null }
  /** A named declaration: how a recursive `$ref` refers to itself. */
  | { kind: "ref"; name: string }
  | { kind: "union"; members: TypeNode[] }
  | { kind: "intersection"; members: TypeNode[] };

interface Prop {
  name: string;
  type: TypeNode;
  optional: boolean;
  description: string | null;
  deprecated: string | true | null;
  defaultValue: JsonValue | undefined;
  sensitive: boolean;
}

const UNKNOWN: TypeNode = { kind: "unknown" };
/** Deeper than any real configuration; stops a hostile schema from recursing without end. */
const MAX_DEPTH = 32;

/** Local `$ref` and `allOf` parts, flattened (the walker of refs.ts, as navigation and defaults use). */
function parts(root: JsonObject, schema: JsonObject): JsonObject[] {
  return schemaParts(root, schema).map((p) => p.schema);
}

/** The `$ref` targets being expanded, to find a schema that refers to itself. */
type Stack = readonly JsonObject[];

/** One namespace's walk: its root, and the recursive `$ref` targets that become named declarations. */
interface Walk {
  root: JsonObject;
  /** The namespace's interface name (a `$ref: "#"` refers to it). */
  rootName: string;
  taken: Set<string>;
  named: Map<JsonObject, { name: string; pointer: string }>;
  /** Schemas left to expand: `$ref`s that fan out (a -> b twice -> c twice ...) cannot blow up. */
  budget: number;
}

/** Far above any real namespace (the example's largest expands a few dozen). */
const EXPANSION_BUDGET = 20_000;

function nameFor(walk: Walk, target: JsonObject, path: readonly string[]): string {
  if (target === walk.root) return walk.rootName;
  const known = walk.named.get(target);
  if (known) return known.name;
  const last = path.at(-1) ?? "";
  const base = walk.rootName.replace(/Config$/, "") + pascalCase(last === "" ? "Node" : last);
  const name = uniqueName(base, walk.taken);
  walk.named.set(target, { name, pointer: `#${formatJsonPointer(path)}` });
  return name;
}

function refTargets(root: JsonObject, ps: readonly JsonObject[]): { target: JsonObject; path: string[] }[] {
  return ps.flatMap((p) => refTarget(root, p) ?? []);
}

function typeOf(walk: Walk, schema: JsonValue | undefined, stack: Stack): TypeNode {
  const root = walk.root;
  if (schema === true || schema === undefined) return UNKNOWN;
  if (schema === false) return { kind: "never" };
  if (!isJsonObject(schema)) return UNKNOWN;
  if (--walk.budget < 0) return UNKNOWN;
  const ps = parts(root, schema);
  const targets = refTargets(root, ps);
  // A schema met again inside its own expansion is a recursive type: refer to it by name.
  const again = targets.find((t) => stack.includes(t.target));
  if (again) return { kind: "ref", name: nameFor(walk, again.target, again.path) };
  if (stack.length > MAX_DEPTH) return UNKNOWN;
  const inner = [...stack, ...targets.map((t) => t.target)];

  const base = baseType(walk, ps, inner);
  // oneOf/anyOf: their branches' types, when they say anything about the type; branches that only
  // add `required` or constraints to the base leave the base as it is.
  const alternatives: TypeNode[] = [];
  for (const p of ps) {
    for (const kw of ["oneOf", "anyOf"] as const) {
      const branches = p[kw];
      if (!Array.isArray(branches)) continue;
      const types = branches.map((b) => typeOf(walk, b, inner));
      if (types.every((t) => t.kind !== "unknown")) alternatives.push(union(types));
    }
  }
  if (alternatives.length === 0) return base;
  if (base.kind === "unknown")
    return alternatives.length === 1 ? alternatives[0]! : { kind: "intersection", members: alternatives };
  return { kind: "intersection", members: [base, ...alternatives] };
}

function baseType(walk: Walk, ps: readonly JsonObject[], stack: Stack): TypeNode {
  for (const p of ps) if (Object.hasOwn(p, "const")) return literalType(p.const as JsonValue);
  for (const p of ps) if (Array.isArray(p.enum)) return union(p.enum.map((v) => literalType(v)));

  let types: string[] | null = null;
  for (const p of ps) {
    const t =
      typeof p.type === "string"
        ? [p.type]
        : Array.isArray(p.type)
          ? p.type.filter((x): x is string => typeof x === "string")
          : null;
    if (t === null) continue;
    // allOf parts that each name types: only the types all of them allow.
    types =
      types === null
        ? t
        : types.filter(
            (x) =>
              t.includes(x) || (x === "integer" && t.includes("number")) || (x === "number" && t.includes("integer")),
          );
  }
  if (types === null) {
    const objectish = ps.some(
      (p) =>
        isJsonObject(p.properties) ||
        isJsonObject(p.patternProperties) ||
        Object.hasOwn(p, "additionalProperties") ||
        Array.isArray(p.required),
    );
    const arrayish = ps.some((p) => Object.hasOwn(p, "items") || Array.isArray(p.prefixItems));
    if (objectish) types = ["object"];
    else if (arrayish) types = ["array"];
    else return UNKNOWN;
  }
  const members: TypeNode[] = [];
  // A fixed order, `null` last: `string | null` reads as the schema author meant it.
  const order = ["string", "integer", "number", "boolean", "object", "array", "null"];
  for (const t of [...new Set(types)].sort((a, b) => order.indexOf(a) - order.indexOf(b))) {
    if (t === "string" || t === "boolean" || t === "null") members.push({ kind: "primitive", name: t });
    else if (t === "integer" || t === "number") members.push({ kind: "primitive", name: "number" });
    else if (t === "array") members.push(arrayType(walk, ps, stack));
    else if (t === "object") members.push(objectType(walk, ps, stack));
  }
  return members.length === 0 ? { kind: "never" } : union(members);
}

function arrayType(walk: Walk, ps: readonly JsonObject[], stack: Stack): TypeNode {
  const prefix = ps.find((p) => Array.isArray(p.prefixItems))?.prefixItems as JsonValue[] | undefined;
  const itemsPart = ps.find((p) => Object.hasOwn(p, "items"));
  const items = itemsPart?.items;
  if (prefix && prefix.length > 0) {
    return {
      kind: "tuple",
      items: prefix.map((s) => typeOf(walk, s, stack)),
      rest: items === false ? null : typeOf(walk, items, stack),
    };
  }
  return { kind: "array", items: items === false ? { kind: "never" } : typeOf(walk, items, stack) };
}

function objectType(walk: Walk, ps: readonly JsonObject[], stack: Stack): TypeNode {
  const root = walk.root;
  const required = new Set<string>();
  for (const p of ps)
    if (Array.isArray(p.required)) for (const r of p.required) if (typeof r === "string") required.add(r);
  const byName = new Map<string, JsonObject[]>();
  for (const p of ps) {
    if (!isJsonObject(p.properties)) continue;
    for (const [name, sub] of Object.entries(p.properties)) {
      if (!isJsonObject(sub) && typeof sub !== "boolean") continue;
      const list = byName.get(name) ?? [];
      if (isJsonObject(sub)) list.push(sub);
      else if (sub === false) list.push({ not: {} });
      byName.set(name, list);
    }
  }
  const props: Prop[] = [];
  for (const name of [...byName.keys()].sort(compareText)) {
    const subs = byName.get(name)!;
    // Several allOf parts may declare the same property: their schemas all apply.
    const merged: JsonObject = subs.length === 1 ? subs[0]! : { allOf: subs };
    const subParts = parts(root, merged);
    const type = subs.some((s) => isJsonObject(s.not) && Object.keys(s.not).length === 0)
      ? ({ kind: "never" } as TypeNode)
      : typeOf(walk, merged, stack);
    const defaultValue = subParts.find((s) => Object.hasOwn(s, "default"))?.default as JsonValue | undefined;
    const deprecated = subParts.map((s) => s["x-deprecated"]).find((d) => typeof d === "string" || d === true) as
      string | true | undefined;
    const description = subParts.map((s) => s.description).find((d): d is string => typeof d === "string") ?? null;
    const present =
      required.has(name) || defaultValue !== undefined || (isObjectNode(type) && hasDefaultBelow(walk, merged, 0));
    props.push({
      name,
      type,
      optional: !present,
      description,
      deprecated: deprecated ?? null,
      defaultValue,
      sensitive: subParts.some((s) => s["x-sensitive"] === true),
    });
  }

  // Keys the schema does not name: `additionalProperties` (absent or true: anything) and
  // `patternProperties` make the object a free-form map.
  const extra: TypeNode[] = [];
  let closed = false;
  for (const p of ps) {
    if (p.additionalProperties === false) closed = true;
    else if (isJsonObject(p.additionalProperties)) extra.push(typeOf(walk, p.additionalProperties, stack));
    if (isJsonObject(p.patternProperties))
      for (const sub of Object.values(p.patternProperties)) extra.push(typeOf(walk, sub, stack));
    if (p.unevaluatedProperties === false) closed = true;
  }
  let index: TypeNode | null = null;
  if (extra.length > 0) index = union(extra);
  // An open object (no `additionalProperties`) with named properties is typed by what it names, so
  // that its keys stay paths; with none, it is a free-form map.
  else if (!closed && props.length === 0) index = UNKNOWN;
  // An index signature must admit every named property's type; with named properties, `unknown` does.
  if (index !== null && props.length > 0) index = UNKNOWN;
  return { kind: "object", props, index };
}

function isObjectNode(t: TypeNode): boolean {
  return t.kind === "object";
}

/** A default anywhere below creates the objects above it (resolution sets defaults at their paths). */
function hasDefaultBelow(walk: Walk, schema: JsonObject, depth: number): boolean {
  if (depth > MAX_DEPTH || --walk.budget < 0) return false;
  const root = walk.root;
  for (const p of parts(root, schema)) {
    if (!isJsonObject(p.properties)) continue;
    for (const sub of Object.values(p.properties)) {
      if (!isJsonObject(sub)) continue;
      const subParts = parts(root, sub);
      if (subParts.some((s) => Object.hasOwn(s, "default"))) return true;
      if (hasDefaultBelow(walk, sub, depth + 1)) return true;
    }
  }
  return false;
}

function literalType(v: JsonValue): TypeNode {
  if (v === null) return { kind: "primitive", name: "null" };
  if (typeof v === "string" || typeof v === "boolean") return { kind: "literal", text: JSON.stringify(v) };
  if (typeof v === "number")
    return Number.isFinite(v)
      ? { kind: "literal", text: v < 0 ? `-${-v}` : String(v) }
      : { kind: "primitive", name: "number" };
  if (Array.isArray(v)) return { kind: "tuple", items: v.map(literalType), rest: null };
  return {
    kind: "object",
    props: Object.keys(v)
      .sort(compareText)
      .map((k) => ({
        name: k,
        type: literalType(v[k]!),
        optional: false,
        description: null,
        deprecated: null,
        defaultValue: undefined,
        sensitive: false,
      })),
    index: null,
  };
}

/** Flattens, drops duplicates; `unknown` absorbs everything, `never` disappears. */
function union(types: readonly TypeNode[]): TypeNode {
  const flat: TypeNode[] = [];
  const seen = new Set<string>();
  for (const t of types) {
    for (const m of t.kind === "union" ? t.members : [t]) {
      if (m.kind === "unknown") return UNKNOWN;
      if (m.kind === "never") continue;
      const key = printType(m, 0);
      if (!seen.has(key)) {
        seen.add(key);
        flat.push(m);
      }
    }
  }
  if (flat.length === 0) return { kind: "never" };
  return flat.length === 1 ? flat[0]! : { kind: "union", members: flat };
}

/** Code-unit order: the same on every machine and locale. */
function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

const IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_$]*$/;
function propertyName(name: string): string {
  return IDENTIFIER.test(name) ? name : JSON.stringify(name);
}

function indent(depth: number): string {
  return "  ".repeat(depth);
}

function printType(t: TypeNode, depth: number): string {
  switch (t.kind) {
    case "unknown":
      return "unknown";
    case "never":
      return "never";
    case "primitive":
      return t.name;
    case "ref":
      return t.name;
    case "literal":
      return t.text;
    case "array": {
      const inner = printType(t.items, depth);
      return `readonly ${needsParens(t.items) ? `(${inner})` : inner}[]`;
    }
    case "tuple": {
      const items = t.items.map((i) => printType(i, depth));
      if (t.rest)
        items.push(`...${needsParens(t.rest) ? `(${printType(t.rest, depth)})` : printType(t.rest, depth)}[]`);
      return `readonly [${items.join(", ")}]`;
    }
    case "union":
      return t.members.map((m) => printType(m, depth)).join(" | ");
    case "intersection":
      return t.members.map((m) => (m.kind === "union" ? `(${printType(m, depth)})` : printType(m, depth))).join(" & ");
    case "object": {
      if (t.props.length === 0 && t.index === null) return "{ readonly [key: string]: never }";
      const lines = printMembers(t, depth + 1);
      return `{\n${lines.join("\n")}\n${indent(depth)}}`;
    }
  }
}

function needsParens(t: TypeNode): boolean {
  return t.kind === "union" || t.kind === "intersection";
}

function printMembers(t: Extract<TypeNode, { kind: "object" }>, depth: number): string[] {
  const lines: string[] = [];
  for (const p of t.props) {
    lines.push(...jsDoc(p, depth));
    lines.push(
      `${indent(depth)}readonly ${propertyName(p.name)}${p.optional ? "?" : ""}: ${printType(p.type, depth)};`,
    );
  }
  if (t.index !== null) lines.push(`${indent(depth)}readonly [key: string]: ${printType(t.index, depth)};`);
  return lines;
}

/** JSDoc text must not close the comment early. */
function docText(s: string): string[] {
  return s
    .replace(/\*\//g, "*\\/")
    .split(/\r?\n/)
    .map((l) => l.trimEnd());
}

function jsDoc(p: Pick<Prop, "description" | "deprecated" | "defaultValue" | "sensitive">, depth: number): string[] {
  const body: string[] = [];
  if (p.description) body.push(...docText(p.description));
  // A sensitive key's default is an error elsewhere; never copy a secret into source code.
  if (p.defaultValue !== undefined && !p.sensitive)
    body.push(...docText(`@defaultValue \`${JSON.stringify(p.defaultValue)}\``));
  if (p.sensitive) body.push("Sensitive: never log it.");
  if (p.deprecated !== null)
    body.push(...docText(p.deprecated === true ? "@deprecated" : `@deprecated ${p.deprecated}`));
  if (body.length === 0) return [];
  const pad = indent(depth);
  if (body.length === 1) return [`${pad}/** ${body[0]} */`];
  return [`${pad}/**`, ...body.map((l) => (l === "" ? `${pad} *` : `${pad} * ${l}`)), `${pad} */`];
}

function pascalCase(s: string): string {
  const words = s.split(/[^A-Za-z0-9]+/).filter(Boolean);
  return words.map((w) => w[0]!.toUpperCase() + w.slice(1)).join("");
}

const RESERVED_NAMES = new Set(["StrataConfig", "StrataKeys", "KeyPath", "ValueAt", "NonNullable"]);
function uniqueName(base: string, taken: Set<string>): string {
  const name = /^[A-Za-z_]/.test(base) ? base : `N${base}`;
  let unique = name;
  for (let i = 2; taken.has(unique) || RESERVED_NAMES.has(unique); i++) unique = `${name}${i}`;
  taken.add(unique);
  return unique;
}

/** Dotted leaf paths: named properties of plain objects are followed; everything else is a leaf. */
function collectLeaves(
  t: TypeNode,
  owner: string,
  path: readonly { name: string; optional: boolean }[],
  out: Map<string, string>,
): void {
  if (t.kind === "object" && t.props.length > 0 && t.index === null && path.length < MAX_DEPTH) {
    for (const p of t.props) collectLeaves(p.type, owner, [...path, { name: p.name, optional: p.optional }], out);
    return;
  }
  if (path.length === 0) return;
  const key = path.map((p) => p.name).join(".");
  const text = printType(t, 1);
  // Through an optional key the value may be absent.
  const optional = path.some((p) => p.optional);
  if (!text.includes("\n")) {
    out.set(key, optional && t.kind !== "unknown" ? `${text} | undefined` : text);
    return;
  }
  // A structured leaf (an array of objects, a map) refers to its declaration instead of repeating it.
  let expr = owner;
  path.forEach((p, i) => {
    expr = `${expr}[${JSON.stringify(p.name)}]`;
    if (p.optional && i < path.length - 1) expr = `NonNullable<${expr}>`;
  });
  out.set(key, path.slice(0, -1).some((p) => p.optional) ? `${expr} | undefined` : expr);
}

/** The declaration file's text. Deterministic: namespaces, properties and paths in code-unit order. */
export function generateTypes(
  namespaces: readonly TypegenNamespace[],
  options: TypegenOptions,
): { text: string; keyPaths: number } {
  const sorted = [...namespaces].sort((a, b) => compareText(a.name, b.name));
  const taken = new Set<string>();
  const out: string[] = [
    "// Generated by `strata typegen` from the repository's schemas. Do not edit: regenerate with",
    // A file name can hold anything; a line break would end this comment and start code.
    `//   ${[...options.command].map((c) => (isLineSafe(c) ? c : "?")).join("")}`,
    "// The effective configuration after schema defaults: a key is optional when its schema has",
    "// neither a default nor `required`. This file imports nothing.",
    "",
  ];
  const leaves = new Map<string, string>();
  const root: string[] = [];
  for (const ns of sorted) {
    const name = uniqueName(`${pascalCase(ns.name)}Config`, taken);
    const walk: Walk = { root: ns.schema, rootName: name, taken, named: new Map(), budget: EXPANSION_BUDGET };
    const type = typeOf(walk, ns.schema, [ns.schema]);
    const description = typeof ns.schema.description === "string" ? ns.schema.description : null;
    out.push(
      ...jsDoc(
        {
          description: [description, `Namespace \`${ns.name}\` (${ns.file}).`].filter(Boolean).join("\n\n"),
          deprecated: deprecatedOf(ns.schema),
          defaultValue: undefined,
          sensitive: false,
        },
        0,
      ),
    );
    out.push(...declaration(name, type));
    // Recursive definitions, each once, in the order they were met (deterministic: the walk is).
    for (const [target, { name: defName, pointer }] of walk.named) {
      const defType = typeOf(walk, target, [target]);
      out.push(
        ...jsDoc(
          {
            description: [
              typeof target.description === "string" ? target.description : null,
              `\`${pointer}\` of ${ns.file}, which refers to itself.`,
            ]
              .filter(Boolean)
              .join("\n\n"),
            deprecated: null,
            defaultValue: undefined,
            sensitive: false,
          },
          0,
        ),
      );
      out.push(...declaration(defName, defType));
    }
    if (walk.budget < 0) {
      throw errorAt(
        "invalid-schema",
        { file: ns.file, line: 1, column: 1 },
        `the schema expands to more than ${EXPANSION_BUDGET} subschemas through $ref; typegen stops`,
        {
          hint: "a $ref that is used many times at many levels multiplies; share fewer definitions",
          finding: { key: ns.name },
        },
      );
    }
    root.push(
      ...jsDoc({ description, deprecated: deprecatedOf(ns.schema), defaultValue: undefined, sensitive: false }, 1),
      `  readonly ${propertyName(ns.name)}: ${name};`,
    );
    collectLeaves(type, "StrataConfig", [{ name: ns.name, optional: false }], leaves);
  }
  out.push(
    "/** The whole effective configuration, one member per namespace. */",
    "export interface StrataConfig {",
    ...root,
    "}",
    "",
  );
  const paths = [...leaves.keys()].sort(compareText);
  out.push(
    "/** Every dotted leaf path and its value's type; arrays and free-form maps are leaves. */",
    "export interface StrataKeys {",
  );
  for (const p of paths) out.push(`  readonly ${JSON.stringify(p)}: ${leaves.get(p)!};`);
  out.push("}", "");
  out.push('/** The union of dotted leaf paths, e.g. `get("database.pool.max")`. */');
  if (paths.length === 0) out.push("export type KeyPath = never;");
  else
    out.push(
      "export type KeyPath =",
      ...paths.map((p, i) => `  | ${JSON.stringify(p)}${i === paths.length - 1 ? ";" : ""}`),
    );
  out.push(
    "",
    "/** The type of the value at a key path. */",
    "export type ValueAt<K extends KeyPath> = StrataKeys[K];",
    "",
  );
  return { text: out.join("\n"), keyPaths: paths.length };
}

function declaration(name: string, type: TypeNode): string[] {
  if (type.kind === "object" && (type.props.length > 0 || type.index !== null))
    return [`export interface ${name} {`, ...printMembers(type, 1), "}", ""];
  return [`export type ${name} = ${printType(type, 0)};`, ""];
}

/** Not a control character (C0, DEL, C1) nor a Unicode line or paragraph separator. */
function isLineSafe(c: string): boolean {
  const code = c.codePointAt(0)!;
  return !(code < 0x20 || (code >= 0x7f && code <= 0x9f) || code === 0x2028 || code === 0x2029);
}

function deprecatedOf(schema: JsonObject): string | true | null {
  const d = schema["x-deprecated"];
  return typeof d === "string" || d === true ? d : null;
}
