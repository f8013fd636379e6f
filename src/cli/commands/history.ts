import type { Command } from "commander";
import { attachAction } from "../spec.js";
import { historyCommand } from "../table.js";
import { createEndpointClient, readHistory, resolveEndpointUrl } from "../../app/distribution/index.js";
import { printJson } from "../common.js";
import { print, printData } from "../output.js";

export function register(program: Command): void {
  attachAction(program, historyCommand, async (opts) => {
    const url = await resolveEndpointUrl({ flag: opts.endpoint, repoDir: opts.repo ?? process.cwd() });
    const versions = await readHistory({
      endpoint: createEndpointClient({ url: url!, token: process.env.STRATA_TOKEN }),
      environment: opts.env,
      service: opts.service,
    });
    const of = opts.service === undefined ? opts.env : `${opts.env}/${opts.service}`;
    if (opts.format === "json")
      return printData(
        printJson({
          schemaVersion: 1,
          environment: opts.env,
          ...(opts.service === undefined ? {} : { service: opts.service }),
          versions,
        }),
      );
    if (versions.length === 0) return print(`${of}: nothing published`);
    print(
      versions
        .map((v) => {
          const what = v.action === "rollback" ? `rollback to v${v.rollbackOf}` : v.action;
          // A version pushed with --allow-dirty is not the commit it names: say so next to it.
          const from = [
            v.source.commit?.slice(0, 12),
            v.source.dirty === true ? "(dirty)" : null,
            v.source.pullRequest !== null ? `#${v.source.pullRequest}` : null,
            v.source.pushedBy ?? v.actor,
          ]
            .filter(Boolean)
            .join(" ");
          return `v${v.version}  ${v.publishedAt}  ${what}${v.emergency ? " EMERGENCY" : ""}  ${v.digest.slice(0, 19)}…  ${from}`;
        })
        .join("\n"),
    );
  });
}
