import type { Command } from "commander";
import { createEndpointClient, readStatus, resolveEndpointUrl } from "../../app/distribution/index.js";
import { EXIT } from "../../core/findings.js";
import { isEnvironmentFailure, type ClientRecord, type StatusDocument } from "../../core/protocol/index.js";
import { printJson } from "../common.js";
import { attachAction } from "../spec.js";
import { statusCommand } from "../table.js";
import { print, printData } from "../output.js";

function age(seconds: number): string {
  if (seconds < 120) return `${seconds}s`;
  if (seconds < 7200) return `${Math.round(seconds / 60)}m`;
  if (seconds < 172_800) return `${Math.round(seconds / 3600)}h`;
  return `${Math.round(seconds / 86_400)}d`;
}

/** Whatever a hostile client put in its header, nothing reaches the terminal as a control sequence. */
function clean(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/[\u0000-\u001f\u007f-\u009f]/g, "?");
}

function ago(now: number, at: string): string {
  return age(Math.max(0, Math.round((now - Date.parse(at)) / 1000)));
}

/**
 * One client: what it runs, and what it refuses. A refusal of a version newer than the one it runs is now
 * (REFUSING, since when the endpoint first heard of it); one at start is why the instance has no version.
 */
function renderClient(c: ClientRecord, now: number): string {
  const who = `${clean(c.service)}/${clean(c.instance)} [${c.kind ?? "?"}]`;
  const seen = `${c.connected ? "connected, " : ""}last seen ${ago(now, c.lastSeen)} ago`;
  const r = c.rejected;
  const refusal = r === null ? "" : `v${r.version} (${clean(r.reason)})`;
  switch (c.state) {
    case "failed":
      return `  ${who}: FAILED AT START: refused ${refusal} ${ago(now, r!.at)} ago; ${seen}`;
    case "refusing":
      return `  ${who}: v${c.version}, REFUSING ${refusal} since ${ago(now, r!.at)}; ${seen}`;
    default:
      return `  ${who}: ${c.state === "starting" ? "starting (no version yet)" : `v${c.version}`}, ${seen}${r === null ? "" : `; refused ${refusal} ${ago(now, r.at)} ago`}`;
  }
}

export function renderStatus(url: string, status: StatusDocument, now = Date.now()): string {
  const lines = [`endpoint ${url} (${status.store})`];
  if (status.environments.length === 0) lines.push("nothing published");
  for (const e of status.environments) {
    if (isEnvironmentFailure(e)) {
      lines.push(
        `${e.environment}: ${e.error.code === "store-corrupt" ? "STORE CORRUPT" : "FAILING"} (${e.error.code}): ${clean(e.error.message)}`,
      );
      continue;
    }
    const mine = status.clients.filter((c) => c.environment === e.environment);
    const troubled = (["refusing", "failed", "starting"] as const)
      .map((state) => [state, mine.filter((c) => c.state === state).length] as const)
      .filter(([, n]) => n > 0)
      .map(([state, n]) => `${n} ${state === "failed" ? "FAILED AT START" : state}`);
    const clients =
      [
        ...Object.entries(e.clients)
          .filter(([v]) => v !== "0")
          .map(([v, n]) => `${n} on v${v}`),
        ...troubled,
      ].join(", ") || "no clients seen";
    lines.push(
      `${e.environment}: v${e.version}, published ${age(e.ageSeconds)} ago${e.expired ? ", EXPIRED (push --refresh)" : ""}; ${clients}`,
    );
    for (const s of e.services ?? []) {
      if ("error" in s) {
        lines.push(`  service ${s.service}: FAILING (${s.error.code}): ${clean(s.error.message)}`);
        continue;
      }
      const on = Object.entries(s.clients).filter(([v]) => v !== "0");
      lines.push(
        `  service ${s.service}: v${s.version}, published ${age(s.ageSeconds)} ago${s.expired ? ", EXPIRED (push --refresh)" : ""}; ${on.map(([v, n]) => `${n} on v${v}`).join(", ") || "no clients seen"}`,
      );
    }
    for (const c of status.clients) if (c.environment === e.environment) lines.push(renderClient(c, now));
  }
  const listed = new Set(status.environments.filter((e) => !isEnvironmentFailure(e)).map((e) => e.environment));
  const others = status.clients.filter((c) => !listed.has(c.environment));
  if (others.length > 0) lines.push("clients of environments without a current version:");
  for (const c of others) lines.push(`  ${c.environment}:${renderClient(c, now).slice(1)}`);
  return lines.join("\n");
}

export function register(program: Command): void {
  attachAction(program, statusCommand, async (opts) => {
    const url = await resolveEndpointUrl({ flag: opts.endpoint, repoDir: opts.repo ?? process.cwd() });
    const status = await readStatus({
      endpoint: createEndpointClient({ url: url!, token: process.env.STRATA_TOKEN }),
      environment: opts.env,
    });
    if (opts.format === "json") printData(printJson(status));
    else print(renderStatus(url!, status));
    // A corrupted environment is a distribution failure: scripts checking `strata status` see it.
    if (status.environments.some((e) => isEnvironmentFailure(e) || (e.services ?? []).some((s) => "error" in s)))
      process.exitCode = EXIT.distribution;
  });
}
