/** Findings as text, JSON or GitHub workflow commands (docs/reference.md). */
import { relative, resolve } from "node:path";
import type { Finding } from "../../core/findings.js";
import { redact } from "../../core/redact.js";
import { color } from "../output.js";
import { escapeData, escapeProperty } from "./escape.js";

export type ReportFormat = "text" | "json" | "github";

export function renderFindingsText(findings: readonly Finding[], summary: string): string {
  const lines: string[] = [];
  for (const f of findings) {
    const sev = f.severity === "error" ? color.red("error") : color.yellow("warning");
    const where = f.file ? `${f.file}${f.line ? `:${f.line}${f.column ? `:${f.column}` : ""}` : ""}` : "";
    // Messages already start with the location when they have one; keep output scannable.
    const msg = where && f.message.startsWith(where) ? f.message.slice(where.length).replace(/^:\s*/, "") : f.message;
    const envs = affectedEnvironments(f);
    lines.push(
      `${where ? color.bold(where) + ": " : ""}${sev} ${color.dim(`[${f.code}]`)} ${msg}${envs ? color.dim(` (${envs})`) : ""}`,
    );
    if (f.hint) lines.push(`  ${color.dim("hint:")} ${f.hint}`);
  }
  lines.push(summary);
  return lines.join("\n") + "\n";
}

const LISTED_ENVIRONMENTS = 8;

/** The environments a finding affects, comma-separated (a shared layer's mistake fails all its heirs). */
function affectedEnvironments(f: Finding): string {
  const envs = f.environments?.length ? f.environments : f.environment ? [f.environment] : [];
  if (envs.length <= LISTED_ENVIRONMENTS) return envs.join(", ");
  return `${envs.slice(0, LISTED_ENVIRONMENTS).join(", ")} and ${envs.length - LISTED_ENVIRONMENTS} more`;
}

export { escapeData, escapeProperty } from "./escape.js";

/** File paths relative to $GITHUB_WORKSPACE in github format (docs/reference.md). */
function workspacePath(file: string, repoRoot: string): string {
  const ws = process.env.GITHUB_WORKSPACE;
  if (!ws) return file;
  return relative(resolve(ws), resolve(repoRoot, file)).split("\\").join("/");
}

/**
 * Workflow commands for findings. Secrets are scrubbed before escaping: once `%`, CR or LF are escaped a
 * secret containing them no longer matches, and scrubbing the escaped text could break the command.
 */
export function renderFindingsGithub(findings: readonly Finding[], repoRoot: string): string {
  return findings
    .map((f) => {
      const props: string[] = [];
      if (f.file) props.push(`file=${escapeProperty(redact(workspacePath(f.file, repoRoot)))}`);
      if (f.line) props.push(`line=${f.line}`);
      if (f.column) props.push(`col=${f.column}`);
      props.push(`title=${escapeProperty(f.code)}`);
      const cmd = f.severity === "error" ? "error" : "warning";
      const envs = affectedEnvironments(f);
      return `::${cmd} ${props.join(",")}::${escapeData(redact(f.message + (envs ? ` (${envs})` : "") + (f.hint ? `\n${f.hint}` : "")))}\n`;
    })
    .join("");
}

export function findingsSummaryMarkdown(title: string, findings: readonly Finding[]): string {
  const errors = findings.filter((f) => f.severity === "error").length;
  const warnings = findings.length - errors;
  const lines = [
    `### ${title}`,
    "",
    errors === 0
      ? `:white_check_mark: no errors${warnings ? `, ${warnings} warning(s)` : ""}`
      : `:x: ${errors} error(s), ${warnings} warning(s)`,
    "",
  ];
  if (findings.length) {
    lines.push("| severity | code | location | message |", "|---|---|---|---|");
    for (const f of findings.slice(0, 200)) {
      const loc = f.file ? `${f.file}${f.line ? `:${f.line}` : ""}` : "";
      lines.push(`| ${f.severity} | \`${f.code}\` | ${loc} | ${f.message.replace(/\|/g, "\\|").replace(/\n/g, " ")} |`);
    }
    if (findings.length > 200) lines.push("", `…and ${findings.length - 200} more`);
  }
  return lines.join("\n") + "\n";
}
