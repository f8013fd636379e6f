import { useState } from "preact/hooks";
import { api, type AuditedVersion, type KeyChange, type VersionsDocument } from "../api.js";
import { useNow } from "../clock.js";
import { ageOf, formatTime, formatValue, shortDigest } from "../format.js";
import { CommitLink, Names, PullRequestLink } from "../links.js";
import { linkRepository } from "../repository.js";
import { Safe } from "../text.js";
import { Badge, LiveNote, Problem, useLive, useLoad, useTitle } from "./common.js";
import { RolloutPanel } from "./rollout.js";

type ItemChange = NonNullable<KeyChange["items"]>[number];

function kindOf(e: AuditedVersion): { label: string; kind: string } {
  if (e.emergency) return { label: "emergency", kind: "danger" };
  if (e.action === "rollback") return { label: `rollback to v${e.rollbackOf ?? "?"}`, kind: "warn" };
  if (e.action === "refresh") return { label: "refresh", kind: "muted" };
  return { label: "publish", kind: "ok" };
}

/**
 * One version. Who pushed it, its pull requests, their approvers and the emergency flag are the signed
 * snapshot's (the server verified it); the time and the token are the server's own record of the publish.
 * A version that does not verify shows why, and nothing of what it claims.
 */
function Version({ env, e, server }: { env: string; e: AuditedVersion; server: string | null }) {
  const now = useNow();
  const k = kindOf(e);
  const s = e.source;
  const repository = linkRepository(s?.repository ?? null, server);
  const prs = s?.pullRequests;
  return (
    <li class={`event event-${e.problem !== null ? "bad" : k.kind}`}>
      <div class="event-head">
        <strong>v{e.version}</strong> {s !== null && <Badge kind={k.kind}>{k.label}</Badge>}{" "}
        {e.problem !== null && <Badge kind="danger">{e.problem.code}</Badge>}{" "}
        {e.problem === null && !e.ok && <Badge kind="warn">after a break in the chain</Badge>}{" "}
        <time dateTime={e.publishedAt} title={formatTime(e.publishedAt)}>
          {formatTime(e.publishedAt)} ({ageOf(e.publishedAt, now)})
        </time>
      </div>
      {e.problem !== null && (
        <p class="error">
          <Safe text={e.problem.message} />
        </p>
      )}
      {s === null ? (
        <p class="muted">The stored snapshot does not verify: who pushed and approved it is not shown.</p>
      ) : (
        <dl class="source">
          <dt>Commit</dt>
          <dd>
            <CommitLink repository={repository} commit={s.commit} />
          </dd>
          <dt>Pull request{prs !== undefined && prs.length > 1 ? "s" : ""}</dt>
          <dd>
            {prs !== undefined && prs.length > 0 ? (
              prs.map((p, i) => (
                <span key={p.number}>
                  {i > 0 && "; "}
                  <PullRequestLink repository={repository} number={p.number} />
                  {p.emergency && " (emergency)"}
                  {" approved by "}
                  <Names names={p.approvedBy} />
                </span>
              ))
            ) : (
              <PullRequestLink repository={repository} number={s.pullRequest} />
            )}
          </dd>
          <dt>Approved by</dt>
          <dd>
            <Names names={s.approvedBy} />
          </dd>
          <dt>Pushed by</dt>
          <dd>
            <Names names={s.pushedBy === null ? [] : [s.pushedBy]} />
            {e.actor !== null && (
              <span class="muted">
                {" "}
                (token <Safe text={e.actor} />)
              </span>
            )}
          </dd>
          <dt>Digest</dt>
          <dd>
            <code>{shortDigest(e.digest)}</code>
          </dd>
        </dl>
      )}
      {e.version > 1 && (
        <a href={`#/env/${encodeURIComponent(env)}/diff/${e.version - 1}/${e.version}`}>
          Changes from v{e.version - 1}
          <span class="sr-only"> to v{e.version}</span>
        </a>
      )}
    </li>
  );
}

/**
 * The history, newest first, a page at a time: the first page comes with the page (and again on each new
 * version); "Older versions" appends the next.
 */
function Timeline({ env, first }: { env: string; first: VersionsDocument }) {
  const [older, setOlder] = useState<{ versions: AuditedVersion[]; next: number | null }>({ versions: [], next: null });
  const [error, setError] = useState<string | null>(null);
  const [loading, setLoading] = useState(false);
  // A new version moves the first page up: the older versions loaded so far still follow it when they join
  // it without a gap (else they are dropped, and "Older versions" loads from the first page on).
  const firstOldest = first.versions.at(-1)?.version ?? 1;
  const below = older.versions.filter((v) => v.version < firstOldest);
  const joined = below.length > 0 && below[0]!.version === firstOldest - 1;
  const shown = joined ? [...first.versions, ...below] : first.versions;
  const next = joined ? older.next : first.next;
  const more = (): void => {
    if (next === null) return;
    setLoading(true);
    api.versions(env, next).then(
      (d) => {
        setOlder({ versions: [...(joined ? below : []), ...d.versions], next: d.next });
        setError(null);
        setLoading(false);
      },
      (e: unknown) => {
        setError((e as Error).message);
        setLoading(false);
      },
    );
  };
  return (
    <>
      <p class="muted">
        {first.count} version{first.count === 1 ? "" : "s"}; the newest {shown.length} shown.
      </p>
      <ol class="timeline" reversed>
        {shown.map((e) => (
          <Version key={e.version} env={env} e={e} server={first.repositoryUrl} />
        ))}
      </ol>
      <Problem error={error} />
      {next !== null && (
        <button type="button" class="more" onClick={more} disabled={loading}>
          {loading ? "Loading…" : `Older versions (before v${next})`}
        </button>
      )}
    </>
  );
}

/** A value of the diff as compact JSON, invisible characters escaped. */
function Value({ value, side }: { value: unknown; side: "before" | "after" }) {
  return (
    <code class={side}>
      <Safe text={formatValue(value)} />
    </code>
  );
}

/** An array's item changes, matched by the schema's `x-merge` field or by index. */
function Items({ items }: { items: ItemChange[] }) {
  return (
    <ul class="items">
      {items.map((it, i) => (
        <li key={i} class={`change-${it.change}`}>
          {it.id === undefined ? `[${it.index}]` : <Safe text={`[${formatValue(it.id)}]`} />} {it.change}
          {": "}
          {it.change !== "added" && <Value value={it.before} side="before" />}
          {it.change === "changed" && " → "}
          {it.change !== "removed" && <Value value={it.after} side="after" />}
        </li>
      ))}
    </ul>
  );
}

function ChangeRow({ c }: { c: KeyChange }) {
  return (
    <tr class={`change change-${c.change}`}>
      <th scope="row" data-label="Key" class="name">
        <code>
          <Safe text={c.key} />
        </code>
      </th>
      <td data-label="Change">{c.change}</td>
      <td data-label="Before → after">
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
            {c.change !== "added" && <Value value={c.before} side="before" />}
            {c.change === "changed" && " → "}
            {c.change !== "removed" && <Value value={c.after} side="after" />}
            {c.items !== undefined && c.items.length > 0 && <Items items={c.items} />}
          </>
        )}
      </td>
      <td data-label="Owner and approvers">
        {c.owner === null && c.approvers.length === 0 ? (
          "—"
        ) : (
          <dl class="owners">
            {c.owner !== null && (
              <>
                <dt>Owner</dt>
                <dd>
                  <Safe text={c.owner} />
                </dd>
              </>
            )}
            {c.approvers.length > 0 && (
              <>
                <dt>Approvers</dt>
                <dd>
                  <Names names={c.approvers} />
                </dd>
              </>
            )}
          </dl>
        )}
      </td>
      <td data-label="Flags">
        {c.flags.includes("restart-required") && <Badge kind="warn">restart required</Badge>}
        {c.flags.includes("deprecated") && (
          <Badge kind="muted">
            deprecated{c.deprecated ? ": " : ""}
            {c.deprecated ? <Safe text={c.deprecated} /> : null}
          </Badge>
        )}
      </td>
    </tr>
  );
}

function Diff({ env, from, to, latest }: { env: string; from: number; to: number; latest: boolean }) {
  const { data, error } = useLoad(() => api.diff(env, from, to), [env, from, to]);
  const changes = data === null ? [] : Object.values(data.environments).flatMap((e) => e.changes);
  return (
    <section aria-labelledby="diff-title" class="diff">
      <h2 id="diff-title" tabIndex={-1}>
        Changes from v{from} to v{to}
        {latest && <span class="muted"> (the latest version)</span>}
      </h2>
      <Problem error={error} />
      {data !== null && changes.length === 0 && <p>No configuration change between these versions.</p>}
      {changes.length > 0 && (
        <div class="scroll" tabIndex={0} role="region" aria-label="Changed keys">
          <table class="stack">
            <caption class="sr-only">Each changed key, before and after</caption>
            <thead>
              <tr>
                <th scope="col">Key</th>
                <th scope="col">Change</th>
                <th scope="col">Before → after</th>
                <th scope="col">Owner and approvers</th>
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
  count,
  known,
  from,
  to,
}: {
  env: string;
  count: number;
  known: readonly AuditedVersion[];
  from: number | null;
  to: number | null;
}) {
  const last = count;
  const [a, setA] = useState(from ?? Math.max(1, last - 1));
  const [b, setB] = useState(to ?? last);
  const submit = (e: Event): void => {
    e.preventDefault();
    location.hash = `#/env/${encodeURIComponent(env)}/diff/${a}/${b}`;
  };
  const byVersion = new Map(known.map((v) => [v.version, v]));
  const options = Array.from({ length: count }, (_, i) => {
    const n = i + 1;
    const v = byVersion.get(n);
    return (
      <option key={n} value={n}>
        v{n}
        {v === undefined ? "" : ` (${v.action}${v.emergency ? ", emergency" : ""})`}
      </option>
    );
  });
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

/**
 * The services of the environment, each on its own version chain (docs/distribution.md, "Services"): from
 * `/v1/status`, so a token that may not read the environment sees none.
 */
function Services({ env, reloadKey }: { env: string; reloadKey: number }) {
  const { data } = useLoad(() => api.status(), [env, reloadKey]);
  const row = data?.environments.find((e) => e.environment === env);
  const services = row !== undefined && !("error" in row) ? (row.services ?? []) : [];
  if (services.length === 0) return null;
  return (
    <>
      <h2>Services</h2>
      <ul class="services">
        {services.map((s) => (
          <li key={s.service}>
            <Safe text={s.service} />:{" "}
            {"error" in s ? <Badge kind="danger">{s.error.code}</Badge> : <strong>v{s.version}</strong>}
          </li>
        ))}
      </ul>
    </>
  );
}

export function EnvironmentPage({ env, from, to }: { env: string; from: number | null; to: number | null }) {
  useTitle(from !== null && to !== null ? `${env}: v${from} to v${to}` : env);
  const { data, error, reload } = useLoad(() => api.versions(env), [env]);
  const news = useLive([env], reload);
  const count = data?.count ?? 0;
  // Without a choice in the address, the latest change: the newest version against the one before it.
  const newest = count === 0 ? null : count;
  const chosen = from !== null && to !== null && Number.isSafeInteger(from) && Number.isSafeInteger(to);
  return (
    <>
      <p class="crumbs">
        <a href="#/">Environments</a> / {env}
      </p>
      <h1>
        <Safe text={env} />
      </h1>
      <LiveNote news={news} />
      <Problem error={error} />
      <RolloutPanel env={env} />
      {data !== null && !data.ok && data.firstBad !== null && (
        <p class="error" role="alert">
          <strong>
            The chain is broken at v{data.firstBad.version}: {data.firstBad.code}
          </strong>{" "}
          — <Safe text={data.firstBad.message} />. <a href={`#/audit/${encodeURIComponent(env)}`}>See the audit</a>.
        </p>
      )}
      {count > 1 && data !== null && (
        <Picker key={`${from}-${to}-${count}`} env={env} count={count} known={data.versions} from={from} to={to} />
      )}
      {chosen ? (
        <Diff env={env} from={from} to={to} latest={false} />
      ) : (
        newest !== null && newest > 1 && <Diff key={newest} env={env} from={newest - 1} to={newest} latest={true} />
      )}
      <Services env={env} reloadKey={newest ?? 0} />
      <h2>History</h2>
      {data !== null && count === 0 && <p>Nothing published yet.</p>}
      {data !== null && count > 0 && <Timeline key={env} env={env} first={data} />}
    </>
  );
}
