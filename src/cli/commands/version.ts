import type { Command } from "commander";
import { packageVersion } from "../bundled.js";
import { printJson } from "../common.js";
import { printData } from "../output.js";
import { attachAction } from "../spec.js";
import { versionCommand } from "../table.js";

export function register(program: Command): void {
  attachAction(program, versionCommand, (opts) => {
    if (opts.format === "json")
      printData(printJson({ schemaVersion: 1, version: packageVersion(), node: process.versions.node }));
    else printData(`${packageVersion()}\n`);
  });
}
