/**
 * strata's cache directory: compiled schema validators (ajv standalone code) and parsed YAML, one file
 * per content hash, under $STRATA_CACHE_DIR, else $XDG_CACHE_HOME/strata, else ~/.cache/strata.
 * STRATA_NO_CACHE=1 turns it off. Writes are atomic; a cache that cannot be written is not used.
 * Encrypted files are never cached.
 */
import { mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import type { ValidatorCodeCache } from "../../core/schema/compile.js";

export function cacheRoot(env: NodeJS.ProcessEnv = process.env): string {
  if (env.STRATA_CACHE_DIR) return env.STRATA_CACHE_DIR;
  return join(env.XDG_CACHE_HOME || join(homedir(), ".cache"), "strata");
}

function validatorCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  return join(cacheRoot(env), "validators");
}

/**
 * Off with STRATA_NO_CACHE=1, and by default in CI (CI=true) unless STRATA_CACHE_DIR names a directory:
 * a CI job starts with an empty cache and throws it away, so filling it would only cost time (a cold
 * run that fills the cache is slower than one without it). Point STRATA_CACHE_DIR at a directory your CI
 * caches between runs to get warm runs there too.
 */
export function cacheDisabled(env: NodeJS.ProcessEnv = process.env): boolean {
  if (env.STRATA_NO_CACHE === "1") return true;
  const ci = env.CI !== undefined && env.CI !== "" && env.CI !== "false" && env.CI !== "0";
  return ci && !env.STRATA_CACHE_DIR;
}

/** A directory of text entries keyed by a hash. */
export interface TextCache {
  get(key: string): string | null;
  set(key: string, text: string): void;
}

export function createTextCache(dir: string, extension: string): TextCache | null {
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
  } catch {
    return null;
  }
  return {
    get(key) {
      try {
        return readFileSync(join(dir, `${key}${extension}`), "utf8");
      } catch {
        return null;
      }
    },
    set(key, text) {
      const file = join(dir, `${key}${extension}`);
      const tmp = `${file}.${process.pid}.tmp`;
      try {
        writeFileSync(tmp, text, { mode: 0o600 });
        renameSync(tmp, file);
      } catch {
        /* read-only or full disk: run without the cache */
      }
    },
  };
}

export function createValidatorCache(dir: string = validatorCacheDir()): ValidatorCodeCache | null {
  const text = createTextCache(dir, ".cjs");
  if (!text) return null;
  const pending = new Map<string, () => Uint8Array>();
  return {
    get: (key) => text.get(key),
    set: (key, code) => text.set(key, code),
    getCompiled(key) {
      try {
        return readFileSync(join(dir, `${key}.v8`));
      } catch {
        return null;
      }
    },
    setCompiled(key, produce) {
      // Written at exit: by then each validator has run, and its code cache holds what V8 compiled lazily.
      if (pending.size === 0) process.once("exit", () => writeCompiled(dir, pending));
      pending.set(key, produce);
    },
  };
}

function writeCompiled(dir: string, pending: Map<string, () => Uint8Array>): void {
  for (const [key, produce] of pending) {
    const file = join(dir, `${key}.v8`);
    const tmp = `${file}.${process.pid}.tmp`;
    try {
      writeFileSync(tmp, produce(), { mode: 0o600 });
      renameSync(tmp, file);
    } catch {
      return; // read-only or full disk: the next run compiles again
    }
  }
}

export function createParseCache(env: NodeJS.ProcessEnv = process.env): TextCache | null {
  return cacheDisabled(env) ? null : createTextCache(join(cacheRoot(env), "parsed"), ".json");
}
