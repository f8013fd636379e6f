/** `strata diff` for a terminal: coloured, grouped by environment, production first. */
import type { DiffResult, KeyChange } from "../../core/diff/model.js";
import { color } from "../output.js";
import {
  countByKind,
  describeEnvironmentStatus,
  describeItem,
  describeSensitive,
  formatValue,
  shortSha,
  totalChanges,
} from "./diff-common.js";

export interface TextLabels {
  base: string;
  head: string;
}

export function renderDiffText(
  result: DiffResult,
  labels: TextLabels = { base: shortSha(result.base), head: shortSha(result.head) },
): string {
  const lines: string[] = [color.bold(`strata diff ${labels.base} → ${labels.head}`)];
  for (const p of result.problems) {
    lines.push(`${color.red("error")} at ${p.side}: ${color.dim(`[${p.finding.code}]`)} ${p.finding.message}`);
  }
  for (const r of result.renamedNamespaces)
    lines.push(`namespace ${color.bold(r.from)} renamed to ${color.bold(r.to)}`);
  const layers = result.changedLayers.filter((l) => l.reaches.length > 0);
  if (layers.length > 0) {
    lines.push("", color.bold("changed layers (blast radius):"));
    for (const l of layers)
      lines.push(`  ${l.file}${l.renamedFrom ? color.dim(` (was ${l.renamedFrom})`) : ""} → ${l.reaches.join(", ")}`);
  }
  const envs = Object.entries(result.environments);
  if (envs.length === 0) {
    lines.push("", "no changes to the effective configuration");
    return lines.join("\n") + "\n";
  }
  for (const [name, env] of envs) {
    const n = countByKind(env);
    const title = describeEnvironmentStatus(name, env);
    lines.push(
      "",
      `${color.bold(env.production ? color.magenta(title) : title)}${env.production ? color.magenta(" [production]") : ""}  ${color.dim(`+${n.added} -${n.removed} ~${n.changed}`)}`,
    );
    if (env.services !== undefined) {
      const declared = new Set(env.serviceDeclarations ?? []);
      const names = env.services.map((s) => (declared.has(s) ? `${s} (declaration changed)` : s));
      lines.push(`  ${color.dim("services:")} ${names.length === 0 ? "none" : names.join(", ")}`);
    }
    for (const c of env.changes) lines.push(...renderChange(c));
    for (const f of env.invalid) {
      const where = f.file ? `${f.file}${f.line ? `:${f.line}` : ""}: ` : "";
      lines.push(
        `  ${color.red("✗ invalid")} ${color.dim(`[${f.code}]`)} ${where && f.message.startsWith(where.slice(0, -2)) ? f.message : where + f.message}`,
      );
    }
  }
  lines.push("", `${totalChanges(result)} change(s) in ${envs.length} environment(s)`);
  return lines.join("\n") + "\n";
}

function renderChange(c: KeyChange): string[] {
  const mark = c.change === "added" ? color.green("+") : c.change === "removed" ? color.red("-") : color.yellow("~");
  let body: string;
  if (c.sensitive) body = color.cyan(describeSensitive(c));
  else if (c.change === "added") body = color.green(formatValue(c.after));
  else if (c.change === "removed") body = color.red(formatValue(c.before));
  else body = `${color.red(formatValue(c.before))} → ${color.green(formatValue(c.after))}`;
  const extras: string[] = [];
  if (c.layer) extras.push(c.layer.file);
  for (const f of c.flags) extras.push(f === "deprecated" && c.deprecated ? `deprecated: ${c.deprecated}` : f);
  if (c.owner) extras.push(`owner ${c.owner}`);
  if (c.approvers.length > 0) extras.push(`approvers ${c.approvers.join(", ")}`);
  const lines = [`  ${mark} ${c.key}: ${body}${extras.length ? color.dim(`  (${extras.join("; ")})`) : ""}`];
  for (const item of c.items ?? []) lines.push(color.dim(`      ${describeItem(item)}`));
  return lines;
}
