// @module-tag e2e
// Files strata writes open with the real `age` and `gpg` CLIs at the data-key level, and (age YAML/JSON/
// dotenv) with the independent sops-age package.
import { execFileSync } from "node:child_process";
import { createDecipheriv } from "node:crypto";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { generateIdentity, generateHybridIdentity, identityToRecipient } from "age-encryption";
import { decryptSops } from "sops-age";
import { beforeAll, describe, expect, it } from "vitest";
import { encryptBranchesFor } from "../../../src/app/secrets/encrypt.js";
import { openSopsText } from "../../../src/app/secrets/open.js";
import { DEFAULT_RULES } from "../../../src/app/secrets/recipients.js";
import { jsonToTree, treeToJson } from "../../../src/core/sops/document.js";
import type { MasterKey } from "../../../src/core/sops/metadata.js";
import { combineShares } from "../../../src/core/sops/shamir.js";
import { stores, type SopsFormat } from "../../../src/core/sops/stores/index.js";
import { Branch } from "../../../src/core/sops/tree.js";
import type { RecipientGroup } from "../../../src/io/keys/index.js";
import { keyEnv, PGP_FP1, PGP_FP2, SOPS_AGE_KEY, SOPS_AGE_RECIPIENT, testGnupgHome } from "./keys.js";
import { lacking } from "../../support/shared.js";

const missing = lacking("interop with the age and gpg CLIs", { tool: "age" }, { tool: "gpg" });

const SAMPLES: Record<SopsFormat, { text: string; json: unknown; valuePath: string[]; value: string }> = {
  yaml: {
    text: "db:\n    password: s3cr3t-yaml\n    port: 5432\n",
    json: { db: { password: "s3cr3t-yaml", port: 5432 } },
    valuePath: ["db", "password"],
    value: "s3cr3t-yaml",
  },
  json: {
    text: '{\n\t"token": "s3cr3t-json",\n\t"n": 1.5\n}\n',
    json: { token: "s3cr3t-json", n: 1.5 },
    valuePath: ["token"],
    value: "s3cr3t-json",
  },
  dotenv: {
    text: "API_KEY=s3cr3t-env\nOTHER=x\n",
    json: { API_KEY: "s3cr3t-env", OTHER: "x" },
    valuePath: ["API_KEY"],
    value: "s3cr3t-env",
  },
  ini: {
    text: "[db]\npassword = s3cr3t-ini\n",
    json: { db: { password: "s3cr3t-ini" } },
    valuePath: ["db", "password"],
    value: "s3cr3t-ini",
  },
  binary: {
    text: "raw s3cr3t-binary\nline two\n",
    json: { data: "raw s3cr3t-binary\nline two\n" },
    valuePath: ["data"],
    value: "raw s3cr3t-binary\nline two\n",
  },
};

let keyDir: string;
let ids: string[];
let recips: string[];
let gnupg: string;

beforeAll(async () => {
  keyDir = mkdtempSync(join(tmpdir(), "strata-interop-"));
  ids = [await generateIdentity(), await generateIdentity(), await generateIdentity()];
  recips = await Promise.all(ids.map((i) => identityToRecipient(i)));
  ids.forEach((id, i) => writeFileSync(join(keyDir, `k${i}.txt`), id + "\n"));
  writeFileSync(join(keyDir, "sops-age.txt"), SOPS_AGE_KEY);
  gnupg = testGnupgHome();
});

function unwrapWithCli(k: MasterKey): Buffer | null {
  if (k.type === "age") {
    const idx = recips.indexOf(k.recipient);
    const file = k.recipient === SOPS_AGE_RECIPIENT ? join(keyDir, "sops-age.txt") : join(keyDir, `k${idx}.txt`);
    return execFileSync("age", ["--decrypt", "-i", file], { input: k.enc });
  }
  if (k.type === "pgp")
    return execFileSync("gpg", ["--batch", "--quiet", "--decrypt"], {
      input: k.enc,
      env: { ...process.env, GNUPGHOME: gnupg },
    });
  return null;
}

/** Opens one value with node's AES-GCM directly, from a data key the CLIs unwrapped. */
function openValue(enc: string, key: Buffer, aad: string): string {
  const m = /^ENC\[AES256_GCM,data:(.*),iv:(.+),tag:(.+),type:(.+)\]$/.exec(enc);
  if (!m) throw new Error("not ENC");
  const d = createDecipheriv("aes-256-gcm", key, Buffer.from(m[2] as string, "base64"));
  d.setAAD(Buffer.from(aad));
  d.setAuthTag(Buffer.from(m[3] as string, "base64"));
  return Buffer.concat([d.update(Buffer.from(m[1] as string, "base64")), d.final()]).toString("utf8");
}

function valueAt(b: Branch, path: string[]): string {
  let cur: unknown = b;
  for (const p of path) cur = (cur as Branch).items.find((i) => i.key === p)?.value;
  return cur as string;
}

const layouts: [string, () => { groups: RecipientGroup[]; threshold: number }][] = [
  [
    "age, one group",
    () => ({ groups: [{ age: [recips[0] as string, SOPS_AGE_RECIPIENT], pgp: [], kms: [] }], threshold: 0 }),
  ],
  ["pgp, one group", () => ({ groups: [{ age: [], pgp: [PGP_FP1, PGP_FP2], kms: [] }], threshold: 0 })],
  [
    "2-of-3 key groups (pgp, pgp, age)",
    () => ({
      groups: [
        { age: [], pgp: [PGP_FP1], kms: [] },
        { age: [], pgp: [PGP_FP2], kms: [] },
        { age: [recips[1] as string], pgp: [], kms: [] },
      ],
      threshold: 2,
    }),
  ],
];

describe.skipIf(missing).each(Object.keys(SAMPLES) as SopsFormat[])("%s files strata writes", (format) => {
  const s = SAMPLES[format];
  it.each(layouts)("open with the age/gpg CLIs (%s)", async (_name, layout) => {
    const { groups, threshold } = layout();
    const plain = stores[format].parsePlain(s.text);
    const text = await encryptBranchesFor(
      plain,
      format,
      { groups, shamirThreshold: threshold, rules: DEFAULT_RULES, source: "test" },
      keyEnv({ GNUPGHOME: gnupg }),
      "t",
    );
    expect(text).not.toContain(s.value.split("\n")[0]);
    const doc = stores[format].parseEncrypted(text);
    const parts = doc.metadata.keyGroups.map((g) => unwrapWithCli(g[0] as MasterKey) as Buffer);
    const dataKey = parts.length > 1 ? Buffer.from(combineShares(parts.slice(0, threshold))) : (parts[0] as Buffer);
    expect(dataKey).toHaveLength(32);
    expect(openValue(valueAt(doc.branches[0] as Branch, s.valuePath), dataKey, s.valuePath.join(":") + ":")).toBe(
      s.value,
    );
    // And strata reads back what it wrote.
    const env = keyEnv({ GNUPGHOME: gnupg, SOPS_AGE_KEY: ids.join("\n") });
    const opened = await openSopsText(text, format, { file: "t", env });
    expect(treeToJson(opened.plain[0] as Branch)).toEqual(s.json);
  });
});

describe.skipIf(missing)("sops-age (independent) reads strata's age files", () => {
  it.each(["yaml", "json", "dotenv"] as const)("%s", async (format) => {
    const s = SAMPLES[format];
    const text = await encryptBranchesFor(
      stores[format].parsePlain(s.text),
      format,
      {
        groups: [{ age: [SOPS_AGE_RECIPIENT], pgp: [], kms: [] }],
        shamirThreshold: 0,
        rules: DEFAULT_RULES,
        source: "test",
      },
      keyEnv(),
      "t",
    );
    const secretKey = SOPS_AGE_KEY.split("\n").find((l) => l.startsWith("AGE-SECRET-KEY")) as string;
    const out: unknown = await decryptSops(text, { secretKey, fileType: format === "dotenv" ? "env" : format });
    expect(out).toEqual(s.json);
  });
});

describe("post-quantum age recipients (age1pq1…, checked against age-encryption only)", () => {
  it("round-trips a file for a hybrid recipient", async () => {
    const id = await generateHybridIdentity();
    const recipient = await identityToRecipient(id);
    expect(recipient.startsWith("age1pq1")).toBe(true);
    const text = await encryptBranchesFor(
      [jsonToTree({ k: "pq-secret" }) as Branch],
      "yaml",
      { groups: [{ age: [recipient], pgp: [], kms: [] }], shamirThreshold: 0, rules: DEFAULT_RULES, source: "test" },
      keyEnv(),
      "t",
    );
    const opened = await openSopsText(text, "yaml", { file: "t", env: keyEnv({ SOPS_AGE_KEY: id }) });
    expect(treeToJson(opened.plain[0] as Branch)).toEqual({ k: "pq-secret" });
  });
});
