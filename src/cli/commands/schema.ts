import type { Command } from "commander";
import { exportSchemas } from "../../app/schema-export.js";
import { EXIT, exitCodeForFindings } from "../../core/findings.js";
import { addExamples, addRepoOption, openRepository } from "../common.js";
import { renderFindingsText } from "../render/findings.js";
import { errColor, log, print } from "../output.js";
import { docsUrl } from "../../core/docs.js";

export function register(program: Command): void {
  const schema = program.command("schema").description(`JSON Schemas for editors: see ${docsUrl("editors")}`);
  addExamples(schema, [
    ["strata schema export", "write .strata/ schemas and .vscode/settings.json"],
    ["strata schema export --check", "CI: fail when the exported schemas are stale"],
  ]);
  const cmd = schema
    .command("export")
    .description(
      "write the editor schemas: .strata/strata.schema.json (strata.yaml), .strata/schemas/<ns>.layer.schema.json (environments/*/<ns>.yaml), and the yaml.schemas and yaml.customTags entries of .vscode/settings.json (merged into the existing file)",
    )
    .option("--check", "write nothing; exit 1 when a file differs from what export would write (for CI)")
    .option("--no-vscode", "leave .vscode/settings.json alone");
  addRepoOption(cmd);
  addExamples(cmd, [
    ["strata schema export", "after changing schemas/: regenerate the editor schemas"],
    ["strata schema export --check", "in CI: exit 1 when they are out of date"],
    ["strata schema export --no-vscode", `another editor: bind .strata/schemas/ yourself (${docsUrl("editors")})`],
  ]);
  cmd.action(async (opts: { check?: boolean; vscode: boolean; repo?: string }) => {
    const { root, files } = openRepository(opts);
    const result = await exportSchemas({ files, root, check: Boolean(opts.check), vscode: opts.vscode });
    if (result.findings.length > 0)
      log(
        renderFindingsText(
          result.findings,
          result.findings.some((f) => f.severity === "error") ? "✗ the schemas have errors; nothing exported" : "",
        ).trimEnd(),
      );
    if (result.findings.some((f) => f.severity === "error")) {
      process.exitCode = exitCodeForFindings(result.findings);
      return;
    }
    const stale = [...result.changed, ...result.removed];
    if (opts.check) {
      if (stale.length === 0)
        print(
          `✓ the editor schemas are up to date (${result.namespaces.length} namespace${result.namespaces.length === 1 ? "" : "s"})`,
        );
      else {
        log(
          `${errColor.red("✗")} out of date: ${stale.join(", ")}\n  regenerate them with \`strata schema export\` and commit them`,
        );
        process.exitCode = EXIT.findings;
      }
      return;
    }
    for (const f of result.changed) print(`wrote ${f}`);
    for (const f of result.removed) print(`removed ${f} (its namespace has no schema any more)`);
    if (stale.length === 0)
      print(
        `✓ the editor schemas are up to date (${result.namespaces.length} namespace${result.namespaces.length === 1 ? "" : "s"})`,
      );
  });
}
