import type { Command } from "commander";
import { Option } from "commander";
import { logConfig } from "../../app/log.js";
import { StrataError } from "../../core/findings.js";
import { locateCommitsRoot } from "../../app/worktree.js";
import { addRepoOption, examples, openSecrets, printJson } from "../common.js";
import { print, printData } from "../output.js";
import { renderLogText } from "../render/diff-log.js";

interface LogFlags {
  env: string;
  head?: string;
  maxCount?: string;
  format?: "text" | "json";
  skipSecrets?: boolean;
  firstParent?: boolean;
  repo?: string;
}

export function register(program: Command): void {
  const cmd = program
    .command("log")
    .description("config blame: the commits that changed the effective value of KEY in an environment")
    .addHelpText(
      "after",
      examples([
        ["strata log --env production database.pool.max", "who changed it, when, from what to what"],
        ["strata log --env production 'database.**' --max-count 50", "every key under database, recent history only"],
      ]),
    )
    .argument("<key>", "a key or a glob: database.pool.max, database.*, database.**")
    .requiredOption("-e, --env <name>", "the environment")
    .option("--head <ref>", "start from this commit (default: HEAD)")
    .option("--max-count <n>", "look at most this many config commits back")
    .addOption(new Option("-o, --format <format>", "output format").choices(["text", "json"]))
    .option("--skip-secrets", "do not decrypt: compare ciphertext of sensitive values")
    .option("--first-parent", "credit merges as the main line sees them, not the branch commits they brought");
  addRepoOption(cmd);
  cmd.action(async (key: string, opts: LogFlags) => {
    const dir = opts.repo ?? process.cwd();
    const maxCount = opts.maxCount === undefined ? undefined : Number(opts.maxCount);
    if (maxCount !== undefined && !(Number.isInteger(maxCount) && maxCount > 0))
      throw new StrataError("invalid-argument", `--max-count must be a positive integer, not ${opts.maxCount}`);
    const result = await logConfig({
      dir: locateCommitsRoot(dir),
      environment: opts.env,
      key,
      ...(opts.head !== undefined ? { head: opts.head } : {}),
      ...(maxCount !== undefined ? { maxCount } : {}),
      secrets: (await openSecrets(Boolean(opts.skipSecrets))) ?? null,
      firstParent: Boolean(opts.firstParent),
    });
    if (opts.format === "json") printData(printJson(result));
    else print(renderLogText(result));
  });
}
