/**
 * A Prometheus gate's signal: its two queries (bad events, all events) for each cohort, over the same
 * window (the rollout so far) and at the same instant, as one rate signal for the decision engine; or why
 * there is none. The candidate cohort is selected by the candidate's config version, the control by the
 * stable version (the `strata_config_version` label the SDK and the agent export).
 */
import type { GateSignal } from "../../core/rollout/gates.js";
import type { PrometheusGate } from "../../core/rollout/policy.js";
import { renderQuery } from "../../core/rollout/promql.js";
import type { PrometheusClient, QueryAnswer } from "./client.js";

export interface CohortWindow {
  environment: string;
  service: string | null;
  candidateVersion: number;
  stableVersion: number;
  /** The rollout's start and the evaluation instant, in milliseconds since the epoch. */
  from: number;
  at: number;
  /** Ends the queries early (the server is closing). */
  signal?: AbortSignal;
}

/** The order in which a failed query explains the signal: a failure says more than an empty answer. */
const SEVERITY = { "query-failed": 0, "not-a-number": 1, "no-data": 2 } as const;

export async function prometheusGateSignal(
  client: PrometheusClient,
  gate: PrometheusGate,
  w: CohortWindow,
): Promise<GateSignal> {
  const values = (version: number) => ({
    version,
    windowMs: w.at - w.from,
    environment: w.environment,
    service: w.service,
  });
  const [candBad, candTotal, ctrlBad, ctrlTotal] = await Promise.all([
    client.query(renderQuery(gate.bad, values(w.candidateVersion)), w.at, w.signal),
    client.query(renderQuery(gate.total, values(w.candidateVersion)), w.at, w.signal),
    client.query(renderQuery(gate.bad, values(w.stableVersion)), w.at, w.signal),
    client.query(renderQuery(gate.total, values(w.stableVersion)), w.at, w.signal),
  ]);
  const labelled: [string, QueryAnswer][] = [
    [`bad (v${w.candidateVersion})`, candBad],
    [`total (v${w.candidateVersion})`, candTotal],
    [`bad (v${w.stableVersion})`, ctrlBad],
    [`total (v${w.stableVersion})`, ctrlTotal],
  ];
  const failures = labelled.flatMap(([label, a]) => (a.ok ? [] : [{ label, ...a }]));
  if (failures.length > 0) {
    failures.sort((a, b) => SEVERITY[a.reason] - SEVERITY[b.reason]);
    const first = failures[0]!;
    // An empty `bad` answer is not read as zero: a misspelt metric is empty too, and would pass every gate.
    // A query that means "zero when there is no series" says so: `sum(...) or vector(0)`.
    return { kind: "unavailable", reason: first.reason, detail: `${gate.name}: ${first.label}: ${first.detail}` };
  }
  const num = (a: QueryAnswer): number => (a.ok ? a.value : Number.NaN);
  return {
    kind: "rate",
    candidate: { events: num(candBad), trials: num(candTotal) },
    control: { events: num(ctrlBad), trials: num(ctrlTotal) },
  };
}
