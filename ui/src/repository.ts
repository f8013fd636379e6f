// Where a version's commit and pull request are on the web, from the snapshot's `source.repository`: push
// fills it from GITHUB_REPOSITORY (`owner/name`, on GitHub) or the origin remote's URL (https, ssh or scp
// form, credentials already stripped). A bare directory name, or anything else, gives no address: the page
// then shows the commit and the number without a link. Only `https://` addresses are ever built, from a
// host and path checked character by character, so no value of the snapshot can make another kind of link.

const HOST = String.raw`[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)+`;
const PATH = String.raw`[\w.-]+(?:\/[\w.-]+)+`;
const URL_FORM = new RegExp(String.raw`^(?:https?|ssh|git)://(?:[^@/\s]+@)?(${HOST})(?::\d+)?/(${PATH})$`, "i");
const SCP_FORM = new RegExp(String.raw`^(?:[\w.-]+@)?(${HOST}):(${PATH})$`, "i");
const GITHUB_FORM = /^[\w.-]+\/[\w.-]+$/;

/** The repository's web address (`https://host/owner/name`), or null when `repository` does not say. */
export function repositoryWebUrl(repository: string | null): string | null {
  if (repository === null) return null;
  const r = repository
    .trim()
    .replace(/\/+$/, "")
    .replace(/\.git$/, "");
  const m = URL_FORM.exec(r) ?? SCP_FORM.exec(r);
  if (m !== null) {
    if (m[2]!.split("/").some((s) => s === "." || s === "..")) return null;
    return `https://${m[1]!.toLowerCase()}/${m[2]}`;
  }
  if (GITHUB_FORM.test(r) && !r.split("/").some((s) => s === "." || s === "..")) return `https://github.com/${r}`;
  return null;
}

/** The commit's page, for a hexadecimal commit id in a known repository. */
export function commitUrl(repository: string | null, commit: string | null): string | null {
  const base = repositoryWebUrl(repository);
  return base === null || commit === null || !/^[0-9a-f]{7,64}$/i.test(commit) ? null : `${base}/commit/${commit}`;
}

/** The pull request's page (a merge request's on GitLab). */
export function pullRequestUrl(repository: string | null, pullRequest: number | null): string | null {
  const base = repositoryWebUrl(repository);
  if (base === null || pullRequest === null || !Number.isSafeInteger(pullRequest) || pullRequest < 1) return null;
  return /^https:\/\/gitlab\./.test(base) ? `${base}/-/merge_requests/${pullRequest}` : `${base}/pull/${pullRequest}`;
}

/**
 * The repository to link a version's commit and pull request in: the one its snapshot recorded when that
 * gives an address, else the server's repository (`--repo`'s origin remote), e.g. when push recorded only a
 * directory name.
 */
export function linkRepository(recorded: string | null, server: string | null): string | null {
  return repositoryWebUrl(recorded) !== null ? recorded : server;
}
