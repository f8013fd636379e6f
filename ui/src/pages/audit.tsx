import { api, type ChainAuditDocument } from "../api.js";
import { formatTime, shortDigest } from "../format.js";
import { Safe } from "../text.js";
import { Badge, LiveNote, Problem, useLive, useLoad, useTitle } from "./common.js";

type Chain = ChainAuditDocument["environments"][number];

function ChainView({ chain }: { chain: Chain }) {
  return (
    <section aria-labelledby={`audit-${chain.environment}`} class={chain.ok ? "chain" : "chain chain-broken"}>
      <h2 id={`audit-${chain.environment}`}>
        {chain.environment}{" "}
        {chain.ok ? (
          <Badge kind="ok">chain intact</Badge>
        ) : (
          <Badge kind="danger">chain broken at v{chain.firstBad!.version}</Badge>
        )}
      </h2>
      {chain.firstBad !== null && (
        <p class="error" role="alert">
          <strong>
            v{chain.firstBad.version}: {chain.firstBad.code}
          </strong>{" "}
          — {chain.firstBad.message}. Versions from here on cannot be trusted.
        </p>
      )}
      <div class="scroll" tabIndex={0} role="region" aria-label={`Versions of ${chain.environment}`}>
        <table class="stack">
          <thead>
            <tr>
              <th scope="col">Version</th>
              <th scope="col">Check</th>
              <th scope="col">Digest</th>
              <th scope="col">Previous</th>
              <th scope="col">Signed by</th>
              <th scope="col">Published</th>
              <th scope="col">By</th>
            </tr>
          </thead>
          <tbody>
            {chain.versions.map((v) => (
              <tr key={v.version} class={v.problem !== null ? "bad-row" : v.ok ? "" : "after-break"}>
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
                </td>
                <td data-label="By">
                  {v.actor === null ? "—" : <Safe text={v.actor} />}
                  {v.emergency ? " (emergency)" : ""}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </section>
  );
}

export function AuditPage() {
  useTitle("Audit");
  const { data, error, reload } = useLoad(() => api.audit(), []);
  const news = useLive(data?.environments.map((e) => e.environment) ?? [], reload);
  const broken = data?.environments.filter((e) => !e.ok) ?? [];
  return (
    <>
      <h1>Audit</h1>
      <LiveNote news={news} />
      <Problem error={error} />
      {data !== null && (
        <p>
          The server checked every stored version: its digest against its content, its signature against the{" "}
          {data.trustedKeys.length} trusted key{data.trustedKeys.length === 1 ? "" : "s"}, and its <code>previous</code>{" "}
          against the digest of the version before.{" "}
          {broken.length === 0 ? (
            <strong class="good">Every chain is intact.</strong>
          ) : (
            <strong class="bad">
              {broken.length} chain{broken.length === 1 ? " is" : "s are"} broken.
            </strong>
          )}
        </p>
      )}
      {data?.environments.map((c) => (
        <ChainView key={c.environment} chain={c} />
      ))}
    </>
  );
}
