/**
 * `strata log --env E KEY`: config blame. Walks first-parent history and reports the commits where the
 * effective value of KEY (a glob) in E changed — a change to any layer E inherits counts — with author, date,
 * the pull request number and before/after (sensitive values never). A merge's changes are credited to the
 * branch commits that made them, naming the merge (unless `firstParent`). Only commits that touch a file that can
 * affect the key are resolved, and only the key's namespaces (plus what they interpolate).
 */
import type { ChangedFile } from "../core/diff/changes.js";
import { compareMatchingLeaves, findPullRequestNumber, type ValueChange } from "../core/diff/log.js";
import { isEqualJson } from "../core/diff/values.js";
import { createGlobMatcher } from "../core/glob.js";
import { configPathOf } from "../core/layout.js";
import { addFileReferences, closeOverReferences, type ReferenceGraph } from "../core/diff/references.js";
import { EXIT, isSecretFailure, StrataError } from "../core/findings.js";
import { namespaceOf } from "../core/names.js";
import { SETTINGS_FILE } from "../core/settings/settings.js";
import type { LeafInfo } from "../core/model.js";
import type { RepoFiles, SecretsOpener } from "../core/source.js";
import { applyRawChanges } from "../io/git/changes.js";
import { createCommitFiles, createTreeFiles, readTree, type Tree } from "../io/git/files.js";
import { findInterpolatingFiles } from "../io/git/grep.js";
import { readHistory, type CommitInfo } from "../io/git/history.js";
import { openGitRepo, resolveCommit, type GitRepo } from "../io/git/repo.js";
import { defaultCompiler, loadRepository, unknownEnvironment } from "./repository.js";

export interface LogOptions {
  dir?: string;
  /** An environment, or a glob over the head's concrete environments (`production*`). */
  environment: string;
  /** A key or a glob (`database.*`, `database.**`). */
  key: string;
  /** Where history starts (default HEAD). */
  head?: string;
  /** Look at most this many commits back (that touch config). */
  maxCount?: number;
  secrets?: SecretsOpener | null;
  /** Credit merges as the main line sees them, instead of the branch commits they brought. */
  firstParent?: boolean;
}

/** The merge that brought a branch commit's change to the main line. */
export interface MergeInfo {
  commit: string;
  author: string;
  email: string;
  date: string;
  subject: string;
  pullRequest: number | null;
}

/** A value change of one environment. */
export type LogChange = ValueChange & { environment: string };

export interface LogEntry {
  commit: string;
  author: string;
  email: string;
  /** ISO 8601 author date. */
  date: string;
  subject: string;
  /** The pull request of the commit, or of the merge that brought it. */
  pullRequest: number | null;
  /** The merge that brought this commit to the main line; null for a commit made on it. */
  merge: MergeInfo | null;
  changes: LogChange[];
}

export interface LogResult {
  schemaVersion: 1;
  /** As given: a name or a glob. */
  environment: string;
  /** The concrete environments it names at head. */
  environments: string[];
  key: string;
  head: string;
  /** Newest first, as git log. */
  commits: LogEntry[];
}

export async function logConfig(options: LogOptions): Promise<LogResult> {
  const git = await openGitRepo(options.dir ?? process.cwd());
  try {
    // A copy: the walk drops the opener once a file has no key.
    return await logWithGit(git, { ...options });
  } finally {
    git.close();
  }
}

async function logWithGit(git: GitRepo, options: LogOptions): Promise<LogResult> {
  const head = await resolveCommit(git, options.head ?? "HEAD", "head");
  const matches = createGlobMatcher(options.key);
  const headFiles = createCommitFiles(git, head);
  const headRepo = await loadRepository(headFiles, { secrets: null, namespaces: new Set(), environments: new Set() });
  // `--env` is a name or a glob (`production*`) over the head's concrete environments.
  const envMatches = createGlobMatcher(options.environment);
  const environments = [...headRepo.environments.values()]
    .filter((e) => !e.abstract && envMatches(e.name))
    .map((e) => e.name);
  if (environments.length === 0) {
    // A strata.yaml that does not parse or declares no usable graph explains itself.
    const broken = headRepo.findings.filter((f) => f.file === SETTINGS_FILE && f.severity === "error");
    if (broken.length > 0) {
      throw new StrataError(
        "invalid-config",
        `${SETTINGS_FILE} at ${head.slice(0, 12)} has ${broken.length} error(s): ${broken
          .slice(0, 3)
          .map((f) => f.message)
          .join("; ")}${broken.length > 3 ? "; …" : ""}`,
        { hint: "run `strata validate` for all of them", exitCode: EXIT.findings },
      );
    }
    throw unknownEnvironment(headRepo, options.environment);
  }

  // The namespaces the pattern can name, plus what they interpolate (read at head).
  const allNamespaces = new Set(
    (await headFiles.list(["schemas"])).flatMap((p) => {
      const parsed = configPathOf(p);
      return parsed?.kind === "schema" ? [parsed.namespace] : [];
    }),
  );
  const nsPattern = namespaceOf(options.key);
  const nsMatches = createGlobMatcher(nsPattern.replace(/\*\*/g, "*"));
  const keyNamespaces = [...allNamespaces].filter((ns) => nsMatches(ns) || nsPattern.includes("**"));
  const graph: ReferenceGraph = new Map();
  for (const path of await findInterpolatingFiles(git, head)) {
    const bytes = await headFiles.read(path);
    if (bytes !== null) addFileReferences(graph, path, Buffer.from(bytes).toString("utf8"));
  }
  const namespaces = closeOverReferences(keyNamespaces, graph);

  const history = await readHistory(
    git,
    head,
    [SETTINGS_FILE, "schemas", "environments"],
    options.maxCount === undefined ? {} : { maxCount: options.maxCount },
  );
  const entries: LogEntry[] = [];
  let previous: Map<string, ReadonlyMap<string, LeafInfo>> | null = null;
  let chain = new Set(environments.flatMap((e) => headRepo.environments.get(e)?.chain ?? []));
  // Each commit's tree is its predecessor's with the commit's raw diff applied: one ls-tree for the walk.
  let tree: Tree = new Map();
  for (const commit of history) {
    if (previous === null) {
      tree = commit.parent === null ? new Map() : await readTree(git, commit.parent);
      previous =
        commit.parent === null
          ? new Map()
          : (await resolveAt(createTreeFiles(git, tree, commit.parent.slice(0, 12)), options, environments, namespaces))
              .leaves;
    }
    tree = applyRawChanges(tree, commit.changes);
    if (!affects(commit.changes, namespaces, chain)) continue;
    const now = await resolveAt(createTreeFiles(git, tree, commit.sha.slice(0, 12)), options, environments, namespaces);
    const changes: LogChange[] = [];
    for (const env of environments) {
      for (const c of compareMatchingLeaves(previous.get(env) ?? new Map(), now.leaves.get(env) ?? new Map(), matches))
        changes.push({ environment: env, ...c });
    }
    if (changes.length > 0) {
      const credited =
        options.firstParent || commit.parents.length < 2
          ? null
          : await creditBranchCommits(git, commit, changes, now.leaves, options, environments, namespaces, matches);
      if (credited) entries.push(...credited);
      else entries.push({ ...describeCommit(commit), merge: null, changes });
    }
    previous = now.leaves;
    // The chain can change with strata.yaml: a file of a newly inherited layer counts from then on.
    chain = new Set([...chain, ...now.chain]);
  }
  return {
    schemaVersion: 1,
    environment: options.environment,
    environments,
    key: options.key,
    head,
    commits: entries.reverse(),
  };
}

function describeCommit(commit: CommitInfo): MergeInfo {
  return {
    commit: commit.sha,
    author: commit.author,
    email: commit.email,
    date: commit.date,
    subject: commit.subject,
    pullRequest: findPullRequestNumber(commit.subject),
  };
}

type Leaves = Map<string, ReadonlyMap<string, LeafInfo>>;

/**
 * A merge's changes, credited to the commits on the merged branch that made them (oldest first; the
 * merge itself keeps what no branch commit explains, such as a conflict resolved differently). Walks
 * the branch's first parents from where it left the main line, resolving each commit that touches
 * config; a change is the branch's when the branch's last word on the key is the merge's value.
 * Null when the branch cannot be read (a shallow clone): the merge is credited as a whole.
 */
async function creditBranchCommits(
  git: GitRepo,
  merge: CommitInfo,
  changes: LogChange[],
  mergeLeaves: Leaves,
  options: LogOptions,
  environments: readonly string[],
  namespaces: ReadonlySet<string>,
  matches: (key: string) => boolean,
): Promise<LogEntry[] | null> {
  const [mainParent, branchHead] = merge.parents as [string, string];
  let branch: CommitInfo[];
  let tree: Tree;
  let previous: Leaves;
  try {
    branch = await readHistory(git, branchHead, [SETTINGS_FILE, "schemas", "environments"], { exclude: mainParent });
    if (branch.length === 0) return null;
    const start = branch[0]!.parent;
    tree = start === null ? new Map() : await readTree(git, start);
    previous =
      start === null
        ? new Map()
        : (await resolveAt(createTreeFiles(git, tree, start.slice(0, 12)), options, environments, namespaces)).leaves;
  } catch (error) {
    if (error instanceof StrataError) return null;
    throw error;
  }
  // environment + key -> the branch commit that last changed it.
  const lastChange = new Map<string, CommitInfo>();
  for (const commit of branch) {
    tree = applyRawChanges(tree, commit.changes);
    const now = (
      await resolveAt(createTreeFiles(git, tree, commit.sha.slice(0, 12)), options, environments, namespaces)
    ).leaves;
    for (const env of environments) {
      for (const c of compareMatchingLeaves(previous.get(env) ?? new Map(), now.get(env) ?? new Map(), matches))
        lastChange.set(`${env}\u0000${c.key}`, commit);
    }
    previous = now;
  }
  const mergeInfo = describeCommit(merge);
  const byCommit = new Map<CommitInfo, LogChange[]>();
  const leftover: LogChange[] = [];
  for (const change of changes) {
    const id = `${change.environment}\u0000${change.key}`;
    const commit = lastChange.get(id);
    const atBranch = previous.get(change.environment)?.get(change.key);
    const atMerge = mergeLeaves.get(change.environment)?.get(change.key);
    const same =
      atBranch === undefined
        ? atMerge === undefined
        : atMerge !== undefined && isEqualJson(atBranch.value, atMerge.value);
    if (commit && same) byCommit.set(commit, [...(byCommit.get(commit) ?? []), change]);
    else leftover.push(change);
  }
  const entries: LogEntry[] = [];
  for (const commit of branch) {
    const credited = byCommit.get(commit);
    if (!credited) continue;
    const own = describeCommit(commit);
    entries.push({
      ...own,
      pullRequest: own.pullRequest ?? mergeInfo.pullRequest,
      merge: mergeInfo,
      changes: credited,
    });
  }
  if (leftover.length > 0) entries.push({ ...mergeInfo, merge: null, changes: leftover });
  return entries;
}

/** Whether a commit's changed files can change the key: strata.yaml, the namespaces' schemas or layers. */
function affects(
  changes: readonly ChangedFile[],
  namespaces: ReadonlySet<string>,
  chain: ReadonlySet<string>,
): boolean {
  return changes.some((c) =>
    [c.path, c.oldPath].some((p) => {
      const parsed = p === null ? null : configPathOf(p);
      if (parsed === null) return false;
      if (parsed.kind === "settings") return true;
      if (!namespaces.has(parsed.namespace)) return false;
      return parsed.kind === "schema" || chain.has(parsed.environment);
    }),
  );
}

/** The matching leaves of each environment at one commit's tree. */
async function resolveAt(
  files: RepoFiles,
  options: LogOptions,
  environments: readonly string[],
  namespaces: ReadonlySet<string>,
): Promise<{ leaves: Map<string, ReadonlyMap<string, LeafInfo>>; chain: string[] }> {
  let repo;
  try {
    const load = (secrets: SecretsOpener | null) =>
      loadRepository(files, { secrets, namespaces, environments: new Set(environments), compiler: defaultCompiler() });
    repo = await load(options.secrets ?? null);
    if (options.secrets && repo.findings.some((f) => isSecretFailure(f.code))) {
      // No key for this file (now or any more): compare ciphertext from here on, never report it removed.
      options.secrets = null;
      repo = await load(null);
    }
  } catch (error) {
    // Before the repository had a strata.yaml there was no config: every key is absent.
    if (error instanceof StrataError && error.code === "missing-repository") return { leaves: new Map(), chain: [] };
    throw error;
  }
  const leaves = new Map<string, ReadonlyMap<string, LeafInfo>>();
  const chain: string[] = [];
  for (const name of environments) {
    const env = repo.environments.get(name);
    if (!env) continue;
    chain.push(...env.chain);
    if (!env.abstract) leaves.set(name, repo.resolver.resolve(name, namespaces).leaves);
  }
  return { leaves, chain };
}
