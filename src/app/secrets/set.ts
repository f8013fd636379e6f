/** `secrets set FILE PATH VALUE`: VALUE is JSON, falling back to a string; other ciphertexts stay as they were. */
import { StrataError } from "../../core/findings.js";
import type { JsonValue } from "../../core/json.js";
import { jsonToTree, parseKeyPath, setAtPath } from "../../core/sops/document.js";
import { registerSecret } from "../../core/redact.js";
import { Branch } from "../../core/sops/tree.js";
import { readSecretsFile, storeFormat, writeSecretsFile } from "./files.js";
import { openSopsText } from "./open.js";
import { sealSopsText } from "./seal.js";

export interface SetOptions {
  file: string;
  cwd: string;
  env: NodeJS.ProcessEnv;
  path: string;
  value: string;
  ignoreMac?: boolean;
  inputType?: string;
}

export function parseSetValue(text: string): JsonValue {
  try {
    return JSON.parse(text) as JsonValue;
  } catch {
    return text;
  }
}

export async function setSecret(options: SetOptions): Promise<void> {
  const format = storeFormat(options.file, options.inputType);
  const path = parseKeyPath(options.path);
  if (path === null) throw new StrataError("invalid-argument", `cannot parse the key path ${JSON.stringify(options.path)} (use a.b[0] or ["a"]["b"][0])`);
  const value = parseSetValue(options.value);
  registerSecret(value);
  const text = await readSecretsFile(options.file, options.cwd);
  const opened = await openSopsText(text, format, { file: options.file, env: options.env, ignoreMac: options.ignoreMac ?? false });
  let tree = jsonToTree(value);
  if ((format === "dotenv" || format === "ini") && typeof value !== "string" && !(tree instanceof Branch)) tree = JSON.stringify(value);
  const [first, ...rest] = opened.plain;
  let updated: Branch;
  try {
    updated = setAtPath(first ?? new Branch(), path, tree);
  } catch (e) {
    throw new StrataError("invalid-argument", `${options.file}: ${(e as Error).message}`, { cause: e });
  }
  const out = sealSopsText([updated, ...rest], format, opened.metadata, opened.dataKey, { file: options.file, ivCache: opened.ivCache });
  await writeSecretsFile(options.file, options.cwd, out);
}
