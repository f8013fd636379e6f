/**
 * strata's cache directory: compiled schema validators (ajv standalone code) and parsed YAML, one file
 * per content hash, under $STRATA_CACHE_DIR, else $XDG_CACHE_HOME/strata, else ~/.cache/strata.
 * STRATA_NO_CACHE=1 turns it off. Writes are atomic; a cache that cannot be written is not used.
 * Encrypted files are never cached.
 *
 * Cached validators are code that strata runs (with the signing key in its environment), and parsed files
 * are data it trusts: a cache directory that anyone but the current user can write to is not used at all
 * (one warning, then everything is compiled and parsed afresh).
 */
import { createHash } from "node:crypto";
import { mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { homedir } from "node:os";
import { dirname, join, relative, resolve } from "node:path";
import type { ShippedValidators, ValidatorCodeCache } from "../../core/schema/compile.js";

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

/**
 * Why `dir` cannot hold a cache strata trusts, or null: it must be a directory owned by the current user
 * that neither group nor others may write to. (Where the platform has no POSIX owners, null.)
 */
function cacheTrustProblem(dir: string): string | null {
  const uid = process.getuid?.();
  if (uid === undefined) return null;
  let st;
  try {
    st = statSync(dir);
  } catch (e) {
    return `${dir} cannot be read (${(e as NodeJS.ErrnoException).code ?? "error"})`;
  }
  if (!st.isDirectory()) return `${dir} is not a directory`;
  if (st.uid !== uid) return `${dir} is owned by user ${st.uid}, not by the current user (${uid})`;
  const writable = [st.mode & 0o020 ? "its group" : "", st.mode & 0o002 ? "others" : ""].filter((w) => w !== "");
  if (writable.length > 0)
    return `${dir} is writable by ${writable.join(" and ")} (mode ${(st.mode & 0o777).toString(8).padStart(4, "0")})`;
  return null;
}

const warned = new Set<string>();
/** Says once per process and directory why a cache is not used. */
function warnUntrusted(root: string, problem: string): void {
  if (warned.has(root)) return;
  warned.add(root);
  process.stderr.write(
    `warning: not using the cache in ${root}: ${problem}; another user could put code in it that strata would run (chmod 700 it, or set STRATA_CACHE_DIR to a directory of your own)\n`,
  );
}

/**
 * Creates `dir` (0700), checking `root` and every directory down to `dir` before creating the next one:
 * false, after one warning, when any of them could be written by someone else.
 */
function openCacheDirectory(dir: string, root: string): boolean {
  const chain = directoriesBetween(resolve(root), resolve(dir)).reverse();
  for (const [i, d] of chain.entries()) {
    try {
      // The root's own parents (~/.cache) may not exist yet.
      mkdirSync(d, { recursive: i === 0, mode: 0o700 });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "EEXIST") return false;
    }
    const problem = cacheTrustProblem(d);
    if (problem !== null) {
      warnUntrusted(root, problem);
      return false;
    }
  }
  return true;
}

/** `dir` and its ancestors up to `root` (just `dir` when it is not inside `root`). */
function directoriesBetween(root: string, dir: string): string[] {
  const out = [dir];
  for (let d = dir; d !== root;) {
    const up = dirname(d);
    if (up === d || relative(root, up).startsWith("..")) return [dir];
    out.push(up);
    d = up;
  }
  return out;
}

/** A directory of text entries keyed by a hash. */
export interface TextCache {
  get(key: string): string | null;
  set(key: string, text: string): void;
}

/**
 * Entries of `dir` (in the cache root `root`, checked from there down), or null when the directory cannot be
 * created or is not trusted.
 */
export function createTextCache(dir: string, extension: string, root: string = dir): TextCache | null {
  if (!openCacheDirectory(dir, root)) return null;
  return {
    get(key) {
      try {
        return readFileSync(join(dir, `${key}${extension}`), "utf8");
      } catch {
        return null;
      }
    },
    set(key, text) {
      writeEntry(join(dir, `${key}${extension}`), text);
    },
  };
}

function writeEntry(file: string, data: string | Uint8Array): boolean {
  const tmp = `${file}.${process.pid}.tmp`;
  try {
    writeFileSync(tmp, data, { mode: 0o600 });
    renameSync(tmp, file);
    return true;
  } catch {
    return false; // read-only or full disk: run without the cache
  }
}

declare const STRATA_BUNDLE: { version: string } | undefined;

let versions: { strata: string; ajv: string } | undefined;
/** strata's version (its ajv options and vocabulary) and ajv's: what shapes a validator's code besides its schema. */
function codeVersions(): { strata: string; ajv: string } {
  if (versions === undefined) {
    const load = createRequire(import.meta.url);
    const version = (read: () => string): string => {
      try {
        return read();
      } catch {
        return "bundled"; // the action's single-file build: strata's version names the ajv inside it
      }
    };
    const strata =
      typeof STRATA_BUNDLE !== "undefined"
        ? STRATA_BUNDLE.version
        : version(() => (load("../../../package.json") as { version: string }).version);
    const ajv = version(() => (load("ajv/package.json") as { version: string }).version);
    versions = { strata, ajv };
  }
  return versions;
}

/**
 * What shapes a cached validator besides its schema: strata's version, ajv's, and Node's (V8's compiled form
 * is kept beside the code). Part of every validator key, so no other build's code is ever loaded.
 */
function validatorCodeIdentity(): string {
  const { strata, ajv } = codeVersions();
  return `strata ${strata}; ajv ${ajv}; node ${process.version}`;
}

/** What shapes the validators generated at build time: strata's and ajv's versions (the code is plain JavaScript). */
export function shippedValidatorsIdentity(): string {
  const { strata, ajv } = codeVersions();
  return `strata ${strata}; ajv ${ajv}`;
}

/**
 * Where the build writes strata's own validators (scripts/build-validators.mjs): dist/shipped-validators.json.
 * @public — the build script imports it from dist/, which a fresh clone has not built when knip runs.
 */
export const SHIPPED_VALIDATORS_FILE = new URL("../../shipped-validators.json", import.meta.url);

/**
 * The validators of strata's own schemas generated at build time, by key, read on first use: none when the
 * file is missing or damaged (the single-file bundle has none), or was made by another strata or ajv.
 */
export function shippedValidators(file: URL = SHIPPED_VALIDATORS_FILE): ShippedValidators {
  // The bundle has no dist/ beside it: never look for code where its relative path would land.
  if (typeof STRATA_BUNDLE !== "undefined") return () => null;
  let byKey: Map<string, string> | undefined;
  return (key) => {
    if (byKey === undefined) {
      byKey = new Map();
      try {
        const doc = JSON.parse(readFileSync(file, "utf8")) as { identity?: unknown; validators?: unknown };
        if (doc.identity === shippedValidatorsIdentity() && typeof doc.validators === "object" && doc.validators)
          for (const [k, code] of Object.entries(doc.validators)) if (typeof code === "string") byKey.set(k, code);
      } catch {
        /* not built, or damaged: compile */
      }
    }
    return byKey.get(key) ?? null;
  };
}

const sha256 = (data: string | Uint8Array): string => createHash("sha256").update(data).digest("hex");

/** The header of a `.v8` file: what it was produced from and what it holds, checked before V8 sees it. */
const V8_MAGIC = "strata-v8-1";

/** The validators of the cache root, or of `dir` (a directory of its own) when given. */
export function createValidatorCache(dir?: string): ValidatorCodeCache | null {
  const root = dir ?? cacheRoot();
  dir ??= validatorCacheDir();
  const text = createTextCache(dir, ".cjs", root);
  if (!text) return null;
  const identity = validatorCodeIdentity();
  const fileKey = (key: string): string => sha256(`${identity}\0${key}`);
  // The code each key was loaded with: its compiled form is stored and found under the code's own hash.
  const codeHashes = new Map<string, string>();
  const pending = new Map<string, () => Uint8Array>();
  return {
    get(key) {
      const code = text.get(fileKey(key));
      if (code !== null) codeHashes.set(key, sha256(code));
      return code;
    },
    set(key, code) {
      codeHashes.set(key, sha256(code));
      text.set(fileKey(key), code);
    },
    getCompiled(key) {
      const codeHash = codeHashes.get(key);
      if (codeHash === undefined) return null;
      try {
        return readCompiled(readFileSync(join(dir, `${codeHash}.v8`)), codeHash);
      } catch {
        return null;
      }
    },
    setCompiled(key, produce) {
      const codeHash = codeHashes.get(key);
      if (codeHash === undefined) return;
      // Written at exit: by then each validator has run, and its code cache holds what V8 compiled lazily.
      if (pending.size === 0) process.once("exit", () => writeCompiled(dir, pending));
      pending.set(codeHash, produce);
    },
  };
}

/**
 * V8 accepts compiled data for any source of the same length, so strata checks first that the file was
 * produced from exactly this code (its hash in the header) and is whole (the hash of the data).
 */
function readCompiled(file: Buffer, codeHash: string): Uint8Array | null {
  const header = `${V8_MAGIC} ${codeHash} `;
  if (file.length < header.length + 65 || file.toString("latin1", 0, header.length) !== header) return null;
  const dataHash = file.toString("latin1", header.length, header.length + 64);
  const data = file.subarray(header.length + 65);
  return sha256(data) === dataHash ? data : null;
}

function writeCompiled(dir: string, pending: Map<string, () => Uint8Array>): void {
  for (const [codeHash, produce] of pending) {
    const data = produce();
    const file = Buffer.concat([Buffer.from(`${V8_MAGIC} ${codeHash} ${sha256(data)}\n`, "latin1"), data]);
    if (!writeEntry(join(dir, `${codeHash}.v8`), file)) return; // read-only or full disk: compile next time
  }
}

export function createParseCache(env: NodeJS.ProcessEnv = process.env): TextCache | null {
  return cacheDisabled(env) ? null : createTextCache(join(cacheRoot(env), "parsed"), ".json", cacheRoot(env));
}
