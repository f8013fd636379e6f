/**
 * sops' tree walk (`walkBranch`/`walkSlice`): every leaf with its path of keys and the stack of comments
 * that precede it, in file order. Encryption, decryption and the MAC all go through it.
 */
import type { EncryptionRules } from "./metadata.js";
import { compileGoRegex } from "./regex.js";
import { Branch, Comment, type Leaf, type TreeValue } from "./tree.js";

export type LeafVisitor = (leaf: Leaf, path: readonly string[], comments: readonly (readonly string[])[]) => Leaf;

function walkValue(v: TreeValue, path: string[], stack: string[][], visit: LeafVisitor): TreeValue {
  if (v instanceof Branch) return walkBranch(v, path, stack, visit);
  if (Array.isArray(v)) return walkSlice(v, path, stack, visit);
  if (v === null) return null;
  return visit(v, path, stack);
}

function walkSlice(seq: TreeValue[], path: string[], outer: string[][], visit: LeafVisitor): TreeValue[] {
  const stack = [...outer, []];
  const top = stack.length - 1;
  return seq.map((v) => {
    const isComment = v instanceof Comment;
    if (isComment) stack[top] = [...(stack[top] ?? []), v.value];
    const out = walkValue(v, path, stack, visit);
    if (!isComment) stack[top] = [];
    return out;
  });
}

export function walkBranch(branch: Branch, path: string[], outer: string[][], visit: LeafVisitor): Branch {
  const stack = [...outer, []];
  const top = stack.length - 1;
  const items = branch.items.map((item) => {
    if (item.key instanceof Comment) {
      stack[top] = [...(stack[top] ?? []), item.key.value];
      const out = visit(item.key, path, stack);
      return { key: out instanceof Comment ? out : new Comment(String(out)), value: item.value };
    }
    const value = walkValue(item.value, [...path, item.key], stack, visit);
    stack[top] = [];
    return { key: item.key, value };
  });
  return new Branch(items);
}

/** Compiled encryption rules (Go RE2 patterns, see regex.ts). */
export function createRuleMatcher(
  rules: EncryptionRules,
): (path: readonly string[], comments: readonly (readonly string[])[], isComment: boolean) => boolean {
  const re = (s: string, what: string): RegExp | null => (s === "" ? null : compileGoRegex(s, what));
  const unencRe = re(rules.unencryptedRegex, "unencrypted_regex");
  const encRe = re(rules.encryptedRegex, "encrypted_regex");
  const unencCommentRe = re(rules.unencryptedCommentRegex, "unencrypted_comment_regex");
  const encCommentRe = re(rules.encryptedCommentRegex, "encrypted_comment_regex");
  return (path, comments, isComment) => {
    let encrypted = true;
    if (rules.unencryptedSuffix !== "" && path.some((p) => p.endsWith(rules.unencryptedSuffix))) encrypted = false;
    if (rules.encryptedSuffix !== "") encrypted = path.some((p) => p.endsWith(rules.encryptedSuffix));
    if (unencRe !== null && path.some((p) => unencRe.test(p))) encrypted = false;
    if (encRe !== null) encrypted = path.some((p) => encRe.test(p));
    if (unencCommentRe !== null && comments.some((cs) => cs.some((c) => unencCommentRe.test(c)))) encrypted = false;
    if (encCommentRe !== null) {
      const lastStack = comments.length - 1;
      const lastLine = (comments[lastStack]?.length ?? 0) - 1;
      encrypted = comments.some((cs, i) =>
        cs.some((c, j) => {
          // sops does not encrypt the comment line that itself matches: skip the current comment.
          if (isComment && i === lastStack && j === lastLine) return false;
          return encCommentRe.test(c);
        }),
      );
    }
    return encrypted;
  };
}
