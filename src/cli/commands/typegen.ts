import type { Command } from "commander";
import { runTypegen } from "../../app/typegen.js";
import { EXIT, exitCodeForFindings } from "../../core/findings.js";
import { addRepoOption, examples, openRepository } from "../common.js";
import { renderFindingsText } from "../render/findings.js";
import { errColor, log, print } from "../output.js";
import { docsUrl } from "../../core/docs.js";

export function register(program: Command): void {
  const cmd = program
    .command("typegen")
    .description(
      `write a TypeScript declaration of the effective config (StrataConfig, KeyPath, ValueAt): see ${docsUrl("typegen")}`,
    )
    .addHelpText(
      "after",
      examples([
        ["strata typegen --out src/strata-config.ts", "write the declaration"],
        ["strata typegen --out src/strata-config.ts --check", "CI: exit 1 when it is out of date"],
      ]),
    )
    .option("--out <file>", "write it to FILE, atomically (default, or -: print it to stdout)")
    .option("--check", "write nothing; exit 1 when --out FILE is not what typegen would write (for CI)");
  addRepoOption(cmd);
  cmd.action(async (opts: { out?: string; check?: boolean; repo?: string }) => {
    const { root, files } = openRepository(opts);
    const out = opts.out === "-" ? undefined : opts.out;
    const result = await runTypegen({ files, root, out, check: Boolean(opts.check) });
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
