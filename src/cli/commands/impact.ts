import type { Command } from "commander";
import { computeImpact } from "../../app/distribution/impact.js";
import { renderImpactMarkdown, renderImpactText } from "../../app/distribution/impact-render.js";
import { createEndpointClient, loadTrustedKeys, resolveEndpointUrl } from "../../app/distribution/index.js";
import { printJson } from "../common.js";
import { appendStepSummary, githubMode, log, print, printData } from "../output.js";
import { attachAction } from "../spec.js";
import { impactCommand } from "../table.js";

export function register(program: Command): void {
  attachAction(program, impactCommand, async (opts) => {
    const repoDir = opts.repo ?? process.cwd();
    const url = await resolveEndpointUrl({ flag: opts.endpoint, repoDir });
    const report = await computeImpact({
      endpoint: createEndpointClient({ url: url!, token: process.env.STRATA_TOKEN }),
      environment: opts.env,
      service: opts.service ?? null,
      version: opts.version as number,
      trustedKeys: await loadTrustedKeys({ file: opts.trustedKeys, repoDir }),
    });
    const markdown = renderImpactMarkdown(report);
    if (opts.format === "json") printData(printJson(report));
    else if (opts.format === "markdown") print(markdown);
    else print(renderImpactText(report));
    if (githubMode()) appendStepSummary(markdown);
    if (!opts.comment) return;

    const { postImpact } = await import("../../app/distribution/impact-post.js");
    const post = await postImpact(report, markdown, {
      pr: opts.pr as number | undefined,
      repository: opts.githubRepository,
      warn: log,
    });
    if (post.posted)
      log(`${post.result.action} the rollout comment of #${post.pullRequest}: ${post.result.comment.htmlUrl}`);
    else if (post.why !== null) log(post.why);
  });
}
