/**
 * `push --require-approval` (docs/github.md): every change an environment's next version publishes came
 * from a merged pull request whose approvals satisfied the rules of its own base. "Every change" is the
 * first-parent history between the commit the endpoint's current version was published from and HEAD,
 * not only the pull request that produced HEAD: an unapproved merge refused at its own push must not ride
 * out with the next, harmless one.
 */
import type { ApprovalDecision } from "../../core/approvals/evaluate.js";
import type { ApprovalChange } from "../../core/approvals/match.js";
import { StrataError } from "../../core/findings.js";
import type { PublishedPullRequest, Snapshot, SnapshotSource } from "../../core/snapshot/index.js";
import type { GitHubApi, PullRequestInfo } from "../../io/github/api.js";
import { withReadCache } from "../../io/github/cached.js";
import { readFirstParentChain, readHistory, type CommitInfo } from "../../io/git/history.js";
import { isAncestor, openGitRepo, readFileAtCommit, SHALLOW_HINT, tryResolveCommit } from "../../io/git/repo.js";
import { readGitSource, SNAPSHOT_INPUTS } from "../../io/repo/git-head.js";
import { evaluatePullRequest, type ComputeApprovalChanges } from "./evaluate-pull-request.js";

/** What the gate puts in the snapshot's `source` (docs/distribution.md). */
export type ApprovedSource = Pick<SnapshotSource, "pullRequest" | "approvedBy" | "emergency"> & {
  pullRequests: PublishedPullRequest[];
};

export interface PublishGate {
  /** The commit the gate approves ranges up to: the snapshot's `source.commit`. */
  readonly head: string;
  /**
   * The source fields of `environment`'s next version, built on `current` (the endpoint's verified current
   * version, or null): throws `approval-required` naming every change in the range that lacks its approvals.
   */
  approve(environment: string, current: Snapshot | null): Promise<ApprovedSource>;
  close(): void;
}

export interface PublishGateOptions {
  github: GitHubApi;
  repoDir: string;
  /** The full sha being published. */
  head: string;
  computeChanges: ComputeApprovalChanges;
}

/** A stretch of the first-parent history that one merged pull request put there (or one commit nobody did). */
export interface LandedChange {
  pullRequest: PullRequestInfo | null;
  /** The config-changing first-parent commits, oldest first. */
  commits: CommitInfo[];
  /** What landed: from the first parent of the oldest commit to the newest. */
  range: { base: string; head: string };
}

/**
 * The merged pull request that put `commit` on `branch`: the one whose merge or squash commit it is, or
 * whose head it is (a fast-forward); else, for a commit in the middle of a rebase or fast-forward merge, a
 * merged pull request that GitHub associates with it and whose landing commit is on the same stretch of
 * first-parent history (`chain`).
 */
export function findLandingPullRequest(
  pulls: readonly PullRequestInfo[],
  commit: string,
  branch: string,
  chain: ReadonlySet<string>,
): PullRequestInfo | null {
  const merged = pulls.filter((p) => p.merged && p.base.ref === branch);
  return (
    merged.find((p) => p.mergeCommitSha === commit) ??
    merged.find((p) => p.head.sha === commit) ??
    merged.find((p) => (p.mergeCommitSha !== null && chain.has(p.mergeCommitSha)) || chain.has(p.head.sha)) ??
    null
  );
}

/** Consecutive commits of one pull request become one landed change; a commit of none stands alone. */
export function groupLandedChanges(
  commits: readonly CommitInfo[],
  pullRequestOf: ReadonlyMap<string, PullRequestInfo | null>,
): LandedChange[] {
  const out: LandedChange[] = [];
  for (const c of commits) {
    const pr = pullRequestOf.get(c.sha) ?? null;
    const last = out.at(-1);
    if (pr !== null && last?.pullRequest?.number === pr.number) {
      last.commits.push(c);
      last.range.head = c.sha;
      continue;
    }
    out.push({ pullRequest: pr, commits: [c], range: { base: c.parent ?? c.sha, head: c.sha } });
  }
  return out;
}

const short = (sha: string): string => sha.slice(0, 12);

function listKeys(changes: readonly ApprovalChange[]): string {
  const keys = [...new Set(changes.map((c) => c.key))];
  return keys.length <= 5 ? keys.join(", ") : `${keys.slice(0, 5).join(", ")} and ${keys.length - 5} more`;
}

const BASELINE_HINT =
  "publish it once without --require-approval (whoever holds the signing key, after reviewing `strata diff`), or roll back to a version published from this branch's history (`strata history`, `strata rollback`); later pushes are checked from there";

export function createPublishGate(options: PublishGateOptions): PublishGate {
  const { head, repoDir, computeChanges } = options;
  const repoPromise = openGitRepo(repoDir);
  const github = withReadCache(options.github, {
    readLocalFile: async (path, ref) => readFileAtCommit(await repoPromise, ref, path),
  });
  let branchPromise: Promise<string> | null = null;
  const landed = new Map<string, Promise<LandedChange[]>>();

  /** The default branch, once HEAD is known to be on it. */
  const defaultBranch = (): Promise<string> =>
    (branchPromise ??= (async () => {
      const branch = await github.getDefaultBranch();
      if (!(await github.isCommitOnBranch(head, branch)))
        throw new StrataError(
          "approval-required",
          `commit ${short(head)} is not on the default branch ${branch}: --require-approval publishes only what pull requests merged there`,
          { hint: "push from a checkout of the default branch" },
        );
      return branch;
    })());

  /** The commit `current` was published from, once it is known to be where HEAD's history passed. */
  async function baseline(environment: string, current: Snapshot | null): Promise<{ from: string; version: Snapshot }> {
    if (current === null)
      throw new StrataError(
        "approval-required",
        `${environment} has no published version: --require-approval has no approved baseline to check the changes up to ${short(head)} against`,
        {
          hint: "publish its first version once without --require-approval (whoever holds the signing key, after reviewing the configuration); every later push is checked from it",
        },
      );
    const at = `${environment} v${current.version}`;
    const commit = current.source.commit;
    if (commit === null || !/^[0-9a-f]{40,64}$/.test(commit))
      throw new StrataError("approval-required", `${at} names no commit it was published from`, {
        hint: BASELINE_HINT,
      });
    if (commit === head) return { from: commit, version: current };
    const repo = await repoPromise;
    if ((await tryResolveCommit(repo, commit)) === null) {
      if (repo.shallow)
        throw new StrataError(
          "shallow-clone",
          `${at} was published from ${short(commit)}, which this shallow clone lacks`,
          {
            hint: SHALLOW_HINT,
          },
        );
      throw new StrataError(
        "approval-required",
        `${at} was published from ${short(commit)}, which is not in this repository's history (rewritten, or another repository)`,
        { hint: BASELINE_HINT },
      );
    }
    if (!(await isAncestor(repo, commit, head)))
      throw new StrataError(
        "approval-required",
        `${at} was published from ${short(commit)}, which is not an ancestor of ${short(head)} (history rewritten, or published from another branch): the changes between them cannot be told apart`,
        { hint: BASELINE_HINT },
      );
    return { from: commit, version: current };
  }

  /** The changes between `from` and HEAD, each with the merged pull request that landed it. */
  const landedSince = (from: string, branch: string): Promise<LandedChange[]> => {
    let found = landed.get(from);
    if (found === undefined) {
      found = (async () => {
        const repo = await repoPromise;
        if (from === head) return [];
        const [chain, commits] = await Promise.all([
          readFirstParentChain(repo, head, from),
          readHistory(repo, head, SNAPSHOT_INPUTS, { exclude: from }),
        ]);
        const chainSet = new Set(chain);
        const found = await mapLimit(commits, JUDGE_CONCURRENCY, async (c) =>
          findLandingPullRequest(await github.listPullRequestsForCommit(c.sha), c.sha, branch, chainSet),
        );
        return groupLandedChanges(commits, new Map(commits.map((c, i) => [c.sha, found[i]!])));
      })();
      landed.set(from, found);
    }
    return found;
  };

  return {
    head,
    async approve(environment, current) {
      const { from, version } = await baseline(environment, current);
      const branch = await defaultBranch();
      const inEnvironment = async (range: { base: string; head: string }): Promise<ApprovalChange[]> =>
        (await computeChanges({ repoDir, ...range })).filter((c) => c.environment === environment);
      // What this version publishes: the keys that differ between the published commit and HEAD. A change a
      // later pull request undid (the key is back to its published value) publishes nothing.
      const published = new Set((await inEnvironment({ base: from, head })).map((c) => c.key));
      const landedChanges = published.size === 0 ? [] : await landedSince(from, branch);
      // Each landed change is judged on its own (a diff, its reviews): a few at a time, reported in order.
      const verdicts = await mapLimit(landedChanges, JUDGE_CONCURRENCY, async (change): Promise<Verdict> => {
        const changes = (await inEnvironment(change.range)).filter((c) => published.has(c.key));
        if (changes.length === 0) return null;
        const pr = change.pullRequest;
        if (pr === null)
          return {
            problem: `commit ${short(change.commits[0]!.sha)} did not come from a merged pull request into ${branch} (changed ${listKeys(changes)})`,
          };
        const { decision, findings } = await evaluatePullRequest(pr, {
          github,
          repoDir,
          computeChanges: async () => changes,
          range: change.range,
        });
        if (decision.met)
          return {
            approved: {
              number: pr.number,
              approvedBy: decision.approvedBy,
              emergency: decision.emergency?.active ?? false,
            },
          };
        const why = findings.some((f) => f.severity === "error") ? decision.description : describeUnmet(decision);
        return {
          problem: `#${pr.number} (merged as ${short(change.range.head)}) ${why} (changed ${listKeys(changes)})`,
        };
      });
      const approved = verdicts.flatMap((v) => (v !== null && "approved" in v ? [v.approved] : []));
      const problems = verdicts.flatMap((v) => (v !== null && "problem" in v ? [v.problem] : []));
      if (problems.length > 0)
        throw new StrataError(
          "approval-required",
          `${environment}: ${problems.length === 1 ? "a change" : `${problems.length} changes`} since v${version.version} (${short(from)}) lack${problems.length === 1 ? "s" : ""} approval: ${problems.join("; ")}`,
          {
            hint: "every pull request merged since the published version needs its approvals: approve it (`strata approvals check --pr N` says what is missing), or revert it in a new pull request",
          },
        );
      const newest = approved.at(-1);
      return {
        pullRequests: approved,
        pullRequest: newest?.number ?? version.source.pullRequest,
        approvedBy: newest ? [...new Set(approved.flatMap((p) => p.approvedBy))] : [...version.source.approvedBy],
        emergency: approved.some((p) => p.emergency),
      };
    },
    close() {
      void repoPromise.then((r) => r.close()).catch(() => undefined);
    },
  };
}

type Verdict = { approved: PublishedPullRequest } | { problem: string } | null;

/** Landed changes judged at once: each is a diff (git processes, CPU) and a review list (one request). */
const JUDGE_CONCURRENCY = 4;

/** `fn` over `items`, at most `limit` at a time, results in the order of `items`. */
async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}

function describeUnmet(d: ApprovalDecision): string {
  return d.changesRequestedBy.length > 0 ? `has ${d.description}` : d.description;
}

/**
 * The gate of a working tree (docs/github.md): its HEAD commit, clean, and a GitHub connection from the
 * environment (`GITHUB_TOKEN`, `GITHUB_REPOSITORY`, `GITHUB_API_URL`). Uncommitted changes would publish
 * something no pull request approved.
 */
export async function openPublishGate(options: {
  repoDir: string;
  env?: NodeJS.ProcessEnv;
  warn?: (message: string) => void;
  /** Defaults to the diff engine (`createLinkedDiff`). */
  computeChanges?: ComputeApprovalChanges;
}): Promise<PublishGate> {
  const git = await readGitSource(options.repoDir, options.env);
  if (!git.commit)
    throw new StrataError(
      "approval-required",
      "--require-approval needs a git commit to check, and this repository has none",
    );
  if (git.dirty) {
    throw new StrataError(
      "approval-required",
      `the working tree has uncommitted configuration changes; --require-approval publishes only the approved commit ${short(git.commit)}`,
      { hint: "push from a clean checkout of the merged commit" },
    );
  }
  const [{ connectGitHub }, { createLinkedDiff }] = await Promise.all([
    import("./connect.js"),
    import("./diff-seam.js"),
  ]);
  const { api } = await connectGitHub({
    ...(options.env ? { env: options.env } : {}),
    ...(options.warn ? { warn: options.warn } : {}),
  });
  return createPublishGate({
    github: api,
    repoDir: options.repoDir,
    head: git.commit,
    computeChanges: options.computeChanges ?? createLinkedDiff().computeChanges,
  });
}
