import type { Command } from "commander";
import { userInfo } from "node:os";
import {
  checkWorkingTree,
  createEndpointClient,
  loadContentBuilder,
  loadBuildTrustedKeys,
  loadSigningKey,
  pushEnvironments,
  readDistributionSettings,
  resolveEndpointUrl,
  type PushResult,
  type ServicePushResult,
} from "../../app/distribution/index.js";
import type { PublishGate } from "../../app/approvals/publish-gate.js";
import { StrataError } from "../../core/findings.js";
import type { RepoFiles } from "../../core/source.js";
import { openRepository, printJson } from "../common.js";
import { attachAction, type OptionValues } from "../spec.js";
import { pushCommand } from "../table.js";
import { renderFindingsGithub, renderFindingsText } from "../render/findings.js";
import { renderPublishSummary } from "../render/publish-summary.js";
import { appendStepSummary, githubMode, log, print, printAnnotations, printData, withSpinner } from "../output.js";

export function pusher(): string | null {
  return (
    process.env.GITHUB_ACTOR ||
    process.env.USER ||
    (() => {
      try {
        return userInfo().username;
      } catch {
        return null;
      }
    })()
  );
}

export function renderPushResult(r: PushResult, verb = "published"): string {
  const short = (d: string | null): string => (d === null ? "" : ` (${d.slice(0, 19)}…)`);
  switch (r.status) {
    case "published":
      return `✓ ${r.environment}: ${verb} version ${r.version}${short(r.digest)}${r.action === "refresh" ? " (refresh: same content, new expiry)" : ""}`;
    case "unchanged":
      return `= ${r.environment}: unchanged, still version ${r.version}`;
    case "refused": {
      const invalid = r.findings.some(
        (f) => f.severity === "error" && f.code !== "push-failed" && f.code !== "approval-required",
      );
      return renderFindingsText(
        r.findings,
        `✗ ${r.environment}: refused${invalid ? ", the configuration has errors" : ""}`,
      ).trimEnd();
    }
    case "conflict":
      return renderFindingsText(
        r.findings.filter((f) => f.code === "version-conflict"),
        `✗ ${r.environment}: conflict, now at version ${r.version ?? 0}`,
      ).trimEnd();
    case "failed":
      return renderFindingsText(r.findings, `✗ ${r.environment}: failed`).trimEnd();
  }
}

/**
 * The text report of published and unchanged environments on stdout; what was not published (refused,
 * conflict, failed) is an error, on stderr. `quiet`: only the errors.
 */
export function printPushResults(results: readonly PushResult[], options: { quiet: boolean; verb?: string }): void {
  for (const r of results) {
    const text = renderPushResult(r, options.verb);
    if (r.status === "published" || r.status === "unchanged") {
      if (!options.quiet) print(text);
    } else log(text);
    for (const s of r.services ?? []) {
      const line = renderServicePushResult(r.environment, s);
      if (s.status === "published" || s.status === "unchanged") {
        if (!options.quiet) print(line);
      } else log(line);
    }
  }
}

/** A service's chain under its environment's line (docs/distribution.md, "Services"). */
function renderServicePushResult(environment: string, s: ServicePushResult): string {
  const name = `  ${environment}/${s.service}`;
  switch (s.status) {
    case "published":
      return s.action === "rollback"
        ? `✓${name}: rolled back to the content of version ${s.rollbackOf} as version ${s.version}`
        : `✓${name}: published version ${s.version}${s.action === "refresh" ? " (refresh)" : ""}`;
    case "unchanged":
      return `=${name}: unchanged, still version ${s.version}`;
    default:
      return renderFindingsText(s.findings, `✗${name}: ${s.status}`).trimEnd();
  }
}

/**
 * docs/github.md: every change since each environment's published version came from a merged pull request
 * with its approvals.
 */
async function openGate(root: string): Promise<PublishGate> {
  const { openPublishGate } = await import("../../app/approvals/publish-gate.js");
  return openPublishGate({ repoDir: root, warn: (m) => log(m) });
}

export function register(program: Command): void {
  attachAction(program, pushCommand, (opts) => runPush(opts, openRepository(opts)));
}

export type PushFlags = OptionValues<typeof pushCommand.options>;

/**
 * `strata push` over an opened repository: strata.yaml is read once, through `files`, and what was read is
 * passed to every step that needs it (the endpoint, the trusted keys, each environment's build).
 */
export async function runPush(opts: PushFlags, { root, files }: { root: string; files: RepoFiles }): Promise<void> {
  const settings = await readDistributionSettings(files);
  const environments = opts.all === true ? (opts.env === undefined ? settings.environments : null) : opts.env;
  if (environments === undefined || environments === null)
    throw new StrataError("invalid-argument", "pass --env E (one or more) or --all");
  const url = await resolveEndpointUrl({ flag: opts.endpoint, settings });
  const signingKey = await loadSigningKey({ file: opts.signingKey });
  const trustedKeys = await loadBuildTrustedKeys({ file: opts.trustedKeys, settings, signingKey });
  // A dirty tree publishes nothing under the gate; the gate itself judges each environment's range once
  // the endpoint's current version is read and verified, before anything is signed or sent.
  const gate = opts.requireApproval === true ? await openGate(root) : null;
  const worktree = await checkWorkingTree(root, { allowDirty: opts.allowDirty === true });
  const push = (): ReturnType<typeof pushEnvironments> =>
    pushEnvironments(environments, {
      endpoint: createEndpointClient({ url: url!, token: process.env.STRATA_TOKEN }),
      buildContent: loadContentBuilder({ repoDir: root, files, settings: settings.parsed }),
      signingKey,
      trustedKeys,
      refresh: opts.refresh === true,
      force: opts.force === true,
      source: { pushedBy: pusher(), ...worktree },
      ttlMs: settings.expiresAfterMs,
      ...(gate ? { approve: (environment, current) => gate.approve(environment, current) } : {}),
    });
  const { results, exitCode } = await (
    opts.quiet ? push() : withSpinner(`pushing ${environments.join(", ")} to ${url}`, push)
  ).finally(() => gate?.close());
  if (opts.format === "json")
    printData(
      printJson({
        schemaVersion: 1,
        ok: exitCode === 0,
        endpoint: url,
        results: results.map(({ exitCode: _e, ...r }) => r),
      }),
    );
  else printPushResults(results, { quiet: opts.quiet === true });
  if (githubMode()) {
    printAnnotations(
      renderFindingsGithub(
        results.flatMap((r) => r.findings),
        root,
      ),
    );
    appendStepSummary(renderPublishSummary({ command: "push", endpoint: url!, results }));
  }
  process.exitCode = exitCode;
}
