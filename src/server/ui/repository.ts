/**
 * What the dashboard takes from the repository the server was started with (`strata serve --repo`): the
 * environment tree of strata.yaml and the schemas' key metadata (restart-required, deprecated). Read once:
 * the server's trusted keys come from the same repository and are read once too.
 */
import { keyMetadata, loadRepository } from "../../app/repository.js";
import type { EnvironmentInfo, KeyMetadata } from "../../core/model.js";
import { createWorktreeFiles, findRepositoryRoot } from "../../io/repo/worktree.js";

export interface RepositoryView {
  environments: ReadonlyMap<string, EnvironmentInfo>;
  metadata(key: string): KeyMetadata | null;
}

/** Null when the repository cannot be read: the dashboard then shows what the store alone knows. */
export async function loadRepositoryView(dir: string): Promise<RepositoryView | null> {
  try {
    const repo = await loadRepository(createWorktreeFiles(findRepositoryRoot(dir)), {
      secrets: null,
      environments: new Set(),
    });
    return {
      environments: repo.environments,
      metadata: (key) => (repo.schemas.has(key.split(".")[0] ?? "") ? keyMetadata(repo, key) : null),
    };
  } catch {
    return null;
  }
}
