/**
 * Markdown of an approval decision, for the job summary and the sticky pull request comment. It names
 * keys and people only, never values.
 */
import { describeMissing, formatOwners, type ApprovalDecision } from "./evaluate.js";

function escapeCell(text: string): string {
  return text.replace(/\\/g, "\\\\").replace(/\|/g, "\\|").replace(/\r?\n/g, " ");
}

function listKeys(changes: readonly { environment: string; key: string }[], max = 5): string {
  const keys = changes.map((c) => `\`${c.environment}: ${c.key}\``);
  return keys.length <= max ? keys.join(", ") : `${keys.slice(0, max).join(", ")} and ${keys.length - max} more`;
}

export function renderApprovalsMarkdown(decision: ApprovalDecision): string {
  const icon = decision.met ? "✅" : decision.state === "failure" ? "❌" : "⏳";
  const lines = [`### ${icon} Approvals: ${escapeCell(decision.description)}`, ""];
  if (decision.emergency?.active) {
    lines.push(
      `> [!WARNING]`,
      `> Emergency label \`${decision.emergency.label}\` is set: every requirement is lowered to ${decision.emergency.require}. This is recorded.`,
      "",
    );
  }
  if (decision.rules.length === 0) lines.push("No approval rule matches these changes.");
  else {
    lines.push("| Rule | Needs | Approved by | Status | Because of |", "|---|---|---|---|---|");
    for (const r of decision.rules) {
      const needs = `${r.required} from ${formatOwners(r.from)}${r.required !== r.require ? ` (normally ${r.require})` : ""}`;
      const by = r.approvedBy.map((l) => `@${l}`).join(", ") || "—";
      const status = r.met ? "met" : `needs ${describeMissing(r)}`;
      lines.push(
        `| ${escapeCell(r.name)} | ${escapeCell(needs)} | ${escapeCell(by)} | ${escapeCell(status)} | ${escapeCell(listKeys(r.changes))} |`,
      );
    }
  }
  const notes: string[] = [];
  if (decision.changesRequestedBy.length > 0)
    notes.push(
      `Changes requested by ${decision.changesRequestedBy.map((l) => `@${l}`).join(", ")}: blocked until they approve or their review is dismissed.`,
    );
  const stale = decision.reviewers.filter((r) => r.reason === "stale").map((r) => `@${r.login}`);
  if (stale.length > 0)
    notes.push(`Approvals on an older commit do not count (\`dismiss_stale\`): ${stale.join(", ")}.`);
  if (notes.length > 0) lines.push("", ...notes.map((n) => `- ${n}`));
  return lines.join("\n") + "\n";
}
