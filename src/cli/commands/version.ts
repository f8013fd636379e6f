import type { Command } from "commander";
import { packageVersion } from "../bundled.js";
import { addExamples, addFormatOption, printJson } from "../common.js";
import { printData } from "../output.js";

export function register(program: Command): void {
  const cmd = program.command("version").description("print strata's version (the same as --version)");
  addFormatOption(cmd, ["text", "json"], "text");
  addExamples(cmd, [
    ["strata version", "the version, e.g. 1.4.0"],
    ["strata version --format json", "the version and the Node.js that runs strata"],
  ]);
  cmd.action((opts: { format?: string }) => {
    if (opts.format === "json")
      printData(printJson({ schemaVersion: 1, version: packageVersion(), node: process.versions.node }));
    else printData(`${packageVersion()}\n`);
  });
}
