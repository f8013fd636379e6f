import type { Command } from "commander";
import { attachAction } from "../spec.js";
import { explainCommand } from "../table.js";
import { explainKey, type ExplainedKey } from "../../app/explain.js";
import { exitCodeForFindings } from "../../core/findings.js";
import type { Origin } from "../../core/model.js";
import { SENSITIVE_PLACEHOLDER } from "../../core/render-config.js";
import { openRepository, openSecrets, printJson, reportFormat } from "../common.js";
import { renderFindingsText } from "../render/findings.js";
import { color, log, print, printData } from "../output.js";

export function register(program: Command): void {
  attachAction(program, explainCommand, async (opts, [key]) => {
    const { files } = openRepository(opts);
    const result = await explainKey({
      files,
      environment: opts.env,
      key: key!,
      secrets: await openSecrets(Boolean(opts.skipSecrets)),
    });
    // explain never shows a sensitive value: it shows where it comes from.
    const shown = (k: ExplainedKey): unknown => (k.sensitive ? SENSITIVE_PLACEHOLDER : k.value);
    if (reportFormat(opts.format, false) === "json") {
      printData(
        printJson({
          schemaVersion: 1,
          environment: result.environment,
          key: result.key,
          keys: result.keys.map((k) => ({ ...k, value: shown(k) })),
          findings: result.findings,
        }),
      );
    } else {
      const errors = result.findings.filter((f) => f.severity === "error");
      if (errors.length) log(renderFindingsText(errors, "").trimEnd());
      print(result.keys.map((k) => renderKey(k, shown(k), result.environment)).join("\n"));
    }
    process.exitCode = exitCodeForFindings(result.findings);
  });
}

function at(o: Origin): string {
  return `${o.file}:${o.line}:${o.column}`;
}

function renderKey(k: ExplainedKey, value: unknown, env: string): string {
  const m = k.schema.metadata;
  const lines = [
    `${color.bold(k.key)} = ${typeof value === "string" ? value : JSON.stringify(value)}${k.sensitive ? color.yellow("  (sensitive)") : ""}  ${color.dim(`in ${env}`)}`,
  ];
  if (k.schema.description) lines.push(`  ${k.schema.description}`);
  lines.push(`  ${color.dim("set by")}`);
  k.layers.forEach((o, i) => {
    const who = o.environment === null ? "schema default" : o.environment;
    lines.push(`    ${i === 0 ? "→" : " "} ${who.padEnd(14)} ${at(o)}${i === 0 ? "" : color.dim("  (overridden)")}`);
  });
  const c = Object.entries(k.schema.constraints).map(([kw, v]) => `${kw}: ${JSON.stringify(v)}`);
  lines.push(`  ${color.dim("schema")}  ${k.schema.file}${c.length ? `  ${c.join(", ")}` : ""}`);
  const flags = [
    m.restartRequired ? "restart required" : null,
    m.deprecated ? `deprecated: ${m.deprecated}` : null,
    m.owner ? `owner: ${m.owner}` : null,
    m.approvers.length ? `approvers: ${m.approvers.join(", ")}` : null,
    m.merge && m.merge !== "replace" ? `x-merge: ${typeof m.merge === "string" ? m.merge : `by ${m.merge.by}`}` : null,
  ].filter(Boolean);
  if (flags.length) lines.push(`  ${color.dim("flags")}   ${flags.join("; ")}`);
  return lines.join("\n") + "\n";
}
