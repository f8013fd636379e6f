// The commit and pull request of a version as links (ui/src/repository.ts says where), and lists of names.
import { shortCommit } from "./format.js";
import { commitUrl, pullRequestUrl } from "./repository.js";
import { Safe } from "./text.js";

export function CommitLink({ repository, commit }: { repository: string | null; commit: string | null }) {
  if (commit === null) return <code>—</code>;
  const href = commitUrl(repository, commit);
  const text = (
    <code>
      <Safe text={shortCommit(commit)} />
    </code>
  );
  return href === null ? (
    text
  ) : (
    <a href={href} rel="noreferrer">
      {text}
      <span class="sr-only"> (commit {commit})</span>
    </a>
  );
}

export function PullRequestLink({ repository, number }: { repository: string | null; number: number | null }) {
  if (number === null) return <>—</>;
  const href = pullRequestUrl(repository, number);
  return href === null ? (
    <>#{number}</>
  ) : (
    <a href={href} rel="noreferrer">
      #{number}
      <span class="sr-only"> (pull request)</span>
    </a>
  );
}

/** A list of names (approvers, owners), each shown safely. */
export function Names({ names }: { names: readonly string[] }) {
  if (names.length === 0) return <>—</>;
  return (
    <>
      {names.map((n, i) => (
        <span key={i}>
          {i > 0 && ", "}
          <Safe text={n} />
        </span>
      ))}
    </>
  );
}
