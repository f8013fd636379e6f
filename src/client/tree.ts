/**
 * The effective configuration a client serves: the snapshot's `config` with its decrypted `secrets` put
 * back in place, deeply frozen, and an index from every dotted path (`database`, `database.pool`,
 * `database.pool.max`) to its frozen value so that `get` is one Map lookup; and which of those paths are
 * sensitive (came from `secrets`, or hold a key that did).
 */
import type { JsonObject } from "../core/json.js";

export interface ConfigTree {
  root: Readonly<Record<string, unknown>>;
  /** Every path, branches included, to its frozen value. */
  index: ReadonlyMap<string, unknown>;
  /** Leaves only (scalars, arrays, empty maps), for change detection and `watch`. */
  leaves: ReadonlyMap<string, unknown>;
  /** The paths of the index whose value is sensitive or holds a sensitive value (`database` for `database.password`). */
  sensitive: ReadonlySet<string>;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function setOwn(o: Record<string, unknown> | unknown[], key: string, value: unknown): void {
  // defineProperty: a key named __proto__ stays data, never the prototype.
  Object.defineProperty(o, key, { value, enumerable: true, writable: true, configurable: true });
}

/**
 * Puts the sensitive leaves back. Snapshots take a secret out of an array by index and keep the index as
 * a map key in `secrets`, so a map of digit keys merged into an array is spliced back at those indices.
 */
export function mergeSecrets(config: JsonObject, secrets: JsonObject | null): Record<string, unknown> {
  const out = structuredClone(config) as Record<string, unknown>;
  if (secrets !== null) mergeInto(out, secrets);
  return out;
}

function mergeInto(target: Record<string, unknown> | unknown[], source: JsonObject): void {
  if (Array.isArray(target)) {
    const keys = Object.keys(source)
      .filter((k) => /^\d+$/.test(k))
      .sort((a, b) => Number(a) - Number(b));
    for (const k of keys) target.splice(Number(k), 0, source[k]);
    return;
  }
  for (const [k, v] of Object.entries(source)) {
    const cur = Object.prototype.hasOwnProperty.call(target, k) ? target[k] : undefined;
    if (isObject(v) && (isObject(cur) || Array.isArray(cur))) mergeInto(cur, v);
    else setOwn(target, k, v);
  }
}

function freeze(value: unknown): unknown {
  if (typeof value === "object" && value !== null) {
    for (const v of Object.values(value)) freeze(v);
    Object.freeze(value);
  }
  return value;
}

/**
 * The index paths the snapshot's decrypted `secrets` reach in the merged tree: each path of `secrets` down
 * to the first one that is a leaf of the tree (an array a secret was spliced into is sensitive as a whole),
 * with every branch above it.
 */
function sensitivePaths(root: Record<string, unknown>, secrets: JsonObject | null): Set<string> {
  const out = new Set<string>();
  const walk = (node: unknown, tree: unknown, path: string): void => {
    if (!isObject(node) || !isObject(tree)) return;
    for (const k of Object.keys(node)) {
      if (!Object.prototype.hasOwnProperty.call(tree, k)) continue;
      const p = path === "" ? k : `${path}.${k}`;
      out.add(p);
      walk(node[k], tree[k], p);
    }
  };
  walk(secrets, root, "");
  return out;
}

/**
 * Freezes `root` in place and indexes it. The index's keys are internalized strings (V8's unique copy of a
 * text, which the string literals of `get("a.b")` calls are too): a lookup then compares keys by identity.
 * Paths built by concatenation are not, and comparing one with the caller's literal compares text on every
 * call, which doubles the cost of `get`.
 */
export function buildTree(root: Record<string, unknown>, secrets: JsonObject | null = null): ConfigTree {
  freeze(root);
  // Property names of an object are internalized: the paths go through one on their way into the index.
  const byPath = Object.create(null) as Record<string, unknown>;
  const leaves = new Map<string, unknown>();
  const walk = (node: unknown, path: string): void => {
    if (path !== "") byPath[path] = node;
    if (isObject(node) && (Object.keys(node).length > 0 || path === "")) {
      for (const [k, v] of Object.entries(node)) walk(v, path === "" ? k : `${path}.${k}`);
    } else if (path !== "") leaves.set(path, node);
  };
  walk(root, "");
  const index = new Map<string, unknown>();
  for (const path of Object.keys(byPath)) index.set(path, byPath[path]);
  return { root, index, leaves, sensitive: sensitivePaths(root, secrets) };
}

const treesOfConfigs = new WeakMap<object, ConfigTree>();

/**
 * The tree of a snapshot without secrets, built once per config object: every client of a process holding the
 * same verified snapshot (verify.ts shares it, frozen) serves the same frozen tree.
 */
export function sharedTree(config: Readonly<Record<string, unknown>>): ConfigTree {
  let tree = treesOfConfigs.get(config);
  if (tree === undefined) {
    tree = buildTree(Object.isFrozen(config) ? config : structuredClone(config));
    treesOfConfigs.set(config, tree);
  }
  return tree;
}

function sameValue(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== "object" || typeof b !== "object" || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  const ka = Object.keys(a);
  const kb = Object.keys(b);
  if (ka.length !== kb.length) return false;
  for (const k of ka)
    if (
      !Object.prototype.hasOwnProperty.call(b, k) ||
      !sameValue((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k])
    )
      return false;
  return true;
}

export interface LeafChange {
  key: string;
  /** undefined when the key is new. */
  before: unknown;
  /** undefined when the key is gone. */
  after: unknown;
  /** The value is sensitive (before or after): never log `before` or `after`. */
  sensitive: boolean;
}

/** The leaves that differ between two trees, sorted by key. */
export function diffTrees(before: ConfigTree | null, after: ConfigTree): LeafChange[] {
  const out: LeafChange[] = [];
  const old = before?.leaves ?? new Map<string, unknown>();
  const sensitive = (key: string): boolean => after.sensitive.has(key) || (before?.sensitive.has(key) ?? false);
  for (const [key, value] of after.leaves) {
    if (!old.has(key)) out.push({ key, before: undefined, after: value, sensitive: sensitive(key) });
    else if (!sameValue(old.get(key), value))
      out.push({ key, before: old.get(key), after: value, sensitive: sensitive(key) });
  }
  for (const [key, value] of old)
    if (!after.leaves.has(key)) out.push({ key, before: value, after: undefined, sensitive: sensitive(key) });
  return out.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
}
