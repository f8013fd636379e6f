import type { Command } from "commander";
import { readSettings } from "../../app/repository.js";
import { exitCodeForFindings } from "../../core/findings.js";
import type { EnvironmentInfo } from "../../core/model.js";
import { openRepository, printJson, reportFormat } from "../common.js";
import { attachAction } from "../spec.js";
import { envsCommand } from "../table.js";
import { renderFindingsGithub, renderFindingsText } from "../render/findings.js";
import { color, print, printData } from "../output.js";

export function register(program: Command): void {
  attachAction(program, envsCommand, async (opts) => {
    const { root, files } = openRepository(opts);
    const parsed = await readSettings(files);
    const findings = [...parsed.parseFindings, ...parsed.findings];
    const envs = [...parsed.environments.values()];
    const format = reportFormat(opts.format);
    if (format === "json") {
      printData(
        printJson({
          schemaVersion: 1,
          environments: envs.map((e) => ({
            name: e.name,
            parent: e.parent,
            abstract: e.abstract,
            production: e.production,
            approvalRequired: e.approvalRequired,
            description: e.description,
            chain: e.chain,
          })),
          findings,
        }),
      );
    } else if (format === "github") {
      // The tree too: it is what a person reading the job's log wants to see.
      print(renderTree(envs));
      printData(renderFindingsGithub(findings, root));
    } else {
      print(renderTree(envs));
      if (findings.length) print(renderFindingsText(findings, ""));
    }
    process.exitCode = exitCodeForFindings(findings);
  });
}

function renderTree(envs: EnvironmentInfo[]): string {
  const children = new Map<string | null, EnvironmentInfo[]>();
  for (const e of envs) {
    const list = children.get(e.parent);
    if (list) list.push(e);
    else children.set(e.parent, [e]);
  }
  const lines: string[] = [];
  const walk = (parent: string | null, prefix: string): void => {
    const list = (children.get(parent) ?? []).sort((a, b) => a.name.localeCompare(b.name));
    list.forEach((e, i) => {
      const last = i === list.length - 1;
      const flags = [
        e.abstract ? color.dim("abstract") : null,
        e.production ? color.red("production") : null,
        e.approvalRequired && !e.production ? color.yellow("approval required") : null,
      ].filter(Boolean);
      const branch = parent === null ? "" : last ? "└─ " : "├─ ";
      lines.push(
        `${prefix}${branch}${color.bold(e.name)}${flags.length ? ` [${flags.join(", ")}]` : ""}${e.description ? color.dim(`  ${e.description}`) : ""}`,
      );
      walk(e.name, parent === null ? prefix : prefix + (last ? "   " : "│  "));
    });
  };
  walk(null, "");
  return lines.join("\n") + "\n";
}
