import { api, type ClientRecord, type EnvironmentRow, type EnvironmentsDocument, type StatusDocument } from "../api.js";
import { useNow } from "../clock.js";
import { formatAge, formatTime, shortCommit } from "../format.js";
import { CommitLink, Names, PullRequestLink } from "../links.js";
import { linkRepository } from "../repository.js";
import { Safe } from "../text.js";
import { Badge, LiveNote, Problem, useLive, useLoad, useTitle } from "./common.js";

/** The environments with their fleet: one status row each. */
interface Overview {
  environments: EnvironmentsDocument;
  clients: ClientRecord[];
}

async function loadOverview(): Promise<Overview> {
  const [environments, status] = await Promise.all([
    api.environments(),
    // The fleet is extra: a server that cannot answer it still shows the environments.
    api.status().catch((): StatusDocument | null => null),
  ]);
  return { environments, clients: status?.clients ?? [] };
}

/** "N of M clients on it, K behind, J rejecting (code)": the fleet of one environment against its version. */
function Fleet({ version, clients }: { version: number; clients: ClientRecord[] }) {
  if (clients.length === 0) return <span class="muted">no client seen</span>;
  const on = clients.filter((c) => c.version === version && c.state !== "refusing").length;
  const rejecting = clients.filter((c) => c.state === "refusing" || c.state === "failed");
  const behind = clients.filter((c) => c.version < version && c.state !== "refusing" && c.state !== "failed").length;
  const codes = [...new Set(rejecting.map((c) => c.rejected?.reason ?? "unknown"))];
  return (
    <>
      {on} of {clients.length} client{clients.length === 1 ? "" : "s"} on it
      {behind > 0 && (
        <>
          , <Badge kind="warn">{behind} behind</Badge>
        </>
      )}
      {rejecting.length > 0 && (
        <>
          ,{" "}
          <Badge kind="danger">
            {rejecting.length} rejecting ({codes.join(", ")})
          </Badge>
        </>
      )}
    </>
  );
}

/** What is published against the repository's HEAD (the server's `--repo`). */
function Drift({ drift }: { drift: NonNullable<EnvironmentRow["current"]>["drift"] }) {
  if (drift === null || drift.state === "same") return null;
  if (drift.state === "unchanged")
    return <div class="muted">HEAD ({shortCommit(drift.head)}) moved, nothing of this environment changed</div>;
  if (drift.state === "unknown") return <div class="muted">the published commit is not in the server's repository</div>;
  return (
    <div>
      <Badge kind="warn">
        drift: HEAD ({shortCommit(drift.head)}) changed {drift.files.length}
        {drift.files.length === 20 ? "+" : ""} file{drift.files.length === 1 ? "" : "s"}, not published
      </Badge>
      <span class="sr-only">: {drift.files.join(", ")}</span>
    </div>
  );
}

/** Clients call a snapshot stale when it expires: warn a day ahead. */
const EXPIRES_SOON_MS = 24 * 3600 * 1000;

/** Parents before children, depth-first, in declaration order; a parent the token cannot read is skipped. */
function orderTree(rows: EnvironmentRow[]): { row: EnvironmentRow; depth: number }[] {
  const names = new Set(rows.map((r) => r.name));
  const children = new Map<string | null, EnvironmentRow[]>();
  for (const r of rows) {
    const parent = r.parent !== null && names.has(r.parent) ? r.parent : null;
    children.set(parent, [...(children.get(parent) ?? []), r]);
  }
  const out: { row: EnvironmentRow; depth: number }[] = [];
  const visit = (parent: string | null, depth: number): void => {
    for (const r of children.get(parent) ?? []) {
      out.push({ row: r, depth });
      visit(r.name, depth + 1);
    }
  };
  visit(null, 0);
  return out;
}

/**
 * One environment. `now` and `at` (when the row arrived) make the age and the expiry tick: the age is the
 * server's `ageSeconds` plus the time since (so the browser's clock being off does not matter).
 */
function Row({
  row,
  depth,
  now,
  at,
  clients,
  server,
}: {
  row: EnvironmentRow;
  depth: number;
  now: number;
  at: number;
  clients: ClientRecord[];
  server: string | null;
}) {
  const c = row.current;
  const expired = c !== null && (c.expired || Date.parse(c.expiresAt) <= now);
  const corrupt = c?.problem ?? null;
  const bad = corrupt !== null || expired || c?.unapproved != null;
  const repository = linkRepository(c?.source.repository ?? null, server);
  return (
    <tr class={bad ? "bad-row" : ""}>
      <th scope="row" data-label="Environment" class={`tree depth-${Math.min(depth, 6)}`}>
        {c === null ? <span>{row.name}</span> : <a href={`#/env/${encodeURIComponent(row.name)}`}>{row.name}</a>}
        {row.parent !== null && <span class="sr-only">, inherits {row.parent}</span>}
        <div class="badges">
          {row.abstract && <Badge kind="muted">abstract</Badge>}
          {row.production && <Badge kind="prod">production</Badge>}
          {row.approvalRequired && !row.abstract && <Badge kind="muted">approval required</Badge>}
          {c?.emergency === true && <Badge kind="danger">emergency</Badge>}
        </div>
      </th>
      <td data-label="Version">
        {c === null ? (
          row.abstract ? (
            "— (a layer only)"
          ) : (
            "not published"
          )
        ) : (
          <>
            v{c.version} <span class="muted">({c.action})</span>
            {corrupt !== null && (
              <div>
                <Badge kind="danger">{corrupt.code}</Badge> <Safe text={corrupt.message} />
              </div>
            )}
          </>
        )}
      </td>
      <td data-label="Clients">{c === null ? "—" : <Fleet version={c.version} clients={clients} />}</td>
      <td data-label="Published">
        {c === null ? (
          "—"
        ) : (
          <time dateTime={c.publishedAt} title={formatTime(c.publishedAt)}>
            {formatAge(c.ageSeconds + (now - at) / 1000)}
          </time>
        )}
      </td>
      <td data-label="Expires">
        {c === null ? (
          "—"
        ) : expired ? (
          <Badge kind="danger">expired {formatTime(c.expiresAt)}</Badge>
        ) : (
          <time dateTime={c.expiresAt}>{formatTime(c.expiresAt)}</time>
        )}
        {c !== null && !expired && Date.parse(c.expiresAt) - now < EXPIRES_SOON_MS && (
          <>
            {" "}
            <Badge kind="warn">expires soon: push --refresh</Badge>
          </>
        )}
      </td>
      <td data-label="Commit">
        <CommitLink repository={repository} commit={c?.source.commit ?? null} />
        {c !== null && <Drift drift={c.drift} />}
      </td>
      <td data-label="Pull request">
        <PullRequestLink repository={repository} number={c?.source.pullRequest ?? null} />
      </td>
      <td data-label="Approved by">
        <Names names={c?.source.approvedBy ?? []} />
        {c?.unapproved != null && (
          <div>
            <Badge kind="danger">published without the approvals its rules require</Badge>{" "}
            <span class="muted">
              (<Safe text={c.unapproved} />)
            </span>
          </div>
        )}
      </td>
    </tr>
  );
}

export function EnvironmentsPage() {
  useTitle("Environments");
  const { data: overview, error, at, reload } = useLoad(loadOverview, []);
  const data = overview?.environments ?? null;
  const now = useNow();
  const published = (data?.environments ?? []).filter((e) => e.current !== null).map((e) => e.name);
  const news = useLive(published, reload);
  const clientsOf = (env: string): ClientRecord[] => (overview?.clients ?? []).filter((c) => c.environment === env);
  return (
    <>
      <h1>Environments</h1>
      <LiveNote news={news} />
      <Problem error={error} />
      {data !== null && data.environments.length === 0 && (
        <p>No environment your token may read has been published yet.</p>
      )}
      {data !== null && data.environments.length > 0 && (
        <div class="scroll" tabIndex={0} role="region" aria-label="Environments table">
          <table class="envs stack">
            <caption class="sr-only">Environments, parents first, with the version each serves and its clients</caption>
            <thead>
              <tr>
                <th scope="col">Environment</th>
                <th scope="col">Version</th>
                <th scope="col">Clients</th>
                <th scope="col">Published</th>
                <th scope="col">Expires</th>
                <th scope="col">Commit</th>
                <th scope="col">Pull request</th>
                <th scope="col">Approved by</th>
              </tr>
            </thead>
            <tbody>
              {orderTree(data.environments).map(({ row, depth }) => (
                <Row
                  key={row.name}
                  row={row}
                  depth={depth}
                  now={now}
                  at={at ?? now}
                  clients={clientsOf(row.name)}
                  server={data.repositoryUrl}
                />
              ))}
            </tbody>
          </table>
        </div>
      )}
      {data !== null && !data.repository && (
        <p class="muted">
          The server was started without <code>--repo</code>: the tree, the abstract, production and approval flags and
          the drift from the repository's HEAD are not known.
        </p>
      )}
    </>
  );
}
