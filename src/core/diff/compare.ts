/**
 * Compares the resolved environments of two sides into the docs/diff.md model. Pure: the sides are resolved by
 * the diff use case (only what the planner says a change can reach) and handed in.
 */
import type { Finding } from "../findings.js";
import type { JsonValue } from "../json.js";
import type { EnvironmentInfo, KeyMetadata, LeafInfo, ResolvedEnvironment } from "../model.js";
import { touchedPaths, type ChangedFile } from "./changes.js";
import { compareItems } from "./items.js";
import type { ChangedLayer, DiffResult, EnvironmentDiff, KeyChange, LayerRef, SideProblem } from "./model.js";
import { configPathOf } from "../layout.js";
import { namespaceOf } from "../names.js";
import { isEqualJson } from "./values.js";

export interface DiffSide {
  /** Every environment strata.yaml declares at this side. */
  environments: ReadonlyMap<string, EnvironmentInfo>;
  /** The concrete environments that were resolved, by their name at this side. */
  resolved: ReadonlyMap<string, ResolvedEnvironment>;
  /** Repository-level findings: strata.yaml, schemas. */
  findings: readonly Finding[];
  /** Schema metadata of a leaf at this side, null when its namespace has no schema. */
  metadata(key: string): KeyMetadata | null;
}

/** One environment to compare: its name at each side (null where it does not exist). */
export interface EnvironmentPair {
  base: string | null;
  head: string | null;
}

export interface CompareInput {
  base: DiffSide;
  head: DiffSide;
  /** Commit sha of the base. */
  baseRef: string;
  /** Commit sha of the head, or "worktree". */
  headRef: string;
  pairs: readonly EnvironmentPair[];
  changedFiles: readonly ChangedFile[];
  /** Namespace renames, base name -> head name. */
  namespaceRenames: ReadonlyMap<string, string>;
}

export function compareSides(input: CompareInput): DiffResult {
  const changedPaths = new Set(input.changedFiles.flatMap(touchedPaths));
  const pairs = pairRenamedByContent(input);
  const diffs = new Map<string, EnvironmentDiff>();
  for (const pair of pairs) {
    const name = pair.head ?? pair.base;
    if (name === null) continue;
    const diff = compareEnvironment(input, pair, changedPaths);
    if (diff.changes.length > 0 || diff.invalid.length > 0 || diff.status !== "changed") diffs.set(name, diff);
  }
  const order = environmentOrder(input);
  const environments: Record<string, EnvironmentDiff> = {};
  for (const name of [...diffs.keys()].sort((a, b) => compareEnvironmentNames(order, diffs, a, b)))
    environments[name] = diffs.get(name)!;
  return {
    schemaVersion: 1,
    base: input.baseRef,
    head: input.headRef,
    changedLayers: findChangedLayers(input.changedFiles, environments),
    environments,
    renamedNamespaces: [...input.namespaceRenames]
      .map(([from, to]) => ({ from, to }))
      .sort((a, b) => a.to.localeCompare(b.to)),
    problems: findSideProblems(input.base.findings, input.head.findings),
  };
}

function environmentOrder(input: CompareInput): Map<string, number> {
  const order = new Map<string, number>();
  for (const name of input.head.environments.keys()) order.set(name, order.size);
  for (const name of input.base.environments.keys()) if (!order.has(name)) order.set(name, order.size);
  return order;
}

/** Production environments first, then declaration order. */
function compareEnvironmentNames(
  order: Map<string, number>,
  diffs: Map<string, EnvironmentDiff>,
  a: string,
  b: string,
): number {
  const pa = diffs.get(a)?.production ? 0 : 1;
  const pb = diffs.get(b)?.production ? 0 : 1;
  return pa - pb || (order.get(a) ?? 0) - (order.get(b) ?? 0) || a.localeCompare(b);
}

/**
 * An environment that disappeared and one that appeared with exactly the same effective config are a rename
 * (git's rename detection pairs environments that have files; this pairs those that have none of their own).
 */
function pairRenamedByContent(input: CompareInput): EnvironmentPair[] {
  const pairs = [...input.pairs];
  const removed = pairs.filter((p) => p.head === null && p.base !== null);
  for (const added of pairs.filter((p) => p.base === null && p.head !== null)) {
    const after = input.head.resolved.get(added.head!);
    if (!after || after.leaves.size === 0) continue;
    const match = removed.find((r) => {
      const before = r.base === null ? undefined : input.base.resolved.get(r.base);
      return before !== undefined && hasSameValues(mapLeaves(before.leaves, input.namespaceRenames), after.leaves);
    });
    if (!match) continue;
    removed.splice(removed.indexOf(match), 1);
    pairs.splice(pairs.indexOf(match), 1);
    pairs[pairs.indexOf(added)] = { base: match.base, head: added.head };
  }
  return pairs;
}

function hasSameValues(a: ReadonlyMap<string, LeafInfo>, b: ReadonlyMap<string, LeafInfo>): boolean {
  if (a.size !== b.size) return false;
  for (const [k, leaf] of a) if (!isEqualJson(leaf.value, b.get(k)?.value)) return false;
  return true;
}

function mapLeaves(leaves: ReadonlyMap<string, LeafInfo>, renames: ReadonlyMap<string, string>): Map<string, LeafInfo> {
  if (renames.size === 0) return new Map(leaves);
  const out = new Map<string, LeafInfo>();
  for (const [k, leaf] of leaves) out.set(renameKeyNamespace(k, renames), leaf);
  return out;
}

function compareEnvironment(
  input: CompareInput,
  pair: EnvironmentPair,
  changedPaths: ReadonlySet<string>,
): EnvironmentDiff {
  const before = pair.base === null ? undefined : input.base.resolved.get(pair.base);
  const after = pair.head === null ? undefined : input.head.resolved.get(pair.head);
  const beforeLeaves = before ? mapLeaves(before.leaves, input.namespaceRenames) : new Map<string, LeafInfo>();
  const afterLeaves = after?.leaves ?? new Map<string, LeafInfo>();
  const baseKeyOf = invertRenames(input.namespaceRenames);
  const settingsChanged = changedPaths.has("strata.yaml");

  const changes: KeyChange[] = [];
  const keys = [...afterLeaves.keys(), ...[...beforeLeaves.keys()].filter((k) => !afterLeaves.has(k))];
  for (const key of keys) {
    const b = beforeLeaves.get(key);
    const a = afterLeaves.get(key);
    if (a && b && isEqualJson(a.value, b.value) && a.sensitive === b.sensitive) continue;
    const meta = a ? input.head.metadata(key) : input.base.metadata(renameKeyNamespace(key, baseKeyOf));
    changes.push(describeChange(key, b, a, meta, changedPaths, settingsChanged));
  }

  const info =
    (pair.head === null ? undefined : input.head.environments.get(pair.head)) ??
    (pair.base === null ? undefined : input.base.environments.get(pair.base));
  const status =
    pair.base === null ? "added" : pair.head === null ? "removed" : pair.base !== pair.head ? "renamed" : "changed";
  return {
    renamedFrom: status === "renamed" ? pair.base : null,
    status,
    production: info?.production ?? false,
    changes,
    invalid: newFindings(before?.findings ?? [], after?.findings ?? [], pair),
  };
}

function invertRenames(renames: ReadonlyMap<string, string>): Map<string, string> {
  return new Map([...renames].map(([from, to]) => [to, from]));
}

function describeChange(
  key: string,
  b: LeafInfo | undefined,
  a: LeafInfo | undefined,
  meta: KeyMetadata | null,
  changedPaths: ReadonlySet<string>,
  settingsChanged: boolean,
): KeyChange {
  const change = b === undefined ? "added" : a === undefined ? "removed" : "changed";
  const sensitive = Boolean(a?.sensitive || b?.sensitive || meta?.sensitive);
  // Built in the order of the diff JSON example in docs/reference.md, so the JSON reads the same.
  const entry: Partial<KeyChange> = { key, change };
  if (!sensitive) {
    if (b !== undefined) entry.before = b.value;
    if (a !== undefined) entry.after = a.value;
  }
  entry.sensitive = sensitive;
  if (sensitive) entry.certain = change !== "changed" || !(a?.ciphertextOnly || b?.ciphertextOnly);
  entry.layer = findLayer(b, a, changedPaths, settingsChanged);
  const flags: KeyChange["flags"] = [];
  if (meta?.restartRequired) flags.push("restart-required");
  if (meta?.deprecated != null) flags.push("deprecated");
  entry.flags = flags;
  if (meta?.deprecated != null) entry.deprecated = meta.deprecated;
  entry.owner = meta?.owner ?? null;
  entry.approvers = meta?.approvers ?? [];
  if (!sensitive && change === "changed" && Array.isArray(b?.value) && Array.isArray(a?.value)) {
    const by = meta?.merge !== null && typeof meta?.merge === "object" ? meta.merge.by : null;
    entry.items = compareItems(b.value as JsonValue[], a.value as JsonValue[], by);
  }
  return entry as KeyChange;
}

/**
 * The layer whose change made this one: the layer now setting the value when that file changed, else the
 * one that set it before (an override removed), else an earlier layer of the chain that changed (an array
 * appended to), else strata.yaml when the environment tree changed, else the layer now setting it (the value
 * moved through interpolation).
 */
function findLayer(
  b: LeafInfo | undefined,
  a: LeafInfo | undefined,
  changedPaths: ReadonlySet<string>,
  settingsChanged: boolean,
): LayerRef | null {
  const candidates = [
    a?.origin,
    b?.origin,
    ...(a?.overridden ?? []).slice().reverse(),
    ...(b?.overridden ?? []).slice().reverse(),
  ];
  for (const o of candidates) if (o && changedPaths.has(o.file)) return { environment: o.environment, file: o.file };
  if (settingsChanged) return { environment: null, file: "strata.yaml" };
  const o = a?.origin ?? b?.origin;
  return o ? { environment: o.environment, file: o.file } : null;
}

function findingSignature(f: Finding): string {
  // Lines move when unrelated lines are edited: the same problem at a new line is not a new problem, so
  // neither the position nor a message's leading "file:line:column:" takes part.
  const message = f.key === null ? f.message.replace(/^[^\s:]+:\d+:\d+:\s*/, "") : "";
  return [f.code, f.severity, f.key ?? "", f.key === null ? (f.file ?? "") : "", message].join("\0");
}

function newFindings(before: readonly Finding[], after: readonly Finding[], _pair: EnvironmentPair): Finding[] {
  const known = new Set(before.map(findingSignature));
  return after.filter((f) => f.severity === "error" && !known.has(findingSignature(f)));
}

function findSideProblems(base: readonly Finding[], head: readonly Finding[]): SideProblem[] {
  const errors = (fs: readonly Finding[]): Finding[] => fs.filter((f) => f.severity === "error");
  const baseKnown = new Set(errors(base).map(findingSignature));
  const headKnown = new Set(errors(head).map(findingSignature));
  return [
    ...errors(base)
      .filter((f) => !headKnown.has(findingSignature(f)))
      .map((finding) => ({ side: "base" as const, finding })),
    ...errors(head)
      .filter((f) => !baseKnown.has(findingSignature(f)))
      .map((finding) => ({ side: "head" as const, finding })),
  ];
}

function findChangedLayers(
  changedFiles: readonly ChangedFile[],
  environments: Record<string, EnvironmentDiff>,
): ChangedLayer[] {
  const layers: ChangedLayer[] = [];
  for (const c of changedFiles) {
    const parsed = configPathOf(c.path) ?? (c.oldPath === null ? null : configPathOf(c.oldPath));
    if (parsed === null) continue;
    const files = new Set(touchedPaths(c));
    const reaches = Object.entries(environments)
      .filter(([, d]) => d.changes.some((k) => k.layer !== null && files.has(k.layer.file)))
      .map(([name]) => name);
    const layer: ChangedLayer = {
      environment: parsed.kind === "values" ? parsed.environment : null,
      file: c.path,
      reaches,
    };
    if (c.oldPath !== null && c.oldPath !== c.path) layer.renamedFrom = c.oldPath;
    layers.push(layer);
  }
  return layers.sort((x, y) => x.file.localeCompare(y.file));
}

/** `A.x.y` -> `B.x.y` when namespace A is called B at the other side. */
function renameKeyNamespace(key: string, renames: ReadonlyMap<string, string>): string {
  const ns = namespaceOf(key);
  const to = renames.get(ns);
  return to === undefined ? key : to + key.slice(ns.length);
}
