/**
 * `strata diff --format markdown`: the pull request comment. A summary table (production first), then one
 * `<details>` block per environment; always under GitHub's 65,536-character comment limit, truncated with
 * a note. Exported for the PR-comment command.
 */
import type { DiffResult, EnvironmentDiff, KeyChange } from "../../core/diff/model.js";
import {
  countByKind,
  describeEnvironmentStatus,
  describeItem,
  describeSensitive,
  formatValue,
  shortSha,
  totalChanges,
} from "./diff-common.js";

/** GitHub rejects comments longer than this. */
const GITHUB_COMMENT_LIMIT = 65_536;

export interface MarkdownOptions {
  /** Maximum length of the output in characters (default: GitHub's comment limit). */
  maxLength?: number;
  /** A heading line; default "strata diff". */
  title?: string;
}

function escapeHtml(s: string): string {
  return s
    .replace(/&/g, "&amp;")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;")
    .replace(/\|/g, "&#124;")
    .replace(/\r?\n/g, " ");
}

function code(s: string): string {
  return s === "" ? "" : `<code>${escapeHtml(s)}</code>`;
}

function changeRow(c: KeyChange): string {
  const flags = [
    ...c.flags.map((f) =>
      f === "deprecated" && c.deprecated
        ? `⚠️ deprecated: ${escapeHtml(c.deprecated)}`
        : f === "restart-required"
          ? "🔄 restart required"
          : f,
    ),
  ];
  if (c.owner) flags.push(`owner ${escapeHtml(c.owner)}`);
  if (c.approvers.length) flags.push(`approvers ${escapeHtml(c.approvers.join(", "))}`);
  const kind = c.change === "added" ? "➕ added" : c.change === "removed" ? "➖ removed" : "✏️ changed";
  let before = "";
  let after = "";
  if (c.sensitive) {
    before = `🔒 _${describeSensitive(c)}_`;
  } else {
    before = code(formatValue(c.before));
    after = code(formatValue(c.after));
    if (c.items?.length)
      after += `<br>${c.items
        .slice(0, 10)
        .map((i) => escapeHtml(describeItem(i)))
        .join("<br>")}${c.items.length > 10 ? `<br>…${c.items.length - 10} more` : ""}`;
  }
  const layer = c.layer ? code(c.layer.file) : "";
  return `| ${code(c.key)} | ${kind} | ${before} | ${after} | ${layer} | ${flags.join("<br>")} |`;
}

const TABLE_HEAD = ["| key | change | before | after | layer | flags |", "|---|---|---|---|---|---|"];

function summaryRows(result: DiffResult): string[] {
  // The services column only when strata.yaml declares services (the diff then says who receives each change).
  const withServices = Object.values(result.environments).some((e) => e.services !== undefined);
  const rows = withServices
    ? [
        "| environment | services | added | removed | changed | sensitive | invalid |",
        "|---|---|---:|---:|---:|---:|---:|",
      ]
    : ["| environment | added | removed | changed | sensitive | invalid |", "|---|---:|---:|---:|---:|---:|"];
  for (const [name, env] of Object.entries(result.environments)) {
    const n = countByKind(env);
    const sensitive = env.changes.filter((c) => c.sensitive).length;
    const title = escapeHtml(describeEnvironmentStatus(name, env));
    const services = withServices ? ` ${describeServices(env)} |` : "";
    rows.push(
      `| ${env.production ? `**${title}** 🏭` : title} |${services} ${n.added} | ${n.removed} | ${n.changed} | ${sensitive} | ${env.invalid.length ? `❌ ${env.invalid.length}` : 0} |`,
    );
  }
  return rows;
}

/** The services that receive an environment's changes; a changed declaration is marked. */
function describeServices(env: EnvironmentDiff): string {
  const declared = new Set(env.serviceDeclarations ?? []);
  const names = (env.services ?? []).map((s) => `${code(s)}${declared.has(s) ? " (declaration)" : ""}`);
  return names.length === 0 ? "—" : names.join(", ");
}

function detailsBlock(name: string, env: EnvironmentDiff, rows: string[], hidden: number): string {
  const lines = [
    `<details${env.production ? " open" : ""}><summary><b>${escapeHtml(describeEnvironmentStatus(name, env))}</b> — ${env.changes.length} change(s)${env.invalid.length ? `, ${env.invalid.length} new problem(s)` : ""}</summary>`,
    "",
  ];
  if (env.invalid.length) {
    for (const f of env.invalid) lines.push(`- ❌ \`${f.code}\` ${escapeHtml(f.message)}`);
    lines.push("");
  }
  if (rows.length) lines.push(...TABLE_HEAD, ...rows, "");
  if (hidden > 0) lines.push(`_…${hidden} more change(s) in ${escapeHtml(name)} not shown._`, "");
  lines.push("</details>", "");
  return lines.join("\n");
}

export function renderDiffMarkdown(result: DiffResult, options: MarkdownOptions = {}): string {
  const max = options.maxLength ?? GITHUB_COMMENT_LIMIT;
  const envs = Object.entries(result.environments);
  const head: string[] = [
    `### ${options.title ?? "strata diff"}`,
    "",
    `Effective configuration \`${shortSha(result.base)}\` → \`${shortSha(result.head)}\`: ${envs.length === 0 ? "**no changes**." : `**${totalChanges(result)} change(s)** in ${envs.length} environment(s).`}`,
    "",
  ];
  for (const p of result.problems)
    head.push(`> ❌ **${p.side}**: \`${p.finding.code}\` ${escapeHtml(p.finding.message)}`, "");
  for (const r of result.renamedNamespaces) head.push(`- namespace \`${r.from}\` renamed to \`${r.to}\``);
  if (result.renamedNamespaces.length) head.push("");
  const layers = result.changedLayers.filter((l) => l.reaches.length > 0);
  if (layers.length) {
    head.push("**Blast radius**", "");
    for (const l of layers.slice(0, 50))
      head.push(`- ${code(l.file)} → ${l.reaches.map((r) => escapeHtml(r)).join(", ")}`);
    if (layers.length > 50) head.push(`- …${layers.length - 50} more changed layer(s)`);
  }
  if (envs.length) head.push(...(layers.length ? [""] : []), ...summaryRows(result), "");

  const note = (hidden: number): string =>
    `\n> ⚠️ Truncated to fit a GitHub comment: ${hidden} change(s) not shown. Run \`strata diff\` locally or use \`--format json\` for the full diff.\n`;
  let out = head.join("\n") + "\n";
  const reserve = note(999_999_999).length;
  if (out.length + reserve > max) {
    // Even the summary does not fit: cut it by lines.
    const lines = out.split("\n");
    while (lines.length > 1 && lines.join("\n").length + reserve > max) lines.pop();
    return (lines.join("\n") + note(totalChanges(result))).slice(0, max);
  }
  let hidden = 0;
  for (const [name, env] of envs) {
    const rows = env.changes.map(changeRow);
    const full = detailsBlock(name, env, rows, 0);
    if (hidden === 0 && out.length + full.length + reserve <= max) {
      out += full;
      continue;
    }
    // Fit as many rows of this environment as the budget allows, then drop the rest.
    let shown = 0;
    if (hidden === 0) {
      let lo = 0;
      let hi = rows.length;
      while (lo < hi) {
        const mid = Math.ceil((lo + hi) / 2);
        if (out.length + detailsBlock(name, env, rows.slice(0, mid), rows.length - mid).length + reserve <= max)
          lo = mid;
        else hi = mid - 1;
      }
      shown = lo;
      const partial = detailsBlock(name, env, rows.slice(0, shown), rows.length - shown);
      if (out.length + partial.length + reserve <= max) out += partial;
      else shown = 0;
    }
    hidden += env.changes.length - shown;
  }
  if (hidden > 0) out += note(hidden);
  return out;
}
