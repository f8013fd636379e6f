/**
 * The effective config as variables (docs/deploy.md): one name per leaf (`database.pool.max` ->
 * `DATABASE_POOL_MAX`), one text per value, for every hand-off that names variables: the `env` and
 * `dotenv` files, the ConfigMap and Secret keys, `strata exec` and the agent. Two keys that become one
 * name are refused by all of them: either value would win silently, and a key could borrow another's
 * name to escape the approval rules written for it.
 */
import { createFinding, findingAt, type Finding } from "../findings.js";
import { isJsonObject, type JsonObject, type JsonValue } from "../json.js";
import type { Origin } from "../model.js";
import { envName, leafText } from "../render-config.js";

/** One leaf of an effective config: a scalar, an array as a whole, or an empty map. */
export interface ConfigLeaf {
  /** Dotted path including the namespace. */
  path: string;
  value: JsonValue;
  sensitive: boolean;
  /** The layer that set it, when known (resolution knows; a snapshot's tree does not). */
  origin: Origin | null;
}

/** One leaf as an environment variable. */
export interface EnvVariable {
  name: string;
  text: string;
  leaf: ConfigLeaf;
}

/** Two keys that would become the same variable: [name, first path, second path]. */
export type VariableCollision = [string, string, string];

export interface EnvVariables {
  variables: EnvVariable[];
  collisions: VariableCollision[];
}

/** Whether a leaf path is `prefix` or under it (every leaf when prefix is null). */
export function isUnderPrefix(path: string, prefix: string | null): boolean {
  return !prefix || path === prefix || path.startsWith(`${prefix}.`) || path.startsWith(`${prefix}[`);
}

/**
 * Every leaf under `prefix` as a variable, sensitive ones included (callers decide what to leave out).
 * `null` is the text `null`, arrays and maps are compact JSON, strings are themselves.
 */
export function envVariables(leaves: Iterable<ConfigLeaf>, prefix: string | null = null): EnvVariables {
  const variables: EnvVariable[] = [];
  const collisions: VariableCollision[] = [];
  const byName = new Map<string, string>();
  for (const leaf of leaves) {
    if (!isUnderPrefix(leaf.path, prefix)) continue;
    const name = envName(leaf.path);
    const other = byName.get(name);
    if (other !== undefined) {
      collisions.push([name, other, leaf.path]);
      continue;
    }
    byName.set(name, leaf.path);
    variables.push({ name, text: leafText(leaf.value), leaf });
  }
  return { variables, collisions };
}

/** The leaves of a config tree without provenance (a snapshot's, as the agent holds it), in document order. */
export function leavesOfTree(tree: Readonly<Record<string, JsonValue>>): ConfigLeaf[] {
  const out: ConfigLeaf[] = [];
  const walk = (node: JsonValue, path: string): void => {
    if (isJsonObject(node) && Object.keys(node).length > 0) {
      for (const [k, v] of Object.entries(node)) walk(v, `${path}.${k}`);
    } else out.push({ path, value: node, sensitive: false, origin: null });
  };
  for (const [ns, value] of Object.entries(tree)) {
    // An empty namespace has no leaves.
    if (isJsonObject(value) && Object.keys(value).length === 0) continue;
    walk(value, ns);
  }
  return out;
}

/** A key whose variable name is its own text upper-cased, `-` as `_` (what envName does to one segment). */
const PLAIN_SEGMENT = /^[^.[\]]+$/;
const segmentName = (key: string): string => key.toUpperCase().replace(/-/g, "_");

/**
 * Each key's variable segment, or null for a key envName would split: the same few thousand keys recur in
 * every environment of a repository. Bounded, since a long-running process may see any number of keys.
 */
const segmentNames = new Map<string, string | null>();
const SEGMENT_NAMES_LIMIT = 50_000;
function plainSegmentName(key: string): string | null {
  let name = segmentNames.get(key);
  if (name === undefined) {
    name = PLAIN_SEGMENT.test(key) ? segmentName(key) : null;
    if (segmentNames.size >= SEGMENT_NAMES_LIMIT) segmentNames.clear();
    segmentNames.set(key, name);
  }
  return name;
}

/**
 * The collisions of an effective config (namespace -> value), found without building provenance: what
 * `envVariables(leavesOfTree(config)).collisions` finds, without the leaves and texts (`validate` runs this
 * on every environment). Most configs have none, which {@link entriesCollisionFree} shows without building
 * a name; otherwise every name and path is built.
 */
function findVariableCollisions(config: Readonly<Record<string, JsonObject>>): VariableCollision[] {
  // An empty namespace has no leaves.
  const namespaces = Object.entries(config).filter(([, v]) => !(isJsonObject(v) && Object.keys(v).length === 0));
  return entriesCollisionFree(namespaces) ? [] : collisionsWithPaths(config);
}

/** Subtrees already shown free of collisions (or not), by identity: unchanged subtrees are shared between environments. */
const collisionFreeMemo = new WeakMap<JsonObject, boolean>();

/**
 * True when no two leaves under a map's entries can become one name, decided from the keys alone: a name
 * under key k is k's segment S, alone or followed by `_`, so two keys' names can meet only when their
 * segments are equal or one is the other followed by `_` and more (`db` and `db_pool`). When no two keys of
 * a map are so related and no subtree has a collision within itself, the map has none. False means "not
 * shown" (related keys, a key envName would split): the caller builds every name.
 */
function entriesCollisionFree(entries: readonly (readonly [string, JsonValue])[]): boolean {
  const segments = new Set<string>();
  for (const [k] of entries) {
    const segment = plainSegmentName(k);
    if (segment === null || segments.has(segment)) return false;
    segments.add(segment);
  }
  for (const segment of segments)
    for (let i = segment.indexOf("_", 1); i > 0; i = segment.indexOf("_", i + 1))
      if (segments.has(segment.slice(0, i))) return false;
  for (const [, child] of entries) {
    if (!isJsonObject(child)) continue;
    let free = collisionFreeMemo.get(child);
    if (free === undefined) collisionFreeMemo.set(child, (free = entriesCollisionFree(Object.entries(child))));
    if (!free) return false;
  }
  return true;
}

/** Every collision with the paths of both keys, in document order. */
function collisionsWithPaths(config: Readonly<Record<string, JsonObject>>): VariableCollision[] {
  const collisions: VariableCollision[] = [];
  const byName = new Map<string, string>();
  const walk = (node: JsonValue, path: string, name: string | null): void => {
    const keys = isJsonObject(node) ? Object.keys(node) : [];
    if (keys.length === 0) {
      const n = name ?? envName(path);
      const other = byName.get(n);
      if (other !== undefined) collisions.push([n, other, path]);
      else byName.set(n, path);
      return;
    }
    for (const k of keys) {
      const segment = name === null ? null : plainSegmentName(k);
      walk((node as JsonObject)[k]!, `${path}.${k}`, segment === null ? null : `${name}_${segment}`);
    }
  };
  for (const [ns, value] of Object.entries(config)) {
    // An empty namespace has no leaves.
    if (isJsonObject(value) && Object.keys(value).length === 0) continue;
    walk(value, ns, plainSegmentName(ns));
  }
  return collisions;
}

/**
 * `strata validate`'s warnings for one resolved environment: each pair of keys that become one variable,
 * located at the layer that set the second (provenance is built only when there is such a pair).
 */
export function variableCollisionWarnings(resolved: {
  environment: string;
  config: Readonly<Record<string, JsonObject>>;
  readonly leaves: ReadonlyMap<string, { origin: Origin }>;
}): Finding[] {
  const collisions = findVariableCollisions(resolved.config);
  if (collisions.length === 0) return [];
  return collisionFindings(collisions, {
    warning: true,
    environment: resolved.environment,
    originOf: (path) => resolved.leaves.get(path)?.origin ?? null,
  });
}

/**
 * Two keys that become one variable name. An error where variables are written; for `validate`
 * (`warning: true`) a warning at the layer that set the second key, so the pull request shows it.
 */
export function collisionFindings(
  collisions: readonly VariableCollision[],
  options: { warning?: boolean; environment?: string; originOf?: (path: string) => Origin | null } = {},
): Finding[] {
  return collisions.map(([name, a, b]) => {
    const at = options.originOf?.(b) ?? null;
    const code = options.warning ? "variable-name-collision" : "invalid-key";
    const message = `${a} and ${b} both become the variable ${name}`;
    const extra = {
      key: b,
      ...(options.environment ? { environment: options.environment } : {}),
      hint: options.warning
        ? "env, dotenv, configmap, secret and exec refuse it, and an approval rule written for one key does not cover the other: rename one of the keys"
        : "rename one of the keys, or use --format json",
    };
    return at ? findingAt(code, at, message, extra) : createFinding({ code, message, ...extra });
  });
}
