/**
 * The effective-config diff of docs/diff.md: what changes in each running environment between two commits.
 * The JSON output is this model as is (renderers add nothing to it).
 */
import type { Finding } from "../findings.js";
import type { JsonValue } from "../json.js";

export type ChangeKind = "added" | "removed" | "changed";

/** A layer: one environment's file, or a schema (`environment: null`, the defaults), or strata.yaml. */
export interface LayerRef {
  environment: string | null;
  file: string;
}

export type ChangeFlag = "restart-required" | "deprecated";

/** One array item's change, matched by the `x-merge` `by` field when the schema has one, else by index. */
export interface ItemChange {
  /** Index at head (for a removed item: at base). */
  index: number;
  change: ChangeKind;
  /** The `by` field's value the items were matched on, when matched by field. */
  id?: JsonValue;
  before?: JsonValue;
  after?: JsonValue;
}

/** One leaf's change of effective value (what `log` reports; `diff` adds the rest of {@link KeyChange}). */
export interface ValueChange {
  /** Dotted path of the leaf (head's name when its namespace was renamed). */
  key: string;
  change: ChangeKind;
  /** Absent when added, or sensitive. */
  before?: JsonValue;
  /** Absent when removed, or sensitive. */
  after?: JsonValue;
  sensitive: boolean;
  /** Sensitive entries only: false when only ciphertext could be compared ("may have changed"). */
  certain?: boolean;
}

export interface KeyChange extends ValueChange {
  /** The layer whose change made this one. */
  layer: LayerRef | null;
  flags: ChangeFlag[];
  /** `x-deprecated` message, when the key is deprecated. */
  deprecated?: string;
  /** `x-owner`. */
  owner: string | null;
  /** `x-approvers`: extra approval needed when the effective value changes. */
  approvers: string[];
  /** Arrays (non-sensitive, changed) only. */
  items?: ItemChange[];
  /** The services of the environment that receive this key (declare its namespace); only when strata.yaml declares services. */
  services?: string[];
}

export type EnvironmentStatus = "changed" | "added" | "removed" | "renamed";

export interface EnvironmentDiff {
  /** The environment's name at base when it was renamed. */
  renamedFrom: string | null;
  status: EnvironmentStatus;
  production: boolean;
  changes: KeyChange[];
  /** Findings that the head side has and the base side had not. */
  invalid: Finding[];
  /** The services of the environment that receive a change, sorted; only when strata.yaml declares services. */
  services?: string[];
  /** Services the environment runs whose strata.yaml declaration (namespaces, recipients, environments) changed. */
  serviceDeclarations?: string[];
}

export interface ChangedLayer {
  environment: string | null;
  file: string;
  /** The file's path at base when it was renamed. */
  renamedFrom?: string;
  /** The concrete environments whose effective config this change reaches: the blast radius. */
  reaches: string[];
}

/** A repository-level problem (strata.yaml, a schema) on one side: the diff shows what it could. */
export interface SideProblem {
  side: "base" | "head";
  finding: Finding;
}

export interface DiffResult {
  schemaVersion: 1;
  /** Commit sha of the base. */
  base: string;
  /** Commit sha of the head, or "worktree". */
  head: string;
  changedLayers: ChangedLayer[];
  environments: Record<string, EnvironmentDiff>;
  renamedNamespaces: Array<{ from: string; to: string }>;
  problems: SideProblem[];
}

/** True when the diff has anything to show (for `--exit-code`). */
export function hasChanges(result: DiffResult): boolean {
  return Object.values(result.environments).some(
    (e) =>
      e.changes.length > 0 ||
      e.invalid.length > 0 ||
      e.status !== "changed" ||
      (e.serviceDeclarations ?? []).length > 0,
  );
}
