/**
 * `strata resolve` through the result cache (docs/performance.md): the effective config of one environment
 * is keyed by the hashes of everything that can change it (strata's build, strata.yaml, the list of config
 * files, every schema and every values file of the environment's chain), so a repeated resolve reads those
 * files and one cache entry, and loads neither the YAML parser's positions nor the schema engine. An
 * environment whose chain has an encrypted file is never cached, nor a config with a sensitive value.
 *
 * This module imports nothing heavy: the full resolution (./resolve.js) loads only on a miss.
 */
import { createHash } from "node:crypto";
import type { Finding } from "../core/findings.js";
import type { JsonObject } from "../core/json.js";
import type { ResolvedEnvironment } from "../core/model.js";
import { redactConfig } from "../core/render-config.js";
import { configPathOf } from "../core/layout.js";
import { SETTINGS_FILE } from "../core/settings/settings.js";
import type { RepoFiles, SecretsOpener } from "../core/source.js";
import type { ResultCache } from "../io/cache/resolved.js";

/** Bump when what a result holds, or how the key is made, changes. */
const FORMAT = "strata-resolved-1";

export interface CachedResolution {
  environment: string;
  /** Namespace -> effective value; never holds a sensitive value (such configs are not cached). */
  config: Record<string, JsonObject>;
  findings: Finding[];
}

export interface CachedResolveOptions {
  files: RepoFiles;
  environment: string;
  /** Called only when the environment is resolved in full (a hit needs no key). */
  secrets: () => Promise<SecretsOpener | null | undefined>;
  /** null: no cache (off, or the caller needs provenance). */
  cache: ResultCache | null;
}

export interface ResolveOutcome {
  findings: Finding[];
  /** Plaintext: redact before printing. */
  config: Record<string, JsonObject>;
  /** The config with every sensitive value replaced by <sensitive>. */
  redacted(): Record<string, JsonObject>;
  /** The full resolution with provenance; null when the result came from the cache. */
  resolved: ResolvedEnvironment | null;
}

/** One environment's effective config and findings, from the result cache when it has them. */
export async function resolveWithCache(options: CachedResolveOptions): Promise<ResolveOutcome> {
  const files = options.cache ? createMemoFiles(options.files) : options.files;
  const lookup: ResultLookup = options.cache
    ? await lookupResolution(files, options.environment, options.cache)
    : { kind: "bypass" };
  if (lookup.kind === "hit") {
    const { config, findings } = lookup.result;
    return { findings, config, redacted: () => config, resolved: null };
  }
  const { resolveConfig } = await import("./resolve.js");
  const { repo, resolved, findings } = await resolveConfig({
    files,
    environment: options.environment,
    secrets: await options.secrets(),
  });
  const chain = repo.environments.get(options.environment)?.chain;
  if (lookup.kind === "miss" && chain && ![...resolved.leaves.values()].some((l) => l.sensitive)) {
    await lookup.store({ environment: options.environment, config: resolved.config, findings }, chain);
  }
  return { findings, config: resolved.config, redacted: () => redactConfig(resolved), resolved };
}

export type ResultLookup =
  | { kind: "hit"; result: CachedResolution }
  /** Resolve in full, then give the result and the environment's chain to `store`. */
  | { kind: "miss"; store(result: CachedResolution, chain: readonly string[]): Promise<void> }
  /** Not cacheable (an encrypted file in the chain, no strata.yaml): resolve in full, store nothing. */
  | { kind: "bypass" };

/**
 * Looks the environment up. `files` should be memoized (createMemoFiles) and shared with the full
 * resolution on a miss, so the key describes exactly the bytes that were resolved.
 */
async function lookupResolution(files: RepoFiles, environment: string, cache: ResultCache): Promise<ResultLookup> {
  const settings = await files.read(SETTINGS_FILE);
  if (settings === null) return { kind: "bypass" };
  const chainKey = hash([FORMAT, cache.build, environment], [settings]);
  const chainText = cache.chains.get(chainKey);
  const chain = chainText === null ? null : parseChain(chainText);
  const store = async (result: CachedResolution, resolvedChain: readonly string[]): Promise<void> => {
    const key = await contentKey(files, chainKey, resolvedChain);
    if (key === null) return;
    if (chain === null) cache.chains.set(chainKey, JSON.stringify(resolvedChain));
    cache.results.set(key, JSON.stringify(result));
  };
  if (chain === null) return { kind: "miss", store };
  const key = await contentKey(files, chainKey, chain);
  if (key === null) return { kind: "bypass" };
  const text = cache.results.get(key);
  const result = text === null ? null : parseResult(text, environment);
  return result ? { kind: "hit", result } : { kind: "miss", store };
}

/**
 * The hash of the config file list and of the bytes of every schema and of every values file in the
 * chain; null when one of those files is encrypted.
 */
async function contentKey(files: RepoFiles, chainKey: string, chain: readonly string[]): Promise<string | null> {
  const inChain = new Set(chain);
  const listing = await files.list(["schemas", "environments"]);
  const inputs: string[] = [];
  for (const path of listing) {
    const c = configPathOf(path);
    if (c === null || c.kind === "settings") continue;
    if (c.kind === "values") {
      if (!inChain.has(c.environment)) continue;
      if (c.encrypted) return null;
    }
    inputs.push(path);
  }
  const contents = await Promise.all(inputs.map((p) => files.read(p)));
  const h = createHash("sha256").update(`${chainKey}\0${listing.join("\n")}\0`);
  inputs.forEach((path, i) => {
    const bytes = contents[i] ?? null;
    h.update(`${path}\0${bytes === null ? -1 : bytes.byteLength}\0`);
    if (bytes) h.update(bytes);
  });
  return h.digest("hex");
}

function hash(parts: string[], buffers: Uint8Array[]): string {
  const h = createHash("sha256");
  for (const p of parts) h.update(`${p}\0`);
  for (const b of buffers) h.update(b);
  return h.digest("hex");
}

function parseChain(text: string): string[] | null {
  try {
    const v = JSON.parse(text) as unknown;
    return Array.isArray(v) && v.every((e) => typeof e === "string") ? v : null;
  } catch {
    return null; // a damaged entry: resolve afresh
  }
}

function parseResult(text: string, environment: string): CachedResolution | null {
  try {
    const v = JSON.parse(text) as CachedResolution;
    return v && v.environment === environment && typeof v.config === "object" && Array.isArray(v.findings) ? v : null;
  } catch {
    return null;
  }
}

/** RepoFiles that read each file and list each prefix set once: the key and the resolution see the same bytes. */
function createMemoFiles(files: RepoFiles): RepoFiles {
  const reads = new Map<string, Promise<Uint8Array | null>>();
  const lists = new Map<string, Promise<string[]>>();
  return {
    label: files.label,
    list(prefixes) {
      const k = prefixes.join("\0");
      let p = lists.get(k);
      if (!p) lists.set(k, (p = files.list(prefixes)));
      return p.then((l) => [...l]);
    },
    read(path) {
      let p = reads.get(path);
      if (!p) reads.set(path, (p = files.read(path)));
      return p;
    },
  };
}
