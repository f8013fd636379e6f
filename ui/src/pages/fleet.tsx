import { api, type ClientRecord, type HistoryEntry, type StatusDocument } from "../api.js";
import { useNow } from "../clock.js";
import { ageOf, formatTime } from "../format.js";
import { Safe } from "../text.js";
import { Badge, LiveNote, Problem, useLive, useLoad, useTitle } from "./common.js";

/** A client not heard from for this long is stale (SDKs long-poll or stream: they are heard every minute). */
const STALE_MS = 5 * 60 * 1000;
const BUCKETS = [
  { label: "< 1 s", max: 1 },
  { label: "1–5 s", max: 5 },
  { label: "5–30 s", max: 30 },
  { label: "30 s–2 min", max: 120 },
  { label: "2–10 min", max: 600 },
  { label: "≥ 10 min", max: Infinity },
];

interface FleetData {
  status: StatusDocument;
  history: Map<string, HistoryEntry[]>;
}

async function loadFleet(): Promise<FleetData> {
  const status = await api.status();
  const envs = [...new Set(status.clients.map((c) => c.environment))];
  const history = new Map<string, HistoryEntry[]>();
  for (const env of envs) history.set(env, (await api.history(env)).versions);
  return { status, history };
}

/** Seconds from a version's publish to the client's first request for it (the server's `since`). */
function latencies(data: FleetData): number[] {
  const out: number[] = [];
  for (const c of data.status.clients) {
    if (c.version === 0) continue;
    const published = data.history.get(c.environment)?.find((h) => h.version === c.version)?.publishedAt;
    if (published !== undefined) out.push(Math.max(0, (Date.parse(c.since) - Date.parse(published)) / 1000));
  }
  return out;
}

function Histogram({ values }: { values: number[] }) {
  const counts = BUCKETS.map(() => 0);
  for (const v of values) counts[BUCKETS.findIndex((b) => v < b.max)]! += 1;
  const top = Math.max(1, ...counts);
  const w = 64;
  const h = 120;
  // Room above the tallest bar for its count.
  const TOP = 16;
  return (
    <figure class="histogram">
      <figcaption>
        Propagation latency: publish to each client's first request for the new version ({values.length} clients)
      </figcaption>
      <svg
        viewBox={`0 0 ${BUCKETS.length * w} ${h + TOP + 30}`}
        role="img"
        aria-label={BUCKETS.map((b, i) => `${b.label}: ${counts[i]}`).join(", ")}
      >
        {BUCKETS.map((b, i) => {
          const bar = Math.round((counts[i]! / top) * h);
          return (
            <g key={b.label}>
              <rect class="bar" x={i * w + 8} y={TOP + h - bar} width={w - 16} height={bar} />
              <text x={i * w + w / 2} y={TOP + h + 14} class="axis">
                {b.label}
              </text>
              <text x={i * w + w / 2} y={TOP + h - bar - 4} class="count">
                {counts[i]}
              </text>
            </g>
          );
        })}
      </svg>
    </figure>
  );
}

function ClientRow({ c, current, now }: { c: ClientRecord; current: number | null; now: number }) {
  const stale = now - Date.parse(c.lastSeen) > STALE_MS;
  const failed = c.state === "failed";
  const behind = !failed && current !== null && c.version < current;
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
        {c.version === 0 ? "—" : `v${c.version}`} {behind && <Badge kind="warn">behind v{current}</Badge>}
      </td>
      <td data-label="Last seen">
        <time dateTime={c.lastSeen} title={formatTime(c.lastSeen)}>
          {ageOf(c.lastSeen, now)}
        </time>{" "}
        {stale && <Badge kind="warn">stale</Badge>}
      </td>
      <td data-label="Connected">{c.connected ? "yes" : "no"}</td>
      <td data-label="Rejected">
        {c.rejected ? (
          // Refusing now (a version newer than the one it runs) or unable to start: red; a past refusal: amber.
          <Badge kind={c.state === "running" ? "warn" : "danger"}>
            {failed ? "failed at start: " : c.state === "refusing" ? "refusing " : "refused "}v{c.rejected.version}{" "}
            <Safe text={c.rejected.reason} />
            {c.state === "refusing" && ` since ${ageOf(c.rejected.at, now)}`}
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

export function FleetPage() {
  useTitle("Fleet");
  const now = useNow();
  const { data, error, reload } = useLoad(loadFleet, []);
  const envs = data?.status.environments.map((e) => e.environment) ?? [];
  const news = useLive(envs, reload);
  const clients = data?.status.clients ?? [];
  const byEnv = new Map<string, ClientRecord[]>();
  for (const c of clients) byEnv.set(c.environment, [...(byEnv.get(c.environment) ?? []), c]);
  const currentOf = (env: string): number | null => {
    const e = data?.status.environments.find((x) => x.environment === env);
    // An environment the endpoint cannot serve (`error`) has no current version.
    return e !== undefined && "version" in e ? e.version : null;
  };
  const rejected = clients.filter((c) => c.rejected);
  return (
    <>
      <h1>Fleet</h1>
      <LiveNote news={news} />
      <Problem error={error} />
      {data !== null && clients.length === 0 && (
        <p>
          No client has read an environment your token may read in the last 15 minutes. Clients identify themselves with
          the <code>Strata-Client</code> header.
        </p>
      )}
      {data !== null && clients.length > 0 && (
        <>
          <p>
            {clients.length} clients;{" "}
            {rejected.length === 0 ? (
              "none rejected a snapshot."
            ) : (
              <strong class="bad">{rejected.length} rejected a snapshot.</strong>
            )}
          </p>
          {latencies(data).length > 0 ? (
            <Histogram values={latencies(data)} />
          ) : (
            <p class="muted">
              Propagation latency: no client has reported when it first ran a version yet (the server records it from
              the <code>Strata-Client</code> header).
            </p>
          )}
          {[...byEnv].map(([env, list]) => (
            <section key={env} aria-labelledby={`fleet-${env}`}>
              <h2 id={`fleet-${env}`}>
                {env} <span class="muted">(serving v{currentOf(env) ?? "—"})</span>
              </h2>
              <p>Runs: {versionCounts(list).join(" · ")}</p>
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
                  <tbody>
                    {list.map((c) => (
                      <ClientRow key={`${c.service}/${c.instance}`} c={c} current={currentOf(env)} now={now} />
                    ))}
                  </tbody>
                </table>
              </div>
            </section>
          ))}
        </>
      )}
    </>
  );
}
