import { Option, type Command } from "commander";
import {
  buildSnapshot,
  createEndpointClient,
  loadBuildTrustedKeys,
  loadContentBuilder,
  loadSigningKey,
  loadTrustedKeys,
  readDistributionSettings,
  resolveEndpointUrl,
  verifySnapshotFile,
  writeSnapshotFile,
} from "../../app/distribution/index.js";
import { STANDARD_STREAM } from "../../core/names.js";
import { exitCodeForFindings, StrataError } from "../../core/findings.js";
import { serializeSnapshot } from "../../core/snapshot/index.js";
import { addRepoOption, examples, openRepository, printJson } from "../common.js";
import { renderFindingsText } from "../render/findings.js";
import { log, print, printData } from "../output.js";
import { pusher } from "./push.js";

export function register(program: Command): void {
  const cmd = program
    .command("snapshot")
    .description("build the signed snapshot push would send (or `snapshot verify FILE`)")
    .addHelpText(
      "after",
      examples([
        [
          "strata snapshot --env production --out production.json --signing-key ../signing.pem",
          "build it without publishing",
        ],
        ["strata snapshot verify production.json", "check its digest and signature against signing.trusted_keys"],
      ]),
    )
    .option("-e, --env <name>", "the environment")
    .option(
      "--service <name>",
      "a service's snapshot (strata.yaml services:): only its namespaces, secrets to its recipients (version 1: the endpoint has no service chains yet)",
    )
    .option("--out <file>", "write it here instead of stdout (-: stdout)")
    .option(
      "--endpoint <url>",
      "follow this endpoint's current version (default: STRATA_ENDPOINT, then distribution.endpoint; none: version 1)",
    )
    .option("--signing-key <file>", "PKCS#8 PEM ed25519 key file (default: STRATA_SIGNING_KEY, the key's PEM text)")
    .option(
      "--trusted-keys <file>",
      "keys the endpoint's current version must be signed by (default: signing.trusted_keys)",
    );
  addRepoOption(cmd);
  cmd.action(
    async (opts: {
      env?: string;
      service?: string;
      out?: string;
      endpoint?: string;
      signingKey?: string;
      trustedKeys?: string;
      repo?: string;
    }) => {
      if (opts.env === undefined) throw new StrataError("invalid-argument", "missing --env");
      const { root, files } = openRepository(opts);
      const settings = await readDistributionSettings(files);
      // A service's chain is not served by the endpoint yet: its snapshot is built as version 1.
      const url =
        opts.service === undefined
          ? await resolveEndpointUrl({ flag: opts.endpoint, settings, required: false })
          : null;
      const signingKey = await loadSigningKey({ file: opts.signingKey });
      const { snapshot, findings } = await buildSnapshot({
        environment: opts.env,
        service: opts.service ?? null,
        endpoint: url === null ? null : createEndpointClient({ url, token: process.env.STRATA_TOKEN }),
        buildContent: loadContentBuilder({ repoDir: root, files, settings: settings.parsed }),
        signingKey,
        // Without an endpoint there is no current version to verify.
        trustedKeys: url === null ? [] : await loadBuildTrustedKeys({ file: opts.trustedKeys, settings, signingKey }),
        source: { pushedBy: pusher() },
        ttlMs: settings.expiresAfterMs,
      });
      if (snapshot === null) {
        log(renderFindingsText(findings, `✗ ${opts.env}: the configuration has errors; no snapshot built`));
        process.exitCode = exitCodeForFindings(findings);
        return;
      }
      const text = serializeSnapshot(snapshot) + "\n";
      if (opts.out === undefined || opts.out === STANDARD_STREAM) printData(text);
      else {
        await writeSnapshotFile(opts.out, text);
        const of = opts.service === undefined ? opts.env : `${opts.env}/${opts.service}`;
        log(`wrote ${of} v${snapshot.version} (${snapshot.digest}) to ${opts.out}`);
      }
    },
  );

  cmd
    .command("verify")
    .description(
      "check a snapshot file: shape, digest, a trusted signature, and the secrets' SOPS MAC when SOPS_AGE_KEY_FILE (…) holds a runtime identity",
    )
    .addHelpText(
      "after",
      examples([
        ["strata snapshot verify production.json", "against signing.trusted_keys of the repository"],
        [
          "strata snapshot verify production.json --trusted-keys keys.txt --env production",
          "explicit keys; must be production's",
        ],
      ]),
    )
    .argument("<file>")
    .option("-e, --env <name>", "also require this environment")
    .option("--trusted-keys <file>", "trusted public keys, one a line (default: signing.trusted_keys of --repo)")
    .option("--repo <dir>", "the configuration repository (default: the current directory)")
    .addOption(new Option("-o, --format <format>", "output format").choices(["text", "json"]).default("text"))
    .action(async (file: string, _opts: unknown, command: Command) => {
      // `snapshot` has --env and --repo too, and commander may hand those flags to it: read both levels.
      const opts = command.optsWithGlobals<{ env?: string; trustedKeys?: string; repo?: string; format: string }>();
      const trustedKeys = await loadTrustedKeys({
        file: opts.trustedKeys,
        repoDir: opts.trustedKeys === undefined ? (opts.repo ?? process.cwd()) : undefined,
      });
      const report = await verifySnapshotFile({ file, trustedKeys, environment: opts.env });
      if (opts.format === "json") printData(printJson({ schemaVersion: 1, ...report }));
      else {
        const secrets =
          report.secrets.status === "verified"
            ? "SOPS MAC verified"
            : report.secrets.status === "absent"
              ? "none"
              : `SOPS MAC not checked: ${report.secrets.reason}`;
        print(
          `✓ ${file}: ${report.environment}${report.service === null ? "" : `/${report.service}`} v${report.version}, signed by ${report.keyid.slice(0, 16)}…, ${report.expired ? "EXPIRED" : "expires"} ${report.expiresAt}\n  secrets: ${secrets}`,
        );
      }
    });
}
