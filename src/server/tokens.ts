/**
 * The tokens file: tokens are stored only as SHA-256 hashes, each with its scopes. A token is printed once,
 * by `strata serve token create`, and never again.
 *
 *   { "version": 1, "tokens": [ { "name": "ci", "sha256": "<hex>", "scopes": ["push:prod*"], "createdAt": "…" } ] }
 *
 * Scopes: `read:<env-glob>` (snapshots, history, events of matching environments), `push:<env-glob>`
 * (publish; implies read), `admin` (everything, including the audit log).
 */
import { createHash, randomBytes } from "node:crypto";
import { promises as fs } from "node:fs";
import { dirname, resolve } from "node:path";
import { StrataError } from "../core/findings.js";
import { createGlobMatcher, type GlobMatcher } from "../core/glob.js";
import { isJsonObject } from "../core/json.js";
import { readFileToMerge, writeFileInside } from "../io/fs/files.js";

export interface TokenEntry {
  name: string;
  sha256: string;
  scopes: string[];
  createdAt: string;
}

export type Permission = "read" | "push" | "admin";

const SCOPE = /^(admin|(read|push):[a-z0-9*-]+)$/;

export function hashToken(token: string): string {
  return createHash("sha256").update(token, "utf8").digest("hex");
}

function validateScope(scope: string): void {
  if (!SCOPE.test(scope)) {
    throw new StrataError("invalid-argument", `invalid scope ${JSON.stringify(scope)}`, {
      hint: "scopes are read:<env-glob>, push:<env-glob> or admin, e.g. read:* push:staging",
    });
  }
}

/** A compiled token: what it may do. */
export class Grant {
  private readonly rules: { permission: "read" | "push"; pattern: GlobMatcher }[] = [];
  readonly admin: boolean;
  constructor(
    readonly name: string,
    scopes: readonly string[],
  ) {
    this.admin = scopes.includes("admin");
    for (const s of scopes) {
      const m = /^(read|push):(.+)$/.exec(s);
      // The one glob matcher (environment names have no dots: `*` matches any part of a name).
      if (m) this.rules.push({ permission: m[1] as "read" | "push", pattern: createGlobMatcher(m[2]!) });
    }
  }

  allows(permission: Permission, environment?: string): boolean {
    if (this.admin) return true;
    if (permission === "admin") return false;
    return this.rules.some(
      (r) =>
        (r.permission === permission || (permission === "read" && r.permission === "push")) &&
        environment !== undefined &&
        r.pattern(environment),
    );
  }
}

function parseTokens(text: string, file: string): Map<string, Grant> {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (cause) {
    throw new StrataError("invalid-argument", `${file} is not a JSON tokens file`, {
      cause,
      hint: "create it with `strata serve token create --scope … --tokens FILE`",
    });
  }
  const tokens = isJsonObject(doc) && Array.isArray(doc.tokens) ? doc.tokens : null;
  if (tokens === null) throw new StrataError("invalid-argument", `${file}: expected {"tokens": [...]}`);
  const out = new Map<string, Grant>();
  tokens.forEach((t, i) => {
    if (
      !isJsonObject(t) ||
      typeof t.sha256 !== "string" ||
      !/^[0-9a-f]{64}$/.test(t.sha256) ||
      !Array.isArray(t.scopes)
    ) {
      throw new StrataError("invalid-argument", `${file}: token ${i + 1} needs a sha256 hex hash and a scopes list`);
    }
    const scopes = t.scopes.map(String);
    scopes.forEach(validateScope);
    out.set(t.sha256, new Grant(typeof t.name === "string" ? t.name : `token-${i + 1}`, scopes));
  });
  return out;
}

export async function readTokens(file: string): Promise<Map<string, Grant>> {
  let text: string;
  try {
    text = await fs.readFile(file, "utf8");
  } catch (cause) {
    throw new StrataError("unreadable-file", `cannot read the tokens file ${file}`, { cause });
  }
  return parseTokens(text, file);
}

/** Adds a token to the file (created 0600 if absent) and returns the token text, to print once. */
export async function createToken(
  file: string,
  options: { scopes: string[]; name?: string },
): Promise<{ token: string; entry: TokenEntry }> {
  if (options.scopes.length === 0) throw new StrataError("invalid-argument", "a token needs at least one --scope");
  options.scopes.forEach(validateScope);
  let doc: { version: number; tokens: TokenEntry[] } = { version: 1, tokens: [] };
  // Inside the directory named for it: a tokens file that is a link out of it is neither read nor written.
  const within = dirname(resolve(file));
  const existing = await readFileToMerge(file, within, `the tokens file ${file}`);
  if (existing !== null) {
    parseTokens(existing, file);
    doc = JSON.parse(existing) as typeof doc;
  }
  const token = `strata_${randomBytes(32).toString("base64url")}`;
  const entry: TokenEntry = {
    name: options.name ?? `token-${doc.tokens.length + 1}`,
    sha256: hashToken(token),
    scopes: options.scopes,
    createdAt: new Date().toISOString(),
  };
  doc.tokens.push(entry);
  await writeFileInside(file, JSON.stringify(doc, null, 2) + "\n", {
    within,
    mode: 0o600,
    label: `the tokens file ${file}`,
  });
  return { token, entry };
}
