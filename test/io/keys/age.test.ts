import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { generateIdentity, identityToRecipient } from "age-encryption";
import { describe, expect, it } from "vitest";
import { ageKeysFilePath, decryptAgeDataKey, encryptAgeDataKey, readAgeIdentities } from "../../../src/io/keys/age.js";

describe("age identities are found as sops finds them", () => {
  it("reads SOPS_AGE_KEY, SOPS_AGE_KEY_FILE, SOPS_AGE_KEY_CMD and the user config, in that order", async () => {
    const dir = mkdtempSync(join(tmpdir(), "strata-age-"));
    const [a, b, c, d] = await Promise.all([
      generateIdentity(),
      generateIdentity(),
      generateIdentity(),
      generateIdentity(),
    ]);
    writeFileSync(join(dir, "file.txt"), `# created: today\n# public key: x\n${b}\n`);
    mkdirSync(join(dir, "cfg", "sops", "age"), { recursive: true });
    writeFileSync(join(dir, "cfg", "sops", "age", "keys.txt"), `${d}\n`);
    const env = {
      PATH: process.env.PATH,
      HOME: dir,
      XDG_CONFIG_HOME: join(dir, "cfg"),
      SOPS_AGE_KEY: `${a}\n`,
      SOPS_AGE_KEY_FILE: join(dir, "file.txt"),
      SOPS_AGE_KEY_CMD: `echo ${c}`,
    };
    const sources = await readAgeIdentities(env);
    expect(sources.map((s) => s.origin)).toEqual([
      "SOPS_AGE_KEY",
      `SOPS_AGE_KEY_FILE (${join(dir, "file.txt")})`,
      "SOPS_AGE_KEY_CMD",
      join(dir, "cfg", "sops", "age", "keys.txt"),
    ]);
    expect(sources.map((s) => s.identities)).toEqual([[a], [b], [c], [d]]);
  });

  it("uses ~/.config, or ~/Library/Application Support on macOS, without XDG_CONFIG_HOME", () => {
    expect(ageKeysFilePath({ HOME: "/h" }, "linux")).toBe("/h/.config/sops/age/keys.txt");
    expect(ageKeysFilePath({ HOME: "/h" }, "darwin")).toBe("/h/Library/Application Support/sops/age/keys.txt");
    expect(ageKeysFilePath({ HOME: "/h", XDG_CONFIG_HOME: "/x" }, "darwin")).toBe("/x/sops/age/keys.txt");
  });

  it("reports a missing SOPS_AGE_KEY_FILE and a failing SOPS_AGE_KEY_CMD", async () => {
    await expect(
      readAgeIdentities({ HOME: "/nonexistent", SOPS_AGE_KEY_FILE: "/nonexistent/keys.txt" }),
    ).rejects.toThrow(/SOPS_AGE_KEY_FILE names \/nonexistent\/keys.txt/);
    await expect(
      readAgeIdentities({ HOME: "/nonexistent", PATH: process.env.PATH, SOPS_AGE_KEY_CMD: "exit 3" }),
    ).rejects.toThrow(/SOPS_AGE_KEY_CMD failed with exit code 3/);
  });

  it("wraps and unwraps a data key; a wrong identity does not open it", async () => {
    const id = await generateIdentity();
    const enc = await encryptAgeDataKey(new Uint8Array(32).fill(7), await identityToRecipient(id));
    expect(enc).toMatch(/^-----BEGIN AGE ENCRYPTED FILE-----\n[\s\S]+-----END AGE ENCRYPTED FILE-----\n$/);
    expect(await decryptAgeDataKey(enc, [id])).toEqual(new Uint8Array(32).fill(7));
    await expect(decryptAgeDataKey(enc, [await generateIdentity()])).rejects.toThrow(/no age identity matches/);
    await expect(decryptAgeDataKey(enc, [])).rejects.toThrow(/no age identity found/);
  });
});
