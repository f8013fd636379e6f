import { promises as fs } from "node:fs";
import { StrataError, type Finding } from "../../core/findings.js";
import { parseSnapshot, verifySnapshot, type PublicKey, type Snapshot } from "../../core/snapshot/index.js";
import { buildNextSnapshot, type BuildOptions } from "./build.js";
import type { EndpointClient } from "./endpoint.js";

/**
 * `strata snapshot --env E`: the signed snapshot push would send. With an endpoint it follows the current
 * version; without one it is version 1.
 */
export async function buildSnapshot(options: BuildOptions & { endpoint: EndpointClient | null }): Promise<{ snapshot: Snapshot | null; findings: Finding[] }> {
  const endpoint = options.endpoint;
  const built = await buildNextSnapshot(options, async () => (endpoint === null ? null : endpoint.current(options.environment)));
  return { snapshot: built.snapshot, findings: built.findings };
}

export interface VerifyReport {
  valid: true;
  environment: string;
  version: number;
  digest: string;
  contentDigest: string;
  keyid: string;
  createdAt: string;
  expiresAt: string;
  expired: boolean;
  rollbackOf: number | null;
}

/** `strata snapshot verify FILE`: shape, digest, a trusted signature (and the environment, if given). */
export async function verifySnapshotFile(options: { file: string; trustedKeys: readonly PublicKey[]; environment?: string | undefined; now?: () => Date }): Promise<VerifyReport> {
  let text: string;
  try {
    text = await fs.readFile(options.file, "utf8");
  } catch (cause) {
    throw new StrataError("unreadable-file", `cannot read ${options.file}`, { cause });
  }
  const s = parseSnapshot(text);
  const keyid = verifySnapshot(s, options.trustedKeys);
  if (options.environment !== undefined && s.environment !== options.environment) {
    throw new StrataError("invalid-snapshot", `${options.file} is a snapshot of ${s.environment}, not ${options.environment}`);
  }
  const now = (options.now ?? (() => new Date()))();
  return {
    valid: true, environment: s.environment, version: s.version, digest: s.digest, contentDigest: s.contentDigest, keyid,
    createdAt: s.createdAt, expiresAt: s.expiresAt, expired: Date.parse(s.expiresAt) < now.getTime(), rollbackOf: s.rollbackOf,
  };
}
