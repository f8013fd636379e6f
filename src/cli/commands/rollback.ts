import { Option, type Command } from "commander";
import {
  createEndpointClient,
  loadBuildTrustedKeys,
  loadSigningKey,
  readDistributionSettings,
  resolveEndpointUrl,
  rollbackEnvironment,
} from "../../app/distribution/index.js";
import { StrataError } from "../../core/findings.js";
import { addRepoOption, examples, openRepository, printJson } from "../common.js";
import { appendStepSummary, githubMode, printAnnotations, printData } from "../output.js";
import { renderFindingsGithub } from "../render/findings.js";
import { renderPublishSummary } from "../render/publish-summary.js";
import { printPushResults, pusher } from "./push.js";

export function register(program: Command): void {
  const cmd = program
    .command("rollback")
    .description("publish a new version whose content is an older one's (rollbackOf)")
    .addHelpText(
      "after",
      examples([
        ["strata history --env production", "find the version to go back to"],
        [
          "strata rollback --env production --to 41 --signing-key ../signing.pem",
          "republish version 41's content as a new version",
        ],
      ]),
    )
    .requiredOption("-e, --env <name>", "the environment")
    .requiredOption("--to <version>", "the version whose content to republish")
    .option("--endpoint <url>", "the endpoint (default: STRATA_ENDPOINT, then distribution.endpoint)")
    .option("--signing-key <file>", "PKCS#8 PEM ed25519 key file (default: STRATA_SIGNING_KEY, the key's PEM text)")
    .option(
      "--trusted-keys <file>",
      "keys the current and the old version must be signed by (default: signing.trusted_keys, and the signing key)",
    );
  addRepoOption(cmd);
  cmd.addOption(new Option("-o, --format <format>", "output format").choices(["text", "json"]).default("text"));
  cmd.action(
    async (opts: {
      env: string;
      to: string;
      endpoint?: string;
      signingKey?: string;
      trustedKeys?: string;
      repo?: string;
      format?: string;
    }) => {
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
    },
  );
}
