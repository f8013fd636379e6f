import type { Command } from "commander";
import {
  createEndpointClient,
  loadBuildTrustedKeys,
  loadSigningKey,
  readDistributionSettings,
  resolveEndpointUrl,
  rollbackEnvironment,
} from "../../app/distribution/index.js";
import { StrataError } from "../../core/findings.js";
import { openRepository, printJson } from "../common.js";
import { attachAction } from "../spec.js";
import { rollbackCommand } from "../table.js";
import { appendStepSummary, githubMode, printAnnotations, printData } from "../output.js";
import { renderFindingsGithub } from "../render/findings.js";
import { renderPublishSummary } from "../render/publish-summary.js";
import { printPushResults, pusher } from "./push.js";

export function register(program: Command): void {
  attachAction(program, rollbackCommand, async (opts) => {
    const to = Number(opts.to);
    if (!/^\d+$/.test(opts.to) || to < 1)
      throw new StrataError("invalid-argument", `--to must be a version number, not ${JSON.stringify(opts.to)}`);
    const { root, files } = openRepository(opts);
    const settings = await readDistributionSettings(files);
    const url = await resolveEndpointUrl({ flag: opts.endpoint, settings });
    const signingKey = await loadSigningKey({ file: opts.signingKey });
    const result = await rollbackEnvironment({
      environment: opts.env,
      to,
      endpoint: createEndpointClient({ url: url!, token: process.env.STRATA_TOKEN }),
      signingKey,
      trustedKeys: await loadBuildTrustedKeys({ file: opts.trustedKeys, settings, signingKey }),
      source: { pushedBy: pusher() },
      ttlMs: settings.expiresAfterMs,
    });
    const { exitCode, ...rest } = result;
    if (opts.format === "json")
      printData(printJson({ schemaVersion: 1, ok: exitCode === 0, endpoint: url, rollbackOf: to, result: rest }));
    else printPushResults([result], { quiet: false, verb: `rolled back to the content of version ${to} as` });
    if (githubMode()) {
      printAnnotations(renderFindingsGithub(result.findings, root));
      appendStepSummary(
        renderPublishSummary({
          command: "rollback",
          endpoint: url!,
          results: [result],
          publishedAs: `rolled back to the content of version ${to}`,
        }),
      );
    }
    process.exitCode = exitCode;
  });
}
