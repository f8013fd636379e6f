/**
 * The `sops` metadata block: reading it from any store's tree (tolerating nulls, empty lists, any key
 * order and the flattened dotenv/INI form) and writing it the way sops 3.13 does (keys sorted, empty
 * fields left out).
 */
import { Branch, SopsInt, type TreeItem, type TreeValue } from "./tree.js";
import { SopsFormatError } from "./stores/errors.js";
import { treeToJson } from "./document.js";

export interface AgeKey {
  type: "age";
  recipient: string;
  enc: string;
}
export interface PgpKey {
  type: "pgp";
  fp: string;
  createdAt: string;
  enc: string;
}
export interface KmsKey {
  type: "kms";
  arn: string;
  role: string;
  context: Record<string, string>;
  createdAt: string;
  enc: string;
  awsProfile: string;
}
/** gcp_kms, azure_kv, hc_vault, hckms: kept as read so that rewriting a file does not drop them. */
export interface OpaqueKey {
  type: "opaque";
  provider: string;
  fields: Record<string, string>;
}
export type MasterKey = AgeKey | PgpKey | KmsKey | OpaqueKey;

export interface EncryptionRules {
  unencryptedSuffix: string;
  encryptedSuffix: string;
  unencryptedRegex: string;
  encryptedRegex: string;
  unencryptedCommentRegex: string;
  encryptedCommentRegex: string;
  macOnlyEncrypted: boolean;
}

export interface Metadata extends EncryptionRules {
  keyGroups: MasterKey[][];
  shamirThreshold: number;
  /** RFC 3339 as Go's `Format(time.RFC3339)` writes it (the MAC's additional data). */
  lastModified: string;
  /** The encrypted MAC, `ENC[…]`, or "" when the file has none. */
  mac: string;
  version: string;
}

export const DEFAULT_UNENCRYPTED_SUFFIX = "_unencrypted";
export const SOPS_VERSION = "3.13.2";
const PROVIDER_ORDER = ["kms", "gcp_kms", "hckms", "azure_kv", "hc_vault", "pgp", "age"];

/** Go's `time.Parse(time.RFC3339, s).Format(time.RFC3339)`. */
function normalizeRfc3339(s: string): string | null {
  const m = /^(\d{4}-\d{2}-\d{2})[Tt](\d{2}:\d{2}:\d{2})(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/.exec(s);
  if (m === null) return null;
  const zone = m[4] === "z" || m[4] === "Z" || m[4] === "+00:00" || m[4] === "-00:00" ? "Z" : m[4];
  return `${m[1]}T${m[2]}${zone}`;
}

export function formatRfc3339(d: Date): string {
  return d.toISOString().replace(/\.\d+Z$/, "Z");
}

// ---- reading -------------------------------------------------------------------------------------

type Plain = string | number | boolean | null | Plain[] | { [k: string]: Plain };

function str(v: Plain | undefined): string {
  if (v === undefined || v === null) return "";
  if (typeof v === "object") throw new SopsFormatError("a metadata field that should be text is a structure");
  return String(v);
}

function isObj(v: Plain | undefined): v is { [k: string]: Plain } {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function readKey(provider: string, raw: Plain): MasterKey {
  if (!isObj(raw)) throw new SopsFormatError(`a ${provider} key entry is not a mapping`);
  switch (provider) {
    case "age":
      return { type: "age", recipient: str(raw.recipient), enc: str(raw.enc) };
    case "pgp":
      return { type: "pgp", fp: str(raw.fp), createdAt: str(raw.created_at), enc: str(raw.enc) };
    case "kms": {
      const context: Record<string, string> = {};
      if (isObj(raw.context)) for (const [k, v] of Object.entries(raw.context)) context[k] = str(v);
      return {
        type: "kms",
        arn: str(raw.arn),
        role: str(raw.role),
        context,
        createdAt: str(raw.created_at),
        enc: str(raw.enc),
        awsProfile: str(raw.aws_profile),
      };
    }
    default: {
      const fields: Record<string, string> = {};
      for (const [k, v] of Object.entries(raw)) fields[k] = str(v);
      return { type: "opaque", provider, fields };
    }
  }
}

function readGroup(source: { [k: string]: Plain }): MasterKey[] {
  const group: MasterKey[] = [];
  const providers = [
    ...PROVIDER_ORDER,
    ...Object.keys(source)
      .filter((k) => !PROVIDER_ORDER.includes(k))
      .sort(),
  ];
  for (const p of providers) {
    const list = source[p];
    if (!Array.isArray(list)) continue;
    if (!["age", "pgp", "kms", "gcp_kms", "azure_kv", "hc_vault", "hckms"].includes(p)) continue;
    for (const raw of list) group.push(readKey(p, raw));
  }
  return group;
}

function readBool(v: Plain | undefined): boolean {
  return v === true || v === "true" || v === "True" || v === "1";
}

/** Reads the metadata from the `sops` branch (nested form). */
export function readMetadata(branch: Branch): Metadata {
  const raw = treeToJson(branch) as { [k: string]: Plain };
  const lastModified = normalizeRfc3339(str(raw.lastmodified));
  if (lastModified === null)
    throw new SopsFormatError(`the metadata has no valid lastmodified (${JSON.stringify(str(raw.lastmodified))})`);
  let keyGroups: MasterKey[][];
  const flat = readGroup(raw);
  if (flat.length > 0) keyGroups = [flat];
  else if (Array.isArray(raw.key_groups) && raw.key_groups.length > 0)
    keyGroups = raw.key_groups.map((g) => (isObj(g) ? readGroup(g) : []));
  else throw new SopsFormatError("No keys found in file");
  const rules: EncryptionRules = {
    unencryptedSuffix: str(raw.unencrypted_suffix),
    encryptedSuffix: str(raw.encrypted_suffix),
    unencryptedRegex: str(raw.unencrypted_regex),
    encryptedRegex: str(raw.encrypted_regex),
    unencryptedCommentRegex: str(raw.unencrypted_comment_regex),
    encryptedCommentRegex: str(raw.encrypted_comment_regex),
    macOnlyEncrypted: readBool(raw.mac_only_encrypted),
  };
  checkRules(rules);
  if (countRules(rules) === 0) rules.unencryptedSuffix = DEFAULT_UNENCRYPTED_SUFFIX;
  const threshold =
    raw.shamir_threshold === undefined || raw.shamir_threshold === null ? 0 : Number(raw.shamir_threshold);
  if (!Number.isInteger(threshold)) throw new SopsFormatError("shamir_threshold is not an integer");
  return {
    ...rules,
    keyGroups,
    shamirThreshold: threshold,
    lastModified,
    mac: str(raw.mac),
    version: str(raw.version),
  };
}

/** How many of the six encryption rules (suffixes and regexes) are set; sops allows at most one. */
export function countRules(r: EncryptionRules): number {
  return [
    r.unencryptedSuffix,
    r.encryptedSuffix,
    r.unencryptedRegex,
    r.encryptedRegex,
    r.unencryptedCommentRegex,
    r.encryptedCommentRegex,
  ].filter((x) => x !== "").length;
}

export function checkRules(r: EncryptionRules): void {
  if (countRules(r) > 1) {
    throw new SopsFormatError(
      "Cannot use more than one of encrypted_suffix, unencrypted_suffix, encrypted_regex, unencrypted_regex, encrypted_comment_regex, or unencrypted_comment_regex in the same file",
    );
  }
}

// ---- writing -------------------------------------------------------------------------------------

function sortedBranch(entries: [string, TreeValue][]): Branch {
  return new Branch(entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([key, value]) => ({ key, value })));
}

function keyBranch(k: MasterKey): Branch {
  switch (k.type) {
    case "age":
      return sortedBranch([
        ["recipient", k.recipient],
        ["enc", k.enc],
      ]);
    case "pgp":
      return sortedBranch([
        ["created_at", k.createdAt],
        ["enc", k.enc],
        ["fp", k.fp],
      ]);
    case "kms": {
      const e: [string, TreeValue][] = [
        ["arn", k.arn],
        ["created_at", k.createdAt],
        ["enc", k.enc],
        ["aws_profile", k.awsProfile],
      ];
      if (k.role !== "") e.push(["role", k.role]);
      const ctx = Object.entries(k.context);
      if (ctx.length > 0) e.push(["context", sortedBranch(ctx)]);
      return sortedBranch(e);
    }
    case "opaque":
      return sortedBranch(Object.entries(k.fields));
  }
}

function providerOf(k: MasterKey): string {
  return k.type === "opaque" ? k.provider : k.type;
}

function groupEntries(group: readonly MasterKey[]): [string, TreeValue][] {
  const by = new Map<string, Branch[]>();
  for (const k of group) {
    const p = providerOf(k);
    by.set(p, [...(by.get(p) ?? []), keyBranch(k)]);
  }
  return [...by.entries()];
}

/** The metadata as sops 3.13 serializes it: a branch with sorted keys. */
export function metadataToBranch(md: Metadata): Branch {
  const e: [string, TreeValue][] = [
    ["lastmodified", md.lastModified],
    ["mac", md.mac],
    ["version", md.version],
  ];
  const opt: [string, string][] = [
    ["unencrypted_suffix", md.unencryptedSuffix],
    ["encrypted_suffix", md.encryptedSuffix],
    ["unencrypted_regex", md.unencryptedRegex],
    ["encrypted_regex", md.encryptedRegex],
    ["unencrypted_comment_regex", md.unencryptedCommentRegex],
    ["encrypted_comment_regex", md.encryptedCommentRegex],
  ];
  for (const [k, v] of opt) if (v !== "") e.push([k, v]);
  if (md.macOnlyEncrypted) e.push(["mac_only_encrypted", true]);
  if (md.shamirThreshold !== 0) e.push(["shamir_threshold", new SopsInt(BigInt(md.shamirThreshold))]);
  if (md.keyGroups.length === 1) e.push(...groupEntries(md.keyGroups[0] ?? []));
  else if (md.keyGroups.length > 1) e.push(["key_groups", md.keyGroups.map((g) => sortedBranch(groupEntries(g)))]);
  return sortedBranch(e);
}

// ---- flattening (dotenv, INI) -----------------------------------------------------------------

function scalarString(v: TreeValue): string {
  if (typeof v === "string") return v;
  if (typeof v === "boolean") return v ? "true" : "false";
  if (v instanceof SopsInt) return v.value.toString();
  if (v === null) return "";
  return String(v);
}

/** sops' flattenTreeBranch: `a__map_b`, `a__list_0`, depth first in the (sorted) tree order. */
export function flattenBranch(branch: Branch, prefix: string): [string, string][] {
  const out: [string, string][] = [];
  const walk = (v: TreeValue, key: string): void => {
    if (v instanceof Branch) for (const it of v.items) walk(it.value, `${key}__map_${String(it.key)}`);
    else if (Array.isArray(v)) v.forEach((x, i) => walk(x, `${key}__list_${i}`));
    else out.push([key, scalarString(v)]);
  };
  for (const it of branch.items) walk(it.value, prefix + String(it.key));
  return out;
}

/** Rebuilds the nested metadata branch from flattened `key → value` pairs. */
export function unflattenBranch(pairs: readonly [string, string][]): Branch {
  const root: { [k: string]: Plain } = {};
  for (const [key, value] of pairs) {
    const tokens = key.split(/(?=__map_|__list_)/);
    let node: Plain = root;
    tokens.forEach((tok, i) => {
      const isList = tok.startsWith("__list_");
      const name = i === 0 ? tok : isList ? tok.slice(7) : tok.slice(6);
      const last = i === tokens.length - 1;
      const nextIsList = tokens[i + 1]?.startsWith("__list_") ?? false;
      const container = node as { [k: string]: Plain } & Plain[];
      const slot = isList ? Number(name) : name;
      if (last) {
        (container as Record<string | number, Plain>)[slot] = value;
        return;
      }
      const existing = (container as Record<string | number, Plain>)[slot];
      if (existing === undefined || existing === null)
        (container as Record<string | number, Plain>)[slot] = nextIsList ? [] : {};
      node = (container as Record<string | number, Plain>)[slot] as Plain;
    });
  }
  const toTree = (p: Plain): TreeValue => {
    if (Array.isArray(p)) return Array.from(p, (x) => toTree(x ?? null));
    if (isObj(p)) return new Branch(Object.entries(p).map(([key, value]): TreeItem => ({ key, value: toTree(value) })));
    return p === null ? null : String(p);
  };
  return toTree(root) as Branch;
}

/**
 * The `version` sops wrote into a file: every 3.x is read; another major version may mean a format strata
 * does not know (a warning); none at all means the file was not written by sops (refused).
 */
export function checkSopsVersion(version: string): { severity: "error" | "warning"; message: string } | null {
  if (version.trim() === "")
    return { severity: "error", message: "the sops metadata has no version (sops always writes one)" };
  if (/^3(\.|$)/.test(version.trim())) return null;
  return {
    severity: "warning",
    message: `the file was written by sops ${version.trim()}; strata reads the sops 3.x format and may misread it`,
  };
}
