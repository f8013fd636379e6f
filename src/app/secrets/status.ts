/** `secrets status`: is the file encrypted (0), not (1), or unreadable (2)? For pre-commit hooks. */
import { MetadataNotFoundError } from "../../core/sops/stores/errors.js";
import { stores } from "../../core/sops/stores/index.js";
import { readSecretsFile, storeFormat } from "./files.js";

export type SecretsStatus = { state: "encrypted" } | { state: "plaintext" } | { state: "unreadable"; reason: string };

export async function readSecretsStatus(file: string, cwd: string, inputType?: string): Promise<SecretsStatus> {
  let text: string;
  try {
    text = await readSecretsFile(file, cwd);
  } catch (e) {
    return { state: "unreadable", reason: (e as Error).message };
  }
  const format = storeFormat(file, inputType, text);
  try {
    stores[format === "binary" ? "json" : format].parseEncrypted(text);
    return { state: "encrypted" };
  } catch (e) {
    if (e instanceof MetadataNotFoundError) return { state: "plaintext" };
    if (format === "binary") return { state: "plaintext" };
    return { state: "unreadable", reason: `${file}: ${(e as Error).message}` };
  }
}
