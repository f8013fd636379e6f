/**
 * The default branch of the repository a directory is in, for files strata writes that name it (the
 * workflow's `push: branches:`): origin's HEAD, else the branch checked out, else git's
 * `init.defaultBranch`. Null outside git, or when git is missing.
 */
import { existsSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { runGitRaw } from "./run.js";

export async function readDefaultBranchName(dir: string): Promise<string | null> {
  // A directory `strata init` is about to create: ask in the nearest one that exists.
  let at = resolve(dir);
  while (!existsSync(at) && dirname(at) !== at) at = dirname(at);
  const ask = async (args: string[]): Promise<string | null> => {
    try {
      const r = await runGitRaw(at, args);
      const out = r.stdout.toString("utf8").trim();
      return r.exitCode === 0 && out !== "" ? out : null;
    } catch {
      return null; // no git: the caller's default stands
    }
  };
  const origin = await ask(["symbolic-ref", "-q", "--short", "refs/remotes/origin/HEAD"]);
  if (origin !== null) return origin.replace(/^origin\//, "");
  return (
    (await ask(["symbolic-ref", "-q", "--short", "HEAD"])) ?? (await ask(["config", "--get", "init.defaultBranch"]))
  );
}
