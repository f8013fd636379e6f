// The live rollout of an environment (docs/rollouts.md), read-only: its phase, the share of clients on the
// candidate, the stable and candidate versions, the plan version, the last decision and why (metric, value,
// threshold, samples, interval), each gate's verdict and the cohorts' health. Actions stay in the CLI
// (`strata rollout pause|resume|abort|promote`). It reads `GET {chain}/rollout` with the session cookie and
// follows the tab's one event stream: a `rollout` event updates the headline at once and reloads the document
// (the decisions); a new version (a rollout starts with a publish) and a resync reload it too.
import { useEffect, useState } from "preact/hooks";
import { refusalLines } from "../../../src/core/rollout/refusal-lines.js";
import { api, type RolloutStatusDocument, type RolloutSummary } from "../api.js";
import { formatTime } from "../format.js";
import { follow } from "../live.js";
import { Safe } from "../text.js";
import { Badge, Problem, useLoad } from "./common.js";

type Evaluation = RolloutStatusDocument["decisions"][number]["evaluations"][number];
type Breach = NonNullable<RolloutStatusDocument["decisions"][number]["breaches"]>[number];
type Phase = RolloutSummary["phase"];

const PHASE_KIND: Record<Phase, string> = {
  progressing: "ok",
  paused: "warn",
  promoted: "muted",
  "rolled-back": "danger",
  aborted: "danger",
};

/** Basis points as a share: 500 → 5%, 25 → 0.25%. */
export function formatShare(bp: number): string {
  return `${Number((bp / 100).toFixed(2))}%`;
}

/** A metric's value: a rate as a percentage, a latency in milliseconds. */
function metricValue(metric: string, x: number): string {
  return metric === "latency" ? `${Number(x.toFixed(1))} ms` : `${Number((x * 100).toFixed(2))}%`;
}

/** A difference: points for rates, milliseconds for latency. */
function metricDelta(metric: string, x: number): string {
  const sign = x >= 0 ? "+" : "−";
  const abs = Math.abs(x);
  return metric === "latency" ? `${sign}${Number(abs.toFixed(1))} ms` : `${sign}${Number((abs * 100).toFixed(2))} pts`;
}

function count(n: number): string {
  return Math.round(n).toLocaleString("en-US");
}

function Gates({ evaluations }: { evaluations: Evaluation[] }) {
  if (evaluations.length === 0) return null;
  return (
    <div class="scroll" tabIndex={0} role="region" aria-label="Gates">
      <table class="stack gates">
        <caption>Gates at the last evaluation: candidate against the control, same window</caption>
        <thead>
          <tr>
            <th scope="col">Gate</th>
            <th scope="col">Verdict</th>
            <th scope="col">Candidate</th>
            <th scope="col">Control</th>
            <th scope="col">Difference (interval)</th>
            <th scope="col">Threshold</th>
            <th scope="col">Samples</th>
          </tr>
        </thead>
        <tbody>
          {evaluations.map((e) => (
            <tr key={e.gate}>
              <th scope="row" data-label="Gate" class="name">
                <Safe text={e.gate} /> <span class="muted">({e.metric})</span>
              </th>
              <td data-label="Verdict">
                <Badge kind={e.verdict === "pass" ? "ok" : e.verdict === "breach" ? "danger" : "warn"}>
                  {e.verdict}
                  {e.reason !== null && `: ${e.reason}`}
                </Badge>
              </td>
              <td data-label="Candidate">
                {e.comparison === null ? "—" : metricValue(e.metric, e.comparison.candidate)}
              </td>
              <td data-label="Control">{e.comparison === null ? "—" : metricValue(e.metric, e.comparison.control)}</td>
              <td data-label="Difference (interval)">
                {e.comparison === null
                  ? "—"
                  : `${metricDelta(e.metric, e.comparison.estimate)} (${metricDelta(e.metric, e.comparison.lower)} to ${metricDelta(e.metric, e.comparison.upper)}, ${Number(((1 - e.alpha) * 100).toFixed(2))}%)`}
              </td>
              <td data-label="Threshold">{metricDelta(e.metric, e.threshold)}</td>
              <td data-label="Samples">
                {e.samples === null ? "—" : `${count(e.samples.candidate)} / ${count(e.samples.control)}`}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

/** A breach as the status and the audit page show it: the values, the interval, the threshold, the samples. */
export function BreachItem({ b }: { b: Breach }) {
  return (
    <li>
      <strong>
        <Safe text={b.gate} />
      </strong>
      : {b.metric} {metricValue(b.metric, b.value)} against {metricValue(b.metric, b.control)} on the stable version (
      {metricDelta(b.metric, b.difference)}, interval {metricDelta(b.metric, b.interval[0])} to{" "}
      {metricDelta(b.metric, b.interval[1])} at {Number((b.confidence * 100).toFixed(2))}%); threshold{" "}
      {metricDelta(b.metric, b.threshold)}; samples {count(b.samples.candidate)} / {count(b.samples.control)}
    </li>
  );
}

/**
 * The environment's rollout, or nothing when it never had one. `heading` is the level the page gives it (the
 * environment page's h2, the fleet page's h3 under the environment). `onChange` tells the page the rollout's
 * stable version (clients on it are where the plan puts them, not behind).
 */
export function RolloutPanel({
  env,
  heading = 2,
  onChange,
}: {
  env: string;
  heading?: 2 | 3;
  onChange?: (doc: RolloutStatusDocument | null) => void;
}) {
  const { data, error, reload } = useLoad(() => api.rollout(env), [env]);
  const [summary, setSummary] = useState<RolloutSummary | null>(null);
  useEffect(
    () =>
      follow({
        onRollout: (s) => {
          if (s.environment !== env || s.service !== null) return;
          setSummary(s);
          reload();
        },
        onSnapshot: (e) => {
          if (e.environment === env) reload();
        },
        onResync: reload,
      }),
    [env],
  );
  useEffect(() => {
    // The document caught up with the event: it is the truth again.
    if (
      data?.state !== undefined &&
      data.state !== null &&
      summary !== null &&
      data.state.rolloutId === summary.rolloutId
    )
      setSummary(null);
    onChange?.(data);
  }, [data]);
  const state = data?.state ?? null;
  if (error !== null) return <Problem error={error} />;
  if (state === null && summary === null) return null;
  // The event may be newer than the document (a reload in flight): its headline wins until the reload lands.
  const head = summary ?? {
    phase: state!.phase,
    percent: state!.percent,
    stable: state!.stable,
    candidate: state!.candidate,
    planVersion: data?.plan?.planVersion ?? 0,
    reason: state!.reason,
  };
  const decision = data?.decisions.find((d) => d.action !== "none") ?? null;
  const evaluated = data?.decisions.find((d) => d.evaluations.length > 0) ?? null;
  const breaches = data?.decisions.find((d) => d.action === "rollback")?.breaches ?? [];
  const refusals = data === null ? [] : refusalLines(data);
  const H = heading === 2 ? "h2" : "h3";
  const id = `rollout-${env}`;
  return (
    <section class={`rollout rollout-${head.phase}`} aria-labelledby={id}>
      <H id={id}>
        Rollout{heading === 3 && <span class="sr-only"> of {env}</span>}{" "}
        <Badge kind={PHASE_KIND[head.phase]}>{head.phase}</Badge>
      </H>
      <p class="rollout-head">
        <strong>
          v{head.stable.version} → v{head.candidate.version}
        </strong>
        : {formatShare(head.percent)} of clients on the candidate
        {data?.policy !== undefined && (
          <>
            {" "}
            · policy <Safe text={data.policy} />
          </>
        )}{" "}
        · plan {head.planVersion}
      </p>
      <progress
        class="rollout-share"
        max={10000}
        value={head.percent}
        aria-label={`Share of clients on v${head.candidate.version}`}
      >
        {formatShare(head.percent)}
      </progress>
      {data !== null && (
        <p>
          Clients: {data.clients.candidate} on the candidate, {data.clients.stable} on the stable version
          {data.clients.other > 0 && `, ${data.clients.other} on another`}.
        </p>
      )}
      <p class="rollout-reason">
        <strong>Why:</strong> <Safe text={head.reason} />
      </p>
      {decision !== null && (
        <p>
          Last decision: <strong>{decision.action}</strong>{" "}
          <time dateTime={decision.at} title={formatTime(decision.at)}>
            {formatTime(decision.at)}
          </time>{" "}
          by <Safe text={decision.actor} />
        </p>
      )}
      {breaches.length > 0 && (
        <>
          <p class="bad">
            <strong>Rolled back on:</strong>
          </p>
          <ul class="breaches">
            {breaches.map((b) => (
              <BreachItem key={b.gate} b={b} />
            ))}
          </ul>
        </>
      )}
      {evaluated !== null && <Gates evaluations={evaluated.evaluations} />}
      {data !== null && (data.cohorts.stable !== null || data.cohorts.candidate !== null) && (
        <p class="muted">
          Reports since the start:{" "}
          {[data.cohorts.candidate, data.cohorts.stable]
            .filter((c) => c !== null)
            .map(
              (c) =>
                `v${c.version}: ${count(c.instances)} instances, ${count(c.requests)} requests, ${count(c.errors)} errors${c.meanLatencyMs === null ? "" : `, ${Number(c.meanLatencyMs.toFixed(1))} ms mean`}`,
            )
            .join(" · ")}
        </p>
      )}
      {refusals.length > 0 && (
        <>
          <p>What clients refused or how they went stale, by their own reports (shown, never a gate's signal):</p>
          <ul class="refusals">
            {refusals.map((line) => (
              <li key={line}>
                <Safe text={line} />
              </li>
            ))}
          </ul>
        </>
      )}
      <p class="muted">
        Read-only: pause, resume, abort and promote with <code>strata rollout</code>.
      </p>
    </section>
  );
}
