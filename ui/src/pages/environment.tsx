import { useState } from "preact/hooks";
import { api, type HistoryEntry, type KeyChange } from "../api.js";
import { ageOf, formatTime, formatValue, shortCommit, shortDigest } from "../format.js";
import { Badge, LiveNote, Problem, useLive, useLoad } from "./common.js";

function kindOf(e: HistoryEntry): { label: string; kind: string } {
  if (e.emergency) return { label: "emergency", kind: "danger" };
  if (e.action === "rollback") return { label: `rollback to v${e.rollbackOf ?? "?"}`, kind: "warn" };
  if (e.action === "refresh") return { label: "refresh", kind: "muted" };
  return { label: "publish", kind: "ok" };
}

function Timeline({ env, versions }: { env: string; versions: HistoryEntry[] }) {
  return (
    <ol class="timeline" reversed>
      {[...versions].reverse().map((e) => {
        const k = kindOf(e);
        return (
          <li key={e.version} class={`event event-${k.kind}`}>
            <div class="event-head">
              <strong>v{e.version}</strong> <Badge kind={k.kind}>{k.label}</Badge>{" "}
              <time dateTime={e.publishedAt} title={formatTime(e.publishedAt)}>
                {formatTime(e.publishedAt)} ({ageOf(e.publishedAt)})
              </time>
            </div>
            <dl class="source">
              <dt>Commit</dt>
              <dd>
                <code>{shortCommit(e.source.commit)}</code>
              </dd>
              <dt>Pull request</dt>
              <dd>{e.source.pullRequest === null ? "—" : `#${e.source.pullRequest}`}</dd>
              <dt>Approved by</dt>
              <dd>{e.source.approvedBy.length === 0 ? "—" : e.source.approvedBy.join(", ")}</dd>
              <dt>Pushed by</dt>
              <dd>{e.source.pushedBy ?? e.actor ?? "—"}</dd>
              <dt>Digest</dt>
              <dd>
                <code>{shortDigest(e.digest)}</code>
              </dd>
            </dl>
            {e.version > 1 && (
              <a href={`#/env/${encodeURIComponent(env)}/diff/${e.version - 1}/${e.version}`}>
                Changes from v{e.version - 1}
                <span class="sr-only"> to v{e.version}</span>
              </a>
            )}
          </li>
        );
      })}
    </ol>
  );
}

function ChangeRow({ c }: { c: KeyChange }) {
  return (
    <tr class={`change change-${c.change}`}>
      <th scope="row">
        <code>{c.key}</code>
      </th>
      <td>{c.change}</td>
      <td>
        {c.sensitive ? (
          <span class="muted">
            sensitive:{" "}
            {c.change === "changed"
              ? c.certain === false
                ? "may have changed (value hidden)"
                : "changed (value hidden)"
              : `${c.change} (value hidden)`}
          </span>
        ) : (
          <>
            <code class="before">{formatValue(c.before)}</code>
            {c.change === "changed" && " → "}
            <code class="after">{formatValue(c.after)}</code>
          </>
        )}
      </td>
      <td>
        {c.flags.includes("restart-required") && <Badge kind="warn">restart required</Badge>}
        {c.flags.includes("deprecated") && (
          <Badge kind="muted">deprecated{c.deprecated ? `: ${c.deprecated}` : ""}</Badge>
        )}
      </td>
    </tr>
  );
}

function Diff({ env, from, to }: { env: string; from: number; to: number }) {
  const { data, error } = useLoad(() => api.diff(env, from, to), [env, from, to]);
  const changes = data === null ? [] : Object.values(data.environments).flatMap((e) => e.changes);
  return (
    <section aria-labelledby="diff-title" class="diff">
      <h2 id="diff-title" tabIndex={-1}>
        Changes from v{from} to v{to}
      </h2>
      <Problem error={error} />
      {data !== null && changes.length === 0 && <p>No configuration change between these versions.</p>}
      {changes.length > 0 && (
        <div class="scroll">
          <table>
            <caption class="sr-only">Each changed key, before and after</caption>
            <thead>
              <tr>
                <th scope="col">Key</th>
                <th scope="col">Change</th>
                <th scope="col">Before → after</th>
                <th scope="col">Flags</th>
              </tr>
            </thead>
            <tbody>
              {changes.map((c) => (
                <ChangeRow key={c.key} c={c} />
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}

function Picker({
  env,
  versions,
  from,
  to,
}: {
  env: string;
  versions: HistoryEntry[];
  from: number | null;
  to: number | null;
}) {
  const last = versions.at(-1)?.version ?? 1;
  const [a, setA] = useState(from ?? Math.max(1, last - 1));
  const [b, setB] = useState(to ?? last);
  const submit = (e: Event): void => {
    e.preventDefault();
    location.hash = `#/env/${encodeURIComponent(env)}/diff/${a}/${b}`;
  };
  const options = versions.map((v) => (
    <option key={v.version} value={v.version}>
      v{v.version} ({v.action}
      {v.emergency ? ", emergency" : ""})
    </option>
  ));
  return (
    <form class="picker" onSubmit={submit}>
      <label for="from">From</label>
      <select id="from" value={a} onChange={(e) => setA(Number((e.target as HTMLSelectElement).value))}>
        {options}
      </select>
      <label for="to">To</label>
      <select id="to" value={b} onChange={(e) => setB(Number((e.target as HTMLSelectElement).value))}>
        {options}
      </select>
      <button type="submit">Compare</button>
    </form>
  );
}

export function EnvironmentPage({ env, from, to }: { env: string; from: number | null; to: number | null }) {
  const { data, error, reload } = useLoad(() => api.history(env), [env]);
  const news = useLive([env], reload);
  const versions = data?.versions ?? [];
  return (
    <>
      <p class="crumbs">
        <a href="#/">Environments</a> / {env}
      </p>
      <h1>{env}</h1>
      <LiveNote news={news} />
      <Problem error={error} />
      {versions.length > 1 && (
        <Picker key={`${from}-${to}-${versions.length}`} env={env} versions={versions} from={from} to={to} />
      )}
      {from !== null && to !== null && Number.isSafeInteger(from) && Number.isSafeInteger(to) && (
        <Diff env={env} from={from} to={to} />
      )}
      <h2>History</h2>
      {data !== null && versions.length === 0 && <p>Nothing published yet.</p>}
      <Timeline env={env} versions={versions} />
    </>
  );
}
