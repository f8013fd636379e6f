/** A GitHub client from the environment Actions provides (or the user exported). */
import { createGitHubApi, type GitHubApi } from "../../io/github/api.js";
import { createOctokit } from "../../io/github/client.js";
import {
  parseRepository,
  readEventPullRequest,
  readMergeGroupHead,
  readGitHubEnvironment,
  requireRepository,
  requireToken,
  type GitHubEnvironment,
} from "../../io/github/env.js";
import { StrataError } from "../../core/findings.js";

export interface ConnectOptions {
  env?: NodeJS.ProcessEnv;
  /** owner/name; default GITHUB_REPOSITORY. */
  repository?: string;
  warn?: (message: string) => void;
}

export interface GitHubConnection {
  api: GitHubApi;
  env: GitHubEnvironment;
  /** Where a commit status should link: the Actions run, when there is one. */
  runUrl: string | null;
}

export async function connectGitHub(options: ConnectOptions = {}): Promise<GitHubConnection> {
  const env = readGitHubEnvironment(options.env ?? process.env);
  const repository = options.repository !== undefined ? parseRepository(options.repository) : requireRepository(env);
  if (repository === null) throw new StrataError("invalid-argument", `"${options.repository}" is not owner/name`);
  const octokit = await createOctokit({
    token: requireToken(env),
    apiUrl: env.apiUrl,
    ...(options.warn ? { warn: options.warn } : {}),
  });
  const login = (options.env ?? process.env).STRATA_GITHUB_LOGIN?.trim() || null;
  const api = createGitHubApi(octokit, repository, { login });
  const runUrl = env.runId ? `${env.serverUrl}/${repository.owner}/${repository.repo}/actions/runs/${env.runId}` : null;
  return { api, env, runUrl };
}

/** `--pr N`, or the pull request of the Actions event (`GITHUB_EVENT_PATH`). */
export async function resolvePullRequestNumber(given: number | undefined, env: GitHubEnvironment): Promise<number> {
  if (given !== undefined) return given;
  const fromEvent = await readEventPullRequest(env.eventPath);
  if (fromEvent === null) {
    throw new StrataError("invalid-argument", "which pull request? pass --pr N", {
      hint: "in a pull_request, pull_request_review or merge_group workflow it defaults to the event's pull request",
    });
  }
  return fromEvent;
}

/** In a merge queue (`merge_group`), the queue's commit: it needs the status as well as the pull request's head. */
export function mergeGroupHead(env: GitHubEnvironment): Promise<string | null> {
  return readMergeGroupHead(env.eventPath);
}
