/**
 * Where approvals get the diff from: the diff use case (docs/diff.md), or files written by
 * `strata diff --format json|markdown` (`--diff FILE`, `--diff-markdown FILE`), e.g. to gate on a diff
 * made elsewhere.
 */
import { approvalChangesFromDiff, isDiffForApprovals } from "../../core/approvals/from-diff.js";
import type { DiffResult } from "../../core/diff/model.js";
import { StrataError } from "../../core/findings.js";
import { readTextFile } from "../../io/fs/files.js";
import { createCommitFiles } from "../../io/git/files.js";
import { openGitRepo } from "../../io/git/repo.js";
import { runGitRaw } from "../../io/git/run.js";
import { diffConfig } from "../diff.js";
import { keyMetadata, loadRepository } from "../repository.js";
import type { RenderDiffMarkdown } from "./comment.js";
import type { ChangesRequest, ComputeApprovalChanges } from "./evaluate-pull-request.js";
import { docsUrl } from "../../core/docs.js";

export interface DiffSeam {
  computeChanges: ComputeApprovalChanges;
  renderDiffMarkdown: RenderDiffMarkdown;
}

/** One diff per (repository, base, head), shared by the approvals and the comment. */
export interface LinkedDiff {
  diff(request: ChangesRequest): Promise<DiffResult>;
  computeChanges: ComputeApprovalChanges;
}

/**
 * The diff engine (docs/diff.md) behind approvals. The base is first moved to the merge-base with the head
 * (what `strata diff` does by default): a pull request's recorded base commit may be ahead of where
 * its branch started, and comparing with it would show the base's own later changes reversed.
 */
export function createLinkedDiff(): LinkedDiff {
  const cache = new Map<string, Promise<DiffResult>>();
  const diff = (request: ChangesRequest): Promise<DiffResult> => {
    const key = `${request.repoDir}\0${request.base}\0${request.head}`;
    let result = cache.get(key);
    if (!result) {
      result = (async () => {
        const base = await findMergeBase(request.repoDir, request.base, request.head);
        return (await diffConfig({ dir: request.repoDir, base, head: request.head })).result;
      })();
      cache.set(key, result);
    }
    return result;
  };
  return {
    diff,
    computeChanges: async (request) => {
      const result = await diff(request);
      const baseApprovers = await readBaseApprovers(request.repoDir, result);
      // A pull request must not escape an owner by deleting its `x-approvers` and changing the value
      // in one go: the base's owners count too.
      return approvalChangesFromDiff(result).map((c) => ({
        ...c,
        approvers: [...new Set([...c.approvers, ...(baseApprovers.get(c.key) ?? [])])],
      }));
    },
  };
}

/** `x-approvers` of every changed key in the base's schemas (head names; empty when the base has none). */
async function readBaseApprovers(dir: string, result: DiffResult): Promise<Map<string, string[]>> {
  const keys = [...new Set(Object.values(result.environments).flatMap((e) => e.changes.map((c) => c.key)))];
  const out = new Map<string, string[]>();
  if (keys.length === 0) return out;
  const toBase = new Map(result.renamedNamespaces.map((r) => [r.to, r.from]));
  const baseKey = (key: string): string => {
    const [ns = "", ...rest] = key.split(".");
    return [toBase.get(ns) ?? ns, ...rest].join(".");
  };
  const git = await openGitRepo(dir);
  try {
    const repo = await loadRepository(createCommitFiles(git, result.base), {
      secrets: null,
      namespaces: new Set(keys.map((k) => baseKey(k).split(".")[0] ?? "")),
      environments: new Set(),
    });
    for (const key of keys) {
      const approvers = keyMetadata(repo, baseKey(key)).approvers;
      if (approvers.length > 0) out.set(key, approvers);
    }
  } catch {
    // A base whose schemas do not load has no owners to add; the diff already reports its problems.
  } finally {
    git.close();
  }
  return out;
}

async function findMergeBase(dir: string, base: string, head: string): Promise<string> {
  const r = await runGitRaw(dir, ["merge-base", base, head]);
  // No merge-base (unrelated, shallow, unknown commit): the diff itself says what is wrong with the refs.
  return r.exitCode === 0 ? r.stdout.toString("utf8").trim() : base;
}

/** The seam over the linked diff; the markdown renderer lives with the CLI's other renderers. */
export function createDiffSeam(
  renderMarkdown: (result: DiffResult, request: ChangesRequest) => string | Promise<string>,
  linked: LinkedDiff = createLinkedDiff(),
): DiffSeam {
  return {
    computeChanges: linked.computeChanges,
    renderDiffMarkdown: async (request) => renderMarkdown(await linked.diff(request), request),
  };
}

async function readText(path: string, what: string): Promise<string> {
  try {
    return await readTextFile(path);
  } catch (error) {
    throw new StrataError("unreadable-file", `cannot read ${what} ${path}`, { cause: error });
  }
}

/** Changes from a saved `strata diff --format json` document. */
function changesFromDiffFile(path: string): ComputeApprovalChanges {
  return async () => {
    const text = await readText(path, "the diff");
    let doc: unknown;
    try {
      doc = JSON.parse(text);
    } catch (error) {
      throw new StrataError("invalid-argument", `${path} is not JSON (expected \`strata diff --format json\` output)`, {
        cause: error,
      });
    }
    if (!isDiffForApprovals(doc))
      throw new StrataError(
        "invalid-argument",
        `${path} is not a strata diff (${docsUrl("diff")}: { environments: { <env>: { changes: [...] } } })`,
      );
    return approvalChangesFromDiff(doc);
  };
}

/** Markdown from a saved `strata diff --format markdown` document. */
function markdownFromFile(path: string): RenderDiffMarkdown {
  return () => readText(path, "the diff markdown");
}

/** The seam with any given files taking the place of the diff engine. */
export function resolveDiffSeam(files: { diff?: string; diffMarkdown?: string }, seam: DiffSeam): DiffSeam {
  return {
    computeChanges: files.diff ? changesFromDiffFile(files.diff) : seam.computeChanges,
    renderDiffMarkdown: files.diffMarkdown ? markdownFromFile(files.diffMarkdown) : seam.renderDiffMarkdown,
  };
}
