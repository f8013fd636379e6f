/**
 * `strata diff --format github`: workflow commands (an error annotation per new problem at head, a notice
 * per changed environment) for the log, and the markdown diff appended to the job summary.
 */
import type { DiffResult } from "../../core/diff/model.js";
import { redact } from "../../core/redact.js";
import { countByKind } from "./diff-common.js";
import { renderDiffMarkdown } from "./diff-markdown.js";
import { appendStepSummary } from "../output.js";
import { escapeData, escapeProperty, renderFindingsGithub } from "./findings.js";

export function renderDiffGithub(result: DiffResult, repoRoot: string): string {
  const findings = [
    ...result.problems.filter((p) => p.side === "head").map((p) => p.finding),
    ...Object.values(result.environments).flatMap((e) => e.invalid),
  ];
  let out = renderFindingsGithub(findings, repoRoot);
  for (const [name, env] of Object.entries(result.environments)) {
    const n = countByKind(env);
    out += `::notice title=${escapeProperty(redact(`strata diff: ${name}`))}::${escapeData(redact(`${name}${env.production ? " (production)" : ""}: ${n.added} added, ${n.removed} removed, ${n.changed} changed`))}\n`;
  }
  return out;
}

/** The job summary: the same markdown as the pull request comment. */
export function writeDiffStepSummary(result: DiffResult): void {
  // The step summary's own limit is 1 MiB; the comment limit keeps it readable.
  appendStepSummary(renderDiffMarkdown(result));
}
