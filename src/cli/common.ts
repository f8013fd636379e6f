/** Options and plumbing shared by the command modules. */
import { Option, type Command } from "commander";
import { StrataError } from "../core/findings.js";
import { redactJson } from "../core/redact.js";
import type { RepoFiles, SecretsOpener } from "../core/source.js";
import { openWorktree } from "../app/worktree.js";
import type { ReportFormat } from "./render/findings.js";
import { examples } from "./spec.js";

// One home for both: the option tables (spec.ts) and the commands still declared with commander use them.
export { collectList, examples } from "./spec.js";

export interface RepoOptions {
  repo?: string;
}

export function addRepoOption(cmd: Command): Command {
  return cmd.option("--repo <dir>", "the configuration repository (default: the current directory)");
}

/** `-o, --format`; report commands default to github under GitHub Actions (docs/reference.md). */
export function addFormatOption(
  cmd: Command,
  formats: readonly string[],
  fallback: string,
  options: { github?: boolean } = {},
): Command {
  const github = options.github ?? formats.includes("github");
  return cmd.addOption(
    new Option(
      "-o, --format <format>",
      `output format (${formats.join(", ")}; default: ${fallback}${github ? ", or github in GitHub Actions" : ""})`,
    ).choices([...formats]),
  );
}

export function reportFormat(format: string | undefined, supportsGithub = true): ReportFormat {
  if (format) return format as ReportFormat;
  return supportsGithub && process.env.GITHUB_ACTIONS === "true" ? "github" : "text";
}

export function openRepository(options: RepoOptions): { root: string; files: RepoFiles } {
  return openWorktree(options.repo ?? process.cwd());
}

/** The SOPS opener for resolution, loaded only when a command may decrypt; null when secrets are skipped. */
export async function openSecrets(skip: boolean, ignoreMac = false): Promise<SecretsOpener | null> {
  if (skip) return null;
  const { createSecretsOpener } = await import("../app/secrets/opener.js");
  return createSecretsOpener({ ignoreMac });
}

/** A JSON report with every string scrubbed of registered secrets (it stays valid JSON); print it with printData. */
export function printJson(doc: unknown): string {
  return JSON.stringify(redactJson(doc), null, 2) + "\n";
}

export function requireValue<T>(value: T | undefined, flag: string): T {
  if (value === undefined) throw new StrataError("invalid-argument", `missing ${flag}`);
  return value;
}

export function addExamples(cmd: Command, list: readonly (readonly [string, string])[]): Command {
  return cmd.addHelpText("after", examples(list));
}
