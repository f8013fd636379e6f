import type { Command } from "commander";
import { exportSchemas } from "../../app/schema-export.js";
import { EXIT, exitCodeForFindings } from "../../core/findings.js";
import { openRepository, printJson } from "../common.js";
import { attachAction, attachCommand } from "../spec.js";
import { schemaCommand, schemaExportCommand } from "../table.js";
import { renderFindingsText } from "../render/findings.js";
import { errColor, log, print, printData } from "../output.js";

export function register(program: Command): void {
  attachCommand(program, schemaCommand);
  attachAction(program, schemaExportCommand, async (opts) => {
    const { root, files } = openRepository(opts);
    const result = await exportSchemas({ files, root, check: Boolean(opts.check), vscode: opts.vscode });
    if (opts.format === "json") {
      const invalid = result.findings.some((f) => f.severity === "error");
      const stale = invalid ? [] : [...result.changed, ...result.removed];
      process.exitCode = invalid
        ? exitCodeForFindings(result.findings)
        : opts.check && stale.length > 0
          ? EXIT.findings
          : EXIT.ok;
      printData(
        printJson({
          schemaVersion: 1,
          ok: process.exitCode === EXIT.ok,
          check: Boolean(opts.check),
          // With --check: the files export would change; else the files it changed.
          changed: invalid ? [] : result.changed,
          removed: invalid ? [] : result.removed,
          upToDate: invalid ? null : stale.length === 0,
          namespaces: result.namespaces,
          findings: result.findings,
        }),
      );
      return;
    }
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
