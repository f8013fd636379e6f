/** Plumbing shared by the command modules (their options are declared in table.ts). */
import { StrataError } from "../core/findings.js";
import { redactJson } from "../core/redact.js";
import type { RepoFiles, SecretsOpener } from "../core/source.js";
import { openWorktree } from "../app/worktree.js";
import type { ReportFormat } from "./render/findings.js";

// The top-level help's examples are written as each command's are (main.ts).
export { examples } from "./spec.js";

export interface RepoOptions {
  repo?: string;
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
