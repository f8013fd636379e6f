/**
 * `strata diff`: the effective-config change between two commits (or a commit and the working tree), per
 * environment, with the blast radius. Reads git objects, never checks anything out; re-resolves only what
 * the changed files can reach unless asked not to.
 */
import { compareSides, type DiffSide } from "../core/diff/compare.js";
import type { DiffResult } from "../core/diff/model.js";
import { addServicesToDiff } from "../core/diff/services.js";
import { createGlobMatcher } from "../core/glob.js";
import { namespaceOf } from "../core/names.js";
import { configPathOf } from "../core/layout.js";
import { SETTINGS_FILE } from "../core/settings/settings.js";
import {
  addDependents,
  chooseIncremental,
  planDiff,
  type DiffPlan,
  type PlannedEnvironment,
  type SideLayout,
} from "../core/diff/plan.js";
import { addFileReferences, closeOverReferences, mergeGraphs, type ReferenceGraph } from "../core/diff/references.js";
import { isSecretFailure, StrataError, type Finding } from "../core/findings.js";
import type { LeafInfo, ResolvedEnvironment } from "../core/model.js";
import type { RepoFiles, SecretsOpener } from "../core/source.js";
import { readChangedFiles } from "../io/git/changes.js";
import { createCommitFiles, createGitWorktreeFiles } from "../io/git/files.js";
import { findInterpolatingFiles } from "../io/git/grep.js";
import { findDefaultBase, isAncestor, openGitRepo, resolveCommit, type GitRepo } from "../io/git/repo.js";
import { defaultCompiler, keyMetadata, loadRepository, type Repository } from "./repository.js";

export interface DiffOptions {
  /** The config repository (default: the current directory). */
  dir?: string;
  /** Base ref (default: the merge-base of head with the default branch). */
  base?: string;
  /** Head ref (default: the working tree, uncommitted and untracked config files included). */
  head?: string;
  /** Compare only these environments (head names; a renamed environment also answers to its old name). */
  environments?: readonly string[];
  /** false: resolve every environment and namespace (`--no-incremental`). Default true. */
  incremental?: boolean;
  /** Opens SOPS files; null or absent: compare ciphertext (`certain: false` when it differs). */
  secrets?: SecretsOpener | null;
}

export interface DiffOutcome {
  result: DiffResult;
  /** Things the user should know about how the diff was made (printed on stderr). */
  notes: string[];
  /** Human labels of the two sides: `main~1 (abc1234)`, `working tree`. */
  baseLabel: string;
  headLabel: string;
  /** Environments (head name) and how many namespaces were resolved in each; null: all. For benchmarks. */
  resolved: Array<{ environment: string; namespaces: number | null }>;
}

interface LoadedSide {
  files: RepoFiles;
  /** What to load from: `files`, or `files` with the other side's strata.yaml when this side's is broken. */
  source: RepoFiles;
  /** Every namespace with a schema (listed, not loaded). */
  namespaces: string[];
  repo: Repository | null;
  /** Problems that prevented using this side's own strata.yaml or files. */
  problems: Finding[];
}

export async function diffConfig(options: DiffOptions = {}): Promise<DiffOutcome> {
  const git = await openGitRepo(options.dir ?? process.cwd());
  try {
    return await diffWithGit(git, options);
  } finally {
    git.close();
  }
}

async function diffWithGit(git: GitRepo, options: DiffOptions): Promise<DiffOutcome> {
  const notes: string[] = [];
  const headSha = options.head === undefined ? null : await resolveCommit(git, options.head, "head");
  let baseSha: string;
  let baseLabel: string;
  if (options.base === undefined) {
    const choice = await findDefaultBase(git, headSha);
    baseSha = choice.sha;
    baseLabel = `${choice.description} (${baseSha.slice(0, 12)})`;
  } else {
    baseSha = await resolveCommit(git, options.base, "base");
    baseLabel = `${options.base} (${baseSha.slice(0, 12)})`;
    const headForAncestry = headSha ?? (await resolveCommit(git, "HEAD", "head").catch(() => null));
    if (headForAncestry !== null && !(await isAncestor(git, baseSha, headForAncestry))) {
      notes.push(
        `${options.base} is not an ancestor of ${options.head ?? "HEAD"}: the diff compares the two commits as they are, so changes made only on the base's side show reversed`,
      );
    }
  }
  const headLabel = options.head === undefined ? "working tree" : `${options.head} (${headSha!.slice(0, 12)})`;
  const baseFiles = createCommitFiles(git, baseSha, baseLabel);
  const headFiles = headSha === null ? createGitWorktreeFiles(git) : createCommitFiles(git, headSha, headLabel);
  const changedFiles = await readChangedFiles(git, baseSha, headSha);
  let incremental = options.incremental ?? true;

  // strata.yaml and the schema list first (cheap): the planner needs both sides' environment trees.
  const [baseLayout, headLayout] = await loadLayouts(baseFiles, headFiles);
  const plan = planDiff({ changedFiles, base: layoutOf(baseLayout), head: layoutOf(headLayout), incremental });
  filterEnvironments(plan, options.environments, baseLayout.repo, headLayout.repo);

  // Chosen per run: when the changed files already reach most of the repository (dependents only add to
  // that), the full diff is cheaper than the reference graph and the grouped loads.
  const namespaceCount = new Set([
    ...headLayout.namespaces,
    ...baseLayout.namespaces.map((ns) => plan.namespaceRenames.get(ns) ?? ns),
  ]).size;
  if (incremental) incremental = chooseIncremental(plan, namespaceCount);
  const graph = incremental
    ? await readReferenceGraph(git, [
        [baseSha, baseFiles],
        [headSha, headFiles],
      ])
    : new Map();
  if (incremental) {
    addDependents(plan, graph);
    chooseIncremental(plan, namespaceCount);
  }
  const work = plan.environments.filter((e) => e.namespaces === null || e.namespaces.size > 0);

  // Namespaces that the same environments need are loaded together, each group with only the layers of
  // those environments' chains: files nothing can have changed are never parsed.
  const toBase = new Map([...plan.namespaceRenames].map(([from, to]) => [to, from]));
  const groups = groupWork(work, allNamespaces(plan, baseLayout, headLayout), graph);
  let secrets = options.secrets ?? null;
  let [base, head] = await Promise.all([
    resolveSide(baseLayout, "base", groups, toBase, secrets),
    resolveSide(headLayout, "head", groups, toBase, secrets),
  ]);
  if (secrets !== null && (base.secretFailures.length > 0 || head.secretFailures.length > 0)) {
    // Without a key for some file, compare ciphertext on both sides rather than show its keys as removed.
    const failures = [...new Set([...base.secretFailures, ...head.secretFailures])].sort();
    notes.push(
      `not decrypted: ${failures.join(", ")}; sensitive values are compared as ciphertext (their changes are uncertain)`,
    );
    secrets = null;
    [base, head] = await Promise.all([
      resolveSide(baseLayout, "base", groups, toBase, secrets),
      resolveSide(headLayout, "head", groups, toBase, secrets),
    ]);
  }

  const result = compareSides({
    base: base.side,
    head: head.side,
    baseRef: baseSha,
    headRef: headSha ?? "worktree",
    pairs: work,
    changedFiles,
    namespaceRenames: plan.namespaceRenames,
  });
  const servicesSide = (side: LoadedSide) =>
    side.repo === null ? null : { services: side.repo.services, environments: side.repo.environments };
  const asked = (options.environments ?? []).map((name) => createGlobMatcher(name));
  addServicesToDiff(result, servicesSide(baseLayout), servicesSide(headLayout), (env) =>
    asked.length === 0 ? true : asked.some((matches) => matches(env)),
  );
  for (const p of [
    ...baseLayout.problems.map((f) => ({ side: "base" as const, finding: f })),
    ...headLayout.problems.map((f) => ({ side: "head" as const, finding: f })),
  ]) {
    if (!result.problems.some((q) => q.side === p.side && q.finding.message === p.finding.message))
      result.problems.push(p);
  }
  return {
    result,
    notes,
    baseLabel,
    headLabel,
    resolved: work.map((e) => ({
      environment: e.head ?? e.base ?? "",
      namespaces: e.namespaces === null ? null : e.namespaces.size,
    })),
  };
}

function layoutOf(side: LoadedSide): SideLayout {
  return side.repo === null
    ? { environments: new Map(), namespaces: [] }
    : { environments: side.repo.environments, namespaces: side.namespaces };
}

interface Group {
  /** Head names, closed over what they interpolate. */
  namespaces: Set<string>;
  pairs: PlannedEnvironment[];
}

/** Every namespace of either side, by its head name. */
function allNamespaces(plan: DiffPlan, base: LoadedSide, head: LoadedSide): Set<string> {
  const all = new Set(head.namespaces);
  for (const ns of base.namespaces) all.add(plan.namespaceRenames.get(ns) ?? ns);
  return all;
}

/** Namespaces grouped by the set of environments that need them. */
function groupWork(work: readonly PlannedEnvironment[], all: ReadonlySet<string>, graph: ReferenceGraph): Group[] {
  const byNamespace = new Map<string, number[]>();
  work.forEach((env, i) => {
    for (const ns of env.namespaces ?? all) {
      const list = byNamespace.get(ns) ?? [];
      list.push(i);
      byNamespace.set(ns, list);
    }
  });
  const bySignature = new Map<string, { namespaces: Set<string>; indexes: number[] }>();
  for (const [ns, indexes] of [...byNamespace].sort(([a], [b]) => a.localeCompare(b))) {
    const key = indexes.join(",");
    const group = bySignature.get(key) ?? { namespaces: new Set<string>(), indexes };
    group.namespaces.add(ns);
    bySignature.set(key, group);
  }
  return [...bySignature.values()].map((g) => ({
    namespaces: closeOverReferences(g.namespaces, graph),
    pairs: g.indexes.map((i) => work[i]!),
  }));
}

interface ResolvedSide {
  side: DiffSide;
  /** "file (code)" of each encrypted file that could not be opened. */
  secretFailures: string[];
}

/** Loads and resolves one side group by group, and merges the groups back into whole environments. */
async function resolveSide(
  layout: LoadedSide,
  side: "base" | "head",
  groups: readonly Group[],
  toBase: ReadonlyMap<string, string>,
  secrets: SecretsOpener | null,
): Promise<ResolvedSide> {
  const layoutRepo = layout.repo;
  const findings = new Map<string, Finding>();
  const addFindings = (fs: readonly Finding[]): void => {
    for (const f of fs) if (f.severity === "error" && f.environment === null) findings.set(JSON.stringify(f), f);
  };
  if (layoutRepo) addFindings(layoutRepo.findings);
  const parts = new Map<string, ResolvedEnvironment[]>();
  const metadataRepos = new Map<string, Repository>();
  const secretFailures: string[] = [];
  if (layoutRepo) {
    for (const group of groups) {
      const envs = group.pairs.flatMap((p) => {
        const name = side === "base" ? p.base : p.head;
        return name !== null && layoutRepo.environments.has(name) ? [name] : [];
      });
      if (envs.length === 0) continue;
      const namespaces =
        side === "base" ? new Set([...group.namespaces].map((ns) => toBase.get(ns) ?? ns)) : group.namespaces;
      const repo = await loadRepository(layout.source, {
        secrets,
        namespaces,
        environments: new Set(envs),
        compiler: defaultCompiler(),
      });
      for (const f of repo.findings) if (isSecretFailure(f.code)) secretFailures.push(`${f.file ?? "?"} (${f.code})`);
      addFindings(repo.findings);
      for (const ns of repo.namespaces) if (!metadataRepos.has(ns)) metadataRepos.set(ns, repo);
      for (const env of envs) {
        const list = parts.get(env) ?? [];
        list.push(repo.resolver.resolve(env, namespaces));
        parts.set(env, list);
      }
    }
  }
  const resolved = new Map<string, ResolvedEnvironment>();
  for (const [env, list] of parts) resolved.set(env, mergeResolved(env, list));
  return {
    secretFailures,
    side: {
      environments: layoutRepo?.environments ?? new Map(),
      resolved,
      findings: [...findings.values()],
      metadata: (key) => {
        const repo = metadataRepos.get(namespaceOf(key));
        return repo ? keyMetadata(repo, key) : null;
      },
    },
  };
}

/** One environment's resolutions of disjoint namespace groups as one, leaves in namespace order as resolution gives them. */
function mergeResolved(environment: string, parts: readonly ResolvedEnvironment[]): ResolvedEnvironment {
  if (parts.length === 1) return parts[0]!;
  const config: ResolvedEnvironment["config"] = {};
  const byNamespace = new Map<string, Array<[string, LeafInfo]>>();
  const findings = new Map<string, Finding>();
  for (const part of parts) {
    Object.assign(config, part.config);
    for (const [key, leaf] of part.leaves) {
      const ns = namespaceOf(key);
      const list = byNamespace.get(ns) ?? [];
      list.push([key, leaf]);
      byNamespace.set(ns, list);
    }
    for (const f of part.findings) findings.set(JSON.stringify(f), f);
  }
  const leaves = new Map<string, LeafInfo>();
  for (const ns of [...byNamespace.keys()].sort())
    for (const [key, leaf] of byNamespace.get(ns)!) if (!leaves.has(key)) leaves.set(key, leaf);
  return { environment, config, leaves, findings: [...findings.values()] };
}

/** `--env`: keep the named environments (names or globs); one that matches nothing at either side is an invocation error. */
function filterEnvironments(
  plan: DiffPlan,
  names: readonly string[] | undefined,
  base: Repository | null,
  head: Repository | null,
): void {
  if (names === undefined || names.length === 0) return;
  const declared = [...new Set([...(head?.environments.keys() ?? []), ...(base?.environments.keys() ?? [])])].sort();
  const matchers = names.map((name) => ({ name, matches: createGlobMatcher(name) }));
  for (const { name, matches } of matchers) {
    if (!declared.some(matches)) {
      throw new StrataError("unknown-environment", `unknown environment "${name}" (at either side of the diff)`, {
        hint: `known: ${declared.join(", ")}`,
      });
    }
  }
  const wanted = (env: string | null): boolean => env !== null && matchers.some((m) => m.matches(env));
  plan.environments = plan.environments.filter((e) => wanted(e.head) || wanted(e.base));
}

/** Which files interpolate, read at both sides, and the namespaces they reference. */
async function readReferenceGraph(git: GitRepo, sides: Array<[string | null, RepoFiles]>): Promise<ReferenceGraph> {
  const graphs = await Promise.all(
    sides.map(async ([commit, files]) => {
      const graph: ReferenceGraph = new Map();
      for (const path of await findInterpolatingFiles(git, commit)) {
        const bytes = await files.read(path);
        if (bytes !== null) addFileReferences(graph, path, Buffer.from(bytes).toString("utf8"));
      }
      return graph;
    }),
  );
  return mergeGraphs(...graphs);
}

/**
 * Loads both sides' layout: strata.yaml and the list of namespaces, no values. A side whose strata.yaml is
 * missing has no environments (all added or removed); a side whose strata.yaml is broken is read with the
 * other side's, so the diff still shows its values, and its own error is reported as that side's problem.
 */
async function loadLayouts(baseFiles: RepoFiles, headFiles: RepoFiles): Promise<[LoadedSide, LoadedSide]> {
  const [base, head] = await Promise.all([loadLayout(baseFiles), loadLayout(headFiles)]);
  if (base.repo === null && head.repo === null) {
    throw new StrataError(
      "missing-repository",
      `not a strata repository at either side: ${baseFiles.label} and ${headFiles.label} have no strata.yaml`,
      { hint: "pass --repo DIR with the configuration repository" },
    );
  }
  const brokenBase = hasBrokenSettings(base);
  const brokenHead = hasBrokenSettings(head);
  if (brokenHead && !brokenBase && base.repo !== null) return [base, await loadLayout(headFiles, baseFiles, head)];
  if (brokenBase && !brokenHead && head.repo !== null) return [await loadLayout(baseFiles, headFiles, base), head];
  return [base, head];
}

async function loadLayout(files: RepoFiles, settingsFrom?: RepoFiles, broken?: LoadedSide): Promise<LoadedSide> {
  const source: RepoFiles =
    settingsFrom === undefined
      ? files
      : {
          label: files.label,
          list: (prefixes) => files.list(prefixes),
          read: (path) => (path === SETTINGS_FILE ? settingsFrom.read(path) : files.read(path)),
        };
  const problems = (broken?.repo?.findings ?? []).filter((f) => f.severity === "error" && f.file === SETTINGS_FILE);
  const namespaces = new Set<string>();
  for (const path of await files.list(["schemas"])) {
    const parsed = configPathOf(path);
    if (parsed?.kind === "schema") namespaces.add(parsed.namespace);
  }
  try {
    const repo = await loadRepository(source, {
      secrets: null,
      namespaces: new Set(),
      environments: new Set(),
      compiler: defaultCompiler(),
    });
    return { files, source, namespaces: [...namespaces].sort(), repo, problems };
  } catch (error) {
    if (error instanceof StrataError && error.code === "missing-repository")
      return { files, source, namespaces: [], repo: null, problems };
    throw error;
  }
}

function hasBrokenSettings(side: LoadedSide): boolean {
  return (
    side.repo !== null &&
    side.repo.findings.some((f) => f.severity === "error" && f.file === SETTINGS_FILE) &&
    side.repo.environments.size === 0
  );
}
