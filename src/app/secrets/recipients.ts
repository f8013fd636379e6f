/**
 * Who a file is encrypted for: the `--age`/`--pgp` flags, else the first `.sops.yaml` creation rule whose
 * path_regex matches (the config is found by walking up from the working directory, as sops does).
 */
import { dirname, join, relative, resolve, sep } from "node:path";
import { StrataError } from "../../core/findings.js";
import { matchCreationRule, parseSopsConfig, type CreationRule } from "../../core/sops/config.js";
import { countRules, DEFAULT_UNENCRYPTED_SUFFIX, type EncryptionRules } from "../../core/sops/metadata.js";
import { SopsFormatError } from "../../core/sops/stores/errors.js";
import { readBinaryFile, readTextFile } from "../../io/fs/files.js";
import { groupFromFlags, isEmptyGroup, type RecipientGroup } from "../../io/keys/index.js";

export interface RecipientFlags {
  age?: string[];
  pgp?: string[];
  kms?: string[];
  /** An explicit `.sops.yaml`. */
  configPath?: string;
  cwd: string;
  /** Where sops' recipient variables are read when a flag is not given. */
  env: NodeJS.ProcessEnv;
}

export interface Recipients {
  groups: RecipientGroup[];
  shamirThreshold: number;
  rules: EncryptionRules;
  /** Where they came from, for messages. */
  source: string;
  /** The creation rule that gave them (1-based position and path_regex), when one did. */
  rule?: { index: number; pathRegex: string | null; configPath: string };
}

/** What to add to `.sops.yaml` so that a file gets recipients (shown when none do). */
function creationRuleHint(file: string): string {
  const dir = file.includes("/") ? file.slice(0, file.lastIndexOf("/") + 1) : "";
  const example = dir.startsWith("environments/")
    ? "environments/.*\\.sops\\.yaml$"
    : `${dir.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}.*`;
  return `create an age key (age-keygen -o ~/.config/sops/age/keys.txt prints its public key) and add a rule to .sops.yaml at the repository root:\n  creation_rules:\n    - path_regex: ${example}\n      age: age1...   # your public key (comma-separated for several)`;
}

export const DEFAULT_RULES: EncryptionRules = {
  unencryptedSuffix: DEFAULT_UNENCRYPTED_SUFFIX,
  encryptedSuffix: "",
  unencryptedRegex: "",
  encryptedRegex: "",
  unencryptedCommentRegex: "",
  encryptedCommentRegex: "",
  macOnlyEncrypted: false,
};

function withDefaultSuffix(r: EncryptionRules): EncryptionRules {
  return countRules(r) === 0 ? { ...r, unencryptedSuffix: DEFAULT_UNENCRYPTED_SUFFIX } : r;
}

export async function findSopsConfig(cwd: string): Promise<string | null> {
  let dir = resolve(cwd);
  for (;;) {
    const p = join(dir, ".sops.yaml");
    try {
      await readBinaryFile(p);
      return p;
    } catch (cause) {
      // Only a missing file sends the search upwards: one that exists but cannot be read would otherwise
      // hand the file to a parent directory's creation rules (other recipients) without a word.
      const code = (cause as NodeJS.ErrnoException).code;
      if (code !== "ENOENT" && code !== "ENOTDIR")
        throw new StrataError("unreadable-file", `cannot read ${p}: ${code ?? "error"}`, { cause });
      const parent = dirname(dir);
      if (parent === dir) return null;
      dir = parent;
    }
  }
}

export async function readCreationRule(
  file: string,
  flags: Pick<RecipientFlags, "cwd" | "configPath">,
): Promise<{ rule: CreationRule; index: number; configPath: string } | null> {
  const configPath = flags.configPath ?? (await findSopsConfig(flags.cwd));
  if (configPath === null) return null;
  let rules: CreationRule[];
  try {
    rules = parseSopsConfig(await readTextFile(configPath));
  } catch (e) {
    if (e instanceof SopsFormatError)
      throw new StrataError("invalid-config", `${configPath}: ${e.message}`, { cause: e });
    throw new StrataError("unreadable-file", `cannot read ${configPath}`, { cause: e });
  }
  const rel = relative(dirname(resolve(configPath)), resolve(flags.cwd, file))
    .split(sep)
    .join("/");
  let rule: CreationRule | null;
  try {
    rule = matchCreationRule(rules, rel);
  } catch (e) {
    if (e instanceof SopsFormatError)
      throw new StrataError("invalid-config", `${configPath}: ${e.message}`, { cause: e });
    throw e;
  }
  return rule === null ? null : { rule, index: rules.indexOf(rule) + 1, configPath };
}

/**
 * The flags' recipients, else (per key type, as sops) its environment variable's (SOPS_AGE_RECIPIENTS,
 * SOPS_PGP_FP, SOPS_KMS_ARN), else the matching creation rule's.
 */
export async function resolveRecipients(file: string, flags: RecipientFlags): Promise<Recipients> {
  const fromFlags = groupFromFlags(flags, flags.env);
  const found = await readCreationRule(file, flags);
  if (!isEmptyGroup(fromFlags)) {
    return {
      groups: [fromFlags],
      shamirThreshold: 0,
      rules: withDefaultSuffix(found?.rule.rules ?? DEFAULT_RULES),
      source: "the command line",
    };
  }
  if (found === null) {
    throw new StrataError(
      "invalid-argument",
      `no recipients for ${file}: no .sops.yaml creation rule matches it (and no --age or --pgp was given)`,
      { hint: creationRuleHint(file) },
    );
  }
  if (found.rule.groups.every(isEmptyGroup)) {
    throw new StrataError(
      "invalid-argument",
      `no recipients for ${file}: creation rule ${found.index} of ${found.configPath} (path_regex ${found.rule.pathRegex ?? "(any)"}) matches it but lists no keys`,
      {
        hint: "create an age key (age-keygen -o ~/.config/sops/age/keys.txt prints its public key) and put the public key under that rule's age:",
      },
    );
  }
  const groups = found.rule.groups.filter((g) => !isEmptyGroup(g));
  return {
    groups,
    shamirThreshold: found.rule.shamirThreshold,
    rules: withDefaultSuffix(found.rule.rules),
    source: found.configPath,
    rule: { index: found.index, pathRegex: found.rule.pathRegex, configPath: found.configPath },
  };
}
