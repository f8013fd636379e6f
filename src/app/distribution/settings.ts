/**
 * The few strata.yaml settings distribution needs (`signing.trusted_keys`, `distribution.endpoint`,
 * `distribution.expires_after`), read minimally so that `strata serve --repo` works without resolving
 * the repository.
 */
import { promises as fs } from "node:fs";
import { join } from "node:path";
import { parse } from "yaml";
import { StrataError } from "../../core/findings.js";
import { isJsonObject } from "../../core/json.js";
import { parsePublicKey, parseTrustedKeys, type PublicKey } from "../../core/snapshot/index.js";

export interface DistributionSettings {
  /** Concrete (non-abstract) environments, for `push --all`. */
  environments: string[];
  trustedKeys: string[];
  endpoint: string | null;
  /** `distribution.expires_after` in milliseconds, or null for the default (7 days). */
  expiresAfterMs: number | null;
}

const UNITS: Record<string, number> = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** `90s`, `15m`, `12h`, `7d`: the strata.yaml schema's `distribution.expires_after`. */
export function parseDuration(text: string): number {
  const m = /^(\d+)([smhd])$/.exec(text.trim());
  if (!m) throw new StrataError("invalid-argument", `invalid duration ${JSON.stringify(text)}`, { hint: "use a number and a unit: 7d, 12h, 30m or 90s" });
  const ms = Number(m[1]) * UNITS[m[2]!]!;
  if (ms <= 0) throw new StrataError("invalid-argument", `the duration ${JSON.stringify(text)} must be positive`);
  return ms;
}

export async function readDistributionSettings(repoDir: string): Promise<DistributionSettings> {
  const file = join(repoDir, "strata.yaml");
  let text: string;
  try {
    text = await fs.readFile(file, "utf8");
  } catch (cause) {
    throw new StrataError("missing-repository", `not a strata repository: ${repoDir} has no strata.yaml`, { cause, hint: "pass --repo DIR" });
  }
  let doc: unknown;
  try {
    doc = parse(text, { maxAliasCount: 100 });
  } catch (cause) {
    throw new StrataError("yaml-syntax", `strata.yaml: ${(cause as Error).message}`, { cause });
  }
  const root = isJsonObject(doc) ? doc : {};
  const signing = isJsonObject(root.signing) ? root.signing : {};
  const distribution = isJsonObject(root.distribution) ? root.distribution : {};
  const keys = signing.trusted_keys;
  if (keys !== undefined && !(Array.isArray(keys) && keys.every((k) => typeof k === "string"))) {
    throw new StrataError("invalid-config", "strata.yaml: signing.trusted_keys must be a list of ed25519:<base64> keys");
  }
  const envs = isJsonObject(root.environments) ? root.environments : {};
  return {
    environments: Object.entries(envs).filter(([, e]) => !(isJsonObject(e) && e.abstract === true)).map(([name]) => name),
    trustedKeys: (keys ?? []) as string[],
    endpoint: typeof distribution.endpoint === "string" ? distribution.endpoint : null,
    expiresAfterMs: typeof distribution.expires_after === "string" ? parseDuration(distribution.expires_after) : null,
  };
}

/** From `--trusted-keys FILE` (one key a line) or `signing.trusted_keys` of the repository; never neither. */
export async function loadTrustedKeys(options: { file?: string | undefined; repoDir?: string | undefined }): Promise<PublicKey[]> {
  if (options.file !== undefined) {
    let text: string;
    try {
      text = await fs.readFile(options.file, "utf8");
    } catch (cause) {
      throw new StrataError("unreadable-file", `cannot read the trusted keys file ${options.file}`, { cause });
    }
    const keys = parseTrustedKeys(text);
    if (keys.length === 0) throw new StrataError("invalid-argument", `${options.file} lists no trusted key`, { hint: "one ed25519:<base64> public key a line" });
    return keys;
  }
  if (options.repoDir !== undefined) {
    const settings = await readDistributionSettings(options.repoDir);
    if (settings.trustedKeys.length === 0) {
      throw new StrataError("invalid-argument", `${join(options.repoDir, "strata.yaml")} has no signing.trusted_keys`, { hint: "add the public key `strata keys generate` printed, or pass --trusted-keys FILE" });
    }
    return settings.trustedKeys.map(parsePublicKey);
  }
  throw new StrataError("invalid-argument", "no trusted keys: snapshots could not be verified", { hint: "pass --trusted-keys FILE or --repo DIR (its signing.trusted_keys)" });
}

/** `--endpoint`, else `STRATA_ENDPOINT`, else `distribution.endpoint` of the repository. */
export async function resolveEndpointUrl(options: { flag?: string | undefined; env?: NodeJS.ProcessEnv; repoDir?: string | undefined; required?: boolean }): Promise<string | null> {
  const fromEnv = (options.env ?? process.env).STRATA_ENDPOINT;
  if (options.flag !== undefined && options.flag !== "") return options.flag;
  if (fromEnv !== undefined && fromEnv !== "") return fromEnv;
  if (options.repoDir !== undefined) {
    const settings = await readDistributionSettings(options.repoDir).catch(() => null);
    if (settings?.endpoint) return settings.endpoint;
  }
  if (options.required === false) return null;
  throw new StrataError("invalid-argument", "no endpoint", { hint: "pass --endpoint URL, set STRATA_ENDPOINT, or set distribution.endpoint in strata.yaml" });
}
