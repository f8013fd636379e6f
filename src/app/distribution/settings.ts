/**
 * The few strata.yaml settings distribution needs (`signing.trusted_keys`, `distribution.endpoint`,
 * `distribution.expires_after`), read with strata.yaml alone (no schemas, no values), so that
 * `strata serve --repo` works without resolving the repository.
 */
import { join } from "node:path";
import { StrataError } from "../../core/findings.js";
import { SETTINGS_FILE } from "../../core/settings/settings.js";
import { parsePublicKey, parseTrustedKeys, type PublicKey } from "../../core/snapshot/index.js";
import { pathExists, readTextFile } from "../../io/fs/files.js";
import { createWorktreeFiles, findRepositoryRoot } from "../../io/repo/worktree.js";
import type { RepoFiles } from "../../core/source.js";
import { readSettings, type RepositorySettings } from "../repository.js";

export interface DistributionSettings {
  /** Concrete (non-abstract) environments, for `push --all`. */
  environments: string[];
  trustedKeys: string[];
  endpoint: string | null;
  /** `distribution.expires_after` in milliseconds, or null for the default (7 days). */
  expiresAfterMs: number | null;
  /** strata.yaml as read, for the loads that follow (`loadRepository`'s `settings`): it is parsed once. */
  parsed: RepositorySettings;
  /** The repository's files the settings were read from, for messages. */
  label: string;
}

const UNITS: Record<string, number> = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** `90s`, `15m`, `12h`, `7d`: the strata.yaml schema's `distribution.expires_after`. */
export function parseDuration(text: string): number {
  const m = /^(\d+)([smhd])$/.exec(text.trim());
  if (!m)
    throw new StrataError("invalid-argument", `invalid duration ${JSON.stringify(text)}`, {
      hint: "use a number and a unit: 7d, 12h, 30m or 90s",
    });
  const ms = Number(m[1]) * UNITS[m[2]!]!;
  if (ms <= 0) throw new StrataError("invalid-argument", `the duration ${JSON.stringify(text)} must be positive`);
  return ms;
}

/**
 * strata.yaml through the one reader every command uses (`readSettings`: located YAML parsing, the shipped
 * schema, the environment graph), so a mistake here is the same located error `strata validate` reports.
 */
export async function readDistributionSettings(repository: string | RepoFiles): Promise<DistributionSettings> {
  const files = typeof repository === "string" ? createWorktreeFiles(findRepositoryRoot(repository)) : repository;
  const parsed = await readSettings(files);
  const { settings, environments, findings, parseFindings } = parsed;
  const errors = [...parseFindings, ...findings].filter((f) => f.severity === "error");
  if (errors.length > 0 || settings === null) {
    const first = errors[0];
    throw new StrataError(
      "invalid-config",
      first
        ? `${first.message}${errors.length > 1 ? ` (and ${errors.length - 1} more)` : ""}`
        : `${SETTINGS_FILE} is empty`,
      {
        hint: first?.hint ?? "run `strata validate` for every problem",
      },
    );
  }
  return {
    environments: [...environments.values()].filter((e) => !e.abstract).map((e) => e.name),
    trustedKeys: settings.signing?.trusted_keys ?? [],
    endpoint: settings.distribution?.endpoint ?? null,
    expiresAfterMs:
      settings.distribution?.expires_after !== undefined ? parseDuration(settings.distribution.expires_after) : null,
    parsed,
    label: files.label,
  };
}

/** From `--trusted-keys FILE` (one key a line) or `signing.trusted_keys` of the repository; never neither. */
export async function loadTrustedKeys(options: {
  file?: string | undefined;
  repoDir?: string | undefined;
  /** false: `repoDir` must hold strata.yaml itself (`strata agent`: trust is never found in a parent). */
  searchParents?: boolean;
  /** The repository's settings, already read (in place of `repoDir`). */
  settings?: DistributionSettings | undefined;
}): Promise<PublicKey[]> {
  if (options.file !== undefined) {
    let text: string;
    try {
      text = await readTextFile(options.file);
    } catch (cause) {
      throw new StrataError("unreadable-file", `cannot read the trusted keys file ${options.file}`, { cause });
    }
    const keys = parseTrustedKeys(text);
    if (keys.length === 0)
      throw new StrataError("invalid-argument", `${options.file} lists no trusted key`, {
        hint: "one ed25519:<base64> public key a line",
      });
    return keys;
  }
  if (options.settings !== undefined || options.repoDir !== undefined) {
    if (
      options.settings === undefined &&
      options.searchParents === false &&
      !pathExists(join(options.repoDir!, SETTINGS_FILE))
    )
      throw new StrataError("invalid-argument", `${join(options.repoDir!, SETTINGS_FILE)} does not exist`, {
        hint: "--repo names the repository's root (no parent directory is searched), or pass --trusted-keys FILE",
      });
    const settings = options.settings ?? (await readDistributionSettings(options.repoDir!));
    if (settings.trustedKeys.length === 0) {
      throw new StrataError("invalid-argument", `${join(settings.label, "strata.yaml")} has no signing.trusted_keys`, {
        hint: "run `strata keys generate` in the repository (it adds its public key there), or pass --trusted-keys FILE",
      });
    }
    return settings.trustedKeys.map(parsePublicKey);
  }
  throw new StrataError("invalid-argument", "no trusted keys: snapshots could not be verified", {
    hint: "pass --trusted-keys FILE or --repo DIR (its signing.trusted_keys)",
  });
}

/** `--endpoint`, else `STRATA_ENDPOINT`, else `distribution.endpoint` of the repository. */
export async function resolveEndpointUrl(options: {
  flag?: string | undefined;
  env?: NodeJS.ProcessEnv;
  repoDir?: string | undefined;
  /** The repository's settings, already read (in place of `repoDir`). */
  settings?: DistributionSettings | undefined;
  required?: boolean;
}): Promise<string | null> {
  const fromEnv = (options.env ?? process.env).STRATA_ENDPOINT;
  if (options.flag !== undefined && options.flag !== "") return options.flag;
  if (fromEnv !== undefined && fromEnv !== "") return fromEnv;
  if (options.settings?.endpoint) return options.settings.endpoint;
  if (options.settings === undefined && options.repoDir !== undefined) {
    // A repository without strata.yaml has no setting; a broken one is an error, not "no endpoint".
    const settings = await readDistributionSettings(options.repoDir).catch((e: unknown) => {
      if (e instanceof StrataError && e.code === "missing-repository") return null;
      throw e;
    });
    if (settings?.endpoint) return settings.endpoint;
  }
  if (options.required === false) return null;
  throw new StrataError("invalid-argument", "no endpoint", {
    hint: "pass --endpoint URL, set STRATA_ENDPOINT, or set distribution.endpoint in strata.yaml",
  });
}
