import type { Command } from "commander";
import { runTypegen } from "../../app/typegen.js";
import { EXIT, exitCodeForFindings, StrataError } from "../../core/findings.js";
import { STANDARD_STREAM } from "../../core/names.js";
import { openRepository, printJson } from "../common.js";
import { attachAction } from "../spec.js";
import { typegenCommand } from "../table.js";
import { renderFindingsText } from "../render/findings.js";
import { errColor, log, print, printData } from "../output.js";

export function register(program: Command): void {
  attachAction(program, typegenCommand, async (opts) => {
    const { root, files } = openRepository(opts);
    const out = opts.out === STANDARD_STREAM ? undefined : opts.out;
    if (opts.format === "json" && out === undefined)
      throw new StrataError("invalid-argument", "--format json reports on a file: it needs --out FILE", {
        hint: "without --out the declaration itself is printed",
      });
    const result = await runTypegen({
      files,
      root,
      out,
      check: Boolean(opts.check),
      ...(opts.service !== undefined ? { service: opts.service } : {}),
    });
    if (opts.format === "json") {
      process.exitCode =
        result.text === null
          ? exitCodeForFindings(result.findings)
          : result.upToDate === false
            ? EXIT.findings
            : EXIT.ok;
      printData(
        printJson({
          schemaVersion: 1,
          ok: process.exitCode === EXIT.ok,
          out,
          check: Boolean(opts.check),
          upToDate: result.upToDate,
          written: result.written,
          namespaces: result.namespaces,
          keyPaths: result.keyPaths,
          command: result.command,
          findings: result.findings,
        }),
      );
      return;
    }
    if (result.text === null) {
      // stdout may be redirected into the declaration file: findings go to stderr, and nothing is written.
      log(renderFindingsText(result.findings, "✗ the schemas have errors; no types generated").trimEnd());
      process.exitCode = exitCodeForFindings(result.findings);
      return;
    }
    if (result.findings.length > 0) log(renderFindingsText(result.findings, "").trimEnd());
    if (result.upToDate === false) {
      log(`${errColor.red("✗")} ${opts.out} is out of date with the schemas: regenerate it with \`${result.command}\``);
      process.exitCode = EXIT.findings;
    } else if (result.upToDate === true) log(`✓ ${opts.out} is up to date`);
    else if (result.written === null) print(result.text);
    else
      log(
        `wrote ${result.written}: ${result.namespaces.length} namespace${result.namespaces.length === 1 ? "" : "s"}, ${result.keyPaths} key paths`,
      );
  });
}
