import { useState } from "preact/hooks";
import { api, type AuditedVersion, type ChainAuditDocument, type VersionsDocument } from "../api.js";
import { formatTime, shortDigest } from "../format.js";
import { Names } from "../links.js";
import { Safe } from "../text.js";
import { Badge, LiveNote, Problem, useLive, useLoad, useTitle } from "./common.js";
import { BreachItem, formatShare } from "./rollout.js";

type Chain = ChainAuditDocument["environments"][number];
type RolloutEntry = ChainAuditDocument["rollouts"][number];

const ACTION_KIND: Record<RolloutEntry["action"], string> = {
  start: "ok",
  advance: "ok",
  promote: "ok",
  hold: "warn",
  pause: "warn",
  resume: "ok",
  abort: "danger",
  rollback: "danger",
};

/** Who decided: the token that acted, or the decision loop (a rollback: the gates that breached). */
function decidedBy(r: RolloutEntry): string {
  if (r.actor !== "strata serve") return r.actor === "local" ? "local (no tokens)" : `token ${r.actor}`;
  const gates = (r.breaches ?? []).map((b) => b.gate);
  return gates.length > 0 ? `the gate${gates.length === 1 ? "" : "s"} ${gates.join(", ")}` : "the decision loop";
}

/** Every rollout's starts, steps, holds, promotions, rollbacks and operators' actions, newest first (read-only). */
function RolloutAudit({ entries }: { entries: RolloutEntry[] }) {
  return (
    <section aria-labelledby="audit-rollouts">
      <h2 id="audit-rollouts">Rollout decisions and actions</h2>
      {entries.length === 0 ? (
        <p class="muted">No rollout decision or action is recorded.</p>
      ) : (
        <div class="scroll" tabIndex={0} role="region" aria-label="Rollout decisions and actions">
          <table class="stack">
            <caption class="sr-only">
              Each rollout's starts, steps, holds, promotions, rollbacks and operators' actions, newest first
            </caption>
            <thead>
              <tr>
                <th scope="col">When</th>
                <th scope="col">Chain</th>
                <th scope="col">Rollout</th>
                <th scope="col">Action</th>
                <th scope="col">By</th>
                <th scope="col">Then</th>
                <th scope="col">Why</th>
              </tr>
            </thead>
            <tbody>
              {entries.map((r) => (
                <tr key={`${r.rollout} ${r.at} ${r.action}`} class={r.action === "rollback" ? "bad-row" : ""}>
                  <td data-label="When">
                    <time dateTime={r.at}>{formatTime(r.at)}</time>
                  </td>
                  <th scope="row" data-label="Chain">
                    <Safe text={r.service === undefined ? r.environment : `${r.environment}/${r.service}`} />
                  </th>
                  <td data-label="Rollout">
                    <code>
                      <Safe text={r.rollout} />
                    </code>{" "}
                    <span class="muted">
                      v{r.stable.version} → v{r.candidate.version}, plan {r.planVersion}
                    </span>
                  </td>
                  <td data-label="Action">
                    <Badge kind={ACTION_KIND[r.action]}>{r.action}</Badge>
                  </td>
                  <td data-label="By">
                    <Safe text={decidedBy(r)} />
                  </td>
                  <td data-label="Then">
                    {r.phase} at {formatShare(r.percent)}
                  </td>
                  <td data-label="Why">
                    <Safe text={r.reason} />
                    {r.breaches !== undefined && r.breaches.length > 0 && (
                      <ul>
                        {r.breaches.map((b) => (
                          <BreachItem key={b.gate} b={b} />
                        ))}
                      </ul>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}

/** A broken chain, at the top of the page: where it broke and why. */
function BrokenChain({ chain }: { chain: Chain }) {
  const bad = chain.firstBad!;
  return (
    <section aria-labelledby={`audit-${chain.environment}`} class="chain chain-broken">
      <h2 id={`audit-${chain.environment}`}>
        <Safe text={chain.environment} /> <Badge kind="danger">chain broken at v{bad.version}</Badge>
      </h2>
      <p class="error" role="alert">
        <strong>
          v{bad.version}: {bad.code}
        </strong>{" "}
        — <Safe text={bad.message} />. Versions from here on cannot be trusted.
      </p>
      <a href={`#/audit/${encodeURIComponent(chain.environment)}`}>
        Every version of <Safe text={chain.environment} />
      </a>
    </section>
  );
}

/** Every readable environment's verdict, one row each. */
function Chains({ chains }: { chains: Chain[] }) {
  return (
    <div class="scroll" tabIndex={0} role="region" aria-label="Every environment's chain">
      <table class="stack">
        <caption class="sr-only">Each environment's hash chain, as the server checked it</caption>
        <thead>
          <tr>
            <th scope="col">Environment</th>
            <th scope="col">Versions</th>
            <th scope="col">Check</th>
          </tr>
        </thead>
        <tbody>
          {chains.map((c) => (
            <tr key={c.environment} class={c.ok ? "" : "bad-row"}>
              <th scope="row" data-label="Environment">
                <a href={`#/audit/${encodeURIComponent(c.environment)}`}>
                  <Safe text={c.environment} />
                </a>
              </th>
              <td data-label="Versions">{c.count}</td>
              <td data-label="Check">
                {c.ok ? (
                  <Badge kind="ok">chain intact</Badge>
                ) : (
                  <Badge kind="danger">
                    broken at v{c.firstBad!.version}: {c.firstBad!.code}
                  </Badge>
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

export function AuditPage() {
  useTitle("Audit");
  const { data, error, reload } = useLoad(() => api.audit(), []);
  const news = useLive(data?.environments.map((e) => e.environment) ?? [], reload);
  const broken = data?.environments.filter((e) => !e.ok) ?? [];
  const versions = data?.environments.reduce((n, e) => n + e.count, 0) ?? 0;
  return (
    <>
      <h1>Audit</h1>
      <LiveNote news={news} />
      <Problem error={error} />
      {data !== null && (
        <p>
          The server checked every stored version ({versions} in {data.environments.length} environment
          {data.environments.length === 1 ? "" : "s"}): its digest against its content, its signature against the{" "}
          {data.trustedKeys.length} trusted key{data.trustedKeys.length === 1 ? "" : "s"}, its <code>previous</code>{" "}
          against the digest of the version before, and its history line against the signed snapshot (who pushed it, the
          pull requests, the approvers, the emergency flag).{" "}
          {broken.length === 0 ? (
            <strong class="good">Every chain is intact.</strong>
          ) : (
            <strong class="bad">
              {broken.length} chain{broken.length === 1 ? " is" : "s are"} broken.
            </strong>
          )}
        </p>
      )}
      {broken.map((c) => (
        <BrokenChain key={c.environment} chain={c} />
      ))}
      {data !== null && data.environments.length > 0 && <Chains chains={data.environments} />}
      {data !== null && <RolloutAudit entries={data.rollouts} />}
    </>
  );
}

function VersionRow({ v }: { v: AuditedVersion }) {
  const prs = v.source?.pullRequests;
  return (
    <tr class={v.problem !== null ? "bad-row" : v.ok ? "" : "after-break"}>
      <th scope="row" data-label="Version">
        v{v.version}
      </th>
      <td data-label="Check">
        {v.problem !== null ? (
          <Badge kind="danger">{v.problem.code}</Badge>
        ) : v.ok ? (
          <Badge kind="ok">ok</Badge>
        ) : (
          <Badge kind="warn">after the break</Badge>
        )}
      </td>
      <td data-label="Digest">
        <code>{shortDigest(v.digest)}</code>
      </td>
      <td data-label="Previous">
        <code>{shortDigest(v.previous)}</code>
      </td>
      <td data-label="Signed by">
        <code>{v.signedBy === null ? "—" : v.signedBy.slice(0, 12)}</code>
      </td>
      <td data-label="Published">
        <time dateTime={v.publishedAt}>{formatTime(v.publishedAt)}</time>
        {v.actor !== null && (
          <span class="muted">
            {" "}
            (token <Safe text={v.actor} />)
          </span>
        )}
      </td>
      <td data-label="Pushed by">
        {v.source === null ? "—" : <Names names={v.source.pushedBy === null ? [] : [v.source.pushedBy]} />}
        {v.emergency ? " (emergency)" : ""}
      </td>
      <td data-label="Approved by">
        {v.source === null ? (
          "—"
        ) : prs !== undefined && prs.length > 0 ? (
          prs.map((p, i) => (
            <span key={p.number}>
              {i > 0 && "; "}#{p.number}: <Names names={p.approvedBy} />
            </span>
          ))
        ) : (
          <Names names={v.source.approvedBy} />
        )}
      </td>
    </tr>
  );
}

/** One environment's chain, every version, newest first, a page at a time. */
export function AuditEnvironmentPage({ env }: { env: string }) {
  useTitle(`Audit of ${env}`);
  const { data, error, reload } = useLoad(() => api.versions(env), [env]);
  const news = useLive([env], reload);
  const [older, setOlder] = useState<VersionsDocument[]>([]);
  const [loading, setLoading] = useState(false);
  const [more, setMore] = useState<string | null>(null);
  // Older pages are numbered below the first page's oldest version: they stay right after a new version.
  const firstOldest = data?.versions.at(-1)?.version ?? 0;
  const below = older.flatMap((p) => p.versions).filter((v) => v.version < firstOldest);
  const joined = below.length > 0 && below[0]!.version === firstOldest - 1;
  const shown = data === null ? [] : [...data.versions, ...(joined ? below : [])];
  const next = joined ? (older.at(-1)?.next ?? null) : (data?.next ?? null);
  const loadMore = (): void => {
    if (next === null) return;
    setLoading(true);
    api.versions(env, next).then(
      (d) => {
        setOlder((o) => [...(joined ? o : []), d]);
        setMore(null);
        setLoading(false);
      },
      (e: unknown) => {
        setMore((e as Error).message);
        setLoading(false);
      },
    );
  };
  return (
    <>
      <p class="crumbs">
        <a href="#/audit">Audit</a> / {env}
      </p>
      <h1>
        Audit of <Safe text={env} />
      </h1>
      <LiveNote news={news} />
      <Problem error={error} />
      {data !== null && (
        <p>
          {data.count} version{data.count === 1 ? "" : "s"}:{" "}
          {data.ok ? (
            <strong class="good">the chain is intact.</strong>
          ) : (
            <strong class="bad" role="alert">
              the chain is broken at v{data.firstBad!.version} ({data.firstBad!.code}:{" "}
              <Safe text={data.firstBad!.message} />
              ).
            </strong>
          )}
        </p>
      )}
      {shown.length > 0 && (
        <div class="scroll" tabIndex={0} role="region" aria-label={`Versions of ${env}`}>
          <table class="stack">
            <caption class="sr-only">Each version of {env}, newest first, as the server checked it</caption>
            <thead>
              <tr>
                <th scope="col">Version</th>
                <th scope="col">Check</th>
                <th scope="col">Digest</th>
                <th scope="col">Previous</th>
                <th scope="col">Signed by</th>
                <th scope="col">Published</th>
                <th scope="col">Pushed by</th>
                <th scope="col">Approved by</th>
              </tr>
            </thead>
            <tbody>
              {shown.map((v) => (
                <VersionRow key={v.version} v={v} />
              ))}
            </tbody>
          </table>
        </div>
      )}
      <Problem error={more} />
      {next !== null && (
        <button type="button" class="more" onClick={loadMore} disabled={loading}>
          {loading ? "Loading…" : `Older versions (before v${next})`}
        </button>
      )}
    </>
  );
}
