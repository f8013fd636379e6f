/**
 * `strata rollout status|pause|resume|abort|promote --env E [--service S]` (docs/rollouts.md): the endpoint's
 * rollout of a chain, and the operator's actions on it (each recorded by the endpoint with the token's name).
 */
import type { RolloutDecisionRecord, RolloutStatusDocument } from "../../core/protocol/index.js";
import type { OperatorAction } from "../../core/rollout/index.js";
import { refusalLines } from "../../core/rollout/refusal-lines.js";
import type { EndpointClient } from "./endpoint.js";

export async function readRollout(options: {
  endpoint: EndpointClient;
  environment: string;
  service?: string | undefined;
}): Promise<RolloutStatusDocument> {
  return options.endpoint.rollout(options.environment, options.service ?? null);
}

export async function actOnRollout(options: {
  endpoint: EndpointClient;
  environment: string;
  service?: string | undefined;
  action: OperatorAction;
  reason?: string | undefined;
}): Promise<RolloutStatusDocument> {
  return options.endpoint.rolloutAction(options.environment, options.service ?? null, options.action, options.reason);
}

/** Whatever a hostile endpoint put in a reason, nothing reaches the terminal as a control sequence. */
function clean(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/[\u0000-\u001f\u007f-\u009f]/g, "?");
}

const share = (bp: number): string => `${Number((bp / 100).toFixed(2))}%`;
const rate = (errors: number, requests: number): string =>
  requests === 0 ? "-" : `${((100 * errors) / requests).toFixed(2)}%`;
const points = (x: number): string => `${(100 * x).toFixed(2)} points`;

function renderDecision(d: RolloutDecisionRecord): string[] {
  const lines = [`  ${d.at} ${d.action} by ${clean(d.actor)} (plan ${d.planVersion}): ${clean(d.reason)}`];
  for (const b of d.breaches ?? [])
    lines.push(
      `    breach of ${clean(b.gate)} (${b.metric}): ${b.metric === "latency" ? `${b.value.toFixed(1)}ms vs ${b.control.toFixed(1)}ms` : `${rate(b.value, 1)} vs ${rate(b.control, 1)}`}, difference in [${b.metric === "latency" ? `${b.interval[0].toFixed(1)}ms, ${b.interval[1].toFixed(1)}ms` : `${points(b.interval[0])}, ${points(b.interval[1])}`}] over the threshold ${b.metric === "latency" ? `${b.threshold}ms` : points(b.threshold)}; samples ${b.samples.candidate} candidate, ${b.samples.control} control; ${new Date(b.window.from).toISOString()} to ${new Date(b.window.to).toISOString()}`,
    );
  for (const h of d.holds ?? []) lines.push(`    holds: ${clean(h.detail)}`);
  return lines;
}

/** The status as people read it: what runs where, why, and the latest decisions. */
export function renderRolloutStatus(doc: RolloutStatusDocument, decisions = 5): string {
  const name = doc.service === null ? doc.environment : `${doc.environment}/${doc.service}`;
  const lines = [`${name}: policy ${clean(doc.policy)}`];
  const s = doc.state;
  if (s === null) {
    lines.push("  no rollout: every version is published to every client at once");
    return lines.join("\n");
  }
  lines.push(
    `  rollout ${clean(s.rolloutId)}: ${s.phase.toUpperCase()} at ${share(s.percent)} on v${s.candidate.version} (stable v${s.stable.version})`,
  );
  lines.push(`  why: ${clean(s.reason)}`);
  if (doc.plan !== null)
    lines.push(`  plan ${doc.plan.planVersion} ${doc.plan.digest.slice(0, 19)}…, expires ${doc.plan.expiresAt}`);
  for (const role of ["candidate", "stable"] as const) {
    const c = doc.cohorts[role];
    lines.push(
      c === null
        ? `  ${role} v${s[role].version}: no reports`
        : // Every instance that reported on the version during the rollout, whatever its cohort: a candidate
          // reported on the stable version before it switched and again after a rollback.
          `  ${role} v${c.version}: reports from ${c.instances} instance${c.instances === 1 ? "" : "s"}: ${c.requests} requests, ${c.errors} errors (${rate(c.errors, c.requests)})${c.meanLatencyMs === null ? "" : `, mean latency ${c.meanLatencyMs.toFixed(1)}ms`}`,
    );
  }
  lines.push(
    `  clients: ${doc.clients.candidate} on the candidate, ${doc.clients.stable} on the stable version, ${doc.clients.other} elsewhere`,
  );
  lines.push(...refusalLines(doc, clean).map((line) => `  ${line}`));
  if (doc.decisions.length > 0) lines.push("decisions (latest first):");
  for (const d of doc.decisions.slice(0, decisions)) lines.push(...renderDecision(d));
  return lines.join("\n");
}
