/** Maps ajv's errors on an effective value back to the layer that set the offending value (docs/reference.md, resolution step 6). */
import { findingAt, type Finding } from "../findings.js";
import type { ErrorObject } from "../schema/compile.js";
import { requiredKeywordPath, schemasAt } from "../schema/navigate.js";
import { isJsonObject, type JsonObject } from "../json.js";
import { suggestClosest } from "../suggest.js";
import { parseJsonPointer } from "../json-pointer.js";
import { locate } from "../yaml/locate.js";
import type { LNode, Pos } from "../yaml/nodes.js";
import { joinKey } from "../names.js";
import type { ENode } from "./enode.js";

export interface SchemaLocation {
  file: string;
  schema: JsonObject;
  node: LNode;
}

export interface ValidationContext {
  environment: string;
  namespace: string;
  chain: readonly string[];
  schema: SchemaLocation;
  unsets: Map<string, Pos>;
}

function nodeAt(root: ENode, segs: readonly string[]): { node: ENode; path: (string | number)[]; exact: boolean } {
  let node = root;
  const path: (string | number)[] = [];
  for (const seg of segs) {
    if (node.kind === "map" && node.entries.has(seg)) {
      node = node.entries.get(seg)!;
      path.push(seg);
    } else if (node.kind === "seq" && /^\d+$/.test(seg) && node.items[Number(seg)]) {
      node = node.items[Number(seg)]!;
      path.push(Number(seg));
    } else return { node, path, exact: false };
  }
  return { node, path, exact: true };
}

export function mapValidationErrors(errors: readonly ErrorObject[], root: ENode, ctx: ValidationContext): Finding[] {
  const findings: Finding[] = [];
  const seen = new Set<string>();
  for (const err of errors) {
    // Alternatives of oneOf/anyOf report each branch; the summary error is enough to locate the problem.
    if (err.keyword === "if" || err.keyword === "then" || err.keyword === "else") continue;
    const segs = parseJsonPointer(err.instancePath);
    const { node, path } = nodeAt(root, segs);
    const dotted = path.length ? `${ctx.namespace}.${joinKey(path)}` : ctx.namespace;
    if (node.ciphertextOnly) continue; // only ciphertext known: the value cannot be checked without keys
    let f;
    if (err.keyword === "required") {
      const missing = (err.params as { missingProperty: string }).missingProperty;
      const key = `${dotted}.${missing}`;
      const unsetAt = ctx.unsets.get(key);
      const schemaPath = requiredKeywordPath(ctx.schema.schema, path, missing);
      const sPos = schemaPath ? locate(ctx.schema.node, schemaPath).pos : ctx.schema.node.pos;
      if (unsetAt) {
        f = findingAt(
          "missing-required",
          unsetAt,
          `${key} is required (${sPos.file}:${sPos.line}) but !unset removes it in ${ctx.environment}`,
          { environment: ctx.environment, key, hint: "drop the !unset, or set a value in a later layer" },
        );
      } else {
        f = findingAt(
          "missing-required",
          sPos,
          `${key} is required, but no layer of ${ctx.environment} (${ctx.chain.join(" -> ")}) sets it`,
          {
            environment: ctx.environment,
            key,
            hint: `set it in environments/${ctx.chain[0] ?? ctx.environment}/${ctx.namespace}.yaml or in environments/${ctx.environment}/${ctx.namespace}.yaml`,
          },
        );
      }
    } else if (err.keyword === "additionalProperties" || err.keyword === "unevaluatedProperties") {
      const extra = String(
        (err.params as { additionalProperty?: string; unevaluatedProperty?: string }).additionalProperty ??
          (err.params as { unevaluatedProperty?: string }).unevaluatedProperty,
      );
      const child = node.kind === "map" ? node.entries.get(extra) : undefined;
      const pos = child?.keyPos ?? child?.origin ?? node.origin;
      const key = `${dotted}.${extra}`;
      const near = suggestClosest(extra, knownKeys(ctx.schema.schema, path));
      const hint =
        near === null ? `check the spelling against ${ctx.schema.file}` : `did you mean ${near}? (${ctx.schema.file})`;
      f = findingAt("unknown-key", pos, `unknown key ${key}: the schema of ${ctx.namespace} does not allow it`, {
        environment: ctx.environment,
        key,
        hint,
      });
    } else {
      const o = node.origin;
      const code = err.keyword === "type" ? "invalid-type" : "constraint-violation";
      const shown = node.sensitive || node.kind !== "scalar" ? "" : ` (got ${JSON.stringify(node.value)})`;
      const fromDefault = o.environment === null ? " (the schema default)" : "";
      f = findingAt(code, o, `${dotted} ${err.message ?? "is invalid"}${shown}${fromDefault}`, {
        environment: ctx.environment,
        key: dotted,
        hint: describeConstraint(err),
      });
    }
    const id = `${f.code}|${f.file}|${f.line}|${f.column}|${f.key}|${f.message}`;
    if (!seen.has(id)) {
      seen.add(id);
      findings.push(f);
    }
  }
  return findings;
}

/** The keys the schema declares for the map at `path` (all alternatives merged). */
function knownKeys(schema: JsonObject, path: readonly (string | number)[]): string[] {
  const keys = new Set<string>();
  for (const s of schemasAt(schema, path))
    if (isJsonObject(s.properties)) for (const k of Object.keys(s.properties)) keys.add(k);
  return [...keys];
}

function describeConstraint(err: ErrorObject): string | null {
  const p = err.params as Record<string, unknown>;
  switch (err.keyword) {
    case "enum":
      return `allowed: ${(p.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(", ")}`;
    case "type":
      return `expected ${String(p.type)}`;
    case "format":
      return `expected the ${String(p.format)} format`;
    case "pattern":
      return `must match ${String(p.pattern)}`;
    default:
      return null;
  }
}
