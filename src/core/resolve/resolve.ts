/**
 * Resolution of concrete environments (docs/reference.md, resolution): schema defaults, then each layer of the chain root
 * first (`<ns>.yaml`, then `<ns>.sops.yaml`), interpolation, validation, provenance. The merged tree of
 * each (environment, namespace) is memoized, so siblings share the work of their common ancestors.
 */
import { findingAt, type Finding } from "../findings.js";
import type { JsonObject } from "../json.js";
import { joinKey } from "../names.js";
import type { EnvironmentInfo, KeyMetadata, LeafInfo, ResolvedEnvironment } from "../model.js";
import type { Validator } from "../schema/compile.js";
import { metadataAt, noMetadata, type SchemaDefault } from "../schema/navigate.js";
import { locate } from "../yaml/locate.js";
import type { LNode, Pos } from "../yaml/nodes.js";
import { fromJson, originOf, toJson, toJsonShared, type EMap, type ENode } from "./enode.js";
import { interpolate } from "./interpolate.js";
import { applyLayer, type MergeContext } from "./merge.js";
import { holdsDollar, mergePlainLayer, UNDECIDED, type PlainMergeContext } from "./merge-plain.js";
import { mapValidationErrors } from "./validate.js";

export interface NamespaceSchema {
  name: string;
  /** schemas/<ns>.schema.yaml */
  file: string;
  schema: JsonObject;
  node: LNode;
  /** Null when the schema did not compile (its findings are reported elsewhere). */
  validator: Validator | null;
  defaults: SchemaDefault[];
}

export interface Layer {
  environment: string;
  namespace: string;
  file: string;
  node: LNode;
  /** From a `.sops.yaml` file: every value is sensitive. */
  encrypted: boolean;
  /** Encrypted, and no key opened it: values are ciphertext. */
  ciphertextOnly: boolean;
}

export interface EnvironmentLayers {
  plain?: Layer;
  secret?: Layer;
}

export interface ResolverInput {
  environments: ReadonlyMap<string, EnvironmentInfo>;
  schemas: ReadonlyMap<string, NamespaceSchema>;
  /** environment -> namespace -> its files */
  layers: ReadonlyMap<string, ReadonlyMap<string, EnvironmentLayers>>;
  /**
   * What exists but could not be read (a syntax error, a file that does not decrypt), each reported once
   * where it was read. Nothing that depends on it is reported again: see {@link Resolver.resolve}.
   */
  unreadable?: {
    /** environment -> namespaces whose file(s) of that environment could not be read */
    layers: ReadonlyMap<string, ReadonlySet<string>>;
    /** namespaces whose schema could not be read */
    schemas: ReadonlySet<string>;
  };
}

/** `environments/<env>/…`: the environment a values file belongs to. */
const LAYER_FILE = /^environments\/([^/]+)\//;

interface Merged {
  node: ENode;
  unsets: Map<string, Pos>;
}

/** A merge step of {@link Resolver.cleanConfig}: the JSON form, and whether a string with `$` is in it. */
interface PlainStep {
  value: JsonObject;
  dollar: boolean;
}

export class Resolver {
  private readonly merged = new Map<string, Merged>();
  private readonly metaCache = new Map<string, KeyMetadata>();
  /** Namespaces whose schema uses x-sensitive somewhere; the others never need a per-leaf lookup. */
  private readonly sensitiveNamespaces = new Set<string>();
  /** Namespaces whose schema deprecates a key somewhere; the layers of the others are not walked for it. */
  private readonly deprecatingNamespaces = new Set<string>();
  /** Findings of merge steps, each reported once however many environments share the step. */
  private readonly stepFindings = new Map<string, Finding[]>();
  /**
   * Namespaces {@link cleanConfig} leaves to the full path: a default for a sensitive key (a finding), or a
   * `__proto__` key in the schema, whose defaults' JSON form only the full path builds.
   */
  private readonly fullOnly = new Set<string>();
  /** cleanConfig's merge steps, like {@link merged}: null where the step is left to the full path. */
  private readonly plainMerged = new Map<string, PlainStep | null>();

  constructor(private readonly input: ResolverInput) {
    for (const [ns, schema] of input.schemas) {
      const text = JSON.stringify(schema.schema);
      if (text.includes('"x-sensitive":true')) this.sensitiveNamespaces.add(ns);
      if (text.includes('"x-deprecated":')) this.deprecatingNamespaces.add(ns);
      if (
        text.includes('"__proto__"') ||
        (this.sensitiveNamespaces.has(ns) && schema.defaults.some((d) => this.metadata(ns, d.path).sensitive))
      )
        this.fullOnly.add(ns);
    }
  }

  metadata(namespace: string, path: readonly (string | number)[]): KeyMetadata {
    const key = `${namespace}\u0000${path.map((p) => (typeof p === "number" ? "[]" : p)).join("\u0000")}`;
    let m = this.metaCache.get(key);
    if (!m) {
      const schema = this.input.schemas.get(namespace);
      m = schema ? metadataAt(schema.schema, path) : noMetadata();
      this.metaCache.set(key, m);
    }
    return m;
  }

  /**
   * Resolves one concrete environment, all namespaces or only those named. Errors never cascade from a file
   * that could not be read (`unreadable`): a namespace with such a layer in the chain is validated only for
   * values set by layers after the last unread one (an earlier value, or a missing one, is what the unread
   * file may have changed), and a reference into it or into a namespace whose schema could not be read is
   * not reported as unresolved.
   */
  resolve(environment: string, only?: ReadonlySet<string>): ResolvedEnvironment {
    const env = this.input.environments.get(environment);
    if (!env) throw new Error(`unknown environment ${environment}`);
    const findings: Finding[] = [];
    const trees = new Map<string, ENode>();
    const unsetsByNs = new Map<string, Map<string, Pos>>();
    const names = [...this.input.schemas.keys()].filter((n) => !only || only.has(n)).sort();
    for (const ns of names) {
      const m = this.mergedFor(env.chain, env.chain.length - 1, ns, findings);
      trees.set(ns, m.node);
      unsetsByNs.set(ns, m.unsets);
    }
    const unreadable = this.input.unreadable;
    /** Index in the chain of the last environment whose file of `ns` could not be read, or -1. */
    const lastUnread = (ns: string): number => {
      let last = -1;
      env.chain.forEach((e, i) => {
        if (unreadable?.layers.get(e)?.has(ns)) last = i;
      });
      return last;
    };
    const interpolated = interpolate(trees, environment, findings, {
      incomplete: (ns) => Boolean(unreadable?.schemas.has(ns)) || lastUnread(ns) >= 0,
    });

    const config: Record<string, JsonObject> = {};
    for (const ns of names) {
      const node = interpolated.get(ns)!;
      const value = toJsonShared(node) as JsonObject;
      config[ns] = value;
      const schema = this.input.schemas.get(ns)!;
      if (schema.validator && !schema.validator(value)) {
        const mapped = mapValidationErrors(schema.validator.errors ?? [], node, {
          environment,
          namespace: ns,
          chain: env.chain,
          schema,
          unsets: unsetsByNs.get(ns)!,
        });
        const last = lastUnread(ns);
        findings.push(
          ...(last < 0
            ? mapped
            : mapped.filter((f) => env.chain.indexOf(LAYER_FILE.exec(f.file ?? "")?.[1] ?? "") > last)),
        );
      }
    }
    // Provenance per leaf is built on first use: validate never needs it, explain and diff do.
    let leaves: Map<string, LeafInfo> | undefined;
    const collect = (): Map<string, LeafInfo> => {
      if (!leaves) {
        leaves = new Map();
        for (const ns of names) this.collectLeaves(ns, interpolated.get(ns)!, [], leaves);
      }
      return leaves;
    };
    return {
      environment,
      config,
      findings: dedupe(findings),
      get leaves() {
        return collect();
      },
    };
  }

  /**
   * The effective config of a concrete environment, when {@link resolve} would report nothing for it; null
   * whenever that is not certain. `validate`'s path for the common case: it merges plain JSON, without
   * provenance, interpolation or findings, and validates that. Anything that could give a finding leaves the
   * environment to `resolve`, which finds and locates it: a layer that is not a map, an `!unset`, a `$unset`
   * or `__proto__` key, an array merged `by` a field, an encrypted file, a namespace with sensitive or
   * deprecated keys, a string with `$` (interpolation), a value its schema rejects. So `resolve`'s findings
   * for an environment this returns a config for are none, and its config is this one, key for key.
   */
  cleanConfig(environment: string): Record<string, JsonObject> | null {
    const env = this.input.environments.get(environment);
    if (!env) throw new Error(`unknown environment ${environment}`);
    const names = [...this.input.schemas.keys()].sort();
    const config: Record<string, JsonObject> = {};
    for (const ns of names) {
      const step = this.plainMergedFor(env.chain, env.chain.length - 1, ns);
      if (!step || step.dollar) return null;
      config[ns] = step.value;
    }
    for (const ns of names) {
      const validator = this.input.schemas.get(ns)!.validator;
      if (validator && !validator(config[ns])) return null;
    }
    return config;
  }

  private plainMergedFor(chain: readonly string[], index: number, ns: string): PlainStep | null {
    if (this.fullOnly.has(ns)) return null;
    const envName = index < 0 ? "" : chain[index]!;
    const key = `${envName}\u0000${ns}`;
    let step = this.plainMerged.get(key);
    if (step !== undefined) return step;
    if (index < 0) {
      // No finding here: the only one defaults give is for a sensitive key (fullOnly).
      const value = toJsonShared(this.defaultsFor(ns, []).node) as JsonObject;
      step = { value, dollar: holdsDollar(value) };
    } else {
      const parent = this.plainMergedFor(chain, index - 1, ns);
      const files = this.input.layers.get(envName)?.get(ns);
      step = parent;
      // Both files of an environment setting one key is a finding; a value known only as ciphertext is not
      // validated; a values file must be a map.
      if (files?.plain && files.secret) step = null;
      for (const layer of [files?.plain, files?.secret]) {
        if (!step || !layer) continue;
        const node = layer.node;
        if (layer.ciphertextOnly || node.kind !== "map") {
          step = null;
          continue;
        }
        const ctx: PlainMergeContext = {
          metadata: (p: readonly (string | number)[]) => this.metadata(ns, p),
          plain: !layer.encrypted && this.sensitiveNamespaces.has(ns),
          deprecating: this.deprecatingNamespaces.has(ns),
          literal: layer.encrypted,
          dollar: step.dollar,
        };
        const value = mergePlainLayer(step.value, node, ctx);
        step = value === UNDECIDED ? null : { value, dollar: ctx.dollar };
      }
    }
    this.plainMerged.set(key, step);
    return step;
  }

  private mergedFor(chain: readonly string[], index: number, ns: string, findings: Finding[]): Merged {
    if (index < 0) return this.defaultsFor(ns, findings);
    const envName = chain[index]!;
    const key = `${envName}\u0000${ns}`;
    const cached = this.merged.get(key);
    if (cached) {
      findings.push(...(this.stepFindings.get(key) ?? []));
      return cached;
    }
    const parent = this.mergedFor(chain, index - 1, ns, findings);
    const step: Finding[] = [];
    const files = this.input.layers.get(envName)?.get(ns);
    let node: ENode | undefined = parent.node;
    const unsets = new Map(parent.unsets);
    for (const layer of [files?.plain, files?.secret]) {
      if (!layer) continue;
      const ctx: MergeContext = {
        environment: envName,
        namespace: ns,
        sensitive: layer.encrypted,
        ciphertextOnly: layer.ciphertextOnly,
        literal: layer.encrypted,
        plain: !layer.encrypted && this.sensitiveNamespaces.has(ns),
        metadata: (p) => this.metadata(ns, p),
        findings: step,
        unsets,
      };
      if (layer.node.kind !== "map") {
        const p = layer.node.pos;
        step.push(
          findingAt("invalid-type", p, `a values file must be a map of keys (namespace ${ns})`, {
            environment: envName,
          }),
        );
        continue;
      }
      node = applyLayer(node, layer.node, ctx, [], null);
      if (this.deprecatingNamespaces.has(ns)) this.checkDeprecated(layer, ns, step);
    }
    if (files?.plain && files.secret) step.push(...duplicateDefinitions(files.plain, files.secret, ns));
    const merged = { node: node ?? emptyMap(ns, envName), unsets };
    this.merged.set(key, merged);
    this.stepFindings.set(key, step);
    findings.push(...step);
    return merged;
  }

  private defaultsFor(ns: string, findings: Finding[]): Merged {
    const key = `\u0000defaults\u0000${ns}`;
    const cached = this.merged.get(key);
    if (cached) return cached;
    const schema = this.input.schemas.get(ns)!;
    const root: EMap = {
      kind: "map",
      entries: new Map(),
      origin: originOf(schema.node.pos, null),
      keyPos: null,
      overridden: [],
      sensitive: false,
    };
    for (const d of schema.defaults) {
      const pos = locate(schema.node, d.schemaPath).pos;
      // Only a schema with `x-sensitive: true` somewhere has sensitive keys (no metadata lookup per default).
      if (this.sensitiveNamespaces.has(ns) && this.metadata(ns, d.path).sensitive) {
        findings.push(
          findingAt(
            "sensitive-in-plaintext",
            pos,
            `${ns}.${d.path.join(".")} is x-sensitive and must not have a default`,
            { key: `${ns}.${d.path.join(".")}` },
          ),
        );
        continue;
      }
      setAt(root, d.path, fromJson(d.value, originOf(pos, null), false));
    }
    const merged = { node: root, unsets: new Map<string, Pos>() };
    this.merged.set(key, merged);
    return merged;
  }

  private checkDeprecated(layer: Layer, ns: string, out: Finding[]): void {
    const walk = (node: LNode, path: string[]): void => {
      if (node.kind !== "map") return;
      for (const [k, e] of node.entries) {
        const p = [...path, k];
        const meta = this.metadata(ns, p);
        if (meta.deprecated) {
          const at = e.keyPos;
          out.push(
            findingAt("deprecated-key", at, `${ns}.${p.join(".")} is deprecated: ${meta.deprecated}`, {
              environment: layer.environment,
              key: `${ns}.${p.join(".")}`,
              hint: meta.deprecated,
            }),
          );
        }
        walk(e.value, p);
      }
    };
    walk(layer.node, []);
  }

  private collectLeaves(ns: string, node: ENode, path: (string | number)[], out: Map<string, LeafInfo>): void {
    if (node.kind === "map" && node.entries.size > 0) {
      for (const [k, v] of node.entries) this.collectLeaves(ns, v, [...path, k], out);
      return;
    }
    if (path.length === 0) return; // an empty namespace has no leaves
    const key = `${ns}.${joinKey(path)}`;
    const sensitive =
      containsSensitive(node) || (this.sensitiveNamespaces.has(ns) && this.metadata(ns, path).sensitive);
    out.set(key, {
      path: key,
      value: toJson(node),
      origin: node.origin,
      overridden: node.overridden,
      sensitive,
      ...(node.ciphertextOnly || (node.kind === "seq" && node.items.some((i) => i.ciphertextOnly))
        ? { ciphertextOnly: true }
        : {}),
    });
  }
}

function containsSensitive(node: ENode): boolean {
  if (node.sensitive) return true;
  if (node.kind === "seq") return node.items.some(containsSensitive);
  if (node.kind === "map") for (const v of node.entries.values()) if (containsSensitive(v)) return true;
  return false;
}

function emptyMap(ns: string, env: string): EMap {
  return {
    kind: "map",
    entries: new Map(),
    origin: { environment: env, file: `schemas/${ns}`, line: 1, column: 1 },
    keyPos: null,
    overridden: [],
    sensitive: false,
  };
}

function setAt(root: EMap, path: readonly string[], value: ENode): void {
  let node: EMap = root;
  for (const seg of path.slice(0, -1)) {
    let next = node.entries.get(seg);
    if (!next || next.kind !== "map") {
      next = { kind: "map", entries: new Map(), origin: value.origin, keyPos: null, overridden: [], sensitive: false };
      node.entries.set(seg, next);
    }
    node = next;
  }
  const last = path[path.length - 1]!;
  const existing = node.entries.get(last);
  if (existing?.kind === "map" && value.kind === "map") {
    for (const [k, v] of value.entries) if (!existing.entries.has(k)) existing.entries.set(k, v);
  } else node.entries.set(last, value);
}

/** Resolution step 2 (docs/reference.md): a leaf set in both files of one environment. */
function duplicateDefinitions(plain: Layer, secret: Layer, ns: string): Finding[] {
  const leaves = (node: LNode, path: string[], out: Map<string, Pos>): Map<string, Pos> => {
    if (node.kind === "map" && node.entries.size > 0)
      for (const [k, e] of node.entries) leaves(e.value, [...path, k], out);
    else if (path.length) out.set(path.join("."), node.pos);
    return out;
  };
  const a = leaves(plain.node, [], new Map());
  const b = leaves(secret.node, [], new Map());
  const out: Finding[] = [];
  for (const [path, pos] of b) {
    const other = a.get(path);
    if (!other) continue;
    out.push(
      findingAt(
        "duplicate-definition",
        pos,
        `${ns}.${path} is set in both ${other.file}:${other.line} and ${pos.file}`,
        { environment: secret.environment, key: `${ns}.${path}`, hint: "set each key in one file of an environment" },
      ),
    );
  }
  return out;
}

function dedupe(findings: Finding[]): Finding[] {
  const seen = new Set<string>();
  return findings.filter((f) => {
    const id = `${f.code}|${f.file}|${f.line}|${f.column}|${f.key}|${f.environment}|${f.message}`;
    if (seen.has(id)) return false;
    seen.add(id);
    return true;
  });
}
