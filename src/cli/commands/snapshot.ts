import type { Command } from "commander";
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
import { exitCodeForFindings } from "../../core/findings.js";
import { serializeSnapshot } from "../../core/snapshot/index.js";
import { openRepository, printJson, requireValue } from "../common.js";
import { attachAction } from "../spec.js";
import { snapshotCommand, snapshotVerifyCommand } from "../table.js";
import { renderFindingsText } from "../render/findings.js";
import { log, print, printData } from "../output.js";
import { pusher } from "./push.js";

export function register(program: Command): void {
  attachAction(program, snapshotCommand, async (opts) => {
    // Required, but not for commander: a mandatory option of `snapshot` would be one of `snapshot verify` too.
    const environment = requireValue(opts.env, "--env");
    const { root, files } = openRepository(opts);
    const settings = await readDistributionSettings(files);
    // A service's chain is not served by the endpoint yet: its snapshot is built as version 1.
    const url =
      opts.service === undefined ? await resolveEndpointUrl({ flag: opts.endpoint, settings, required: false }) : null;
    const signingKey = await loadSigningKey({ file: opts.signingKey });
    const { snapshot, findings } = await buildSnapshot({
      environment,
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
      log(renderFindingsText(findings, `✗ ${environment}: the configuration has errors; no snapshot built`));
      process.exitCode = exitCodeForFindings(findings);
      return;
    }
    const text = serializeSnapshot(snapshot) + "\n";
    if (opts.out === undefined || opts.out === STANDARD_STREAM) printData(text);
    else {
      await writeSnapshotFile(opts.out, text);
      const of = opts.service === undefined ? environment : `${environment}/${opts.service}`;
      log(`wrote ${of} v${snapshot.version} (${snapshot.digest}) to ${opts.out}`);
    }
  });

  // `snapshot` has --env and --repo too, and commander may hand those flags to it: attachAction reads both levels.
  attachAction(program, snapshotVerifyCommand, async (opts, [file]) => {
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
