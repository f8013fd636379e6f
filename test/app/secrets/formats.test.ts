import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { decryptSecrets } from "../../../src/app/secrets/decrypt.js";
import { encryptSecrets } from "../../../src/app/secrets/encrypt.js";
import { createSecretsOpener } from "../../../src/app/secrets/opener.js";
import { keyEnv, SOPS_AGE_KEY, SOPS_AGE_RECIPIENT } from "./keys.js";

async function roundTrip(name: string, content: string): Promise<{ cwd: string; enc: string }> {
  const cwd = mkdtempSync(join(tmpdir(), "strata-fmt-"));
  writeFileSync(join(cwd, name), content);
  await encryptSecrets({ file: name, cwd, env: keyEnv(), age: [SOPS_AGE_RECIPIENT], inPlace: true });
  return { cwd, enc: readFileSync(join(cwd, name), "utf8") };
}

describe("--format json and the plaintext of every store", () => {
  it("multi-document YAML: sops metadata in every document, JSON is an array", async () => {
    const { cwd, enc } = await roundTrip("multi.yaml", "a: one-secret\n---\nb: two-secret\n");
    expect(enc.match(/^sops:$/gm)).toHaveLength(2);
    const env = keyEnv({ SOPS_AGE_KEY });
    expect(
      JSON.parse((await decryptSecrets({ file: "multi.yaml", cwd, env, outputFormat: "json" })) as string),
    ).toEqual([{ a: "one-secret" }, { b: "two-secret" }]);
    expect(await decryptSecrets({ file: "multi.yaml", cwd, env })).toBe("a: one-secret\n---\nb: two-secret\n");
    expect(await createSecretsOpener({ env }).open("multi.yaml", Buffer.from(enc))).toEqual([
      { a: "one-secret" },
      { b: "two-secret" },
    ]);
  });

  it("dotenv: an object of strings", async () => {
    const { cwd } = await roundTrip("app.env", "PORT=8080\nTOKEN=abc=def\n#note\n");
    const env = keyEnv({ SOPS_AGE_KEY });
    expect(JSON.parse((await decryptSecrets({ file: "app.env", cwd, env, outputFormat: "json" })) as string)).toEqual({
      PORT: "8080",
      TOKEN: "abc=def",
    });
    expect(await decryptSecrets({ file: "app.env", cwd, env })).toBe("PORT=8080\nTOKEN=abc=def\n#note\n");
  });

  it("INI: an object of sections", async () => {
    const { cwd, enc } = await roundTrip("app.ini", "[db]\nuser = admin\npassword = hunter2\n\n[api]\ntoken = t0k\n");
    expect(enc).toMatch(/^\[sops\]$/m);
    const env = keyEnv({ SOPS_AGE_KEY });
    expect(JSON.parse((await decryptSecrets({ file: "app.ini", cwd, env, outputFormat: "json" })) as string)).toEqual({
      db: { user: "admin", password: "hunter2" },
      api: { token: "t0k" },
    });
    expect(await decryptSecrets({ file: "app.ini", cwd, env })).toBe(
      "[db]\nuser     = admin\npassword = hunter2\n\n[api]\ntoken = t0k\n",
    );
  });

  it("JSON: key order is kept, integer-like keys included", async () => {
    const { cwd } = await roundTrip("o.json", '{\n\t"b": 1,\n\t"10": 2,\n\t"a": [true, null, 1.5]\n}\n');
    const out = await decryptSecrets({ file: "o.json", cwd, env: keyEnv({ SOPS_AGE_KEY }) });
    expect(out).toBe('{\n\t"b": 1,\n\t"10": 2,\n\t"a": [\n\t\ttrue,\n\t\tnull,\n\t\t1.5\n\t]\n}\n');
  });
});
