/**
 * `strata log --env E KEY`: config blame. Walks first-parent history and reports the commits where the
 * effective value of KEY (a glob) in E changed — a change to any layer E inherits counts — with author, date,
 * the pull request number and before/after (sensitive values never). Only commits that touch a file that can
 * affect the key are resolved, and only the key's namespaces (plus what they interpolate).
 */
import type { ChangedFile } from "../core/diff/changes.js";
import { compareMatchingLeaves, findPullRequestNumber, type ValueChange } from "../core/diff/log.js";
import { createGlobMatcher } from "../core/glob.js";
import { parseConfigPath } from "../core/diff/paths.js";
import { addFileReferences, closeOverReferences, type ReferenceGraph } from "../core/diff/references.js";
import { StrataError } from "../core/findings.js";
import type { LeafInfo } from "../core/model.js";
import type { RepoFiles, SecretsOpener } from "../core/source.js";
import { applyRawChanges } from "../io/git/changes.js";
import { createCommitFiles, createTreeFiles, readTree, type Tree } from "../io/git/files.js";
import { findInterpolatingFiles } from "../io/git/grep.js";
import { readHistory } from "../io/git/history.js";
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
  pullRequest: number | null;
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
  const environments = [...headRepo.environments.values()].filter((e) => !e.abstract && envMatches(e.name)).map((e) => e.name);
  if (environments.length === 0) throw unknownEnvironment(headRepo, options.environment);

  // The namespaces the pattern can name, plus what they interpolate (read at head).
  const allNamespaces = new Set((await headFiles.list(["schemas"])).flatMap((p) => {
    const parsed = parseConfigPath(p);
    return parsed?.kind === "schema" ? [parsed.namespace] : [];
  }));
  const nsPattern = options.key.split(/[.[]/)[0] ?? "";
  const nsMatches = createGlobMatcher(nsPattern.replace(/\*\*/g, "*"));
  const keyNamespaces = [...allNamespaces].filter((ns) => nsMatches(ns) || nsPattern.includes("**"));
  const graph: ReferenceGraph = new Map();
  for (const path of await findInterpolatingFiles(git, head)) {
    const bytes = await headFiles.read(path);
    if (bytes !== null) addFileReferences(graph, path, Buffer.from(bytes).toString("utf8"));
  }
  const namespaces = closeOverReferences(keyNamespaces, graph);

  const history = await readHistory(git, head, ["strata.yaml", "schemas", "environments"], options.maxCount === undefined ? {} : { maxCount: options.maxCount });
  const entries: LogEntry[] = [];
  let previous: Map<string, ReadonlyMap<string, LeafInfo>> | null = null;
  let chain = new Set(environments.flatMap((e) => headRepo.environments.get(e)?.chain ?? []));
  // Each commit's tree is its predecessor's with the commit's raw diff applied: one ls-tree for the walk.
  let tree: Tree = new Map();
  for (const commit of history) {
    if (previous === null) {
      tree = commit.parent === null ? new Map() : await readTree(git, commit.parent);
      previous = commit.parent === null ? new Map() : (await resolveAt(createTreeFiles(git, tree, commit.parent.slice(0, 12)), options, environments, namespaces)).leaves;
    }
    tree = applyRawChanges(tree, commit.changes);
    if (!affects(commit.changes, namespaces, chain)) continue;
    const now = await resolveAt(createTreeFiles(git, tree, commit.sha.slice(0, 12)), options, environments, namespaces);
    const changes: LogChange[] = [];
    for (const env of environments) {
      for (const c of compareMatchingLeaves(previous.get(env) ?? new Map(), now.leaves.get(env) ?? new Map(), matches)) changes.push({ environment: env, ...c });
    }
    if (changes.length > 0) {
      entries.push({ commit: commit.sha, author: commit.author, email: commit.email, date: commit.date, subject: commit.subject, pullRequest: findPullRequestNumber(commit.subject), changes });
    }
    previous = now.leaves;
    // The chain can change with strata.yaml: a file of a newly inherited layer counts from then on.
    chain = new Set([...chain, ...now.chain]);
  }
  return { schemaVersion: 1, environment: options.environment, environments, key: options.key, head, commits: entries.reverse() };
}

/** Whether a commit's changed files can change the key: strata.yaml, the namespaces' schemas or layers. */
function affects(changes: readonly ChangedFile[], namespaces: ReadonlySet<string>, chain: ReadonlySet<string>): boolean {
  return changes.some((c) => [c.path, c.oldPath].some((p) => {
    const parsed = p === null ? null : parseConfigPath(p);
    if (parsed === null) return false;
    if (parsed.kind === "settings") return true;
    if (!namespaces.has(parsed.namespace)) return false;
    return parsed.kind === "schema" || chain.has(parsed.environment);
  }));
}

const SECRET_FAILURES = new Set(["decryption-failed", "mac-mismatch", "mac-missing"]);

/** The matching leaves of each environment at one commit's tree. */
async function resolveAt(
  files: RepoFiles,
  options: LogOptions,
  environments: readonly string[],
  namespaces: ReadonlySet<string>,
): Promise<{ leaves: Map<string, ReadonlyMap<string, LeafInfo>>; chain: string[] }> {
  let repo;
  try {
    const load = (secrets: SecretsOpener | null) => loadRepository(files, { secrets, namespaces, environments: new Set(environments), compiler: defaultCompiler() });
    repo = await load(options.secrets ?? null);
    if (options.secrets && repo.findings.some((f) => SECRET_FAILURES.has(f.code))) {
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
