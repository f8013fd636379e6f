// .sops.yaml creation rules with Shamir key groups, end to end through the use cases.
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { generateIdentity, identityToRecipient } from "age-encryption";
import { describe, expect, it } from "vitest";
import { decryptSecrets } from "../../../src/app/secrets/decrypt.js";
import { encryptSecrets } from "../../../src/app/secrets/encrypt.js";
import { keyEnv } from "./keys.js";

describe("key groups from .sops.yaml", () => {
  it("2-of-3 groups: any two identities open the file, one does not", async () => {
    const ids = await Promise.all([generateIdentity(), generateIdentity(), generateIdentity()]);
    const r = await Promise.all(ids.map((i) => identityToRecipient(i)));
    const cwd = mkdtempSync(join(tmpdir(), "strata-groups-"));
    mkdirSync(join(cwd, "environments", "prod"), { recursive: true });
    writeFileSync(
      join(cwd, ".sops.yaml"),
      [
        "creation_rules:",
        "  - path_regex: environments/prod/.*\\.sops\\.yaml$",
        "    shamir_threshold: 2",
        "    encrypted_regex: ^password$",
        "    key_groups:",
        ...r.map((x) => `      - age: [${x}]`),
        "  - age: " + r[0],
        "",
      ].join("\n"),
    );
    writeFileSync(join(cwd, "environments", "prod", "db.sops.yaml"), "password: p4ss-w0rd\nhost: db.prod\n");
    await encryptSecrets({ file: "prod/db.sops.yaml", cwd: join(cwd, "environments"), env: keyEnv(), inPlace: true });
    const text = readFileSync(join(cwd, "environments", "prod", "db.sops.yaml"), "utf8");
    expect(text).toContain("host: db.prod");
    expect(text).toContain("shamir_threshold: 2");
    expect(text).toContain("encrypted_regex: ^password$");
    expect(text.match(/- age:/g)).toHaveLength(3);
    const open = (keys: string[]) =>
      decryptSecrets({
        file: "environments/prod/db.sops.yaml",
        cwd,
        env: keyEnv({ SOPS_AGE_KEY: keys.join("\n") }),
        outputFormat: "json",
      });
    expect(JSON.parse((await open([ids[0] as string, ids[2] as string])) as string)).toEqual({
      password: "p4ss-w0rd",
      host: "db.prod",
    });
    expect(JSON.parse((await open([ids[1] as string, ids[2] as string])) as string)).toEqual({
      password: "p4ss-w0rd",
      host: "db.prod",
    });
    await expect(open([ids[1] as string])).rejects.toMatchObject({
      code: "decryption-failed",
      message: expect.stringContaining("(1 of the 2 key groups needed)"),
    });
  });

  it("a broken .sops.yaml is invalid-config", async () => {
    const cwd = mkdtempSync(join(tmpdir(), "strata-groups-"));
    writeFileSync(join(cwd, ".sops.yaml"), "creation_rules:\n  - encrypted_regex: a\n    unencrypted_suffix: b\n");
    writeFileSync(join(cwd, "x.yaml"), "a: 1\n");
    await expect(encryptSecrets({ file: "x.yaml", cwd, env: keyEnv() })).rejects.toMatchObject({
      code: "invalid-config",
      message: expect.stringMatching(/\.sops\.yaml: Cannot use more than one of encrypted_suffix/),
    });
  });
});
