/** The repository's files as they are on disk (the default source of every command). */
import { closeSync, constants, existsSync, openSync, readFileSync, realpathSync, statSync } from "node:fs";
import { readdir, realpath } from "node:fs/promises";
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

/** Where the platform has it (not Windows): open() refuses a symbolic link as the file itself. */
const NO_FOLLOW: number | undefined = constants.O_NOFOLLOW;

/**
 * Files are read synchronously: a repository is thousands of small files, and a promise-based read (open,
 * fstat, read, close as four trips through the thread pool, each file held open meanwhile) costs ten times
 * the CPU of a synchronous one, and with every read in flight at once it would hold one descriptor per file.
 */
export function createWorktreeFiles(root: string): RepoFiles {
  const realRoot = realpathSync(root);
  const inside = (p: string): boolean => p === realRoot || p.startsWith(realRoot + sep);
  /**
   * Regular files that list() found through real directories (it never descends into a link): inside the
   * repository by construction, so reading one needs only that its last component is still no link.
   */
  const listedFiles = new Set<string>();
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
          else if (e.isFile()) {
            out.push(childRel);
            listedFiles.add(childRel);
          } else if (e.isSymbolicLink()) {
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
        if (NO_FOLLOW !== undefined && listedFiles.has(path)) {
          let fd: number | undefined;
          try {
            fd = openSync(full, constants.O_RDONLY | NO_FOLLOW);
          } catch (e) {
            // Replaced by a link since it was listed: checked below like any other path.
            if ((e as NodeJS.ErrnoException).code !== "ELOOP") throw e;
          }
          if (fd !== undefined) {
            try {
              return readFileSync(fd);
            } finally {
              closeSync(fd);
            }
          }
        }
        const target = realpathSync(full);
        if (!inside(target)) return null;
        return readFileSync(target);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === "ENOENT") return null;
        throw new StrataError("unreadable-file", `cannot read ${path}: ${(e as Error).message}`, { cause: e });
      }
    },
  };
}
