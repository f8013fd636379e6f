/**
 * What the dashboard takes from the repository the server was started with (`strata serve --repo`): the
 * environment tree of strata.yaml and the schemas' key metadata (restart-required, deprecated), read once
 * (the server's trusted keys come from the same repository and are read once too); and, on every request,
 * its HEAD, to say whether what an environment serves is what the repository now says (drift).
 */
import { keyMetadata, loadRepository } from "../../app/repository.js";
import type { EnvironmentInfo, KeyMetadata } from "../../core/model.js";
import type { EnvironmentRow } from "../../core/protocol/index.js";
import { runGitRaw } from "../../io/git/run.js";
import { createWorktreeFiles, findRepositoryRoot } from "../../io/repo/worktree.js";

type Drift = NonNullable<NonNullable<EnvironmentRow["current"]>["drift"]>;

export interface RepositoryView {
  environments: ReadonlyMap<string, EnvironmentInfo>;
  metadata(key: string): KeyMetadata | null;
  /** The `origin` remote's URL, credentials removed; null without one. */
  url: string | null;
  /** The commit HEAD points at now, or null (no commit, git missing). */
  head(): Promise<string | null>;
  /** Whether HEAD changed what `environment` is built from since `commit`. */
  drift(environment: string, commit: string | null, head: string): Promise<Drift>;
}

const COMMIT = /^[0-9a-f]{40}(?:[0-9a-f]{24})?$/;

async function git(dir: string, args: string[]): Promise<{ code: number; out: string }> {
  const r = await runGitRaw(dir, args).catch(() => null);
  return r === null ? { code: -1, out: "" } : { code: r.exitCode, out: r.stdout.toString("utf8").trim() };
}

/** Null when the repository cannot be read: the dashboard then shows what the store alone knows. */
export async function loadRepositoryView(dir: string): Promise<RepositoryView | null> {
  try {
    const root = findRepositoryRoot(dir);
    const repo = await loadRepository(createWorktreeFiles(root), {
      secrets: null,
      environments: new Set(),
    });
    const origin = await git(root, ["config", "--get", "remote.origin.url"]);
    // One answer per (environment, commit, HEAD): a commit's files never change.
    const drifts = new Map<string, Drift>();
    return {
      environments: repo.environments,
      metadata: (key) => (repo.schemas.has(key.split(".")[0] ?? "") ? keyMetadata(repo, key) : null),
      url: origin.code === 0 && origin.out !== "" ? origin.out.replace(/\/\/[^@/]+@/, "//") : null,
      async head() {
        const r = await git(root, ["rev-parse", "--verify", "-q", "HEAD^{commit}"]);
        return r.code === 0 && COMMIT.test(r.out) ? r.out : null;
      },
      async drift(environment, commit, head) {
        if (commit === null || !COMMIT.test(commit)) return { state: "unknown", head, files: [] };
        if (commit === head) return { state: "same", head, files: [] };
        const key = `${environment}\u0000${commit}\u0000${head}`;
        const known = drifts.get(key);
        if (known !== undefined) return known;
        // What an environment is built from: strata.yaml, the schemas, its own and its ancestors' directories.
        const chain = repo.environments.get(environment)?.chain ?? [environment];
        const paths = ["strata.yaml", "schemas", ...chain.map((e) => `environments/${e}`)];
        const r = await git(root, ["diff", "--name-only", "--no-renames", commit, head, "--", ...paths]);
        const drift: Drift =
          r.code !== 0
            ? { state: "unknown", head, files: [] }
            : r.out === ""
              ? { state: "unchanged", head, files: [] }
              : { state: "changed", head, files: r.out.split("\n").slice(0, 20) };
        if (drifts.size > 10_000) drifts.clear();
        drifts.set(key, drift);
        return drift;
      },
    };
  } catch {
    return null;
  }
}
