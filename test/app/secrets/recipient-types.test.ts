// Recipients per key type come from one table (io/keys): every command that takes recipients reads the
// same flags and, without flags, the same sops variables. `secrets set` creating a file used to ignore
// SOPS_KMS_ARN (it read only the age and PGP variables) while `secrets encrypt` honoured it.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { findSopsConfig } from "../../../src/app/secrets/recipients.js";
import { setSecret } from "../../../src/app/secrets/set.js";
import type { StrataError } from "../../../src/core/findings.js";
import { emptyGroup, groupFromFlags, KEY_TYPES, recipientNames } from "../../../src/io/keys/index.js";

const ARN = "arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab";

describe("recipients per key type", () => {
  it("lists every key type strata wraps for", () => {
    expect(KEY_TYPES).toEqual(["age", "pgp", "kms"]);
  });

  it.each([
    ["age", { SOPS_AGE_RECIPIENTS: "age1a, age1b" }, ["age1a", "age1b"]],
    ["pgp", { SOPS_PGP_FP: "FP1" }, ["FP1"]],
    ["kms", { SOPS_KMS_ARN: `${ARN}+arn:aws:iam::1:role/r` }, [ARN]],
  ] as const)("%s: the flag wins; without it, sops' variable", (type, env, names) => {
    const fromEnv = groupFromFlags({}, env);
    expect(recipientNames(fromEnv)).toEqual(names);
    expect(recipientNames(groupFromFlags({ [type]: ["flagged"] }, env))).toEqual(["flagged"]);
    expect(recipientNames(emptyGroup())).toEqual([]);
  });

  it("reads sops' arn+role form of a KMS recipient", () => {
    expect(groupFromFlags({ kms: [`${ARN}+arn:aws:iam::1:role/r`] }, {}).kms).toEqual([
      { arn: ARN, role: "arn:aws:iam::1:role/r", context: {}, awsProfile: "" },
    ]);
  });
});

// The KMS stand-in (as test/io/keys/kms.test.ts): Encrypt answers a fixed wrapped key.
let server: Server;
let endpoint: string;
beforeAll(async () => {
  server = createServer((req, res) => {
    req.resume();
    req.on("end", () => {
      res.setHeader("content-type", "application/x-amz-json-1.1");
      res.end(JSON.stringify({ KeyId: ARN, CiphertextBlob: Buffer.from("wrapped-key").toString("base64") }));
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

describe("secrets set creating a file", () => {
  it("encrypts for SOPS_KMS_ARN when no flag and no creation rule names recipients", async () => {
    const dir = mkdtempSync(join(tmpdir(), "strata-set-kms-"));
    try {
      const created = await setSecret({
        file: "new.sops.yaml",
        cwd: dir,
        path: "db.password",
        value: "hunter2",
        env: {
          SOPS_KMS_ARN: ARN,
          STRATA_KMS_ENDPOINT: endpoint,
          AWS_ACCESS_KEY_ID: "AKIDTEST",
          AWS_SECRET_ACCESS_KEY: "secret",
          AWS_EC2_METADATA_DISABLED: "true",
        },
      });
      expect(created?.recipients).toEqual([ARN]);
      const text = readFileSync(join(dir, "new.sops.yaml"), "utf8");
      expect(text).toContain(`arn: ${ARN}`);
      expect(text).not.toContain("hunter2");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("finding .sops.yaml", () => {
  it("a .sops.yaml that exists but cannot be read is an error, not a reason to use the parent directory's", async () => {
    const parent = mkdtempSync(join(tmpdir(), "strata-sops-config-"));
    try {
      writeFileSync(join(parent, ".sops.yaml"), "creation_rules:\n  - age: age1parent\n");
      mkdirSync(join(parent, "repo", ".sops.yaml"), { recursive: true });
      const error = await findSopsConfig(join(parent, "repo")).then(
        () => null,
        (e: unknown) => e as StrataError,
      );
      expect(error).toMatchObject({ code: "unreadable-file" });
      expect(error!.message).toContain(`cannot read ${join(parent, "repo", ".sops.yaml")}: EISDIR`);
      rmSync(join(parent, "repo", ".sops.yaml"), { recursive: true });
      expect(await findSopsConfig(join(parent, "repo"))).toBe(join(parent, ".sops.yaml"));
    } finally {
      rmSync(parent, { recursive: true, force: true });
    }
  });
});
