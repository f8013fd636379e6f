import type { Command } from "commander";
import { attachAction } from "../spec.js";
import { logCommand } from "../table.js";
import { logConfig } from "../../app/log.js";
import { StrataError } from "../../core/findings.js";
import { locateCommitsRoot } from "../../app/worktree.js";
import { openSecrets, printJson } from "../common.js";
import { print, printData } from "../output.js";
import { renderLogText } from "../render/diff-log.js";

export function register(program: Command): void {
  attachAction(program, logCommand, async (opts, [key]) => {
    const dir = opts.repo ?? process.cwd();
    const maxCount = opts.maxCount === undefined ? undefined : Number(opts.maxCount);
    if (maxCount !== undefined && !(Number.isInteger(maxCount) && maxCount > 0))
      throw new StrataError("invalid-argument", `--max-count must be a positive integer, not ${opts.maxCount}`);
    const result = await logConfig({
      dir: locateCommitsRoot(dir),
      environment: opts.env,
      key: key!,
      ...(opts.head !== undefined ? { head: opts.head } : {}),
      ...(maxCount !== undefined ? { maxCount } : {}),
      secrets: (await openSecrets(Boolean(opts.skipSecrets))) ?? null,
      firstParent: Boolean(opts.firstParent),
    });
    if (opts.format === "json") printData(printJson(result));
    else print(renderLogText(result));
  });
}
