/**
 * Where approvals get the diff from. The diff use case (SPEC §7) is built on another branch; until it
 * is linked here, the commands take the diff as files written by `strata diff --format json|markdown`
 * (`--diff FILE`, `--diff-markdown FILE`), and say so plainly when neither is given.
 */
import { readFile } from "node:fs/promises";
import { approvalChangesFromDiff, isDiffForApprovals } from "../../core/approvals/from-diff.js";
import { StrataError } from "../../core/findings.js";
import type { RenderDiffMarkdown } from "./comment.js";
import type { ComputeApprovalChanges } from "./evaluate-pull-request.js";

export interface DiffSeam {
  computeChanges: ComputeApprovalChanges;
  renderDiffMarkdown: RenderDiffMarkdown;
}

const NOT_LINKED = "the diff engine is not linked into this build yet";
const HINT = "run `strata diff --base <base> --head <head> --format json > diff.json` (and `--format markdown > diff.md`) and pass --diff diff.json / --diff-markdown diff.md";

/** The diff use case. TODO(lead): call the diff's app function here once it is merged (see docs/github.md). */
export function createDiffSeam(): DiffSeam {
  return {
    computeChanges: () => Promise.reject(new StrataError("invalid-argument", `${NOT_LINKED}: cannot compute the pull request's changes`, { hint: HINT })),
    renderDiffMarkdown: () => Promise.reject(new StrataError("invalid-argument", `${NOT_LINKED}: cannot render the diff`, { hint: HINT })),
  };
}

async function readText(path: string, what: string): Promise<string> {
  try {
    return await readFile(path, "utf8");
  } catch (error) {
    throw new StrataError("unreadable-file", `cannot read ${what} ${path}`, { cause: error });
  }
}

/** Changes from a saved `strata diff --format json` document. */
export function changesFromDiffFile(path: string): ComputeApprovalChanges {
  return async () => {
    const text = await readText(path, "the diff");
    let doc: unknown;
    try {
      doc = JSON.parse(text);
    } catch (error) {
      throw new StrataError("invalid-argument", `${path} is not JSON (expected \`strata diff --format json\` output)`, { cause: error });
    }
    if (!isDiffForApprovals(doc)) throw new StrataError("invalid-argument", `${path} is not a strata diff (SPEC §7: { environments: { <env>: { changes: [...] } } })`);
    return approvalChangesFromDiff(doc);
  };
}

/** Markdown from a saved `strata diff --format markdown` document. */
export function markdownFromFile(path: string): RenderDiffMarkdown {
  return () => readText(path, "the diff markdown");
}

/** The seam with any given files taking the place of the diff engine. */
export function resolveDiffSeam(files: { diff?: string; diffMarkdown?: string }, seam: DiffSeam = createDiffSeam()): DiffSeam {
  return {
    computeChanges: files.diff ? changesFromDiffFile(files.diff) : seam.computeChanges,
    renderDiffMarkdown: files.diffMarkdown ? markdownFromFile(files.diffMarkdown) : seam.renderDiffMarkdown,
  };
}
