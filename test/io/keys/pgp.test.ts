// PGP data keys through the real gpg binary: the data key is binary, so gpg's output must come back
// byte for byte. A data key ending in 0x0a (1 file in 256) used to lose its last byte.
import { describe, expect, it } from "vitest";
import { openSopsText } from "../../../src/app/secrets/open.js";
import { sealSopsText } from "../../../src/app/secrets/seal.js";
import { jsonToTree } from "../../../src/core/sops/document.js";
import { SOPS_VERSION, type Metadata } from "../../../src/core/sops/metadata.js";
import type { Branch } from "../../../src/core/sops/tree.js";
import { encryptDataKey } from "../../../src/io/keys/index.js";
import { decryptPgpDataKey, encryptPgpDataKey } from "../../../src/io/keys/pgp.js";
import { DEFAULT_RULES } from "../../../src/app/secrets/recipients.js";
import { keyEnv, PGP_FP1, testGnupgHome } from "../../app/secrets/keys.js";
import { lacking } from "../../support/shared.js";

/** A fixed 32-byte data key whose last bytes are `tail`. */
function dataKeyEndingIn(tail: number[]): Uint8Array {
  const key = new Uint8Array(32);
  for (let i = 0; i < 32; i++) key[i] = (i * 37 + 11) & 0xff;
  key.set(tail, 32 - tail.length);
  return key;
}

const TAILS: [string, number[]][] = [
  ["0a", [0x0a]],
  ["0d0a", [0x0d, 0x0a]],
  ["0a0a", [0x0a, 0x0a]],
  ["00", [0x00]],
  ["20", [0x20]],
];

describe.skipIf(lacking("PGP data keys", { tool: "gpg" }))("PGP data keys", () => {
  const env = keyEnv({ GNUPGHOME: testGnupgHome() });

  it.each(TAILS)("a data key ending in %s comes back from gpg byte for byte", async (_name, tail) => {
    const key = dataKeyEndingIn(tail);
    const armored = await encryptPgpDataKey(key, PGP_FP1, env);
    expect(Buffer.from(await decryptPgpDataKey(armored, env)).toString("hex")).toBe(Buffer.from(key).toString("hex"));
  });

  it.each(TAILS)("a SOPS file whose PGP data key ends in %s opens", async (_name, tail) => {
    const key = dataKeyEndingIn(tail);
    const keyGroups = await encryptDataKey(key, [{ age: [], pgp: [PGP_FP1], kms: [] }], 0, env);
    const metadata: Metadata = {
      ...DEFAULT_RULES,
      keyGroups,
      shamirThreshold: 0,
      lastModified: "",
      mac: "",
      version: SOPS_VERSION,
    };
    const text = sealSopsText([jsonToTree({ password: "pgp-tail-secret" }) as Branch], "yaml", metadata, key, {
      file: "t.sops.yaml",
    });
    const opened = await openSopsText(text, "yaml", { file: "t.sops.yaml", env });
    expect(Buffer.from(opened.dataKey).toString("hex")).toBe(Buffer.from(key).toString("hex"));
  });
});
