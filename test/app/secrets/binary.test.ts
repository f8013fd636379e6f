import { randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { decryptSecrets } from "../../../src/app/secrets/decrypt.js";
import { encryptSecrets } from "../../../src/app/secrets/encrypt.js";
import { keyEnv, SOPS_AGE_KEY, SOPS_AGE_RECIPIENT } from "./keys.js";

describe("binary store", () => {
  it("keeps bytes that are not UTF-8 exactly, encrypted as type str like sops (recipients from SOPS_AGE_RECIPIENTS)", async () => {
    const cwd = mkdtempSync(join(tmpdir(), "strata-bin-"));
    const bytes = Buffer.concat([Buffer.from([0xff, 0xfe, 0x00, 0x80]), randomBytes(200)]);
    writeFileSync(join(cwd, "blob.bin"), bytes);
    const r = await encryptSecrets({
      file: "blob.bin",
      cwd,
      env: keyEnv({ SOPS_AGE_RECIPIENTS: SOPS_AGE_RECIPIENT }),
      inPlace: true,
    });
    expect(r.written).toBe(true);
    const enc = readFileSync(join(cwd, "blob.bin"), "utf8");
    expect(enc).toMatch(/^\{\n\t"data": "ENC\[AES256_GCM,[^\]]+type:str\]",\n\t"sops": \{/);
    const out = await decryptSecrets({ file: "blob.bin", cwd, env: keyEnv({ SOPS_AGE_KEY }) });
    expect(Buffer.from(out as Uint8Array)).toEqual(bytes);
    const json = await decryptSecrets({ file: "blob.bin", cwd, env: keyEnv({ SOPS_AGE_KEY }), outputFormat: "json" });
    expect(Object.keys(JSON.parse(json as string) as object)).toEqual(["data"]);
  });
});
