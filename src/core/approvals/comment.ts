/**
 * The sticky pull request comment's body: a hidden marker (how strata finds its own comment again),
 * the sections, and a cut that keeps it under GitHub's 65,536-character limit without leaving an open
 * code fence or `<details>` block behind.
 */
export const STICKY_MARKER = "<!-- strata:pr-comment -->";
export const COMMENT_LIMIT = 65_536;

const TRUNCATION_NOTE =
  "\n\n> [!NOTE]\n> Truncated to fit GitHub's comment limit: run `strata diff` locally or see the job summary for the rest.\n";

/** Closes what a cut left open: a code fence, `<details>` blocks. */
function closeOpenBlocks(text: string): string {
  let out = text;
  const fences = (out.match(/^\s*```/gm) ?? []).length;
  if (fences % 2 === 1) out += "\n```";
  const open = (out.match(/<details>/g) ?? []).length - (out.match(/<\/details>/g) ?? []).length;
  for (let i = 0; i < open; i++) out += "\n</details>";
  return out;
}

/**
 * Joins the sections under the marker. When too long, the earliest sections are kept whole where
 * possible and the one that overflows is cut at a line boundary (the approvals section goes first, so
 * it is never what is cut).
 */
export function composeStickyComment(
  sections: readonly string[],
  limit = COMMENT_LIMIT,
  marker = STICKY_MARKER,
): string {
  const head = `${marker}\n`;
  const full = head + sections.map((s) => s.trimEnd()).join("\n\n") + "\n";
  if (full.length <= limit) return full;
  // Room for the note and for closing blocks.
  const budget = limit - TRUNCATION_NOTE.length - 64;
  let cut = full.slice(0, budget);
  const lastNewline = cut.lastIndexOf("\n");
  if (lastNewline > head.length) cut = cut.slice(0, lastNewline);
  return closeOpenBlocks(cut) + TRUNCATION_NOTE;
}

/** GitHub stores comments with CRLF sometimes; compare what a reader sees. */
export function sameCommentBody(a: string, b: string): boolean {
  const norm = (s: string): string => s.replace(/\r\n/g, "\n").trimEnd();
  return norm(a) === norm(b);
}
