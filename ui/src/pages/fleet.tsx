import { useEffect, useRef, useState } from "preact/hooks";
import { api, type ClientRecord, type PropagationHistogram, type StatusDocument } from "../api.js";
import { useNow } from "../clock.js";
import { ageOf, formatTime } from "../format.js";
import { follow } from "../live.js";
import { Safe } from "../text.js";
import { Badge, LiveNote, Problem, useLoad, useTitle } from "./common.js";
import { RolloutPanel } from "./rollout.js";
import type { RolloutStatusDocument } from "../api.js";

/**
 * A client that holds no connection and has not asked for this long is stale (SDKs long-poll or stream; one
 * that polls asks at least every minute). A connected client is never stale: the server refreshes its
 * `lastSeen` on every heartbeat, and says when its connection closes.
 */
const STALE_MS = 5 * 60 * 1000;
/** Client rows shown per service and version before "N more" (the counts are always whole). */
const ROWS_PER_GROUP = 50;
/**
 * After a client moves, the propagation histogram is read again this much later (moves come in bursts), and
 * at most once per HISTOGRAM_EVERY_MS: it is the server's whole `/metrics` text, tens of KiB at scale.
 */
const HISTOGRAM_DELAY_MS = 2_000;
const HISTOGRAM_EVERY_MS = 15_000;

/** The server's buckets (strata_client_propagation_seconds), labelled; counts are cumulative there. */
const BUCKET_LABELS: [number, string][] = [
  [0.1, "≤ 0.1 s"],
  [0.25, "≤ 0.25 s"],
  [0.5, "≤ 0.5 s"],
  [1, "≤ 1 s"],
  [2.5, "≤ 2.5 s"],
  [5, "≤ 5 s"],
  [10, "≤ 10 s"],
  [30, "≤ 30 s"],
  [60, "≤ 1 min"],
  [120, "≤ 2 min"],
  [300, "≤ 5 min"],
  [600, "≤ 10 min"],
  [1800, "≤ 30 min"],
  [Infinity, "> 30 min"],
];

interface Bar {
  label: string;
  count: number;
}

/** The histograms of the environments shown, summed, as per-bucket (not cumulative) counts. */
function bars(histograms: PropagationHistogram[], environments: Set<string>): { bars: Bar[]; total: number } {
  const cumulative = BUCKET_LABELS.map(() => 0);
  for (const h of histograms) {
    if (!environments.has(h.environment)) continue;
    for (const b of h.buckets) {
      const i = BUCKET_LABELS.findIndex(([le]) => le === b.le);
      if (i >= 0) cumulative[i]! += b.count;
    }
  }
  const out = BUCKET_LABELS.map(([, label], i) => ({
    label,
    count: cumulative[i]! - (i === 0 ? 0 : cumulative[i - 1]!),
  }));
  // Only the range that holds something, so a fast fleet is not a row of empty bars.
  const first = out.findIndex((b) => b.count > 0);
  const last = out.length - 1 - [...out].reverse().findIndex((b) => b.count > 0);
  return { bars: first < 0 ? [] : out.slice(first, last + 1), total: cumulative.at(-1)! };
}

function Histogram({ bars: list, total }: { bars: Bar[]; total: number }) {
  const top = Math.max(1, ...list.map((b) => b.count));
  const w = 64;
  const h = 120;
  // Room above the tallest bar for its count.
  const TOP = 16;
  return (
    <figure class="histogram">
      <figcaption>
        Propagation latency: publish to each client's first request running the new version ({total} moves seen by this
        server)
      </figcaption>
      <svg
        viewBox={`0 0 ${list.length * w} ${h + TOP + 30}`}
        // Its natural size (at most the figure's width): one bar is not stretched to fill the page.
        width={list.length * w}
        height={h + TOP + 30}
        role="img"
        aria-label={list.map((b) => `${b.label}: ${b.count}`).join(", ")}
      >
        {list.map((b, i) => {
          const bar = Math.round((b.count / top) * h);
          return (
            <g key={b.label}>
              <rect class="bar" x={i * w + 8} y={TOP + h - bar} width={w - 16} height={bar} />
              <text x={i * w + w / 2} y={TOP + h + 14} class="axis">
                {b.label}
              </text>
              <text x={i * w + w / 2} y={TOP + h - bar - 4} class="count">
                {b.count}
              </text>
            </g>
          );
        })}
      </svg>
    </figure>
  );
}

/** What is wrong with a client, if anything: the page's "problems only" filter keeps these. */
interface Flags {
  stale: boolean;
  behind: boolean;
  failed: boolean;
  refusing: boolean;
}

/**
 * `rolloutStable`: while a rollout of the current version runs (or after it rolled back), its stable version:
 * the plan puts clients there, so they are not behind.
 */
function flagsOf(c: ClientRecord, current: number | null, now: number, rolloutStable: number | null = null): Flags {
  const failed = c.state === "failed";
  return {
    stale: !c.connected && now - Date.parse(c.lastSeen) > STALE_MS,
    behind: !failed && current !== null && c.version < current && c.version !== rolloutStable,
    failed,
    refusing: c.state === "refusing",
  };
}

const hasProblem = (f: Flags): boolean => f.stale || f.behind || f.failed || f.refusing;

function ClientRow({
  c,
  current,
  flags,
  now,
  cohort,
}: {
  c: ClientRecord;
  current: number | null;
  flags: Flags;
  now: number;
  cohort: "stable" | "candidate" | null;
}) {
  return (
    <tr>
      <th scope="row" data-label="Service" class="name">
        <Safe text={c.service} />
      </th>
      <td data-label="Instance" class="name">
        <code>
          <Safe text={c.instance} />
        </code>
      </td>
      <td data-label="Kind">{c.kind ?? "—"}</td>
      <td data-label="Runs">
        {c.version === 0 ? "—" : `v${c.version}`} {flags.behind && <Badge kind="warn">behind v{current}</Badge>}
        {cohort !== null && <Badge kind={cohort === "candidate" ? "ok" : "muted"}>{cohort}</Badge>}
      </td>
      <td data-label="Last seen">
        <time dateTime={c.lastSeen} title={formatTime(c.lastSeen)}>
          {c.connected ? "now (connected)" : ageOf(c.lastSeen, now)}
        </time>{" "}
        {flags.stale && <Badge kind="warn">stale</Badge>}
      </td>
      <td data-label="Connected">{c.connected ? "yes" : "no"}</td>
      <td data-label="Rejected">
        {c.rejected ? (
          // Refusing now (a version newer than the one it runs) or unable to start: red; a past refusal: amber.
          <Badge kind={c.state === "running" ? "warn" : "danger"}>
            {flags.failed ? "failed at start: " : flags.refusing ? "refusing " : "refused "}v{c.rejected.version}{" "}
            <Safe text={c.rejected.reason} />
            {flags.refusing && ` since ${ageOf(c.rejected.at, now)}`}
          </Badge>
        ) : (
          "—"
        )}
      </td>
    </tr>
  );
}

/** How many clients run each version, newest first; instances that failed at start run none and are counted apart. */
function versionCounts(list: ClientRecord[]): string[] {
  const counts = new Map<number, number>();
  let failed = 0;
  for (const c of list) {
    if (c.state === "failed") failed++;
    else counts.set(c.version, (counts.get(c.version) ?? 0) + 1);
  }
  const clients = (n: number): string => `${n} client${n === 1 ? "" : "s"}`;
  return [
    ...[...counts]
      .sort((a, b) => b[0] - a[0])
      .map(([v, n]) => `${v === 0 ? "no version yet" : `v${v}`}: ${clients(n)}`),
    ...(failed > 0 ? [`failed at start: ${clients(failed)}`] : []),
  ];
}

interface Group {
  service: string;
  version: number;
  rows: { c: ClientRecord; flags: Flags }[];
  problems: number;
}

/** One environment's clients by service, then version (newest first). */
function groupsOf(list: ClientRecord[], current: number | null, now: number, rolloutStable: number | null): Group[] {
  const groups = new Map<string, Group>();
  for (const c of list) {
    const key = `${c.service}\u0000${c.version}`;
    let g = groups.get(key);
    if (g === undefined) groups.set(key, (g = { service: c.service, version: c.version, rows: [], problems: 0 }));
    const flags = flagsOf(c, current, now, rolloutStable);
    g.rows.push({ c, flags });
    if (hasProblem(flags)) g.problems++;
  }
  return [...groups.values()].sort((a, b) => a.service.localeCompare(b.service) || b.version - a.version);
}

const recordKey = (c: ClientRecord): string => `${c.environment}\u0000${c.service}\u0000${c.instance}`;

/** Puts a changed record into the status document (a new client is added). */
function merge(status: StatusDocument, record: ClientRecord): StatusDocument {
  const key = recordKey(record);
  const i = status.clients.findIndex((c) => recordKey(c) === key);
  const clients =
    i < 0
      ? [...status.clients, record].sort(
          (a, b) =>
            a.environment.localeCompare(b.environment) ||
            a.service.localeCompare(b.service) ||
            a.instance.localeCompare(b.instance),
        )
      : status.clients.map((c, j) => (j === i ? record : c));
  return { ...status, clients };
}

export function FleetPage() {
  useTitle("Fleet");
  const now = useNow();
  const { data: loaded, error, reload } = useLoad(() => api.status(), []);
  const histograms = useLoad(() => api.propagation(), []);
  const [status, setStatus] = useState<StatusDocument | null>(null);
  const [news, setNews] = useState<string | null>(null);
  const [problemsOnly, setProblemsOnly] = useState(false);
  // Each environment's rollout, as its panel last read it.
  const [rollouts, setRollouts] = useState<ReadonlyMap<string, RolloutStatusDocument | null>>(new Map());
  const histogramTimer = useRef<ReturnType<typeof setTimeout> | null>(null);
  const histogramAt = useRef(Date.now());
  useEffect(() => setStatus(loaded), [loaded]);
  // The tab's one stream: a new version reloads the status; a changed client record is merged in as it is.
  useEffect(
    () =>
      follow({
        onSnapshot: (e) => {
          setNews(`${e.environment} is now at version ${e.version}`);
          reload();
        },
        onClient: (record) => {
          setStatus((s) => (s === null ? s : merge(s, record)));
          if (histogramTimer.current === null)
            histogramTimer.current = setTimeout(
              () => {
                histogramTimer.current = null;
                histogramAt.current = Date.now();
                histograms.reload();
              },
              Math.max(HISTOGRAM_DELAY_MS, histogramAt.current + HISTOGRAM_EVERY_MS - Date.now()),
            );
        },
        onResync: () => {
          reload();
          histograms.reload();
        },
      }),
    [],
  );
  useEffect(
    () => () => {
      if (histogramTimer.current !== null) clearTimeout(histogramTimer.current);
    },
    [],
  );
  const clients = status?.clients ?? [];
  const byEnv = new Map<string, ClientRecord[]>();
  for (const c of clients) byEnv.set(c.environment, [...(byEnv.get(c.environment) ?? []), c]);
  const currentOf = (env: string): number | null => {
    const e = status?.environments.find((x) => x.environment === env);
    // An environment the endpoint cannot serve (`error`) has no current version.
    return e !== undefined && "version" in e ? e.version : null;
  };
  /** The stable version of a rollout of the environment's current version that is not promoted, else null. */
  const stableOf = (env: string): number | null => {
    const state = rollouts.get(env)?.state ?? null;
    return state !== null && state.candidate.version === currentOf(env) && state.phase !== "promoted"
      ? state.stable.version
      : null;
  };
  const cohortOf = (c: ClientRecord): "stable" | "candidate" | null => {
    const state = rollouts.get(c.environment)?.state ?? null;
    if (state === null || state.phase === "promoted" || state.candidate.version !== currentOf(c.environment))
      return null;
    return c.version === state.candidate.version ? "candidate" : c.version === state.stable.version ? "stable" : null;
  };
  const rejected = clients.filter((c) => c.rejected);
  const problems = clients.filter((c) =>
    hasProblem(flagsOf(c, currentOf(c.environment), now, stableOf(c.environment))),
  ).length;
  const shown = new Set(status?.environments.map((e) => e.environment) ?? []);
  const propagation = bars(histograms.data ?? [], shown);
  return (
    <>
      <h1>Fleet</h1>
      <LiveNote news={news} />
      <Problem error={error} />
      {status !== null && clients.length === 0 && (
        <p>
          No client has read an environment your token may read in the last 15 minutes. Clients identify themselves with
          the <code>Strata-Client</code> header.
        </p>
      )}
      {status !== null && clients.length > 0 && (
        <>
          <p>
            {clients.length} clients;{" "}
            {rejected.length === 0 ? (
              "none rejected a snapshot"
            ) : (
              <strong class="bad">{rejected.length} rejected a snapshot</strong>
            )}
            ; {problems === 0 ? "no problems." : <strong class="bad">{problems} with a problem.</strong>}
          </p>
          <p>
            <label>
              <input
                type="checkbox"
                checked={problemsOnly}
                onChange={(e) => setProblemsOnly((e.currentTarget as HTMLInputElement).checked)}
              />{" "}
              Problems only (behind, refusing, failed at start, stale)
            </label>
          </p>
          {propagation.total > 0 ? (
            <Histogram {...propagation} />
          ) : (
            <p class="muted">
              Propagation latency: this server has not yet seen a client move to a newly published version (it times
              each move from the version's publish to the client's first request running it).
            </p>
          )}
          {[...byEnv].map(([env, list]) => {
            const current = currentOf(env);
            const groups = groupsOf(list, current, now, stableOf(env)).filter((g) => !problemsOnly || g.problems > 0);
            return (
              <section key={env} aria-labelledby={`fleet-${env}`}>
                <h2 id={`fleet-${env}`}>
                  {env} <span class="muted">(serving v{current ?? "—"})</span>
                </h2>
                <p>Runs: {versionCounts(list).join(" · ")}</p>
                <RolloutPanel env={env} heading={3} onChange={(doc) => setRollouts((m) => new Map(m).set(env, doc))} />
                {groups.length === 0 ? (
                  <p class="muted">No problems.</p>
                ) : (
                  <div class="scroll" tabIndex={0} role="region" aria-label={`Clients of ${env}`}>
                    <table class="stack">
                      <thead>
                        <tr>
                          <th scope="col">Service</th>
                          <th scope="col">Instance</th>
                          <th scope="col">Kind</th>
                          <th scope="col">Runs</th>
                          <th scope="col">Last seen</th>
                          <th scope="col">Connected</th>
                          <th scope="col">Rejected</th>
                        </tr>
                      </thead>
                      {groups.map((g) => {
                        const rows = problemsOnly ? g.rows.filter((r) => hasProblem(r.flags)) : g.rows;
                        return (
                          <tbody key={`${g.service}\u0000${g.version}`} class="group">
                            <tr class="group-head">
                              <th scope="rowgroup" colSpan={7}>
                                <Safe text={g.service} /> · {g.version === 0 ? "no version" : `v${g.version}`}:{" "}
                                {g.rows.length} client{g.rows.length === 1 ? "" : "s"}
                                {g.problems > 0 && (
                                  <>
                                    {" "}
                                    <Badge kind="warn">{g.problems} with a problem</Badge>
                                  </>
                                )}
                              </th>
                            </tr>
                            {rows.slice(0, ROWS_PER_GROUP).map(({ c, flags }) => (
                              <ClientRow
                                key={recordKey(c)}
                                c={c}
                                current={current}
                                flags={flags}
                                now={now}
                                cohort={cohortOf(c)}
                              />
                            ))}
                            {rows.length > ROWS_PER_GROUP && (
                              <tr>
                                <td colSpan={7} class="muted">
                                  and {rows.length - ROWS_PER_GROUP} more
                                  {problemsOnly ? " with a problem" : " (tick “Problems only” to see those first)"}
                                </td>
                              </tr>
                            )}
                          </tbody>
                        );
                      })}
                    </table>
                  </div>
                )}
              </section>
            );
          })}
        </>
      )}
    </>
  );
}
