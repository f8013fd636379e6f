import type { Command } from "commander";
import {
  createEndpointClient,
  loadBuildTrustedKeys,
  loadSigningKey,
  readDistributionSettings,
  resolveEndpointUrl,
  rollbackEnvironment,
} from "../../app/distribution/index.js";
import { openRevert, type OpenRevertResult } from "../../app/distribution/open-revert.js";
import { EXIT, exitCodeFor, StrataError } from "../../core/findings.js";
import { verifyCurrentSnapshot } from "../../core/snapshot/index.js";
import { openRepository, printJson } from "../common.js";
import { attachAction } from "../spec.js";
import { rollbackCommand } from "../table.js";
import { appendStepSummary, githubMode, log, print, printAnnotations, printData } from "../output.js";
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
    // GitHub is checked before anything is published: a rollback without the revert it was asked for would
    // leave git saying something the endpoint no longer serves.
    const github = opts.openRevert
      ? (
          await (
            await import("../../app/approvals/connect.js")
          ).connectGitHub({ warn: log, ...(opts.githubRepository ? { repository: opts.githubRepository } : {}) })
        ).api
      : null;
    const endpoint = createEndpointClient({ url: url!, token: process.env.STRATA_TOKEN });
    const trustedKeys = await loadBuildTrustedKeys({ file: opts.trustedKeys, settings, signingKey });
    const result = await rollbackEnvironment({
      environment: opts.env,
      to,
      endpoint,
      signingKey,
      trustedKeys,
      source: { pushedBy: pusher() },
      ttlMs: settings.expiresAfterMs,
    });
    let { exitCode } = result;
    const { exitCode: _, ...rest } = result;
    let revert: OpenRevertResult | { error: { code: string; message: string } } | null = null;
    if (github !== null && result.status === "published" && result.previousVersion !== null) {
      try {
        const rolledBack = await endpoint.version(opts.env, result.previousVersion);
        if (rolledBack === null)
          throw new StrataError("not-found", `${opts.env} has no version ${result.previousVersion}`);
        verifyCurrentSnapshot(rolledBack, opts.env, trustedKeys, `version ${result.previousVersion}`);
        revert = await openRevert({
          github,
          repoDir: root,
          environment: opts.env,
          rolledBack,
          to,
          published: result.version!,
          // Only for the reason the revert names: a status that cannot be read leaves it out.
          rollout: await endpoint.rollout(opts.env).catch(() => null),
        });
      } catch (error) {
        if (!(error instanceof StrataError)) throw error;
        revert = { error: { code: error.code, message: error.message } };
        exitCode = exitCode === EXIT.ok ? exitCodeFor(error.code) : exitCode;
        log(`error[${error.code}]: the rollback is published, but no revert pull request was opened: ${error.message}`);
        if (error.hint) log(`  hint: ${error.hint}`);
      }
    }
    if (opts.format === "json")
      printData(
        printJson({
          schemaVersion: 1,
          ok: exitCode === 0,
          endpoint: url,
          rollbackOf: to,
          result: rest,
          ...(opts.openRevert ? { revert } : {}),
        }),
      );
    else {
      printPushResults([result], { quiet: false, verb: `rolled back to the content of version ${to} as` });
      if (revert !== null && "revert" in revert) {
        print(
          `opened revert pull request #${revert.revert.number}: ${revert.revert.url} (branch ${revert.revert.branch})`,
        );
        if (revert.original !== null) print(`said so on #${revert.original.number}: ${revert.original.comment}`);
      }
    }
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
