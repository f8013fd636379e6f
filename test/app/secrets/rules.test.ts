// Encryption rules decide which leaves are encrypted; every rule round trips and the MAC holds.
import { generateIdentity, identityToRecipient } from "age-encryption";
import { beforeAll, describe, expect, it } from "vitest";
import { encryptBranchesFor } from "../../../src/app/secrets/encrypt.js";
import { openSopsText } from "../../../src/app/secrets/open.js";
import { DEFAULT_RULES } from "../../../src/app/secrets/recipients.js";
import { treeToJson } from "../../../src/core/sops/document.js";
import type { EncryptionRules } from "../../../src/core/sops/metadata.js";
import { stores } from "../../../src/core/sops/stores/index.js";
import type { Branch } from "../../../src/core/sops/tree.js";
import { keyEnv } from "./keys.js";

let id: string;
let recipient: string;
beforeAll(async () => {
  id = await generateIdentity();
  recipient = await identityToRecipient(id);
});

const PLAIN = [
  "user_unencrypted: alice",
  "password: pw-1",
  "db:",
  "    host_plain: db.local",
  "    pass_secret: pw-2",
  "# sops:enc",
  "marked: pw-3",
  "# keep-clear",
  "clear: visible",
  "when: 2026-01-02T03:04:05Z",
  "",
].join("\n");

const none: EncryptionRules = { ...DEFAULT_RULES, unencryptedSuffix: "" };

async function run(rules: EncryptionRules): Promise<{ text: string; plain: unknown }> {
  const branches = stores.yaml.parsePlain(PLAIN);
  const text = await encryptBranchesFor(
    branches,
    "yaml",
    { groups: [{ age: [recipient], pgp: [], kms: [] }], shamirThreshold: 0, rules, source: "t" },
    keyEnv(),
    "r.yaml",
  );
  const opened = await openSopsText(text, "yaml", { file: "r.yaml", env: keyEnv({ SOPS_AGE_KEY: id }) });
  return { text, plain: treeToJson(opened.plain[0] as Branch) };
}

const clearLines = (t: string): string[] =>
  t
    .split("\n")
    .filter(
      (l) =>
        !l.includes("ENC[") &&
        /^\s*[a-z_]+: \S/.test(l) &&
        !/^\s{4}(lastmodified|version|unencrypted|encrypted|mac_only)/.test(l) &&
        !l.startsWith("    mac"),
    );

describe("encryption rules", () => {
  it.each([
    ["unencrypted_suffix (default)", DEFAULT_RULES, ["user_unencrypted: alice"]],
    [
      "encrypted_suffix",
      { ...none, encryptedSuffix: "_secret" },
      [
        "user_unencrypted: alice",
        "password: pw-1",
        "    host_plain: db.local",
        "marked: pw-3",
        "clear: visible",
        "when: 2026-01-02T03:04:05Z",
      ],
    ],
    [
      "unencrypted_regex",
      { ...none, unencryptedRegex: "^(host|user)" },
      ["user_unencrypted: alice", "    host_plain: db.local"],
    ],
    [
      "encrypted_regex",
      { ...none, encryptedRegex: "^(password|pass_)" },
      [
        "user_unencrypted: alice",
        "    host_plain: db.local",
        "marked: pw-3",
        "clear: visible",
        "when: 2026-01-02T03:04:05Z",
      ],
    ],
    ["unencrypted_comment_regex", { ...none, unencryptedCommentRegex: "keep-clear" }, ["clear: visible"]],
    [
      "encrypted_comment_regex",
      { ...none, encryptedCommentRegex: "sops:enc" },
      [
        "user_unencrypted: alice",
        "password: pw-1",
        "    host_plain: db.local",
        "    pass_secret: pw-2",
        "clear: visible",
        "when: 2026-01-02T03:04:05Z",
      ],
    ],
  ] as const)("%s", async (_name, rules, clear) => {
    const { text, plain } = await run(rules);
    expect(clearLines(text.slice(0, text.indexOf("sops:\n")))).toEqual(clear);
    expect(plain).toMatchObject({
      password: "pw-1",
      db: { pass_secret: "pw-2" },
      marked: "pw-3",
      clear: "visible",
      when: "2026-01-02T03:04:05Z",
    });
  });

  it("mac_only_encrypted: unencrypted values may change without breaking the MAC", async () => {
    const { text } = await run({ ...DEFAULT_RULES, macOnlyEncrypted: true });
    expect(text).toContain("mac_only_encrypted: true");
    const edited = text.replace("user_unencrypted: alice", "user_unencrypted: mallory");
    const opened = await openSopsText(edited, "yaml", { file: "r.yaml", env: keyEnv({ SOPS_AGE_KEY: id }) });
    expect(treeToJson(opened.plain[0] as Branch)).toMatchObject({ user_unencrypted: "mallory" });
    const { text: full } = await run(DEFAULT_RULES);
    await expect(
      openSopsText(full.replace("user_unencrypted: alice", "user_unencrypted: mallory"), "yaml", {
        file: "r.yaml",
        env: keyEnv({ SOPS_AGE_KEY: id }),
      }),
    ).rejects.toMatchObject({ code: "mac-mismatch" });
  });

  it("time values are typed time", async () => {
    const { text } = await run(DEFAULT_RULES);
    expect(text).toMatch(/when: ENC\[AES256_GCM,[^\]]*type:time\]/);
  });

  it("refuses more than one rule in a file's metadata", () => {
    const t =
      'a: ENC[x]\nsops:\n    lastmodified: "2026-01-01T00:00:00Z"\n    mac: ""\n    version: 3.13.2\n    encrypted_regex: a\n    unencrypted_suffix: _u\n    age:\n        - recipient: age1x\n          enc: x\n';
    expect(() => stores.yaml.parseEncrypted(t)).toThrow(/Cannot use more than one of/);
  });
});
