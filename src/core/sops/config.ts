/**
 * `.sops.yaml`: creation rules chosen by `path_regex` (first match wins; a rule without one matches every
 * file), with recipients, key groups, the Shamir threshold and the encryption rules.
 */
import { parse } from "yaml";
import { checkRules, type EncryptionRules } from "./metadata.js";
import { compileGoRegex } from "./regex.js";
import { SopsFormatError } from "./stores/errors.js";

export interface KmsRecipient {
  arn: string;
  context: Record<string, string>;
  role: string;
  awsProfile: string;
}
/**
 * The key types strata wraps data keys for, and what names a recipient of each. A key group lists its
 * recipients per type; adding a type is a compile error until the `.sops.yaml` reader below and the key
 * table of io/keys agree.
 */
export interface RecipientTypes {
  age: string;
  pgp: string;
  kms: KmsRecipient;
}
export type KeyType = keyof RecipientTypes;
export type CreationGroup = { [T in KeyType]: RecipientTypes[T][] };

export interface CreationRule {
  pathRegex: string | null;
  groups: CreationGroup[];
  shamirThreshold: number;
  rules: EncryptionRules;
}

type Raw = Record<string, unknown>;

function list(v: unknown): string[] {
  if (v === undefined || v === null) return [];
  if (typeof v === "string")
    return v
      .split(",")
      .map((s) => s.trim())
      .filter(Boolean);
  if (Array.isArray(v)) return v.flatMap((x) => list(x));
  throw new SopsFormatError("a recipient list must be a string or a list of strings");
}

function kmsList(v: unknown, awsProfile: string): KmsRecipient[] {
  if (v === undefined || v === null) return [];
  if (typeof v === "string") {
    return list(v).map((s) => {
      const [arn = "", role = ""] = s.split("+");
      return { arn, role, context: {}, awsProfile };
    });
  }
  if (Array.isArray(v)) {
    return v.flatMap((x) => {
      if (typeof x === "string") return kmsList(x, awsProfile);
      const o = x as Raw;
      const context: Record<string, string> = {};
      for (const [k, val] of Object.entries((o.context as Raw | undefined) ?? {})) context[k] = String(val);
      return [
        {
          arn: String(o.arn ?? ""),
          role: String(o.role ?? ""),
          context,
          awsProfile: String(o.aws_profile ?? awsProfile),
        },
      ];
    });
  }
  throw new SopsFormatError("kms must be a string or a list");
}

/** How `.sops.yaml` lists each key type's recipients (the key of the same name in a rule or key group). */
const recipientReaders: { [T in KeyType]: (v: unknown, awsProfile: string) => RecipientTypes[T][] } = {
  age: list,
  pgp: list,
  kms: kmsList,
};

function readGroup(raw: Raw | undefined, awsProfile: string): CreationGroup {
  return {
    age: recipientReaders.age(raw?.age, awsProfile),
    pgp: recipientReaders.pgp(raw?.pgp, awsProfile),
    kms: recipientReaders.kms(raw?.kms, awsProfile),
  };
}

function readRule(raw: Raw): CreationRule {
  const awsProfile = String(raw.aws_profile ?? "");
  const groups =
    Array.isArray(raw.key_groups) && raw.key_groups.length > 0
      ? (raw.key_groups as Raw[]).map((g) => readGroup(g, awsProfile))
      : [readGroup(raw, awsProfile)];
  const s = (k: string): string => (raw[k] === undefined || raw[k] === null ? "" : String(raw[k]));
  const rules: EncryptionRules = {
    unencryptedSuffix: s("unencrypted_suffix"),
    encryptedSuffix: s("encrypted_suffix"),
    unencryptedRegex: s("unencrypted_regex"),
    encryptedRegex: s("encrypted_regex"),
    unencryptedCommentRegex: s("unencrypted_comment_regex"),
    encryptedCommentRegex: s("encrypted_comment_regex"),
    macOnlyEncrypted: raw.mac_only_encrypted === true,
  };
  checkRules(rules);
  return {
    pathRegex: raw.path_regex === undefined ? null : String(raw.path_regex),
    groups,
    shamirThreshold: Number(raw.shamir_threshold ?? 0),
    rules,
  };
}

export function parseSopsConfig(text: string): CreationRule[] {
  let doc: unknown;
  try {
    doc = parse(text);
  } catch (cause) {
    throw new SopsFormatError(`.sops.yaml is not valid YAML: ${(cause as Error).message.split("\n")[0] ?? ""}`, {
      cause,
    });
  }
  const rules = (doc as Raw | null)?.creation_rules;
  if (rules === undefined || rules === null) return [];
  if (!Array.isArray(rules)) throw new SopsFormatError(".sops.yaml: creation_rules must be a list");
  return rules.map((r) => readRule((r ?? {}) as Raw));
}

/** The first rule whose path_regex matches the path (relative to the config's directory, POSIX). */
export function matchCreationRule(rules: readonly CreationRule[], path: string): CreationRule | null {
  return rules.find((r) => r.pathRegex === null || compileGoRegex(r.pathRegex, "path_regex").test(path)) ?? null;
}
