/**
 * The stores, behind one checked table (STYLE.md: adding a format is a compile error until the union, the
 * interface and the table agree).
 */
import { flattenBranch, metadataToBranch, readMetadata, unflattenBranch, type Metadata } from "../metadata.js";
import { bytesToText } from "../cipher.js";
import { Branch, Comment, RawStr } from "../tree.js";
import { emitDotenv, parseDotenvBranch } from "./dotenv.js";
import { MetadataNotFoundError, SopsFormatError } from "./errors.js";
import { emitIni, parseIniBranch } from "./ini.js";
import { emitJson, parseJsonBranch } from "./json.js";
import { emitYaml } from "./yaml-emit.js";
import { parseYamlBranches } from "./yaml-parse.js";

export type SopsFormat = "yaml" | "json" | "dotenv" | "ini" | "binary";
const SOPS_FORMATS: readonly SopsFormat[] = ["yaml", "json", "dotenv", "ini", "binary"];

export interface EncryptedDocument {
  branches: Branch[];
  metadata: Metadata;
}

export interface Store {
  parsePlain(text: string): Branch[];
  /** The plaintext file; for binary, the raw data. */
  emitPlain(branches: readonly Branch[]): string;
  parseEncrypted(text: string): EncryptedDocument;
  emitEncrypted(doc: EncryptedDocument): string;
}

const SOPS_KEY = "sops";
const SOPS_PREFIX = "sops_";

function takeNestedMetadata(branches: Branch[]): EncryptedDocument {
  const first = branches[0];
  const entry = first?.items.find((i) => i.key === SOPS_KEY);
  if (entry === undefined) throw new MetadataNotFoundError();
  if (!(entry.value instanceof Branch)) throw new SopsFormatError("Found sops entry that is not a mapping");
  const metadata = readMetadata(entry.value);
  for (const b of branches) b.items = b.items.filter((i) => i.key !== SOPS_KEY);
  return { branches, metadata };
}

function withNestedMetadata(doc: EncryptedDocument): Branch[] {
  const md = metadataToBranch(doc.metadata);
  return doc.branches.map((b) => {
    if (b.items.some((i) => i.key === SOPS_KEY))
      throw new SopsFormatError(`Found key "sops" in encrypted data, which is a reserved key used for SOPS metadata`);
    return new Branch([...b.items, { key: SOPS_KEY, value: md }]);
  });
}

function only(branches: readonly Branch[]): Branch {
  if (branches.length !== 1 || branches[0] === undefined)
    throw new SopsFormatError("this format holds exactly one document");
  return branches[0];
}

const yamlStore: Store = {
  parsePlain: parseYamlBranches,
  emitPlain: (b) => emitYaml(b),
  parseEncrypted: (text) => takeNestedMetadata(parseYamlBranches(text)),
  emitEncrypted: (doc) => emitYaml(withNestedMetadata(doc)),
};

const jsonStore: Store = {
  parsePlain: (text) => [parseJsonBranch(text)],
  emitPlain: (b) => emitJson(only(b)),
  parseEncrypted: (text) => takeNestedMetadata([parseJsonBranch(text)]),
  emitEncrypted: (doc) => emitJson(only(withNestedMetadata(doc))),
};

const binaryStore: Store = {
  parsePlain: (text) => [new Branch([{ key: "data", value: text }])],
  emitPlain: (b) => {
    const data = only(b).items.find((i) => i.key === "data")?.value;
    if (typeof data !== "string") throw new SopsFormatError("no binary data found in tree");
    return data;
  },
  parseEncrypted: jsonStore.parseEncrypted,
  emitEncrypted: jsonStore.emitEncrypted,
};

const dotenvStore: Store = {
  parsePlain: (text) => [parseDotenvBranch(text)],
  emitPlain: (b) => emitDotenv(only(b)),
  parseEncrypted: (text) => {
    const branch = parseDotenvBranch(text);
    const pairs: [string, string][] = [];
    branch.items = branch.items.filter((i) => {
      if (typeof i.key === "string" && i.key.startsWith(SOPS_PREFIX)) {
        pairs.push([i.key.slice(SOPS_PREFIX.length), String(i.value ?? "").replaceAll("\\n", "\n")]);
        return false;
      }
      return true;
    });
    if (pairs.length === 0) throw new MetadataNotFoundError();
    return { branches: [branch], metadata: readMetadata(unflattenBranch(pairs)) };
  },
  emitEncrypted: (doc) => {
    const branch = only(doc.branches);
    for (const i of branch.items) {
      if (typeof i.key === "string" && i.key.startsWith(SOPS_PREFIX))
        throw new SopsFormatError(
          `Found key "${i.key}" in encrypted data, which starts with the reserved key prefix "sops_" for SOPS metadata`,
        );
    }
    const md = flattenBranch(metadataToBranch(doc.metadata), SOPS_PREFIX).map(([key, value]) => ({ key, value }));
    return emitDotenv(new Branch([...branch.items, ...md]));
  },
};

const iniStore: Store = {
  parsePlain: (text) => [parseIniBranch(text)],
  emitPlain: (b) => emitIni(only(b)),
  parseEncrypted: (text) => {
    const branch = parseIniBranch(text);
    const section = branch.items.find((i) => i.key === SOPS_KEY);
    if (section === undefined || !(section.value instanceof Branch)) throw new MetadataNotFoundError();
    const pairs: [string, string][] = section.value.items
      .filter((i) => !(i.key instanceof Comment))
      .map((i) => [String(i.key), String(i.value ?? "").replaceAll("\\n", "\n")]);
    branch.items = branch.items.filter((i) => i.key !== SOPS_KEY);
    return { branches: [branch], metadata: readMetadata(unflattenBranch(pairs)) };
  },
  emitEncrypted: (doc) => {
    const branch = only(doc.branches);
    if (branch.items.some((i) => i.key === SOPS_KEY))
      throw new SopsFormatError(`Found section "sops" in encrypted data, which is reserved for SOPS metadata`);
    const md = flattenBranch(metadataToBranch(doc.metadata), "").map(([key, value]) => ({
      key,
      value: value.replaceAll("\n", "\\n"),
    }));
    return emitIni(new Branch([...branch.items, { key: SOPS_KEY, value: new Branch(md) }]));
  },
};

export const stores = {
  yaml: yamlStore,
  json: jsonStore,
  dotenv: dotenvStore,
  ini: iniStore,
  binary: binaryStore,
} satisfies Record<SopsFormat, Store>;

/** A binary file's bytes as the one `data` value (kept byte for byte when not UTF-8). */
export function parseBinaryPlain(bytes: Uint8Array): Branch[] {
  return [new Branch([{ key: "data", value: bytesToText(bytes) }])];
}

export function emitBinaryPlain(branches: readonly Branch[]): Uint8Array {
  const data = branches[0]?.items.find((i) => i.key === "data")?.value;
  if (data instanceof RawStr) return data.bytes;
  if (typeof data !== "string") throw new SopsFormatError("no binary data found in tree");
  return Buffer.from(data, "utf8");
}

/** sops' choice of store from a file name. */
export function formatForPath(path: string): SopsFormat {
  const lower = path.toLowerCase();
  if (lower.endsWith(".yaml") || lower.endsWith(".yml")) return "yaml";
  if (lower.endsWith(".json")) return "json";
  if (lower.endsWith(".env")) return "dotenv";
  if (lower.endsWith(".ini")) return "ini";
  return "binary";
}

export function parseFormat(name: string): SopsFormat | null {
  const n = name.toLowerCase();
  if (n === "yml") return "yaml";
  if (n === "env") return "dotenv";
  return (SOPS_FORMATS as readonly string[]).includes(n) ? (n as SopsFormat) : null;
}
