/** What GitHub Actions tells a step through its environment (and what a user sets by hand elsewhere). */
import { readFile } from "node:fs/promises";
import { StrataError } from "../../core/findings.js";
import { isJsonObject, type JsonObject } from "../../core/json.js";

export interface RepositoryRef {
  owner: string;
  repo: string;
}

export interface GitHubEnvironment {
  /** `GITHUB_TOKEN` (or `GH_TOKEN`, as the gh CLI reads it). */
  token: string | null;
  /** `GITHUB_REPOSITORY`: owner/name. */
  repository: RepositoryRef | null;
  /** `GITHUB_API_URL` (GitHub Enterprise Server, or the test server). */
  apiUrl: string;
  /** `GITHUB_EVENT_PATH`: the webhook payload of the run. */
  eventPath: string | null;
  /** `GITHUB_SERVER_URL`, for links. */
  serverUrl: string;
  /** `GITHUB_RUN_ID`, for the status' link to the run. */
  runId: string | null;
  actions: boolean;
}

function nonEmpty(v: string | undefined): string | null {
  return v === undefined || v.trim() === "" ? null : v.trim();
}

export function parseRepository(value: string): RepositoryRef | null {
  const m = /^([A-Za-z0-9_.-]+)\/([A-Za-z0-9_.-]+)$/.exec(value.trim());
  return m ? { owner: m[1]!, repo: m[2]! } : null;
}

export function readGitHubEnvironment(env: NodeJS.ProcessEnv = process.env): GitHubEnvironment {
  const repo = nonEmpty(env.GITHUB_REPOSITORY);
  return {
    token: nonEmpty(env.GITHUB_TOKEN) ?? nonEmpty(env.GH_TOKEN),
    repository: repo === null ? null : parseRepository(repo),
    apiUrl: nonEmpty(env.GITHUB_API_URL) ?? "https://api.github.com",
    eventPath: nonEmpty(env.GITHUB_EVENT_PATH),
    serverUrl: nonEmpty(env.GITHUB_SERVER_URL) ?? "https://github.com",
    runId: nonEmpty(env.GITHUB_RUN_ID),
    actions: env.GITHUB_ACTIONS === "true",
  };
}

async function readEvent(eventPath: string | null): Promise<JsonObject | null> {
  if (eventPath === null) return null;
  let payload: unknown;
  try {
    payload = JSON.parse(await readFile(eventPath, "utf8"));
  } catch (error) {
    throw new StrataError("unreadable-file", `cannot read the GitHub event payload ${eventPath}`, { cause: error });
  }
  return isJsonObject(payload) ? payload : null;
}

/** A merge queue's branch: `refs/heads/gh-readonly-queue/<base branch>/pr-<number>-<head sha>`. */
const QUEUE_REF = /^refs\/heads\/gh-readonly-queue\/.+\/pr-(\d+)-[0-9a-f]{40}$/;

/**
 * The pull request number of the run's event: `pull_request`, `pull_request_target` and
 * `pull_request_review` carry `pull_request`; `issue_comment` on a pull request carries `issue`; a merge
 * queue's `merge_group` names it in the queue branch (`…/pr-7-<sha>`).
 */
export async function readEventPullRequest(eventPath: string | null): Promise<number | null> {
  const payload = await readEvent(eventPath);
  if (payload === null) return null;
  const pr = payload.pull_request;
  if (isJsonObject(pr) && typeof pr.number === "number") return pr.number;
  const issue = payload.issue;
  if (isJsonObject(issue) && isJsonObject(issue.pull_request) && typeof issue.number === "number") return issue.number;
  const group = payload.merge_group;
  if (isJsonObject(group) && typeof group.head_ref === "string") {
    const m = QUEUE_REF.exec(group.head_ref);
    if (m) return Number(m[1]);
  }
  return null;
}

/** The commit a merge queue tests (`merge_group.head_sha`), or null for any other event. */
export async function readMergeGroupHead(eventPath: string | null): Promise<string | null> {
  const group = (await readEvent(eventPath))?.merge_group;
  return isJsonObject(group) && typeof group.head_sha === "string" && /^[0-9a-f]{40}$/.test(group.head_sha)
    ? group.head_sha
    : null;
}

/** The repository, or an invocation error that says how to give it. */
export function requireRepository(env: GitHubEnvironment): RepositoryRef {
  if (env.repository === null) {
    throw new StrataError("invalid-argument", "which GitHub repository? GITHUB_REPOSITORY is not set (owner/name)", {
      hint: "GitHub Actions sets it; elsewhere export GITHUB_REPOSITORY=owner/name",
    });
  }
  return env.repository;
}

export function requireToken(env: GitHubEnvironment): string {
  if (env.token === null) {
    throw new StrataError("unauthenticated", "GITHUB_TOKEN is not set", {
      hint: "in Actions pass `env: GITHUB_TOKEN: ${{ github.token }}` (or an App token for team lookups)",
    });
  }
  return env.token;
}
