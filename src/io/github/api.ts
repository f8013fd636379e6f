/**
 * The GitHub REST endpoints strata uses, behind one interface (so use cases can be tested with a fake
 * and the adapter with a local server). Every list is paginated: a pull request can have hundreds of
 * reviews and comments, a team hundreds of members.
 */
import { StrataError } from "../../core/findings.js";
import { redact } from "../../core/redact.js";
import type { PullRequestReview, ReviewState } from "../../core/approvals/evaluate.js";
import { statusOf, toStrataError, type Octokit } from "./client.js";
import type { RepositoryRef } from "./env.js";

export interface PullRequestInfo {
  number: number;
  title: string;
  author: string;
  state: "open" | "closed";
  draft: boolean;
  merged: boolean;
  mergedAt: string | null;
  mergeCommitSha: string | null;
  head: { sha: string; ref: string };
  base: { sha: string; ref: string };
  labels: string[];
  htmlUrl: string;
}

export interface IssueComment {
  id: number;
  login: string | null;
  body: string;
  htmlUrl: string;
}

export interface CommitStatus {
  state: "success" | "failure" | "pending" | "error";
  context: string;
  description: string;
  targetUrl?: string | null;
}

/** What strata asks of GitHub. */
export interface GitHubApi {
  readonly repository: RepositoryRef;
  getPullRequest(number: number): Promise<PullRequestInfo>;
  listReviews(number: number): Promise<PullRequestReview[]>;
  listChangedFiles(number: number): Promise<string[]>;
  /** A file's text at a commit (contents API), or null when it does not exist there. */
  readFile(path: string, ref: string): Promise<string | null>;
  /** Member logins of `@org/slug`; a 404 is explained, never read as "no members". */
  listTeamMembers(team: string): Promise<string[]>;
  setCommitStatus(sha: string, status: CommitStatus): Promise<void>;
  /** The login comments are posted as: GET /user, or `github-actions[bot]` for the Actions token. */
  getOwnLogin(): Promise<string>;
  listIssueComments(number: number): Promise<IssueComment[]>;
  createIssueComment(number: number, body: string): Promise<IssueComment>;
  updateIssueComment(id: number, body: string): Promise<IssueComment>;
  listPullRequestsForCommit(sha: string): Promise<PullRequestInfo[]>;
  getDefaultBranch(): Promise<string>;
  /** Opens a pull request of `head` (a branch of this repository) into `base`. */
  createPullRequest(request: { title: string; head: string; base: string; body: string }): Promise<PullRequestInfo>;
  /** Whether the commit is reachable from the branch's tip. */
  isCommitOnBranch(sha: string, branch: string): Promise<boolean>;
}

/** The login of the token GitHub Actions gives every job (GET /user is refused to it). */
export const ACTIONS_BOT_LOGIN = "github-actions[bot]";

// The response shapes strata reads, loosely typed: octokit's generated types are exact but enormous.
interface RawUser {
  login: string;
}
interface RawPull {
  number: number;
  title: string;
  user: RawUser | null;
  state: string;
  draft?: boolean;
  merged?: boolean;
  merged_at: string | null;
  merge_commit_sha: string | null;
  html_url: string;
  head: { sha: string; ref: string };
  base: { sha: string; ref: string };
  labels: ({ name?: string } | string)[];
}
interface RawReview {
  id: number;
  user: RawUser | null;
  state: string;
  commit_id: string | null;
  submitted_at?: string | null;
  author_association?: string;
}
interface RawComment {
  id: number;
  user: RawUser | null;
  body?: string;
  html_url: string;
}

function toPullRequest(p: RawPull): PullRequestInfo {
  return {
    number: p.number,
    title: p.title,
    author: p.user?.login ?? "ghost",
    state: p.state === "open" ? "open" : "closed",
    draft: p.draft === true,
    merged: p.merged === true || p.merged_at !== null,
    mergedAt: p.merged_at,
    mergeCommitSha: p.merge_commit_sha,
    head: { sha: p.head.sha, ref: p.head.ref },
    base: { sha: p.base.sha, ref: p.base.ref },
    labels: p.labels.map((l) => (typeof l === "string" ? l : (l.name ?? ""))).filter((l) => l !== ""),
    htmlUrl: p.html_url,
  };
}

const REVIEW_STATES = new Set<string>(["APPROVED", "CHANGES_REQUESTED", "COMMENTED", "DISMISSED", "PENDING"]);

function toComment(c: RawComment): IssueComment {
  return { id: c.id, login: c.user?.login ?? null, body: c.body ?? "", htmlUrl: c.html_url };
}

/** Splits `@org/slug`. */
function parseTeam(team: string): { org: string; slug: string } {
  const m = /^@?([^/\s]+)\/([^/\s]+)$/.exec(team);
  if (!m) throw new StrataError("invalid-config", `"${team}" is not a team (@org/team)`);
  return { org: m[1]!, slug: m[2]! };
}

export interface GitHubApiOptions {
  /** Overrides the login comments are attributed to (an App's `<slug>[bot]`). */
  login?: string | null;
}

export function createGitHubApi(
  octokit: Octokit,
  repository: RepositoryRef,
  options: GitHubApiOptions = {},
): GitHubApi {
  const { owner, repo } = repository;
  const call = async <T>(doing: string, fn: () => Promise<T>): Promise<T> => {
    try {
      return await fn();
    } catch (error) {
      throw toStrataError(error, doing);
    }
  };
  let ownLogin: string | null = options.login ?? null;

  return {
    repository,

    getPullRequest: (number) =>
      call(`reading pull request #${number}`, async () => {
        const { data } = await octokit.request("GET /repos/{owner}/{repo}/pulls/{pull_number}", {
          owner,
          repo,
          pull_number: number,
        });
        return toPullRequest(data as unknown as RawPull);
      }),

    listReviews: (number) =>
      call(`reading the reviews of #${number}`, async () => {
        const raw = (await octokit.paginate("GET /repos/{owner}/{repo}/pulls/{pull_number}/reviews", {
          owner,
          repo,
          pull_number: number,
          per_page: 100,
        })) as unknown as RawReview[];
        return raw
          .filter((r) => r.user !== null && REVIEW_STATES.has(r.state))
          .map((r) => ({
            id: r.id,
            login: r.user!.login,
            state: r.state as ReviewState,
            commitId: r.commit_id,
            submittedAt: r.submitted_at ?? null,
            ...(r.author_association ? { association: r.author_association } : {}),
          }));
      }),

    listChangedFiles: (number) =>
      call(`listing the files of #${number}`, async () => {
        const raw = (await octokit.paginate("GET /repos/{owner}/{repo}/pulls/{pull_number}/files", {
          owner,
          repo,
          pull_number: number,
          per_page: 100,
        })) as unknown as { filename: string }[];
        return raw.map((f) => f.filename);
      }),

    readFile: (path, ref) =>
      call(`reading ${path} at ${ref}`, async () => {
        try {
          const { data } = await octokit.request("GET /repos/{owner}/{repo}/contents/{path}", {
            owner,
            repo,
            path,
            ref,
          });
          const file = data as unknown as { type: string; content?: string; encoding?: string };
          if (file.type !== "file") return null;
          if (file.encoding === "base64" && typeof file.content === "string")
            return Buffer.from(file.content, "base64").toString("utf8");
          // Files over 1 MB come without content: ask for the raw bytes.
          const raw = await octokit.request("GET /repos/{owner}/{repo}/contents/{path}", {
            owner,
            repo,
            path,
            ref,
            mediaType: { format: "raw" },
          });
          return String(raw.data);
        } catch (error) {
          if (statusOf(error) === 404) return null;
          throw error;
        }
      }),

    listTeamMembers: async (team) => {
      const { org, slug } = parseTeam(team);
      try {
        const raw = (await octokit.paginate("GET /orgs/{org}/teams/{team_slug}/members", {
          org,
          team_slug: slug,
          per_page: 100,
        })) as unknown as RawUser[];
        return raw.map((u) => u.login);
      } catch (error) {
        if (statusOf(error) === 404) {
          // GitHub answers 404, not 403, when the token may not see the team: that is not "no members".
          throw new StrataError(
            "access-denied",
            `cannot read the members of team @${org}/${slug} (GitHub answered 404): the team does not exist, or this token cannot see it`,
            {
              cause: error,
              hint: "the GITHUB_TOKEN of Actions cannot read teams: give the approvals job a GitHub App token with the `members: read` organization permission, or a PAT with `read:org`",
            },
          );
        }
        throw toStrataError(error, `reading the members of @${org}/${slug}`);
      }
    },

    setCommitStatus: (sha, status) =>
      call(`setting the ${status.context} status on ${sha.slice(0, 12)}`, async () => {
        await octokit.request("POST /repos/{owner}/{repo}/statuses/{sha}", {
          owner,
          repo,
          sha,
          state: status.state,
          context: status.context,
          description: redact(status.description),
          ...(status.targetUrl ? { target_url: status.targetUrl } : {}),
        });
      }),

    getOwnLogin: async () => {
      if (ownLogin !== null) return ownLogin;
      try {
        const { data } = await octokit.request("GET /user");
        ownLogin = (data as RawUser).login;
      } catch (error) {
        // Installation tokens (the Actions token included) may not call GET /user.
        if (statusOf(error) !== 403 && statusOf(error) !== 401) throw toStrataError(error, "finding the token's login");
        ownLogin = ACTIONS_BOT_LOGIN;
      }
      return ownLogin;
    },

    listIssueComments: (number) =>
      call(`reading the comments of #${number}`, async () => {
        const raw = (await octokit.paginate("GET /repos/{owner}/{repo}/issues/{issue_number}/comments", {
          owner,
          repo,
          issue_number: number,
          per_page: 100,
        })) as unknown as RawComment[];
        return raw.map(toComment);
      }),

    createIssueComment: (number, body) =>
      call(`commenting on #${number}`, async () => {
        const { data } = await octokit.request("POST /repos/{owner}/{repo}/issues/{issue_number}/comments", {
          owner,
          repo,
          issue_number: number,
          body,
        });
        return toComment(data as unknown as RawComment);
      }),

    updateIssueComment: (id, body) =>
      call(`updating comment ${id}`, async () => {
        const { data } = await octokit.request("PATCH /repos/{owner}/{repo}/issues/comments/{comment_id}", {
          owner,
          repo,
          comment_id: id,
          body,
        });
        return toComment(data as unknown as RawComment);
      }),

    listPullRequestsForCommit: (sha) =>
      call(`finding the pull requests of ${sha.slice(0, 12)}`, async () => {
        const raw = (await octokit.paginate("GET /repos/{owner}/{repo}/commits/{commit_sha}/pulls", {
          owner,
          repo,
          commit_sha: sha,
          per_page: 100,
        })) as unknown as RawPull[];
        return raw.map(toPullRequest);
      }),

    getDefaultBranch: () =>
      call("reading the repository", async () => {
        const { data } = await octokit.request("GET /repos/{owner}/{repo}", { owner, repo });
        return (data as { default_branch: string }).default_branch;
      }),

    createPullRequest: ({ title, head, base, body }) =>
      call(`opening a pull request of ${head} into ${base}`, async () => {
        const { data } = await octokit.request("POST /repos/{owner}/{repo}/pulls", {
          owner,
          repo,
          title: redact(title),
          head,
          base,
          body: redact(body),
        });
        return toPullRequest(data as unknown as RawPull);
      }),

    isCommitOnBranch: (sha, branch) =>
      call(`comparing ${sha.slice(0, 12)} with ${branch}`, async () => {
        try {
          const { data } = await octokit.request("GET /repos/{owner}/{repo}/compare/{basehead}", {
            owner,
            repo,
            basehead: `${branch}...${sha}`,
            per_page: 1,
          });
          const status = (data as { status: string }).status;
          // "behind": the commit is an ancestor of the branch tip.
          return status === "identical" || status === "behind";
        } catch (error) {
          if (statusOf(error) === 404) return false;
          throw error;
        }
      }),
  };
}
