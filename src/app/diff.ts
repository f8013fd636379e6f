/**
 * `strata diff`: the effective-config change between two commits (or a commit and the working tree), per
 * environment, with the blast radius. Reads git objects, never checks anything out; re-resolves only what
 * the changed files can reach unless asked not to.
 */
import { compareSides, type DiffSide } from "../core/diff/compare.js";
import type { DiffResult } from "../core/diff/model.js";
import { parseConfigPath } from "../core/diff/paths.js";
import { addDependents, planDiff, type DiffPlan, type PlannedEnvironment, type SideLayout } from "../core/diff/plan.js";
import { addFileReferences, closeOverReferences, mergeGraphs, type ReferenceGraph } from "../core/diff/references.js";
import { StrataError, type Finding } from "../core/findings.js";
import type { JsonObject } from "../core/json.js";
import { SchemaCompiler, type Validator } from "../core/schema/compile.js";
import type { ResolvedEnvironment } from "../core/model.js";
import type { RepoFiles, SecretsOpener } from "../core/source.js";
import { readChangedFiles } from "../io/git/changes.js";
import { createCommitFiles, createGitWorktreeFiles } from "../io/git/files.js";
import { findInterpolatingFiles } from "../io/git/grep.js";
import { findDefaultBase, isAncestor, openGitRepo, resolveCommit, type GitRepo } from "../io/git/repo.js";
import { keyMetadata, loadRepository, type Repository } from "./repository.js";

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
      notes.push(`${options.base} is not an ancestor of ${options.head ?? "HEAD"}: the diff compares the two commits as they are, so changes made only on the base's side show reversed`);
    }
  }
  const headLabel = options.head === undefined ? "working tree" : `${options.head} (${headSha!.slice(0, 12)})`;
  const baseFiles = createCommitFiles(git, baseSha, baseLabel);
  const headFiles = headSha === null ? createGitWorktreeFiles(git) : createCommitFiles(git, headSha, headLabel);
  const changedFiles = await readChangedFiles(git, baseSha, headSha);
  const incremental = options.incremental ?? true;

  // strata.yaml and the schema list first (cheap): the planner needs both sides' environment trees.
  const layoutOptions = { secrets: options.secrets ?? null, namespaces: new Set<string>(), environments: new Set<string>() };
  const [baseLayout, headLayout] = await loadSides(baseFiles, headFiles, layoutOptions);
  const plan = planDiff({
    changedFiles,
    base: await layoutOf(baseLayout.repo, baseFiles),
    head: await layoutOf(headLayout.repo, headFiles),
    incremental,
  });
  filterEnvironments(plan, options.environments, baseLayout.repo, headLayout.repo);

  const graph = incremental ? await readReferenceGraph(git, [[baseSha, baseFiles], [headSha, headFiles]]) : new Map();
  if (incremental) addDependents(plan, graph);
  const work = plan.environments.filter((e) => e.namespaces === null || e.namespaces.size > 0);

  // Load each side once with every namespace some environment needs, and only the chains of those environments.
  const headNamespaces = neededNamespaces(work, graph);
  const toBase = new Map([...plan.namespaceRenames].map(([from, to]) => [to, from]));
  const baseNamespaces = headNamespaces === null ? null : new Set([...headNamespaces].map((ns) => toBase.get(ns) ?? ns));
  const loadOptions = {
    secrets: options.secrets ?? null,
    baseNamespaces,
    headNamespaces,
    baseEnvironments: new Set(work.flatMap((e) => (e.base === null ? [] : [e.base]))),
    headEnvironments: new Set(work.flatMap((e) => (e.head === null ? [] : [e.head]))),
  };
  let [base, head] = await loadSides(baseFiles, headFiles, loadOptions);
  if (loadOptions.secrets !== null && [base, head].some(hasUnopenedSecrets)) {
    // Without a key for some file, compare ciphertext on both sides rather than show its keys as removed.
    notes.push("some encrypted files could not be decrypted: sensitive values are compared as ciphertext (changes are then uncertain)");
    [base, head] = await loadSides(baseFiles, headFiles, { ...loadOptions, secrets: null });
  }

  const baseResolved = new Map<string, ResolvedEnvironment>();
  const headResolved = new Map<string, ResolvedEnvironment>();
  for (const env of work) {
    const only = env.namespaces === null ? undefined : closeOverReferences(env.namespaces, graph);
    if (env.base !== null && base.repo?.environments.has(env.base)) {
      baseResolved.set(env.base, base.repo.resolver.resolve(env.base, only === undefined ? undefined : new Set([...only].map((ns) => toBase.get(ns) ?? ns))));
    }
    if (env.head !== null && head.repo?.environments.has(env.head)) headResolved.set(env.head, head.repo.resolver.resolve(env.head, only));
  }

  const result = compareSides({
    base: toDiffSide(base, baseResolved),
    head: toDiffSide(head, headResolved),
    baseRef: baseSha,
    headRef: headSha ?? "worktree",
    pairs: work,
    changedFiles,
    namespaceRenames: plan.namespaceRenames,
  });
  for (const p of [...base.problems.map((f) => ({ side: "base" as const, finding: f })), ...head.problems.map((f) => ({ side: "head" as const, finding: f }))]) {
    if (!result.problems.some((q) => q.side === p.side && q.finding.message === p.finding.message)) result.problems.push(p);
  }
  return {
    result,
    notes,
    baseLabel,
    headLabel,
    resolved: work.map((e) => ({ environment: e.head ?? e.base ?? "", namespaces: e.namespaces === null ? null : e.namespaces.size })),
  };
}

/** The environment tree and every namespace with a schema (listed, not loaded: the layout load skips them). */
async function layoutOf(repo: Repository | null, files: RepoFiles): Promise<SideLayout> {
  if (repo === null) return { environments: new Map(), namespaces: [] };
  const namespaces = new Set<string>();
  for (const path of await files.list(["schemas"])) {
    const parsed = parseConfigPath(path);
    if (parsed?.kind === "schema") namespaces.add(parsed.namespace);
  }
  return { environments: repo.environments, namespaces: [...namespaces].sort() };
}

function toDiffSide(side: LoadedSide, resolved: Map<string, ResolvedEnvironment>): DiffSide {
  const repo = side.repo;
  return {
    environments: repo?.environments ?? new Map(),
    resolved,
    findings: repo?.findings.filter((f) => f.severity === "error" && f.environment === null) ?? [],
    metadata: (key) => (repo === null ? null : keyMetadata(repo, key)),
  };
}

function neededNamespaces(work: readonly PlannedEnvironment[], graph: ReferenceGraph): Set<string> | null {
  const all = new Set<string>();
  for (const env of work) {
    if (env.namespaces === null) return null;
    for (const ns of closeOverReferences(env.namespaces, graph)) all.add(ns);
  }
  return all;
}

/** `--env`: keep the named environments; a name neither side declares is an invocation error. */
function filterEnvironments(plan: DiffPlan, names: readonly string[] | undefined, base: Repository | null, head: Repository | null): void {
  if (names === undefined || names.length === 0) return;
  for (const name of names) {
    if (!base?.environments.has(name) && !head?.environments.has(name)) {
      const known = [...new Set([...(head?.environments.keys() ?? []), ...(base?.environments.keys() ?? [])])].sort();
      throw new StrataError("unknown-environment", `unknown environment "${name}" (at either side of the diff)`, { hint: `known: ${known.join(", ")}` });
    }
  }
  const wanted = new Set(names);
  plan.environments = plan.environments.filter((e) => (e.head !== null && wanted.has(e.head)) || (e.base !== null && wanted.has(e.base)));
}

/** Which files interpolate, read at both sides, and the namespaces they reference. */
async function readReferenceGraph(git: GitRepo, sides: Array<[string | null, RepoFiles]>): Promise<ReferenceGraph> {
  const graphs = await Promise.all(sides.map(async ([commit, files]) => {
    const graph: ReferenceGraph = new Map();
    for (const path of await findInterpolatingFiles(git, commit)) {
      const bytes = await files.read(path);
      if (bytes !== null) addFileReferences(graph, path, Buffer.from(bytes).toString("utf8"));
    }
    return graph;
  }));
  return mergeGraphs(...graphs);
}

/**
 * Both sides mostly share their schemas: compile each distinct schema once (ajv caches by object identity,
 * and the two sides parse their own objects).
 */
export class SharedSchemaCompiler extends SchemaCompiler {
  private readonly byContent = new Map<string, Validator>();
  private readonly checked = new Map<string, ReturnType<SchemaCompiler["validateSchema"]>>();
  override validateSchema(schema: unknown): ReturnType<SchemaCompiler["validateSchema"]> {
    const key = JSON.stringify(schema);
    let errors = this.checked.get(key);
    if (!errors) this.checked.set(key, (errors = super.validateSchema(schema)));
    return errors;
  }
  override compile(schema: JsonObject): Validator {
    const key = JSON.stringify(schema);
    let v = this.byContent.get(key);
    if (!v) this.byContent.set(key, (v = super.compile(schema)));
    return v;
  }
}

let sharedCompiler: SharedSchemaCompiler | undefined;

/** The process-wide compiler that compiles each distinct schema once. */
export function getSharedCompiler(): SharedSchemaCompiler {
  return (sharedCompiler ??= new SharedSchemaCompiler());
}

type SideLoadOptions =
  | { secrets: SecretsOpener | null; namespaces: Set<string>; environments: Set<string> }
  | { secrets: SecretsOpener | null; baseNamespaces: Set<string> | null; headNamespaces: Set<string> | null; baseEnvironments: Set<string>; headEnvironments: Set<string> };

/**
 * Loads both sides. A side whose strata.yaml is missing has no environments (all added or removed); a side
 * whose strata.yaml is broken is loaded with the other side's, so the diff still shows its values, and its
 * own error is reported as that side's problem.
 */
async function loadSides(baseFiles: RepoFiles, headFiles: RepoFiles, options: SideLoadOptions): Promise<[LoadedSide, LoadedSide]> {
  const opts = (side: "base" | "head") =>
    "namespaces" in options
      ? { secrets: options.secrets, namespaces: options.namespaces, environments: options.environments }
      : {
          secrets: options.secrets,
          ...(side === "base" ? (options.baseNamespaces ? { namespaces: options.baseNamespaces } : {}) : options.headNamespaces ? { namespaces: options.headNamespaces } : {}),
          environments: side === "base" ? options.baseEnvironments : options.headEnvironments,
        };
  const [base, head] = await Promise.all([loadSide(baseFiles, { ...opts("base"), compiler: getSharedCompiler() }), loadSide(headFiles, { ...opts("head"), compiler: getSharedCompiler() })]);
  if (base.repo === null && head.repo === null) {
    throw new StrataError("missing-repository", `not a strata repository at either side: ${baseFiles.label} and ${headFiles.label} have no strata.yaml`, { hint: "pass --repo DIR with the configuration repository" });
  }
  const brokenBase = hasBrokenSettings(base);
  const brokenHead = hasBrokenSettings(head);
  if (brokenHead && !brokenBase && base.repo !== null) return [base, await reloadWithSettingsOf(head, headFiles, baseFiles, opts("head"))];
  if (brokenBase && !brokenHead && head.repo !== null) return [await reloadWithSettingsOf(base, baseFiles, headFiles, opts("base")), head];
  return [base, head];
}

async function loadSide(files: RepoFiles, options: Parameters<typeof loadRepository>[1]): Promise<LoadedSide> {
  try {
    return { files, repo: await loadRepository(files, options), problems: [] };
  } catch (error) {
    if (error instanceof StrataError && error.code === "missing-repository") return { files, repo: null, problems: [] };
    throw error;
  }
}

const SECRET_FAILURES = new Set(["decryption-failed", "mac-mismatch", "mac-missing"]);

function hasUnopenedSecrets(side: LoadedSide): boolean {
  return side.repo?.findings.some((f) => SECRET_FAILURES.has(f.code)) ?? false;
}

function hasBrokenSettings(side: LoadedSide): boolean {
  return side.repo !== null && side.repo.findings.some((f) => f.severity === "error" && f.file === "strata.yaml") && side.repo.environments.size === 0;
}

async function reloadWithSettingsOf(broken: LoadedSide, files: RepoFiles, settingsFrom: RepoFiles, options: Parameters<typeof loadRepository>[1]): Promise<LoadedSide> {
  const overlay: RepoFiles = {
    label: files.label,
    list: (prefixes) => files.list(prefixes),
    read: (path) => (path === "strata.yaml" ? settingsFrom.read(path) : files.read(path)),
  };
  const repo = await loadRepository(overlay, { ...options, compiler: getSharedCompiler() });
  const problems = (broken.repo?.findings ?? []).filter((f) => f.severity === "error" && f.file === "strata.yaml");
  return { files, repo, problems };
}
