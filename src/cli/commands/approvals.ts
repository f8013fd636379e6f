import type { Command } from "commander";
import { checkApprovals, type ApprovalsReport } from "../../app/approvals/check-approvals.js";
import { connectGitHub, mergeGroupHead, resolvePullRequestNumber } from "../../app/approvals/connect.js";
import { createDiffSeam, resolveDiffSeam, type DiffSeam } from "../../app/approvals/diff-seam.js";
import { COMMENT_LIMIT } from "../../core/approvals/comment.js";
import { describeMissing, formatOwners } from "../../core/approvals/evaluate.js";
import { renderApprovalsMarkdown } from "../../core/approvals/markdown.js";
import { EXIT, combineExitCodes, exitCodeForFindings } from "../../core/findings.js";
import { printJson, reportFormat } from "../common.js";
import { attachAction, attachCommand } from "../spec.js";
import { approvalsCheckCommand, approvalsCommand } from "../table.js";
import { appendStepSummary, color, log, print, printData } from "../output.js";
import { redact } from "../../core/redact.js";
import { escapeData, renderFindingsGithub } from "../render/findings.js";

export function register(program: Command): void {
  attachCommand(program, approvalsCommand);
  attachAction(program, approvalsCheckCommand, async (opts) => {
    const { api, env, runUrl } = await connectGitHub({
      warn: log,
      ...(opts.githubRepository ? { repository: opts.githubRepository } : {}),
    });
    const pullRequest = await resolvePullRequestNumber(opts.pr, env);
    const seam = resolveDiffSeam({ ...(opts.diff ? { diff: opts.diff } : {}) }, createCommandDiffSeam());
    const report = await checkApprovals({
      github: api,
      pullRequest,
      repoDir: opts.repo ?? process.cwd(),
      computeChanges: seam.computeChanges,
      setStatus: opts.status,
      targetUrl: runUrl,
      alsoStatusOn: await mergeGroupHead(env),
    });
    const format = reportFormat(opts.format);
    if (format === "json") printData(printJson(toJson(report)));
    else if (format === "github") printData(renderGithub(report, opts.repo ?? process.cwd()));
    else print(renderText(report));
    appendStepSummary(renderSummary(report));
    process.exitCode = combineExitCodes([
      exitCodeForFindings(report.findings),
      report.decision.met ? EXIT.ok : EXIT.findings,
    ]);
  });
}

/** Room the approvals section keeps in the sticky comment; the diff gets the rest of GitHub's limit. */
const APPROVALS_ROOM = 12_000;

/** The diff use case with the markdown renderer of `strata diff --format markdown`. */
export function createCommandDiffSeam(): DiffSeam {
  return createDiffSeam(async (result) => {
    const { renderDiffMarkdown } = await import("../render/diff-markdown.js");
    return renderDiffMarkdown(result, { maxLength: COMMENT_LIMIT - APPROVALS_ROOM });
  });
}

function toJson(r: ApprovalsReport): unknown {
  const d = r.decision;
  return {
    schemaVersion: 1,
    repository: r.repository,
    pullRequest: {
      number: r.pullRequest.number,
      title: r.pullRequest.title,
      author: r.pullRequest.author,
      url: r.pullRequest.htmlUrl,
      head: r.pullRequest.head.sha,
      base: r.pullRequest.base.sha,
      baseRef: r.pullRequest.base.ref,
      labels: r.pullRequest.labels,
    },
    rulesRef: r.rulesRef,
    met: d.met,
    state: d.state,
    description: d.description,
    emergency: d.emergency,
    rules: d.rules,
    reviewers: d.reviewers,
    approvedBy: d.approvedBy,
    changesRequestedBy: d.changesRequestedBy,
    changes: r.changes.map((c) => ({ environment: c.environment, key: c.key, sensitive: c.sensitive })),
    gateFilesChanged: r.gateFilesChanged,
    status: r.status,
    findings: r.findings,
  };
}

function renderText(r: ApprovalsReport): string {
  const d = r.decision;
  const pr = r.pullRequest;
  const lines = [
    `${color.bold(`#${pr.number}`)} ${pr.title} ${color.dim(`by @${pr.author}; rules from strata.yaml at ${pr.base.ref} (${r.rulesRef.slice(0, 12)})`)}`,
  ];
  if (d.rules.length === 0) lines.push(color.dim("no approval rule matches these changes"));
  for (const rule of d.rules) {
    const mark = rule.met ? color.green("✓") : color.red("✗");
    const needs = `${rule.required} from ${formatOwners(rule.from)}${rule.required !== rule.require ? ` (normally ${rule.require})` : ""}`;
    const by = rule.approvedBy.length
      ? `approved by ${rule.approvedBy.map((l) => `@${l}`).join(", ")}`
      : "no approvals yet";
    lines.push(
      `${mark} ${color.bold(rule.name)}: needs ${needs}; ${by}${rule.met ? "" : color.yellow(`; still needed: ${describeMissing(rule)}`)}`,
    );
    const keys = rule.changes.map((c) => `${c.environment}: ${c.key}`);
    lines.push(
      color.dim(
        `    because of ${keys.slice(0, 5).join(", ")}${keys.length > 5 ? ` and ${keys.length - 5} more` : ""}`,
      ),
    );
  }
  for (const v of d.reviewers) {
    const what =
      v.state === "changes-requested"
        ? color.red("requested changes")
        : v.counts
          ? color.green("approved")
          : color.yellow(`approved an older commit (${(v.commitId ?? "").slice(0, 12)}), which does not count`);
    lines.push(`  @${v.login} ${what}`);
  }
  if (d.emergency?.active)
    lines.push(
      color.yellow(
        `emergency label ${d.emergency.label} is set: every requirement lowered to ${d.emergency.require} (recorded)`,
      ),
    );
  for (const f of r.findings)
    lines.push(`${color.red(f.severity)} [${f.code}] ${f.file ?? ""}${f.line ? `:${f.line}` : ""} ${f.message}`);
  if (r.gateFilesChanged.length)
    lines.push(
      color.dim(`this pull request changes ${r.gateFilesChanged.join(", ")}; the rules above are the base branch's`),
    );
  const result = d.met
    ? color.green("approved")
    : d.state === "failure"
      ? color.red("blocked")
      : color.yellow("waiting");
  lines.push(
    `${result}: ${d.description}${r.status ? color.dim(` (status ${r.status.context} set to ${r.status.state})`) : ""}`,
  );
  return lines.join("\n") + "\n";
}

function renderGithub(r: ApprovalsReport, repoRoot: string): string {
  const d = r.decision;
  let out = renderFindingsGithub(r.findings, repoRoot);
  const level = d.met ? "notice" : "error";
  // Scrubbed before escaping, so the workflow commands stay well-formed whatever a secret contains.
  out += `::${level} title=strata/approvals::${escapeData(redact(`#${r.pullRequest.number}: ${d.description}`))}\n`;
  return out + redact(renderText(r));
}

function renderSummary(r: ApprovalsReport): string {
  return `## strata approvals for #${r.pullRequest.number}\n\n${renderApprovalsMarkdown(r.decision)}\n_Rules from \`strata.yaml\` at ${r.pullRequest.base.ref} (\`${r.rulesRef.slice(0, 12)}\`)._\n`;
}
