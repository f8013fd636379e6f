/**
 * `${namespace.path}` interpolation (docs/reference.md, resolution step 5): after the merge, before validation, within one
 * environment. A string that is exactly one reference takes the referenced value and type; inside a
 * longer string, scalars are spliced in and objects/arrays are `invalid-type`; `$${` escapes. Cycles are
 * `circular-reference` naming the cycle; unknown keys are `unresolved-reference`. Interpolating a
 * sensitive value makes the result sensitive. Values from SOPS files are literal: a secret is exactly what
 * was encrypted, so `${` and `$${` inside one mean nothing (and no finding ever quotes a secret's text).
 */
import { findingAt, type Finding } from "../findings.js";
import { splitKey } from "../names.js";
import { suggestKeyPath } from "../suggest.js";
import { withChildren, type ENode } from "./enode.js";

const REFERENCE = /\$\$\{|\$\{([^}]*)\}/g;
const REF_PATH = /^[A-Za-z_][A-Za-z0-9_-]*(\.[A-Za-z_][A-Za-z0-9_-]*|\[\d+\])*$/;

/** Whether a subtree holds any string with `$` (memoized: subtrees are shared between environments). */
function mayReference(node: ENode): boolean {
  if (node.kind === "scalar")
    return typeof node.value === "string" && node.value.includes("$") && !node.ciphertextOnly && !node.literal;
  let r = node.mayReference;
  if (r === undefined) {
    r = false;
    const children = node.kind === "seq" ? node.items : node.entries.values();
    for (const child of children)
      if (mayReference(child)) {
        r = true;
        break;
      }
    node.mayReference = r;
  }
  return r;
}

type State = { status: "resolving" } | { status: "done"; node: ENode };

export interface InterpolateOptions {
  /**
   * Namespaces whose values are not all known in this environment (one of its files, or its schema, could
   * not be read): a reference into one that finds nothing says nothing, the unread file is the finding.
   */
  incomplete?: (namespace: string) => boolean;
}

export function interpolate(
  namespaces: Map<string, ENode>,
  environment: string,
  findings: Finding[],
  options: InterpolateOptions = {},
): Map<string, ENode> {
  const memo = new Map<string, State>();
  const stack: string[] = [];

  const lookup = (ref: string): { node: ENode; path: string } | null => {
    const [ns, ...rest] = splitKey(ref);
    let node: ENode | undefined = namespaces.get(String(ns ?? ""));
    for (const part of rest) {
      if (!node) return null;
      if (typeof part === "number") node = node.kind === "seq" ? node.items[part] : undefined;
      else node = node.kind === "map" ? node.entries.get(part) : undefined;
    }
    return node ? { node, path: ref } : null;
  };

  /** The fully interpolated value of a node at `path`. */
  const resolveNode = (node: ENode, path: string): ENode => {
    if (!mayReference(node)) return node;
    const state = memo.get(path);
    if (state?.status === "done") return state.node;
    memo.set(path, { status: "resolving" });
    stack.push(path);
    const resolved = resolveFresh(node, path);
    stack.pop();
    memo.set(path, { status: "done", node: resolved });
    return resolved;
  };

  const resolveFresh = (node: ENode, path: string): ENode => {
    if (node.kind === "map") {
      let changed = false;
      const entries = new Map<string, ENode>();
      for (const [k, v] of node.entries) {
        const r = resolveNode(v, `${path}.${k}`);
        if (r !== v) changed = true;
        entries.set(k, r);
      }
      return changed ? withChildren(node, { entries }) : node;
    }
    if (node.kind === "seq") {
      let changed = false;
      const items = node.items.map((v, i) => {
        const r = resolveNode(v, `${path}[${i}]`);
        if (r !== v) changed = true;
        return r;
      });
      return changed ? withChildren(node, { items }) : node;
    }
    if (typeof node.value !== "string" || !node.value.includes("$") || node.ciphertextOnly || node.literal) return node;
    return resolveString(node, path);
  };

  const resolveRef = (ref: string, from: ENode & { kind: "scalar" }, fromPath: string): ENode | null => {
    const loc = from.origin;
    if (!REF_PATH.test(ref)) {
      findings.push(
        findingAt("unresolved-reference", loc, `\${${ref}} is not a key path (${fromPath})`, {
          environment,
          key: fromPath,
          hint: "write ${namespace.key.path}",
        }),
      );
      return null;
    }
    const state = memo.get(ref);
    if (state?.status === "done") return state.node;
    if (state?.status === "resolving") {
      const cycle = [...stack.slice(stack.indexOf(ref)), ref];
      findings.push(
        findingAt("circular-reference", loc, `circular reference: ${cycle.join(" -> ")}`, {
          environment,
          key: fromPath,
        }),
      );
      return null;
    }
    const target = lookup(ref);
    if (!target) {
      if (options.incomplete?.(ref.split(/[.[]/, 1)[0]!)) return null;
      const near = suggestKeyPath(ref, (path) => {
        let node: ENode | undefined;
        if (path.length === 0) return namespaces.keys();
        node = namespaces.get(String(path[0]));
        for (const p of path.slice(1)) {
          if (!node) return null;
          node =
            typeof p === "number"
              ? node.kind === "seq"
                ? node.items[p]
                : undefined
              : node.kind === "map"
                ? node.entries.get(p)
                : undefined;
        }
        if (!node || node.kind === "scalar") return null;
        return node.kind === "seq" ? node.items.length : node.entries.keys();
      });
      findings.push(
        // No environment in the message: the same reference missing in several environments that share the
        // layer is one finding listing them (mergeFindings).
        findingAt("unresolved-reference", loc, `\${${ref}} does not exist (${fromPath})`, {
          environment,
          key: fromPath,
          hint: near === null ? null : `did you mean \${${near}}?`,
        }),
      );
      return null;
    }
    return resolveNode(target.node, ref);
  };

  const resolveString = (node: ENode & { kind: "scalar" }, path: string): ENode => {
    const text = node.value as string;
    const whole = /^\$\{([^}]*)\}$/.exec(text);
    if (whole) {
      const target = resolveRef(whole[1]!, node, path);
      if (!target) return node;
      // Keep the referencing key's provenance; take the referenced value, type and sensitivity.
      return {
        ...target,
        origin: node.origin,
        keyPos: node.keyPos,
        overridden: node.overridden,
        sensitive: node.sensitive || anySensitive(target),
      } as ENode;
    }
    let sensitive = node.sensitive;
    let failed = false;
    const out = text.replace(REFERENCE, (match, ref: string | undefined) => {
      if (match === "$${") return "${";
      const target = resolveRef(ref!, node, path);
      if (!target) {
        failed = true;
        return match;
      }
      if (target.kind !== "scalar") {
        const loc = node.origin;
        findings.push(
          findingAt(
            "invalid-type",
            loc,
            `\${${ref}} is ${target.kind === "map" ? "an object" : "an array"} and cannot be part of a longer string (${path})`,
            { environment, key: path, hint: "reference it as the whole value to keep its type" },
          ),
        );
        failed = true;
        return match;
      }
      if (target.sensitive) sensitive = true;
      return target.value === null ? "null" : String(target.value);
    });
    if (failed && out === text) return node;
    return { ...node, value: out, sensitive };
  };

  const result = new Map<string, ENode>();
  for (const [ns, node] of namespaces) result.set(ns, resolveNode(node, ns));
  return result;
}

function anySensitive(node: ENode): boolean {
  if (node.sensitive) return true;
  if (node.kind === "map") for (const v of node.entries.values()) if (anySensitive(v)) return true;
  if (node.kind === "seq") return node.items.some(anySensitive);
  return false;
}
