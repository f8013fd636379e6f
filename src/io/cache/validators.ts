/**
 * Compiled schema validators kept between runs (ajv standalone code), one file per schema hash under
 * $STRATA_CACHE_DIR, else $XDG_CACHE_HOME/strata, else ~/.cache/strata. Writes are atomic; a cache that
 * cannot be written is simply not used.
 */
import { mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import type { ValidatorCodeCache } from "../../core/schema/compile.js";

export function validatorCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.STRATA_CACHE_DIR) return join(env.STRATA_CACHE_DIR, "validators");
  return join(env.XDG_CACHE_HOME || join(homedir(), ".cache"), "strata", "validators");
}

export function createValidatorCache(dir: string = validatorCacheDir()): ValidatorCodeCache | null {
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
  } catch {
    return null;
  }
  return {
    get(key) {
      try {
        return readFileSync(join(dir, `${key}.cjs`), "utf8");
      } catch {
        return null;
      }
    },
    set(key, code) {
      const file = join(dir, `${key}.cjs`);
      const tmp = `${file}.${process.pid}.tmp`;
      try {
        writeFileSync(tmp, code, { mode: 0o600 });
        renameSync(tmp, file);
      } catch {
        /* read-only or full disk: run without the cache */
      }
    },
  };
}
