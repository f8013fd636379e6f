/**
 * The diff between two published versions of one environment, in the model of `strata diff`
 * (docs/diff.md): per key before -> after, restart-required and deprecated from the repository's schemas
 * when the server knows the repository, sensitive keys as changed/unchanged only. A snapshot holds its
 * sensitive values as SOPS ciphertext, which the server cannot open: a sensitive key whose ciphertext
 * differs "may have changed" (`certain: false`), unless both versions have the same content digest (a
 * refresh or a rollback to equal content), which proves nothing changed.
 */
import { compareSides, type DiffSide } from "../../core/diff/compare.js";
import type { DiffResult } from "../../core/diff/model.js";
import { isJsonObject, type JsonObject, type JsonValue } from "../../core/json.js";
import type { EnvironmentInfo, KeyMetadata, LeafInfo, ResolvedEnvironment } from "../../core/model.js";
import type { Snapshot } from "../../core/snapshot/index.js";

/** Leaves as the resolver names them: arrays and empty maps are leaves, array items are `[i]`. */
function collectLeaves(
  value: JsonValue,
  path: string,
  sensitive: boolean,
  environment: string,
  out: Map<string, LeafInfo>,
): void {
  if (isJsonObject(value) && Object.keys(value).length > 0) {
    for (const [k, v] of Object.entries(value)) collectLeaves(v, `${path}.${k}`, sensitive, environment, out);
    return;
  }
  // Snapshots do not say which layer set a value: the entry's layer is left out (null) below.
  const leaf: LeafInfo = {
    path,
    value,
    origin: { environment, file: "", line: 0, column: 0 },
    overridden: [],
    sensitive,
  };
  if (sensitive) leaf.ciphertextOnly = true;
  out.set(path, leaf);
}

function snapshotLeaves(snapshot: Snapshot): Map<string, LeafInfo> {
  const leaves = new Map<string, LeafInfo>();
  for (const [ns, value] of Object.entries(snapshot.config))
    collectLeaves(value, ns, false, snapshot.environment, leaves);
  if (snapshot.secrets !== null) {
    const { sops: _metadata, ...data } = snapshot.secrets;
    for (const [ns, value] of Object.entries(data)) collectLeaves(value, ns, true, snapshot.environment, leaves);
  }
  return leaves;
}

export interface VersionDiffInput {
  environment: string;
  base: Snapshot;
  head: Snapshot;
  info: EnvironmentInfo | null;
  /** Schema metadata of a key, from the repository the server was started with; null: unknown. */
  metadata: (key: string) => KeyMetadata | null;
}

export function diffVersions(input: VersionDiffInput): DiffResult {
  const { environment, base, head } = input;
  const info: EnvironmentInfo = input.info ?? {
    name: environment,
    parent: null,
    abstract: false,
    production: false,
    approvalRequired: false,
    description: null,
    metadata: {},
    chain: [environment],
  };
  const side = (snapshot: Snapshot): DiffSide => {
    const resolved: ResolvedEnvironment = {
      environment,
      config: snapshot.config as Record<string, JsonObject>,
      leaves: snapshotLeaves(snapshot),
      findings: [],
    };
    // Same content digest: the same configuration and secret sources, whatever the ciphertext says.
    if (snapshot === head && base.contentDigest === head.contentDigest) resolved.leaves = snapshotLeaves(base);
    return {
      environments: new Map([[environment, info]]),
      resolved: new Map([[environment, resolved]]),
      findings: [],
      metadata: input.metadata,
    };
  };
  const result = compareSides({
    base: side(base),
    head: side(head),
    baseRef: `${environment}@${base.version}`,
    headRef: `${environment}@${head.version}`,
    pairs: [{ base: environment, head: environment }],
    changedFiles: [],
    namespaceRenames: new Map(),
  });
  for (const env of Object.values(result.environments)) for (const change of env.changes) change.layer = null;
  return result;
}
