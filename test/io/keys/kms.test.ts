// KMS offline: a local HTTP stand-in for the KMS Decrypt/Encrypt endpoints, reached through the SDK's
// endpoint override. Checks the call (ARN, context, ciphertext) and that failures are clear.
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { decryptKmsDataKey, encryptKmsDataKey } from "../../../src/io/keys/kms.js";
import { decryptDataKey, DataKeyError } from "../../../src/io/keys/index.js";
import type { KmsKey, Metadata } from "../../../src/core/sops/metadata.js";

const ARN = "arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab";
const DATA_KEY = Buffer.alloc(32, 9);
const calls: { target: string; body: Record<string, unknown> }[] = [];
let server: Server;
let endpoint: string;

beforeAll(async () => {
  server = createServer((req, res) => {
    let body = "";
    req.on("data", (c: Buffer) => (body += c.toString()));
    req.on("end", () => {
      const target = String(req.headers["x-amz-target"]);
      const parsed = JSON.parse(body) as Record<string, unknown>;
      calls.push({ target, body: parsed });
      res.setHeader("content-type", "application/x-amz-json-1.1");
      if (target === "TrentService.Decrypt") {
        if (parsed.CiphertextBlob !== Buffer.from("wrapped-key").toString("base64")) {
          res.statusCode = 400;
          res.end(JSON.stringify({ __type: "InvalidCiphertextException", message: "bad ciphertext" }));
          return;
        }
        res.end(JSON.stringify({ KeyId: ARN, Plaintext: DATA_KEY.toString("base64") }));
      } else if (target === "TrentService.Encrypt") {
        res.end(JSON.stringify({ KeyId: ARN, CiphertextBlob: Buffer.from("wrapped-key").toString("base64") }));
      } else {
        res.statusCode = 400;
        res.end("{}");
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

const env = (): NodeJS.ProcessEnv => ({
  STRATA_KMS_ENDPOINT: endpoint,
  AWS_ACCESS_KEY_ID: "AKIDTEST",
  AWS_SECRET_ACCESS_KEY: "secret",
  AWS_EC2_METADATA_DISABLED: "true",
});
const key = (enc: string): KmsKey => ({
  type: "kms",
  arn: ARN,
  role: "",
  context: { app: "strata" },
  createdAt: "2026-01-01T00:00:00Z",
  enc,
  awsProfile: "",
});

describe("AWS KMS through the SDK (lazy) and an endpoint override", () => {
  it("calls Decrypt with the ARN, the encryption context and the ciphertext", async () => {
    const out = await decryptKmsDataKey(key(Buffer.from("wrapped-key").toString("base64")), env());
    expect(Buffer.from(out)).toEqual(DATA_KEY);
    const call = calls.find((c) => c.target === "TrentService.Decrypt");
    expect(call?.body).toEqual({
      CiphertextBlob: Buffer.from("wrapped-key").toString("base64"),
      KeyId: ARN,
      EncryptionContext: { app: "strata" },
    });
  });

  it("calls Encrypt when writing", async () => {
    expect(await encryptKmsDataKey(DATA_KEY, ARN, {}, env())).toBe(Buffer.from("wrapped-key").toString("base64"));
    expect(calls.some((c) => c.target === "TrentService.Encrypt" && c.body.KeyId === ARN)).toBe(true);
  });

  it("turns a KMS failure into a clear decryption failure naming the key", async () => {
    const md: Metadata = {
      keyGroups: [[key(Buffer.from("tampered").toString("base64"))]],
      shamirThreshold: 0,
      lastModified: "2026-01-01T00:00:00Z",
      mac: "",
      version: "3.13.2",
      unencryptedSuffix: "_unencrypted",
      encryptedSuffix: "",
      unencryptedRegex: "",
      encryptedRegex: "",
      unencryptedCommentRegex: "",
      encryptedCommentRegex: "",
      macOnlyEncrypted: false,
    };
    const err = await decryptDataKey(md, { env: env() }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DataKeyError);
    expect((err as Error).message).toContain(
      `kms ${ARN} (KMS Decrypt failed: InvalidCiphertextException: bad ciphertext)`,
    );
  });
});
