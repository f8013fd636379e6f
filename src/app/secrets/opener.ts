/**
 * The SecretsOpener of resolution (src/core/source.ts): plaintext documents without `sops`, every value
 * registered with the redactor, failures as `decryption-failed` / `mac-mismatch` / `mac-missing`.
 */
import { treeToJson } from "../../core/sops/document.js";
import type { SecretsOpener } from "../../core/source.js";
import { formatForPath } from "../../core/sops/stores/index.js";
import { createAgeIdentityLoader } from "../../io/keys/index.js";
import { openSopsText } from "./open.js";

export interface SecretsOpenerOptions {
  ignoreMac?: boolean;
  env?: NodeJS.ProcessEnv;
}

export function createSecretsOpener(options: SecretsOpenerOptions = {}): SecretsOpener {
  const env = options.env ?? process.env;
  // Identities are read once per opener: SOPS_AGE_KEY_CMD may be slow or interactive.
  const ageIdentities = createAgeIdentityLoader(env);
  return {
    async open(path: string, bytes: Uint8Array): Promise<unknown> {
      const text = Buffer.from(bytes).toString("utf8");
      const opened = await openSopsText(text, formatForPath(path), {
        file: path,
        env,
        ignoreMac: options.ignoreMac ?? false,
        ageIdentities,
      });
      const docs = opened.plain.map((b) => treeToJson(b));
      return docs.length === 1 ? docs[0] : docs;
    },
  };
}
