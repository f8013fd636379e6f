/**
 * The result cache of `strata resolve`: one environment's effective config and findings, content-addressed
 * (app/resolve-cache.ts computes the keys), under <cache root>/resolved. Entries are written only for
 * environments whose chain has no encrypted file and whose config has no sensitive value, so no secret is
 * ever stored. Off whenever the cache is (STRATA_NO_CACHE=1, CI without STRATA_CACHE_DIR).
 */
import { readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { cacheDisabled, cacheRoot, createTextCache, type TextCache } from "./validators.js";

export interface ResultCache {
  /** Environment name and strata.yaml -> the environment's chain (saves parsing strata.yaml on a hit). */
  chains: TextCache;
  /** Content key -> the effective config and findings. */
  results: TextCache;
  /** strata's version and build: a result from another build of strata is never reused. */
  build: string;
}

export function createResultCache(env: NodeJS.ProcessEnv = process.env): ResultCache | null {
  if (cacheDisabled(env)) return null;
  const dir = join(cacheRoot(env), "resolved");
  const chains = createTextCache(join(dir, "chains"), ".json", cacheRoot(env));
  const results = createTextCache(join(dir, "results"), ".json", cacheRoot(env));
  return chains && results ? { chains, results, build: strataBuild() } : null;
}

declare const STRATA_BUNDLE: { version: string } | undefined;

let build: string | undefined;
/**
 * The package version, and the time this module was built: every build rewrites it, so a development
 * build never reads results an older build wrote; an installed package keeps one identity per version.
 * The action's single-file build has no package.json beside it: it carries its version.
 */
function strataBuild(): string {
  if (build === undefined) {
    const here = fileURLToPath(import.meta.url);
    const version =
      typeof STRATA_BUNDLE !== "undefined"
        ? STRATA_BUNDLE.version
        : (JSON.parse(readFileSync(new URL("../../../package.json", import.meta.url), "utf8")) as { version: string })
            .version;
    build = `${version}+${statSync(here).mtimeMs}`;
  }
  return build;
}
