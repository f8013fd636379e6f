/**
 * A plaintext tree as a SOPS document for age recipients (snapshots put their sensitive leaves in one). The
 * tree's order is the document order the MAC hashes: callers choose it (snapshots: canonical key order).
 */
import { StrataError } from "../../core/findings.js";
import type { Branch } from "../../core/sops/tree.js";
import { emptyGroup } from "../../io/keys/index.js";
import { encryptBranchesFor } from "./encrypt.js";
import { DEFAULT_RULES } from "./recipients.js";

export interface EncryptDocumentOptions {
  format: "json" | "yaml";
  age: string[];
  env?: NodeJS.ProcessEnv;
}

export async function encryptDocument(branch: Branch, options: EncryptDocumentOptions): Promise<string> {
  if (options.age.length === 0)
    throw new StrataError("invalid-argument", "encryptDocument needs at least one age recipient");
  const recipients = {
    groups: [{ ...emptyGroup(), age: options.age }],
    shamirThreshold: 0,
    rules: DEFAULT_RULES,
    source: "runtime recipients",
  };
  return encryptBranchesFor([branch], options.format, recipients, options.env ?? process.env, "document");
}
