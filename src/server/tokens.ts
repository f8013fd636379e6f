/**
 * The tokens file: tokens are stored only as SHA-256 hashes, each with its scopes. A token is printed once,
 * by `strata serve token create`, and never again.
 *
 *   { "version": 1, "tokens": [ { "name": "ci", "sha256": "<hex>", "scopes": ["push:prod*"], "createdAt": "…" } ] }
 *
 * Scopes (docs/distribution.md, "Tokens"):
 *   `read:<env-glob>`               snapshots, history, events of matching environments and of all their services
 *   `read:<env-glob>/<svc-glob>`    only those of matching services of matching environments (least privilege
 *                                   for a service's runtime: not the environment's whole snapshot, not another
 *                                   service's)
 *   `push:<env-glob>`               publish an environment and its services (push publishes them together from one
 *                                   commit, so a publish scope names environments only); implies read; also the
 *                                   rollout operator actions (pause, resume, abort, promote)
 *   `report:<env-glob>`             post health reports of matching environments (docs/rollouts.md) and nothing
 *                                   else: the SDK's reporting token cannot read or publish
 *   `admin`                         everything, including the audit log.
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

export type Permission = "read" | "push" | "report" | "admin";

const SCOPE = /^(admin|read:[a-z0-9*-]+(\/[a-z0-9*-]+)?|push:[a-z0-9*-]+|report:[a-z0-9*-]+)$/;

export function hashToken(token: string): string {
  return createHash("sha256").update(token, "utf8").digest("hex");
}

function validateScope(scope: string): void {
  if (/^(push|report):[^/]+\//.test(scope)) {
    throw new StrataError("invalid-argument", `invalid scope ${JSON.stringify(scope)}: push scopes name environments`, {
      hint: "strata push publishes an environment and every service of it together, from one commit: use push:<env-glob>",
    });
  }
  if (!SCOPE.test(scope)) {
    throw new StrataError("invalid-argument", `invalid scope ${JSON.stringify(scope)}`, {
      hint: "scopes are read:<env-glob>, read:<env-glob>/<service-glob>, push:<env-glob>, report:<env-glob> or admin, e.g. read:* read:production/checkout push:staging report:production",
    });
  }
}

interface Rule {
  permission: "read" | "push" | "report";
  environment: GlobMatcher;
  /** Null: the whole environment (its own chain and every service's). */
  service: GlobMatcher | null;
}

/** A compiled token: what it may do. The one place scopes are matched. */
export class Grant {
  private readonly rules: Rule[] = [];
  readonly admin: boolean;
  constructor(
    readonly name: string,
    scopes: readonly string[],
  ) {
    this.admin = scopes.includes("admin");
    for (const s of scopes) {
      const m = /^(read|push|report):([^/]+)(?:\/(.+))?$/.exec(s);
      // The one glob matcher (names have no dots: `*` matches any part of a name).
      if (m)
        this.rules.push({
          permission: m[1] as Rule["permission"],
          environment: createGlobMatcher(m[2]!),
          service: m[3] === undefined ? null : createGlobMatcher(m[3]),
        });
    }
  }

  /**
   * Whether the token may do `permission` on an environment, or on one service's chain of it (`service`). A
   * whole-environment scope covers its services; a service scope covers that service's reads only.
   */
  allows(permission: Permission, environment?: string, service?: string): boolean {
    if (this.admin) return true;
    if (permission === "admin" || environment === undefined) return false;
    return this.rules.some(
      (r) =>
        (r.permission === permission || (permission === "read" && r.permission === "push")) &&
        r.environment(environment) &&
        (r.service === null || (service !== undefined && r.service(service))),
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
