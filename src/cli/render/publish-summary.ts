/**
 * The job summary of `push` and `rollback` under GitHub Actions: what each environment got (published,
 * unchanged, refused, in conflict, failed), its version and digest, the approval the publish rests on, and
 * every problem. Rendered from the results; written by output.ts's one summary writer.
 */
import type { PushResult } from "../../app/distribution/index.js";

const SHOWN: Record<PushResult["status"], string> = {
  published: "✓ published",
  unchanged: "= unchanged",
  refused: "✗ refused",
  conflict: "✗ conflict",
  failed: "✗ failed",
};

export interface PublishSummary {
  /** `push` or `rollback`. */
  command: string;
  endpoint: string;
  results: readonly PushResult[];
  /** `rolled back to the content of version 41` for a rollback's published line. */
  publishedAs?: string;
}

const cell = (s: string): string => s.replace(/\|/g, "\\|").replace(/\r?\n/g, " ");

export function renderPublishSummary(s: PublishSummary): string {
  const lines = [
    `### strata ${s.command} to ${s.endpoint}`,
    "",
    "| environment | result | version | digest |",
    "|---|---|---|---|",
  ];
  for (const r of s.results) {
    const result = r.status === "published" && s.publishedAs ? `✓ ${s.publishedAs}` : SHOWN[r.status];
    const refresh = r.status === "published" && r.action === "refresh" ? " (same content, new expiry)" : "";
    const digest = r.digest ? `\`${r.digest.slice(0, 19)}…\`` : "";
    lines.push(`| ${cell(r.environment)} | ${result}${refresh} | ${r.version ?? "–"} | ${digest} |`);
  }
  // Under `--require-approval`: every pull request each published version carries, with its approvers.
  for (const r of s.results) {
    if (!r.pullRequests?.length) continue;
    lines.push("", `${cell(r.environment)} v${r.version} publishes:`);
    for (const p of r.pullRequests)
      lines.push(
        `- pull request #${p.number}${p.approvedBy.length ? ` approved by ${p.approvedBy.map((u) => `@${cell(u)}`).join(", ")}` : ""}${p.emergency ? ", under the emergency label" : ""}`,
      );
  }
  const problems = s.results.flatMap((r) =>
    r.findings
      .filter((f) => f.severity === "error")
      .map((f) => `- ${cell(r.environment)}: \`${f.code}\` ${cell(f.message)}${f.hint ? ` (${cell(f.hint)})` : ""}`),
  );
  if (problems.length) lines.push("", ...problems);
  return `${lines.join("\n")}\n`;
}
