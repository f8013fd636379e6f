/** A JSON document as a SOPS document for age recipients (snapshots put their sensitive leaves in one). */
import type { JsonObject } from "../../core/json.js";
import { jsonToTree } from "../../core/sops/document.js";
import { StrataError } from "../../core/findings.js";
import type { Branch } from "../../core/sops/tree.js";
import { encryptBranchesFor } from "./encrypt.js";
import { DEFAULT_RULES } from "./recipients.js";

export interface EncryptDocumentOptions {
  format: "json" | "yaml";
  age: string[];
  env?: NodeJS.ProcessEnv;
}

export async function encryptDocument(doc: JsonObject, options: EncryptDocumentOptions): Promise<string> {
  if (options.age.length === 0) throw new StrataError("invalid-argument", "encryptDocument needs at least one age recipient");
  const branch = jsonToTree(doc) as Branch;
  const recipients = { groups: [{ age: options.age, pgp: [], kms: [] }], shamirThreshold: 0, rules: DEFAULT_RULES, source: "runtime recipients" };
  return encryptBranchesFor([branch], options.format, recipients, options.env ?? process.env, "document");
}
