import { StrataError, type Finding } from "../../core/findings.js";
import { registerSecret } from "../../core/redact.js";
import {
  decryptSnapshotSecrets,
  parseSnapshot,
  parseSnapshotSecrets,
  recoverSnapshotDataKey,
  verifySnapshot,
  type PublicKey,
  type Snapshot,
} from "../../core/snapshot/index.js";
import { dirname, resolve } from "node:path";
import { readTextFile, writeFileInside } from "../../io/fs/files.js";
import { createAgeIdentityLoader } from "../../io/keys/index.js";
import { decryptAgeDataKey } from "../../io/keys/age.js";
import { buildNextSnapshot, type BuildOptions } from "./build.js";
import type { EndpointClient } from "./endpoint.js";

/**
 * `strata snapshot --env E`: the signed snapshot push would send. With an endpoint it follows the current
 * version; without one it is version 1.
 */
export async function buildSnapshot(
  options: BuildOptions & { endpoint: EndpointClient | null },
): Promise<{ snapshot: Snapshot | null; findings: Finding[] }> {
  const endpoint = options.endpoint;
  const built = await buildNextSnapshot(options, async () =>
    endpoint === null ? null : endpoint.current(options.environment),
  );
  return { snapshot: built.snapshot, findings: built.findings };
}

/** `strata snapshot --out FILE`: in the directory named, atomically, never through a link out of it. */
export async function writeSnapshotFile(out: string, text: string): Promise<void> {
  await writeFileInside(out, text, { within: dirname(resolve(out)), label: out });
}

export interface VerifyReport {
  valid: true;
  environment: string;
  /** The service whose snapshot it is (strata.yaml `services:`), or null for an environment's snapshot. */
  service: string | null;
  version: number;
  digest: string;
  contentDigest: string;
  keyid: string;
  createdAt: string;
  expiresAt: string;
  expired: boolean;
  rollbackOf: number | null;
  /**
   * The SOPS MAC of `secrets`: `verified`, `unchecked` (no runtime identity here: `reason` says why) or
   * `absent` (nothing sensitive). A MAC that fails is an error (`mac-mismatch`), never a status.
   */
  secrets: { status: "verified" | "unchecked" | "absent"; reason: string | null };
}

/**
 * `strata snapshot verify FILE`: shape, digest, a trusted signature (and the environment, if given), then the
 * secrets' SOPS MAC when an age identity in `env` (SOPS_AGE_KEY_FILE, …) is a runtime recipient.
 */
export async function verifySnapshotFile(options: {
  file: string;
  trustedKeys: readonly PublicKey[];
  environment?: string | undefined;
  now?: () => Date;
  env?: NodeJS.ProcessEnv;
}): Promise<VerifyReport> {
  let text: string;
  try {
    text = await readTextFile(options.file);
  } catch (cause) {
    throw new StrataError("unreadable-file", `cannot read ${options.file}`, { cause });
  }
  const s = parseSnapshot(text);
  const keyid = verifySnapshot(s, options.trustedKeys);
  if (options.environment !== undefined && s.environment !== options.environment) {
    throw new StrataError(
      "invalid-snapshot",
      `${options.file} is a snapshot of ${s.environment}, not ${options.environment}`,
    );
  }
  const secrets = await checkSecretsMac(
    s,
    `${options.file}: the secrets of ${s.environment} v${s.version}`,
    options.env ?? process.env,
  );
  const now = (options.now ?? (() => new Date()))();
  return {
    valid: true,
    environment: s.environment,
    service: s.service ?? null,
    version: s.version,
    digest: s.digest,
    contentDigest: s.contentDigest,
    keyid,
    createdAt: s.createdAt,
    expiresAt: s.expiresAt,
    expired: Date.parse(s.expiresAt) < now.getTime(),
    rollbackOf: s.rollbackOf,
    secrets,
  };
}

async function checkSecretsMac(s: Snapshot, name: string, env: NodeJS.ProcessEnv): Promise<VerifyReport["secrets"]> {
  if (s.secrets === null) return { status: "absent", reason: null };
  let identities: string[];
  try {
    identities = await createAgeIdentityLoader(env)();
  } catch (e) {
    return { status: "unchecked", reason: `cannot read the age identities: ${(e as Error).message}` };
  }
  if (identities.length === 0)
    return { status: "unchecked", reason: "no age identity (set SOPS_AGE_KEY_FILE to a runtime identity to check it)" };
  let dataKey: Uint8Array;
  try {
    dataKey = await recoverSnapshotDataKey(
      parseSnapshotSecrets(s.secrets, name).metadata,
      ({ enc }) => decryptAgeDataKey(enc, identities),
      name,
    );
  } catch (e) {
    // None of these identities is a recipient: the MAC stays unchecked, and the report says so.
    if (e instanceof StrataError && e.code === "decryption-failed")
      return {
        status: "unchecked",
        reason: "the available age identities are not a recipient of the secrets (runtime.recipients)",
      };
    throw e;
  }
  // A value that does not open or a MAC that fails is an error (exit 3), never a status.
  for (const p of decryptSnapshotSecrets(s.secrets, dataKey, name).plaintexts) registerSecret(p);
  return { status: "verified", reason: null };
}
