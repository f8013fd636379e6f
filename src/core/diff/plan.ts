/**
 * The incremental planner: which environments and namespaces a set of changed files can affect, so that the
 * diff re-resolves only those (cost follows the size of the change, not of the repository).
 */
import type { EnvironmentInfo } from "../model.js";
import type { ChangedFile } from "./changes.js";
import type { EnvironmentPair } from "./compare.js";
import { configPathOf } from "../layout.js";
import { closeOverDependents, type ReferenceGraph } from "./references.js";

export interface SideLayout {
  environments: ReadonlyMap<string, EnvironmentInfo>;
  namespaces: readonly string[];
}

export interface PlannedEnvironment extends EnvironmentPair {
  /** Namespaces (head names) to resolve and compare; null: all of them. Empty: nothing can have changed. */
  namespaces: Set<string> | null;
}

export interface DiffPlan {
  environments: PlannedEnvironment[];
  /** base name -> head name */
  environmentRenames: Map<string, string>;
  /** base name -> head name */
  namespaceRenames: Map<string, string>;
}

export interface PlanInput {
  changedFiles: readonly ChangedFile[];
  base: SideLayout;
  head: SideLayout;
  /** false: resolve everything (`--no-incremental`). */
  incremental: boolean;
}

export function planDiff(input: PlanInput): DiffPlan {
  const environmentRenames = detectEnvironmentRenames(input);
  const namespaceRenames = detectNamespaceRenames(input);
  const pairs = pairEnvironments(input, environmentRenames);
  const environments = pairs.map((pair): PlannedEnvironment => ({
    ...pair,
    namespaces: input.incremental ? affectedNamespaces(input, pair, environmentRenames, namespaceRenames) : null,
  }));
  return { environments, environmentRenames, namespaceRenames };
}

/** Concrete environments: head's (with the base name they had), then base's that are gone. */
function pairEnvironments(input: PlanInput, renames: ReadonlyMap<string, string>): EnvironmentPair[] {
  const concrete = (side: SideLayout, name: string | undefined): boolean =>
    name !== undefined && side.environments.get(name)?.abstract === false;
  const renamedFrom = new Map([...renames].map(([from, to]) => [to, from]));
  const pairs: EnvironmentPair[] = [];
  const seenBase = new Set<string>();
  for (const [name, info] of input.head.environments) {
    if (info.abstract) continue;
    const baseName = renamedFrom.get(name) ?? name;
    const base = concrete(input.base, baseName) ? baseName : null;
    if (base !== null) seenBase.add(base);
    pairs.push({ base, head: name });
  }
  for (const [name, info] of input.base.environments)
    if (!info.abstract && !seenBase.has(name)) pairs.push({ base: name, head: null });
  return pairs;
}

function affectedNamespaces(
  input: PlanInput,
  pair: EnvironmentPair,
  envRenames: ReadonlyMap<string, string>,
  nsRenames: ReadonlyMap<string, string>,
): Set<string> | null {
  if (pair.base === null || pair.head === null) return null;
  const headChain = input.head.environments.get(pair.head)?.chain ?? [];
  const baseChain = input.base.environments.get(pair.base)?.chain ?? [];
  // A different chain (a new parent, a layer inserted) can change any namespace.
  const baseChainAsHead = baseChain.map((e) => envRenames.get(e) ?? e);
  if (baseChainAsHead.length !== headChain.length || baseChainAsHead.some((e, i) => e !== headChain[i])) return null;
  const inBase = new Set(baseChain);
  const inHead = new Set(headChain);
  const namespaces = new Set<string>();
  for (const c of input.changedFiles) {
    const sides: Array<[string | null, "base" | "head"]> = [[c.path, c.status === "deleted" ? "base" : "head"]];
    if (c.oldPath !== null) sides.push([c.oldPath, "base"]);
    for (const [path, side] of sides) {
      const parsed = path === null ? null : configPathOf(path);
      if (parsed === null || parsed.kind === "settings") continue;
      const ns = side === "base" ? (nsRenames.get(parsed.namespace) ?? parsed.namespace) : parsed.namespace;
      if (parsed.kind === "schema") namespaces.add(ns);
      else if ((side === "head" ? inHead : inBase).has(parsed.environment)) namespaces.add(ns);
    }
  }
  return namespaces;
}

/**
 * Namespaces whose values interpolate an affected namespace (transitively) are affected too, in the same
 * environment: their effective values may change with it.
 */
export function addDependents(plan: DiffPlan, graph: ReferenceGraph): void {
  for (const env of plan.environments) {
    if (env.namespaces === null || env.namespaces.size === 0) continue;
    env.namespaces = closeOverDependents(env.namespaces, graph);
  }
}

/**
 * Above this share of the full diff's (environment, namespace) pairs, incremental planning costs more than
 * it saves: the reference graph, and one load per group of namespaces that the same environments need,
 * against one load of everything (measured with bench/diff.bench.mjs and bench/compare.bench.mjs).
 */
const INCREMENTAL_MAX_COVERAGE = 0.5;

/** The share of all (environment, namespace) pairs the plan resolves; 1 when some environment needs all. */
export function planCoverage(plan: DiffPlan, namespaceCount: number): number {
  if (plan.environments.length === 0 || namespaceCount === 0) return 0;
  let planned = 0;
  for (const env of plan.environments) {
    if (env.namespaces === null) return 1;
    planned += Math.min(env.namespaces.size, namespaceCount);
  }
  return planned / (plan.environments.length * namespaceCount);
}

/**
 * Per run: keeps the incremental plan when it leaves enough out, else turns it into the full one (every
 * namespace of every environment). Returns whether the plan stays incremental.
 */
export function chooseIncremental(plan: DiffPlan, namespaceCount: number): boolean {
  if (planCoverage(plan, namespaceCount) <= INCREMENTAL_MAX_COVERAGE) return true;
  for (const env of plan.environments) env.namespaces = null;
  return false;
}

/** Every namespace some planned environment resolves (null: all). */
export function plannedNamespaces(plan: DiffPlan): Set<string> | null {
  const all = new Set<string>();
  for (const env of plan.environments) {
    if (env.namespaces === null) return null;
    for (const ns of env.namespaces) all.add(ns);
  }
  return all;
}

/**
 * Votes for "A became B": files git saw renamed, and files deleted under A with a file of the same name added
 * under B (git misses renames of small files edited in the same commit).
 */
function countRenames(
  changedFiles: readonly ChangedFile[],
  key: (path: string) => string | null,
  rest: (path: string) => string,
): Map<string, Map<string, number>> {
  const votes = new Map<string, Map<string, number>>();
  const vote = (from: string | null, to: string | null): void => {
    if (from === null || to === null || from === to) return;
    const m = votes.get(from) ?? new Map<string, number>();
    m.set(to, (m.get(to) ?? 0) + 1);
    votes.set(from, m);
  };
  const added = new Map<string, string[]>();
  for (const c of changedFiles) {
    if (c.status === "renamed" && c.oldPath !== null) vote(key(c.oldPath), key(c.path));
    if (c.status === "added") added.set(rest(c.path), [...(added.get(rest(c.path)) ?? []), c.path]);
  }
  for (const c of changedFiles) {
    if (c.status !== "deleted") continue;
    for (const path of added.get(rest(c.path)) ?? []) vote(key(c.path), key(path));
  }
  return votes;
}

function pickRenames(
  votes: Map<string, Map<string, number>>,
  gone: (n: string) => boolean,
  fresh: (n: string) => boolean,
): Map<string, string> {
  const renames = new Map<string, string>();
  const taken = new Set<string>();
  for (const [from, targets] of [...votes].sort(([a], [b]) => a.localeCompare(b))) {
    if (!gone(from)) continue;
    const best = [...targets]
      .filter(([to]) => fresh(to) && !taken.has(to))
      .sort((x, y) => y[1] - x[1] || x[0].localeCompare(y[0]))[0];
    if (best) {
      renames.set(from, best[0]);
      taken.add(best[0]);
    }
  }
  return renames;
}

/** An environment directory renamed (git saw its files move) between two names only one side declares. */
function detectEnvironmentRenames(input: PlanInput): Map<string, string> {
  const votes = countRenames(
    input.changedFiles,
    (p) => {
      const parsed = configPathOf(p);
      return parsed?.kind === "values" ? parsed.environment : null;
    },
    (p) => p.slice(p.lastIndexOf("/") + 1),
  );
  return pickRenames(
    votes,
    (n) => input.base.environments.has(n) && !input.head.environments.has(n),
    (n) => input.head.environments.has(n) && !input.base.environments.has(n),
  );
}

/** A schema (or a namespace's value files) renamed between two namespaces only one side has. */
function detectNamespaceRenames(input: PlanInput): Map<string, string> {
  const votes = countRenames(
    input.changedFiles,
    (p) => {
      const parsed = configPathOf(p);
      return parsed === null || parsed.kind === "settings" ? null : parsed.namespace;
    },
    (p) => {
      // The same layer of another namespace: environments/<env>/ or schemas/, plus the suffix.
      const parsed = configPathOf(p);
      if (parsed === null || parsed.kind === "settings") return p;
      return parsed.kind === "schema"
        ? `schema${p.slice(p.indexOf(".schema."))}`
        : `${parsed.environment}${parsed.encrypted ? ".sops" : ""}`;
    },
  );
  const base = new Set(input.base.namespaces);
  const head = new Set(input.head.namespaces);
  return pickRenames(
    votes,
    (n) => base.has(n) && !head.has(n),
    (n) => head.has(n) && !base.has(n),
  );
}
