import type { Finding } from "../../../src/core/findings.js";
import type { JsonObject, JsonValue } from "../../../src/core/json.js";
import type { EnvironmentInfo, KeyMetadata, LeafInfo, Origin, ResolvedEnvironment } from "../../../src/core/model.js";
import type { DiffSide } from "../../../src/core/diff/compare.js";

export interface LeafSpec {
  value: JsonValue;
  /** "env:file" or just an environment (file derived from the key's namespace). */
  from?: string;
  overridden?: string[];
  sensitive?: boolean;
  ciphertextOnly?: boolean;
}

function origin(spec: string | undefined, key: string): Origin {
  const ns = key.split(".")[0] ?? "";
  if (spec === undefined || spec === "default")
    return { environment: null, file: `schemas/${ns}.schema.yaml`, line: 1, column: 1 };
  const [env = "", file] = spec.split(":");
  return { environment: env, file: file ?? `environments/${env}/${ns}.yaml`, line: 1, column: 1 };
}

export function resolved(
  environment: string,
  leaves: Record<string, JsonValue | LeafSpec>,
  findings: Finding[] = [],
): ResolvedEnvironment {
  const map = new Map<string, LeafInfo>();
  for (const [path, v] of Object.entries(leaves)) {
    const spec: LeafSpec =
      v !== null && typeof v === "object" && !Array.isArray(v) && "value" in v
        ? (v as unknown as LeafSpec)
        : { value: v as JsonValue, from: environment };
    const info: LeafInfo = {
      path,
      value: spec.value,
      origin: origin(spec.from, path),
      overridden: (spec.overridden ?? []).map((o) => origin(o, path)),
      sensitive: spec.sensitive ?? false,
    };
    if (spec.ciphertextOnly) info.ciphertextOnly = true;
    map.set(path, info);
  }
  return { environment, config: {} as Record<string, JsonObject>, leaves: map, findings };
}

export function envInfo(name: string, chain: string[], extra: Partial<EnvironmentInfo> = {}): EnvironmentInfo {
  return {
    name,
    parent: chain.length > 1 ? (chain[chain.length - 2] ?? null) : null,
    abstract: false,
    production: false,
    approvalRequired: false,
    description: null,
    metadata: {},
    chain,
    ...extra,
  };
}

function metadata(over: Partial<KeyMetadata> = {}): KeyMetadata {
  return {
    sensitive: false,
    restartRequired: false,
    deprecated: null,
    owner: null,
    approvers: [],
    merge: null,
    description: null,
    ...over,
  };
}

export function side(
  envs: EnvironmentInfo[],
  res: ResolvedEnvironment[],
  meta: Record<string, Partial<KeyMetadata>> = {},
  findings: Finding[] = [],
): DiffSide {
  return {
    environments: new Map(envs.map((e) => [e.name, e])),
    resolved: new Map(res.map((r) => [r.environment, r])),
    findings,
    metadata: (key) => metadata(meta[key] ?? {}),
  };
}

export const ENVS = [
  envInfo("base", ["base"], { abstract: true }),
  envInfo("staging", ["base", "staging"]),
  envInfo("production", ["base", "production"], { production: true }),
];
