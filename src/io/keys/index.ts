/**
 * The data key: recovered from the key groups as sops does (keys tried in the decryption order, one
 * share per group, Shamir above one group), and wrapped for the recipients when writing.
 */
import { randomBytes } from "node:crypto";
import { formatRfc3339, type MasterKey, type Metadata } from "../../core/sops/metadata.js";
import { combineShares, splitSecret } from "../../core/sops/shamir.js";
import { decryptAgeDataKey, encryptAgeDataKey, readAgeIdentities } from "./age.js";
import { decryptKmsDataKey, encryptKmsDataKey } from "./kms.js";
import { decryptPgpDataKey, encryptPgpDataKey } from "./pgp.js";

export { ageKeysFilePath, readAgeIdentities } from "./age.js";

/** One key that was tried and why it did not open. */
export interface KeyAttempt {
  key: string;
  reason: string;
}

/** No group could give its share: names the keys tried, never any secret. */
export class DataKeyError extends Error {
  constructor(
    readonly attempts: KeyAttempt[],
    message: string,
  ) {
    super(message);
  }
}

export function describeKey(k: MasterKey): string {
  switch (k.type) {
    case "age":
      return `age ${k.recipient}`;
    case "pgp":
      return `pgp ${k.fp}`;
    case "kms":
      return `kms ${k.arn}`;
    case "opaque":
      return `${k.provider} ${Object.values(k.fields)[0] ?? ""}`.trim();
  }
}

export interface KeySourceOptions {
  env: NodeJS.ProcessEnv;
  /** Cached across files by the opener: reading identities may run SOPS_AGE_KEY_CMD. */
  ageIdentities?: () => Promise<string[]>;
}

/** Memoizes the age identities of an environment. */
export function createAgeIdentityLoader(env: NodeJS.ProcessEnv): () => Promise<string[]> {
  let p: Promise<string[]> | null = null;
  return () => (p ??= readAgeIdentities(env).then((sources) => sources.flatMap((s) => s.identities)));
}

function decryptionOrder(env: NodeJS.ProcessEnv): string[] {
  const v = env.SOPS_DECRYPTION_ORDER;
  return v
    ? v
        .split(",")
        .map((s) => s.trim())
        .filter(Boolean)
    : ["age", "pgp"];
}

function ordered(group: readonly MasterKey[], order: readonly string[]): MasterKey[] {
  const type = (k: MasterKey): string => (k.type === "opaque" ? k.provider : k.type);
  const first = order.flatMap((t) => group.filter((k) => type(k) === t));
  return [...first, ...group.filter((k) => !order.includes(type(k)))];
}

async function decryptOne(k: MasterKey, options: KeySourceOptions): Promise<Uint8Array> {
  switch (k.type) {
    case "age":
      return decryptAgeDataKey(k.enc, await (options.ageIdentities ?? createAgeIdentityLoader(options.env))());
    case "pgp":
      return decryptPgpDataKey(k.enc, options.env);
    case "kms":
      return decryptKmsDataKey(k, options.env);
    case "opaque":
      throw new Error(`${k.provider} keys are not supported by strata`);
  }
}

/** Recovers the data key of a file from whatever keys this environment has. */
export async function decryptDataKey(md: Metadata, options: KeySourceOptions): Promise<Uint8Array> {
  const order = decryptionOrder(options.env);
  const attempts: KeyAttempt[] = [];
  const parts: Uint8Array[] = [];
  const threshold = md.keyGroups.length > 1 ? (md.shamirThreshold > 0 ? md.shamirThreshold : md.keyGroups.length) : 1;
  for (const group of md.keyGroups) {
    for (const k of ordered(group, order)) {
      try {
        parts.push(await decryptOne(k, options));
        break;
      } catch (e) {
        attempts.push({ key: describeKey(k), reason: (e as Error).message });
      }
    }
    if (parts.length >= threshold) break;
  }
  if (parts.length < threshold) {
    const tried = attempts.map((a) => `${a.key} (${a.reason})`).join("; ");
    const need = md.keyGroups.length > 1 ? ` (${parts.length} of the ${threshold} key groups needed)` : "";
    throw new DataKeyError(attempts, `no key could open the data key${need}; tried: ${tried || "no keys"}`);
  }
  return md.keyGroups.length > 1 ? combineShares(parts) : (parts[0] as Uint8Array);
}

/** The recipients of one key group, as `.sops.yaml` or flags give them. */
export interface RecipientGroup {
  age: string[];
  pgp: string[];
  kms: { arn: string; context: Record<string, string>; role: string; awsProfile: string }[];
}

export function isEmptyGroup(g: RecipientGroup): boolean {
  return g.age.length + g.pgp.length + g.kms.length === 0;
}

/** Wraps the data key (or its Shamir shares, one per group) for every recipient. */
export async function encryptDataKey(
  dataKey: Uint8Array,
  groups: readonly RecipientGroup[],
  threshold: number,
  env: NodeJS.ProcessEnv,
  now: Date = new Date(),
): Promise<MasterKey[][]> {
  const secrets =
    groups.length > 1
      ? splitSecret(dataKey, groups.length, threshold > 0 ? threshold : groups.length, randomBytes)
      : [dataKey];
  const createdAt = formatRfc3339(now);
  return Promise.all(
    groups.map(async (g, i) => {
      const secret = secrets[i] as Uint8Array;
      const keys: MasterKey[] = [];
      for (const arn of g.kms)
        keys.push({
          type: "kms",
          arn: arn.arn,
          context: arn.context,
          role: arn.role,
          awsProfile: arn.awsProfile,
          createdAt,
          enc: await encryptKmsDataKey(secret, arn.arn, arn.context, env),
        });
      for (const fp of g.pgp) keys.push({ type: "pgp", fp, createdAt, enc: await encryptPgpDataKey(secret, fp, env) });
      for (const r of g.age) keys.push({ type: "age", recipient: r, enc: await encryptAgeDataKey(secret, r) });
      return keys;
    }),
  );
}

/** The recipients a file already has (updatekeys/rotate keep them when nothing else is given). */
export function recipientsOf(md: Metadata): RecipientGroup[] {
  return md.keyGroups.map((g) => ({
    age: g.flatMap((k) => (k.type === "age" ? [k.recipient] : [])),
    pgp: g.flatMap((k) => (k.type === "pgp" ? [k.fp] : [])),
    kms: g.flatMap((k) =>
      k.type === "kms" ? [{ arn: k.arn, context: k.context, role: k.role, awsProfile: k.awsProfile }] : [],
    ),
  }));
}
