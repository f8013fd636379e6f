import { StrataError } from "../../core/findings.js";
import { digestOf } from "../../core/snapshot/index.js";
import { readGitSource, readUncommittedChanges } from "../../io/repo/git-head.js";
import type { CallerSource } from "./build.js";

/**
 * `push` publishes what the working tree holds under HEAD's commit, so a tree whose snapshot inputs differ
 * from HEAD is refused: the signed `source.commit` would name content it does not contain. With
 * `allowDirty` it is published and the signed source says so: `dirty: true` and `dirtyDigest`, the sha256 of
 * the canonical JSON list of `[path, sha256 of the working-tree bytes or null when deleted]` of every changed
 * input, sorted by path (docs/distribution.md).
 */
export async function checkWorkingTree(repoDir: string, options: { allowDirty: boolean }): Promise<CallerSource> {
  const git = await readGitSource(repoDir);
  if (!git.dirty) return {};
  const changes = await readUncommittedChanges(repoDir);
  if (!options.allowDirty) {
    const shown = changes
      .slice(0, 5)
      .map(([p]) => p)
      .join(", ");
    throw new StrataError(
      "invalid-argument",
      `the working tree has uncommitted changes to the configuration (${shown}${changes.length > 5 ? `, and ${changes.length - 5} more` : ""}); push publishes under commit ${(git.commit ?? "").slice(0, 12)}, which does not contain them`,
      {
        hint: "commit the changes first, or pass --allow-dirty to publish them marked source.dirty in the signed snapshot",
      },
    );
  }
  return { dirty: true, dirtyDigest: digestOf(changes) };
}
