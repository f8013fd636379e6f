/**
 * `strata impact --env E --version V`: what one published version changed and what it did, for the reviewer
 * of the pull request that produced it and for the operator of its rollout (docs/rollouts.md, "Impact").
 *
 * - The keys: the key paths whose values differ between the version and the one it replaced, both read from
 *   the endpoint and verified against the trusted keys. Only paths leave this module, never values; a
 *   sensitive key is listed when its ciphertext changed (impact never decrypts, so it cannot tell a
 *   re-encryption of the same value from a new value, and says so).
 * - The clients: the fleet records of `/v1/status` that run the version now, and how many instances reported
 *   on it during its rollout.
 * - The metrics: the gates' candidate-vs-control comparisons at the rollout's last decision (the numbers the
 *   decision was made on), and the before/after comparison of every report on the version with every report
 *   on the version it replaced since the rollout started, with always-valid intervals (core/rollout/statistics).
 * - The decision and why.
 */
import { StrataError } from "../../core/findings.js";
import type {
  ClientRecord,
  RolloutDecisionRecord,
  RolloutStatusDocument,
  Snapshot,
} from "../../core/protocol/index.js";
import {
  changedKeyPaths,
  compareMeans,
  compareRates,
  type Breach,
  type Comparison,
  type GateEvaluation,
  type RolloutPhase,
} from "../../core/rollout/index.js";
import { verifySnapshot, type PublicKey } from "../../core/snapshot/index.js";
import { isJsonObject, type JsonObject } from "../../core/json.js";
import type { EndpointClient } from "./endpoint.js";

/** The level and tolerance of the before/after interval when no gate says otherwise (the policy defaults). */
const DEFAULT_ALPHA = 0.01;
const DEFAULT_ERROR_TOLERANCE = 0.005;
/** Without a latency gate, the latency interval's tolerance is this share of the stable version's mean. */
const DEFAULT_LATENCY_TOLERANCE_SHARE = 0.1;

export interface ImpactOptions {
  endpoint: EndpointClient;
  environment: string;
  service?: string | null;
  version: number;
  trustedKeys: readonly PublicKey[];
}

export interface ImpactClient {
  service: string;
  instance: string;
  kind: string | null;
  state: ClientRecord["state"];
  connected: boolean;
}

/** One measured difference: the version (or candidate cohort) against its baseline (or the control). */
export interface ImpactMetric {
  /** `candidate-vs-control`: a gate at the last decision; `before-after`: every report on each version. */
  comparison: "candidate-vs-control" | "before-after";
  /** The gate's name, or the metric's for before/after. */
  name: string;
  metric: "error-rate" | "latency" | "prometheus";
  /** Rates as fractions, latencies in milliseconds. */
  candidate: { version: number; value: number | null; samples: number };
  control: { version: number; value: number | null; samples: number };
  difference: number | null;
  /** The always-valid interval of the difference, at `confidence`; null when it cannot be computed. */
  interval: [lower: number, upper: number] | null;
  confidence: number | null;
  /** The gate's largest tolerated increase, when a gate applies. */
  threshold: number | null;
  verdict: GateEvaluation["verdict"] | null;
  detail: string;
}

export interface ImpactReport {
  schemaVersion: 1;
  environment: string;
  service: string | null;
  version: number;
  digest: string;
  publishedAt: string;
  rollbackOf: number | null;
  source: { repository: string | null; commit: string | null; pullRequest: number | null };
  /** What the version is compared with: its rollout's stable version, else the version before it. */
  baseline: { version: number; digest: string; why: "rollout-stable" | "previous-version" } | null;
  keys: {
    /** Key paths whose values differ (added, removed or changed), sorted. */
    changed: string[];
    /** Sensitive key paths whose ciphertext differs: the value was set, removed or re-encrypted. */
    sensitive: string[];
  };
  clients: {
    /** Fleet records running the version now. */
    running: ImpactClient[];
    /** Fleet records of the chain on any other version. */
    elsewhere: number;
    /** Instances that reported on the version during its rollout (null: no rollout of this version). */
    reported: number | null;
  };
  rollout: {
    rolloutId: string;
    policy: string;
    phase: RolloutPhase;
    /** Basis points of the clients on the candidate. */
    percent: number;
    stable: number;
    candidate: number;
    planVersion: number | null;
    reason: string;
  } | null;
  /** Why there are no rollout figures, when there are none. */
  noRollout: string | null;
  metrics: ImpactMetric[];
  decision: {
    action: RolloutDecisionRecord["action"];
    at: string;
    actor: string;
    reason: string;
    breaches: Breach[];
  } | null;
}

export async function computeImpact(options: ImpactOptions): Promise<ImpactReport> {
  const { endpoint, environment, version } = options;
  const service = options.service ?? null;
  const label = service === null ? environment : `${environment}/${service}`;
  if (!Number.isSafeInteger(version) || version < 1)
    throw new StrataError("invalid-argument", `--version must be a version number, not ${version}`);
  const [target, status, rollout] = await Promise.all([
    endpoint.version(environment, version, service),
    endpoint.status(),
    rolloutOf(endpoint, environment, service),
  ]);
  if (target === null)
    throw new StrataError(
      service === null ? "unknown-environment" : "unknown-service",
      `${label} has no version ${version}`,
      {
        hint: `\`strata history --env ${environment}${service === null ? "" : ` --service ${service}`}\` lists its versions`,
      },
    );
  checkSnapshot(target, options, version);

  const ours = rollout?.state?.candidate.version === version ? rollout : null;
  const baselineVersion = ours !== null ? ours.state!.stable.version : version > 1 ? version - 1 : null;
  let baseline: Snapshot | null = null;
  if (baselineVersion !== null) {
    baseline = await endpoint.version(environment, baselineVersion, service);
    if (baseline === null)
      throw new StrataError("not-found", `${label} has no version ${baselineVersion} to compare v${version} with`);
    checkSnapshot(baseline, options, baselineVersion);
  }

  const chainClients = status.clients.filter(
    (c) => c.environment === environment && (service === null || c.service === service),
  );
  const running = chainClients
    .filter((c) => c.version === version)
    .map((c) => ({ service: c.service, instance: c.instance, kind: c.kind, state: c.state, connected: c.connected }));

  return {
    schemaVersion: 1,
    environment,
    service,
    version,
    digest: target.digest,
    publishedAt: target.createdAt,
    rollbackOf: target.rollbackOf,
    source: {
      repository: target.source.repository,
      commit: target.source.commit,
      pullRequest: target.source.pullRequest,
    },
    baseline:
      baseline === null
        ? null
        : {
            version: baseline.version,
            digest: baseline.digest,
            why: ours !== null ? "rollout-stable" : "previous-version",
          },
    keys: {
      changed: changedKeyPaths(baseline?.config ?? null, target.config),
      sensitive: changedKeyPaths(secretTree(baseline), secretTree(target) ?? {}),
    },
    clients: {
      running,
      elsewhere: chainClients.length - running.length,
      reported: ours === null ? null : (ours.cohorts.candidate?.instances ?? 0),
    },
    rollout:
      ours === null
        ? null
        : {
            rolloutId: ours.state!.rolloutId,
            policy: ours.policy,
            phase: ours.state!.phase,
            percent: ours.state!.percent,
            stable: ours.state!.stable.version,
            candidate: ours.state!.candidate.version,
            planVersion: ours.plan?.planVersion ?? null,
            reason: ours.state!.reason,
          },
    noRollout: ours !== null ? null : whyNoRollout(rollout, version),
    metrics: ours === null ? [] : metricsOf(ours),
    decision: ours === null ? null : decisionOf(ours),
  };
}

/** The chain's rollout status; null from an endpoint that has no rollout routes (an older server: 404). */
async function rolloutOf(
  endpoint: EndpointClient,
  environment: string,
  service: string | null,
): Promise<RolloutStatusDocument | null> {
  try {
    return await endpoint.rollout(environment, service);
  } catch (error) {
    if (error instanceof StrataError && error.code === "not-found") return null;
    throw error;
  }
}

/** The snapshot is the version asked for, of the chain asked for, signed by a trusted key. */
function checkSnapshot(snapshot: Snapshot, options: ImpactOptions, version: number): void {
  const service = options.service ?? null;
  if (
    snapshot.environment !== options.environment ||
    (snapshot.service ?? null) !== service ||
    snapshot.version !== version
  )
    throw new StrataError(
      "invalid-snapshot",
      `the endpoint answered with ${snapshot.environment}${snapshot.service ? `/${snapshot.service}` : ""} v${snapshot.version} for ${options.environment}${service === null ? "" : `/${service}`} v${version}`,
    );
  verifySnapshot(snapshot, options.trustedKeys);
}

/** The sensitive leaves of a snapshot as a tree of ciphertexts (SOPS' own metadata left out). */
function secretTree(snapshot: Snapshot | null): Record<string, JsonObject> | null {
  if (snapshot?.secrets == null) return null;
  const out: Record<string, JsonObject> = {};
  for (const [k, v] of Object.entries(snapshot.secrets)) if (k !== "sops" && isJsonObject(v)) out[k] = v;
  return out;
}

function whyNoRollout(rollout: RolloutStatusDocument | null, version: number): string {
  const state = rollout?.state ?? null;
  if (state === null) return `no rollout is recorded for this chain (policy: ${rollout?.policy ?? "all-at-once"})`;
  return `the endpoint's rollout is of v${state.candidate.version} (from v${state.stable.version}), not of v${version}: it keeps only the latest rollout's figures`;
}

/** Each gate at the last decision that evaluated gates, then before/after from the cohorts' totals. */
function metricsOf(doc: RolloutStatusDocument): ImpactMetric[] {
  const state = doc.state!;
  const evaluated = doc.decisions.find((d) => d.evaluations.length > 0);
  const out: ImpactMetric[] = (evaluated?.evaluations ?? []).map((e) => ({
    comparison: "candidate-vs-control",
    name: e.gate,
    metric: e.metric,
    candidate: {
      version: state.candidate.version,
      value: e.comparison?.candidate ?? null,
      samples: e.samples?.candidate ?? 0,
    },
    control: { version: state.stable.version, value: e.comparison?.control ?? null, samples: e.samples?.control ?? 0 },
    difference: e.comparison?.estimate ?? null,
    interval: e.comparison === null ? null : [e.comparison.lower, e.comparison.upper],
    confidence: 1 - e.alpha,
    threshold: e.threshold,
    verdict: e.verdict,
    detail: e.detail,
  }));

  const { stable, candidate } = doc.cohorts;
  if (stable === null || candidate === null) return out;
  const errorGate = evaluated?.evaluations.find((e) => e.metric === "error-rate");
  const alpha = errorGate?.alpha ?? evaluated?.evaluations[0]?.alpha ?? DEFAULT_ALPHA;
  const tolerance = errorGate?.threshold ?? DEFAULT_ERROR_TOLERANCE;
  const before = { version: stable.version, samples: stable.requests };
  const after = { version: candidate.version, samples: candidate.requests };
  if (stable.requests > 0 && candidate.requests > 0) {
    const c: Comparison = compareRates(
      { events: candidate.errors, trials: candidate.requests },
      { events: stable.errors, trials: stable.requests },
      alpha,
      tolerance,
    );
    out.push({
      comparison: "before-after",
      name: "error rate",
      metric: "error-rate",
      candidate: { ...after, value: c.candidate },
      control: { ...before, value: c.control },
      difference: c.estimate,
      interval: [c.lower, c.upper],
      confidence: 1 - alpha,
      threshold: errorGate?.threshold ?? null,
      verdict: null,
      detail: `${stable.instances} instance(s) on v${stable.version}, ${candidate.instances} on v${candidate.version}`,
    });
  } else {
    out.push({
      comparison: "before-after",
      name: "error rate",
      metric: "error-rate",
      candidate: { ...after, value: null },
      control: { ...before, value: null },
      difference: null,
      interval: null,
      confidence: null,
      threshold: null,
      verdict: null,
      detail: `no reports on v${stable.requests === 0 ? stable.version : candidate.version} yet`,
    });
  }
  // `!= null`: an endpoint older than the latency summary sends none.
  if (stable.latency != null && candidate.latency != null) {
    const latencyGate = evaluated?.evaluations.find((e) => e.metric === "latency");
    const controlMean = stable.latency.sum / stable.latency.count;
    const tolerance = latencyGate?.threshold ?? Math.max(1, DEFAULT_LATENCY_TOLERANCE_SHARE * controlMean);
    const latencyAlpha = latencyGate?.alpha ?? alpha;
    const c: Comparison = compareMeans(candidate.latency, stable.latency, latencyAlpha, tolerance);
    out.push({
      comparison: "before-after",
      name: "latency",
      metric: "latency",
      candidate: { version: candidate.version, value: c.candidate, samples: candidate.latency.count },
      control: { version: stable.version, value: c.control, samples: stable.latency.count },
      difference: c.estimate,
      interval: [c.lower, c.upper],
      confidence: 1 - latencyAlpha,
      threshold: latencyGate?.threshold ?? null,
      verdict: null,
      detail: "mean latency (ms) of every latency reported on each version",
    });
  }
  return out;
}

/**
 * The decision that explains where the rollout is: the last one that changed something (a rollback, a
 * promotion, an operator's action, a step), else the last hold.
 */
function decisionOf(doc: RolloutStatusDocument): ImpactReport["decision"] {
  const record =
    doc.decisions.find((d) => d.action !== "none" && d.action !== "hold") ??
    doc.decisions.find((d) => d.action === "hold") ??
    null;
  if (record === null) return null;
  return {
    action: record.action,
    at: record.at,
    actor: record.actor,
    reason: record.reason,
    breaches: record.breaches ?? [],
  };
}
