/**
 * `secrets rotate` (a new data key, every value re-encrypted, for the file's recipients plus any added)
 * and `secrets updatekeys` (the same data key re-wrapped for the recipients the rules give now).
 */
import { randomBytes } from "node:crypto";
import { StrataError } from "../../core/findings.js";
import type { Metadata } from "../../core/sops/metadata.js";
import { stores } from "../../core/sops/stores/index.js";
import {
  encryptDataKey,
  isEmptyGroup,
  recipientNames,
  recipientsOf,
  type RecipientGroup,
} from "../../io/keys/index.js";
import { readSecretsFile, refuseStandardStreamInPlace, storeFormat, writeSecretsFile } from "./files.js";
import { openSecretsFile, parseEncryptedFile, recoverDataKey, type SecretsFileOptions } from "./open.js";
import { readCreationRule } from "./recipients.js";
import { sealSopsText } from "./seal.js";

export interface RotateOptions extends SecretsFileOptions {
  addAge?: string[];
  addPgp?: string[];
  inPlace?: boolean;
}

async function wrap(
  dataKey: Uint8Array,
  groups: RecipientGroup[],
  threshold: number,
  env: NodeJS.ProcessEnv,
  file: string,
): Promise<Metadata["keyGroups"]> {
  try {
    return await encryptDataKey(dataKey, groups, threshold, env);
  } catch (e) {
    throw new StrataError("invalid-argument", `${file}: cannot wrap the data key: ${(e as Error).message}`, {
      cause: e,
    });
  }
}

export async function rotateSecrets(options: RotateOptions): Promise<{ text: string; written: boolean }> {
  if (options.inPlace) refuseStandardStreamInPlace(options.file);
  const opened = await openSecretsFile(options);
  const format = opened.format;
  const groups = recipientsOf(opened.metadata);
  const first = groups[0];
  if (first) {
    first.age.push(...(options.addAge ?? []).filter((r) => !first.age.includes(r)));
    first.pgp.push(...(options.addPgp ?? []).filter((r) => !first.pgp.includes(r)));
  }
  const dataKey = randomBytes(32);
  const keyGroups = await wrap(dataKey, groups, opened.metadata.shamirThreshold, options.env, options.file);
  const out = sealSopsText(opened.plain, format, { ...opened.metadata, keyGroups }, dataKey, { file: options.file });
  if (options.inPlace) await writeSecretsFile(options.file, options.cwd, out);
  return { text: out, written: options.inPlace ?? false };
}

export interface UpdateKeysOptions {
  file: string;
  cwd: string;
  env: NodeJS.ProcessEnv;
  configPath?: string;
  inputType?: string;
}

/** Returns whether the recipients changed (the file is rewritten only then). */
export async function updateKeys(options: UpdateKeysOptions): Promise<{ changed: boolean; recipients: string[] }> {
  refuseStandardStreamInPlace(options.file);
  const format = storeFormat(options.file, options.inputType);
  const text = await readSecretsFile(options.file, options.cwd);
  const doc = parseEncryptedFile(text, format, options.file);
  const found = await readCreationRule(options.file, {
    cwd: options.cwd,
    ...(options.configPath ? { configPath: options.configPath } : {}),
  });
  if (found === null) throw new StrataError("invalid-argument", `no .sops.yaml creation rule matches ${options.file}`);
  const groups = found.rule.groups.filter((g) => !isEmptyGroup(g));
  const describe = (gs: RecipientGroup[]): string[] => gs.flatMap((g, i) => recipientNames(g).map((r) => `${i}:${r}`));
  const current = describe(recipientsOf(doc.metadata));
  const wanted = describe(groups);
  const same =
    current.length === wanted.length &&
    [...current].sort().every((r, i) => r === [...wanted].sort()[i]) &&
    doc.metadata.shamirThreshold === (groups.length > 1 ? found.rule.shamirThreshold : 0);
  if (same) return { changed: false, recipients: wanted };
  const dataKey = await recoverDataKey(doc.metadata, { file: options.file, env: options.env });
  const keyGroups = await wrap(dataKey, groups, found.rule.shamirThreshold, options.env, options.file);
  const metadata: Metadata = {
    ...doc.metadata,
    keyGroups,
    shamirThreshold: groups.length > 1 ? found.rule.shamirThreshold : 0,
  };
  await writeSecretsFile(options.file, options.cwd, stores[format].emitEncrypted({ branches: doc.branches, metadata }));
  return { changed: true, recipients: wanted };
}
