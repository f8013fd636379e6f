/**
 * The namespace reference graph (`${other.key}` interpolation crosses namespaces): a change to one namespace
 * can change another's effective values, and resolving a namespace needs the ones it references.
 */
import { configPathOf } from "../layout.js";

/** namespace -> the namespaces its files reference (itself excluded). */
export type ReferenceGraph = Map<string, Set<string>>;

const REFERENCE = /(?<!\$)\$\{\s*([A-Za-z0-9_][A-Za-z0-9_-]*)[.[}]/g;

/** Adds the references in one file's text to the graph. */
export function addFileReferences(graph: ReferenceGraph, path: string, text: string): void {
  const parsed = configPathOf(path);
  if (parsed === null || parsed.kind === "settings") return;
  for (const m of text.matchAll(REFERENCE)) {
    const target = m[1];
    if (target === undefined || target === parsed.namespace) continue;
    let set = graph.get(parsed.namespace);
    if (!set) graph.set(parsed.namespace, (set = new Set()));
    set.add(target);
  }
}

export function mergeGraphs(...graphs: ReferenceGraph[]): ReferenceGraph {
  const out: ReferenceGraph = new Map();
  for (const g of graphs)
    for (const [from, tos] of g)
      for (const to of tos) {
        let set = out.get(from);
        if (!set) out.set(from, (set = new Set()));
        set.add(to);
      }
  return out;
}

/** The namespaces and everything they reference, transitively (what resolving them needs). */
export function closeOverReferences(namespaces: Iterable<string>, graph: ReferenceGraph): Set<string> {
  const out = new Set(namespaces);
  const todo = [...out];
  for (let ns = todo.pop(); ns !== undefined; ns = todo.pop()) {
    for (const to of graph.get(ns) ?? [])
      if (!out.has(to)) {
        out.add(to);
        todo.push(to);
      }
  }
  return out;
}

/** The namespaces and everything that references them, transitively (what a change to them can reach). */
export function closeOverDependents(namespaces: Iterable<string>, graph: ReferenceGraph): Set<string> {
  const reverse: ReferenceGraph = new Map();
  for (const [from, tos] of graph)
    for (const to of tos) {
      let set = reverse.get(to);
      if (!set) reverse.set(to, (set = new Set()));
      set.add(from);
    }
  return closeOverReferences(namespaces, reverse);
}
