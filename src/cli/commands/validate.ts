import type { Command } from "commander";
import { exitCodeForFindings } from "../../core/findings.js";
import { validateRepository } from "../../app/validate.js";
import { openRepository, openSecrets, printJson, reportFormat } from "../common.js";
import { attachAction } from "../spec.js";
import { validateCommand } from "../table.js";
import { findingsSummaryMarkdown, renderFindingsGithub, renderFindingsText } from "../render/findings.js";
import { appendStepSummary, print, printData, startProgress } from "../output.js";

export function register(program: Command): void {
  attachAction(program, validateCommand, async (opts) => {
    const { root, files } = openRepository(opts);
    const progress = opts.quiet ? { update: () => {}, stop: () => {} } : await startProgress("loading the repository");
    const result = await validateRepository({
      files,
      environments: opts.env,
      secrets: await openSecrets(Boolean(opts.skipSecrets), Boolean(opts.ignoreMac)),
      onProgress: (done, total, env) => progress.update(`validating ${done + 1}/${total}: ${env}`),
    }).finally(() => progress.stop());
    const format = reportFormat(opts.format);
    const errors = result.findings.filter((f) => f.severity === "error").length;
    const warnings = result.findings.length - errors;
    const summary = result.ok
      ? `✓ ${result.environments.length} environment(s) valid${warnings ? ` (${warnings} warning${warnings === 1 ? "" : "s"})` : ""}: ${result.environments.join(", ")}`
      : `✗ ${errors} error(s), ${warnings} warning(s) in ${result.environments.length} environment(s)`;
    if (format === "json")
      printData(
        printJson({ schemaVersion: 1, ok: result.ok, environments: result.environments, findings: result.findings }),
      );
    else if (format === "github") {
      printData(renderFindingsGithub(result.findings, root));
      // A green job's log says what passed (on failure, the annotations are the whole story).
      if (result.ok) print(summary);
      appendStepSummary(
        findingsSummaryMarkdown(
          `strata validate: ${result.environments.length} environment(s) (${result.environments.join(", ")})`,
          result.findings,
        ),
      );
    } else if (opts.quiet) {
      const onlyErrors = result.findings.filter((f) => f.severity === "error");
      if (onlyErrors.length > 0) print(renderFindingsText(onlyErrors, "").trimEnd());
    } else print(renderFindingsText(result.findings, summary));
    process.exitCode = exitCodeForFindings(result.findings);
  });
}
