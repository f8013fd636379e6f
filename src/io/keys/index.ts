/**
 * The data key: recovered from the key groups as sops does (keys tried in the decryption order, one
 * share per group, Shamir above one group), and wrapped for the recipients when writing.
 */
import { randomBytes } from "node:crypto";
import type { CreationGroup, KeyType, RecipientTypes } from "../../core/sops/config.js";
import { formatRfc3339, type MasterKey, type Metadata } from "../../core/sops/metadata.js";
import { combineShares, splitSecret } from "../../core/sops/shamir.js";
import { decryptAgeDataKey, encryptAgeDataKey, readAgeIdentities } from "./age.js";
import { decryptKmsDataKey, encryptKmsDataKey } from "./kms.js";
import { decryptPgpDataKey, encryptPgpDataKey } from "./pgp.js";

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

function describeKey(k: MasterKey): string {
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

/** The recipients of one key group, per key type, as `.sops.yaml`, flags or the environment give them. */
export type RecipientGroup = CreationGroup;

/** What strata does with each key type: the checked table (a type missing here is a compile error). */
interface KeyTypeSupport<T extends KeyType> {
  /** sops' environment variable that lists recipients of this type (comma-separated) when no flag does. */
  recipientsVariable: string;
  /** A recipient as a flag or that variable writes it. */
  parseRecipient(text: string): RecipientTypes[T];
  /** How a recipient is named in messages and comparisons. */
  name(recipient: RecipientTypes[T]): string;
  /** The recipient a key in a file's metadata was wrapped for, when the key is of this type. */
  recipientOf(key: MasterKey): RecipientTypes[T] | null;
  wrap(secret: Uint8Array, recipient: RecipientTypes[T], env: NodeJS.ProcessEnv, createdAt: string): Promise<MasterKey>;
}

const keyTypes: { [T in KeyType]: KeyTypeSupport<T> } = {
  age: {
    recipientsVariable: "SOPS_AGE_RECIPIENTS",
    parseRecipient: (text) => text,
    name: (r) => r,
    recipientOf: (k) => (k.type === "age" ? k.recipient : null),
    wrap: async (secret, r) => ({ type: "age", recipient: r, enc: await encryptAgeDataKey(secret, r) }),
  },
  pgp: {
    recipientsVariable: "SOPS_PGP_FP",
    parseRecipient: (text) => text,
    name: (fp) => fp,
    recipientOf: (k) => (k.type === "pgp" ? k.fp : null),
    wrap: async (secret, fp, env, createdAt) => ({
      type: "pgp",
      fp,
      createdAt,
      enc: await encryptPgpDataKey(secret, fp, env),
    }),
  },
  kms: {
    recipientsVariable: "SOPS_KMS_ARN",
    // sops' `arn+role` form.
    parseRecipient: (text) => {
      const [arn = "", role = ""] = text.split("+");
      return { arn, role, context: {}, awsProfile: "" };
    },
    name: (k) => k.arn,
    recipientOf: (k) =>
      k.type === "kms" ? { arn: k.arn, context: k.context, role: k.role, awsProfile: k.awsProfile } : null,
    wrap: async (secret, k, env, createdAt) => ({
      type: "kms",
      ...k,
      createdAt,
      enc: await encryptKmsDataKey(secret, k.arn, k.context, env),
    }),
  },
};

/** The key types, in the order messages list them. */
export const KEY_TYPES = Object.keys(keyTypes) as KeyType[];

export function emptyGroup(): RecipientGroup {
  return { age: [], pgp: [], kms: [] };
}

export function isEmptyGroup(g: RecipientGroup): boolean {
  return KEY_TYPES.every((t) => g[t].length === 0);
}

/** Every recipient of a group by name, in KEY_TYPES order. */
export function recipientNames(g: RecipientGroup): string[] {
  return KEY_TYPES.flatMap(<T extends KeyType>(t: T) => g[t].map((r) => keyTypes[t].name(r)));
}

/**
 * A group from per-type recipient texts (the `--age`, `--pgp`, `--kms` flags); a type with no texts
 * falls back to sops' environment variable for it, as sops does.
 */
export function groupFromFlags(
  flags: Partial<Record<KeyType, readonly string[]>>,
  env: NodeJS.ProcessEnv,
): RecipientGroup {
  const texts = (t: KeyType): string[] => {
    const given = flags[t] ?? [];
    if (given.length > 0) return [...given];
    return (env[keyTypes[t].recipientsVariable] ?? "")
      .split(",")
      .map((s) => s.trim())
      .filter(Boolean);
  };
  const parse = <T extends KeyType>(t: T): RecipientTypes[T][] => texts(t).map((s) => keyTypes[t].parseRecipient(s));
  return { age: parse("age"), pgp: parse("pgp"), kms: parse("kms") };
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
      const wrapAll = async <T extends KeyType>(t: T): Promise<void> => {
        for (const r of g[t]) keys.push(await keyTypes[t].wrap(secret, r, env, createdAt));
      };
      for (const t of KEY_TYPES) await wrapAll(t);
      return keys;
    }),
  );
}

/** The recipients a file already has (updatekeys/rotate keep them when nothing else is given). */
export function recipientsOf(md: Metadata): RecipientGroup[] {
  const of = <T extends KeyType>(t: T, g: readonly MasterKey[]): RecipientTypes[T][] =>
    g.flatMap((k) => keyTypes[t].recipientOf(k) ?? []);
  return md.keyGroups.map((g) => ({ age: of("age", g), pgp: of("pgp", g), kms: of("kms", g) }));
}
