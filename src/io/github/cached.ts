/**
 * A GitHubApi that asks GitHub each read question once: a push that checks fifty merged pull requests
 * reads each team, each pull request's reviews and each commit's pull requests one time, however many
 * environments it publishes. Writes (statuses, comments) always go through.
 */
import type { GitHubApi } from "./api.js";

export interface ReadCacheOptions {
  /**
   * A file at a commit from a local clone, when it has the commit (undefined: it does not, ask GitHub).
   * Git objects are addressed by their content, so the local copy of a commit is GitHub's.
   */
  readLocalFile?: (path: string, ref: string) => Promise<string | null | undefined>;
}

export function withReadCache(api: GitHubApi, options: ReadCacheOptions = {}): GitHubApi {
  const memo = <A extends unknown[], R>(fn: (...args: A) => Promise<R>): ((...args: A) => Promise<R>) => {
    const cache = new Map<string, Promise<R>>();
    return (...args: A) => {
      const key = JSON.stringify(args);
      let hit = cache.get(key);
      if (hit === undefined) {
        hit = fn(...args);
        // A failure is not remembered: the next caller asks again (and sees the error itself).
        hit.catch(() => cache.delete(key));
        cache.set(key, hit);
      }
      return hit;
    };
  };
  const readLocal = options.readLocalFile;
  return {
    repository: api.repository,
    getPullRequest: memo((n: number) => api.getPullRequest(n)),
    listReviews: memo((n: number) => api.listReviews(n)),
    listChangedFiles: memo((n: number) => api.listChangedFiles(n)),
    readFile: memo(async (path: string, ref: string) => {
      const local = readLocal ? await readLocal(path, ref) : undefined;
      return local !== undefined ? local : api.readFile(path, ref);
    }),
    listTeamMembers: memo((team: string) => api.listTeamMembers(team)),
    setCommitStatus: (sha, status) => api.setCommitStatus(sha, status),
    getOwnLogin: memo(() => api.getOwnLogin()),
    listIssueComments: (n) => api.listIssueComments(n),
    createIssueComment: (n, body) => api.createIssueComment(n, body),
    updateIssueComment: (id, body) => api.updateIssueComment(id, body),
    listPullRequestsForCommit: memo((sha: string) => api.listPullRequestsForCommit(sha)),
    getDefaultBranch: memo(() => api.getDefaultBranch()),
    createPullRequest: (request) => api.createPullRequest(request),
    isCommitOnBranch: memo((sha: string, branch: string) => api.isCommitOnBranch(sha, branch)),
  };
}
