import { readFileSync } from "node:fs";
import { generateIdentity, identityToRecipient } from "age-encryption";
import { describe, expect, it } from "vitest";
import { encryptDocument } from "../../../src/app/secrets/encrypt-document.js";
import { createSecretsOpener } from "../../../src/app/secrets/opener.js";
import { redact, REDACTED } from "../../../src/core/redact.js";
import { createSnapshotSecretsTree } from "../../../src/core/snapshot/secrets.js";
import { conformance, lacking } from "../../support/shared.js";
import { keyEnv, SOPS_AGE_KEY, testGnupgHome } from "./keys.js";

const missing = lacking("createSecretsOpener", { tool: "gpg" });

describe.skipIf(missing)("createSecretsOpener (resolution's SecretsOpener)", () => {
  it("returns the plaintext document without sops and registers every value with the redactor", async () => {
    const opener = createSecretsOpener({ env: keyEnv({ SOPS_AGE_KEY }) });
    const f = "sops-age/tests/data/secret.enc.yaml";
    const doc = await opener.open(f, readFileSync(conformance(f)));
    expect(doc).toEqual({
      secret: "this is a secret",
      string: "string",
      int: 7,
      float: 3.14,
      boolean: true,
      complex: { value: "this is a secret", array: ["one", "two", "three"] },
    });
    expect(redact("leaked: this is a secret")).toBe(`leaked: ${REDACTED}`);
  });

  it.each([
    [
      "decryption-failed",
      "sops-age/tests/data/secret.enc.json",
      keyEnv(),
      /secret\.enc\.json: no key could open the data key; tried: age age1je6kjh/,
    ],
    ["mac-missing", "sops/functional-tests/res/no_mac.yaml", null, /no_mac\.yaml: the file has no MAC/],
  ] as const)("throws %s", async (code, f, env, message) => {
    const opener = createSecretsOpener({ env: env ?? keyEnv({ GNUPGHOME: testGnupgHome() }) });
    await expect(opener.open(f, readFileSync(conformance(f)))).rejects.toMatchObject({
      code,
      exitCode: 3,
      message: expect.stringMatching(message),
    });
  });

  it("throws mac-mismatch for a tampered file, and opens it with ignoreMac", async () => {
    const f = "sops-age/tests/data/secret.enc.yaml";
    const text = readFileSync(conformance(f), "utf8").replace(/lastmodified: "2024/, 'lastmodified: "2023');
    const env = keyEnv({ SOPS_AGE_KEY });
    await expect(createSecretsOpener({ env }).open(f, Buffer.from(text))).rejects.toMatchObject({
      code: "mac-mismatch",
      message: expect.stringContaining("secret.enc.yaml: the MAC does not match"),
    });
    await expect(createSecretsOpener({ env, ignoreMac: true }).open(f, Buffer.from(text))).resolves.toMatchObject({
      secret: "this is a secret",
    });
  });

  it("reports a file without sops metadata as decryption-failed", async () => {
    await expect(
      createSecretsOpener({ env: keyEnv() }).open("env/x.sops.yaml", Buffer.from("a: 1\n")),
    ).rejects.toMatchObject({
      code: "decryption-failed",
      message: "env/x.sops.yaml: not a SOPS file (no sops metadata)",
    });
  });
});

describe("encryptDocument (snapshots' secrets for runtime age recipients)", () => {
  it.each(["json", "yaml"] as const)("writes a SOPS %s document the runtime identity opens", async (format) => {
    const id = await generateIdentity();
    const text = await encryptDocument(
      createSnapshotSecretsTree({ database: { password: "runtime-secret", port: 5432 } }),
      { format, age: [await identityToRecipient(id)] },
    );
    expect(text).not.toContain("runtime-secret");
    const doc = await createSecretsOpener({ env: keyEnv({ SOPS_AGE_KEY: id }) }).open(
      `secrets.${format}`,
      Buffer.from(text),
    );
    expect(doc).toEqual({ database: { password: "runtime-secret", port: 5432 } });
  });

  it("needs a recipient", async () => {
    await expect(encryptDocument(createSnapshotSecretsTree({}), { format: "json", age: [] })).rejects.toMatchObject({
      code: "invalid-argument",
    });
  });
});
