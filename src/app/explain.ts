/** `strata explain`: one key's effective value, the layers that set it, and what its schema says. */
import { EXIT, StrataError } from "../core/findings.js";
import { jsonChildren, suggestKeyPath } from "../core/suggest.js";
import type { JsonObject, JsonValue } from "../core/json.js";
import type { KeyMetadata, LeafInfo, Origin } from "../core/model.js";
import { splitKey } from "../core/names.js";
import { schemasAt } from "../core/schema/navigate.js";
import type { RepoFiles, SecretsOpener } from "../core/source.js";
import { resolveConfig } from "./resolve.js";
import type { Finding } from "../core/findings.js";

const CONSTRAINT_KEYWORDS = [
  "type",
  "enum",
  "const",
  "format",
  "pattern",
  "minimum",
  "maximum",
  "exclusiveMinimum",
  "exclusiveMaximum",
  "multipleOf",
  "minLength",
  "maxLength",
  "minItems",
  "maxItems",
  "uniqueItems",
  "default",
] as const;

export interface ExplainedKey {
  key: string;
  value: JsonValue;
  sensitive: boolean;
  /** The layer that set the effective value, then the layers it overrode (newest first). */
  layers: Origin[];
  schema: { file: string; description: string | null; constraints: JsonObject; metadata: KeyMetadata };
}

export interface ExplainResult {
  environment: string;
  key: string;
  keys: ExplainedKey[];
  findings: Finding[];
}

/**
 * A key that names no value (`explain`, `resolve --key`): an invocation problem (exit 2), like an unknown
 * `--env`, with the closest key that has one.
 */
export function keyWithoutValue(
  key: string,
  environment: string,
  config: JsonObject | Record<string, JsonObject>,
  namespaces: readonly string[],
): StrataError {
  const near = suggestKeyPath(key, jsonChildren(config));
  const [ns] = splitKey(key);
  const hint = near
    ? `did you mean ${near}?`
    : namespaces.includes(String(ns))
      ? `no layer or default of ${environment} sets it (list the keys with: strata resolve --env ${environment})`
      : `namespaces: ${namespaces.join(", ")}`;
  return new StrataError("unknown-key", `${key} has no value in ${environment}`, { hint, exitCode: EXIT.usage });
}

export async function explainKey(options: {
  files: RepoFiles;
  environment: string;
  key: string;
  secrets: SecretsOpener | null | undefined;
}): Promise<ExplainResult> {
  const { repo, resolved, findings } = await resolveConfig(options);
  const key = options.key;
  const leaves: LeafInfo[] = [];
  for (const leaf of resolved.leaves.values()) {
    if (leaf.path === key || leaf.path.startsWith(`${key}.`) || leaf.path.startsWith(`${key}[`)) leaves.push(leaf);
  }
  if (leaves.length === 0) throw keyWithoutValue(key, options.environment, resolved.config, repo.namespaces);
  const keys = leaves.map((leaf): ExplainedKey => {
    const [ns, ...rest] = splitKey(leaf.path);
    const schema = repo.schemas.get(String(ns))!;
    const constraints: JsonObject = {};
    for (const s of schemasAt(schema.schema, rest)) {
      for (const k of CONSTRAINT_KEYWORDS) if (Object.hasOwn(s, k) && !(k in constraints)) constraints[k] = s[k]!;
    }
    const metadata = repo.resolver.metadata(String(ns), rest);
    if (metadata.sensitive && "default" in constraints) delete constraints.default;
    return {
      key: leaf.path,
      value: leaf.value,
      sensitive: leaf.sensitive,
      layers: [leaf.origin, ...[...leaf.overridden].reverse()],
      schema: { file: schema.file, description: metadata.description, constraints, metadata },
    };
  });
  return { environment: options.environment, key, keys, findings };
}
