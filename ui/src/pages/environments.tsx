import { api, type EnvironmentRow } from "../api.js";
import { useNow } from "../clock.js";
import { formatAge, formatTime } from "../format.js";
import { CommitLink, Names, PullRequestLink } from "../links.js";
import { Badge, LiveNote, Problem, useLive, useLoad, useTitle } from "./common.js";

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
function Row({ row, depth, now, at }: { row: EnvironmentRow; depth: number; now: number; at: number }) {
  const c = row.current;
  const expired = c !== null && (c.expired || Date.parse(c.expiresAt) <= now);
  return (
    <tr>
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
          </>
        )}
      </td>
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
        <CommitLink repository={c?.source.repository ?? null} commit={c?.source.commit ?? null} />
      </td>
      <td data-label="Pull request">
        <PullRequestLink repository={c?.source.repository ?? null} number={c?.source.pullRequest ?? null} />
      </td>
      <td data-label="Approved by">
        <Names names={c?.source.approvedBy ?? []} />
      </td>
    </tr>
  );
}

export function EnvironmentsPage() {
  useTitle("Environments");
  const { data, error, at, reload } = useLoad(() => api.environments(), []);
  const now = useNow();
  const published = (data?.environments ?? []).filter((e) => e.current !== null).map((e) => e.name);
  const news = useLive(published, reload);
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
            <caption class="sr-only">Environments, parents first, with the version each serves</caption>
            <thead>
              <tr>
                <th scope="col">Environment</th>
                <th scope="col">Version</th>
                <th scope="col">Published</th>
                <th scope="col">Expires</th>
                <th scope="col">Commit</th>
                <th scope="col">Pull request</th>
                <th scope="col">Approved by</th>
              </tr>
            </thead>
            <tbody>
              {orderTree(data.environments).map(({ row, depth }) => (
                <Row key={row.name} row={row} depth={depth} now={now} at={at ?? now} />
              ))}
            </tbody>
          </table>
        </div>
      )}
      {data !== null && !data.repository && (
        <p class="muted">
          The server was started without <code>--repo</code>: the tree and the abstract, production and approval flags
          are not known.
        </p>
      )}
    </>
  );
}
