/** The repository's files as they are on disk (the default source of every command). */
import { existsSync, realpathSync, statSync } from "node:fs";
import { readdir, readFile, realpath } from "node:fs/promises";
import { dirname, join, resolve, sep } from "node:path";
import { StrataError } from "../../core/findings.js";
import type { RepoFiles } from "../../core/source.js";

// Not imported from core/settings: that module pulls the schema engine into every command that only
// needs the repository root (secrets, exec), which start-up time forbids (test/cli/startup-modules).
const SETTINGS_FILE = "strata.yaml";

/**
 * The repository root for `--repo DIR`: DIR itself or the nearest ancestor with a strata.yaml
 * (as git finds .git), so commands work from a subdirectory.
 */
export function findRepositoryRoot(dir: string): string {
  const start = resolve(dir);
  if (!existsSync(start) || !statSync(start).isDirectory()) {
    throw new StrataError("missing-repository", `${dir} is not a directory`, {
      hint: "pass --repo DIR with the configuration repository",
    });
  }
  for (let d = start; ; d = dirname(d)) {
    if (existsSync(join(d, SETTINGS_FILE))) return d;
    if (dirname(d) === d) break;
  }
  throw new StrataError(
    "missing-repository",
    `not a strata repository: no ${SETTINGS_FILE} in ${start} or any parent directory`,
    { hint: "run `strata init` to create one, or pass --repo DIR" },
  );
}

/**
 * For the commands that read commits (`diff`, `log`): the repository root as above, or DIR itself when no
 * strata.yaml is found (the configuration may be deleted in the worktree yet present in the commits).
 */
export function findConfigRoot(dir: string): string {
  try {
    return findRepositoryRoot(dir);
  } catch (error) {
    if (!existsSync(dir)) throw error;
    return resolve(dir);
  }
}

export function createWorktreeFiles(root: string): RepoFiles {
  const realRoot = realpathSync(root);
  const inside = (p: string): boolean => p === realRoot || p.startsWith(realRoot + sep);
  return {
    label: root,
    async list(prefixes) {
      const out: string[] = [];
      const walk = async (rel: string, depth: number): Promise<void> => {
        if (depth > 16) return;
        let entries;
        try {
          entries = await readdir(join(root, rel), { withFileTypes: true });
        } catch {
          return;
        }
        for (const e of entries) {
          const childRel = rel === "" ? e.name : `${rel}/${e.name}`;
          if (e.isDirectory()) await walk(childRel, depth + 1);
          else if (e.isFile()) out.push(childRel);
          else if (e.isSymbolicLink()) {
            // A symlink may point anywhere; only files inside the repository are config.
            try {
              const target = await realpath(join(root, childRel));
              if (inside(target) && statSync(target).isFile()) out.push(childRel);
            } catch {
              /* dangling: ignore */
            }
          }
        }
      };
      for (const prefix of prefixes) {
        const p = prefix.replace(/\/+$/, "");
        if (existsSync(join(root, p)) && statSync(join(root, p)).isFile()) out.push(p);
        else await walk(p, 0);
      }
      return out.sort();
    },
    async read(path) {
      const full = join(root, path);
      try {
        const target = await realpath(full);
        if (!inside(target)) return null;
        return await readFile(target);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === "ENOENT") return null;
        throw new StrataError("unreadable-file", `cannot read ${path}: ${(e as Error).message}`, { cause: e });
      }
    },
  };
}
