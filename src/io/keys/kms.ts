/**
 * AWS KMS key source. The SDK (an optional package) is loaded only when a file has KMS keys. STRATA_KMS_ENDPOINT (or the SDK's
 * AWS_ENDPOINT_URL_KMS) points it at another endpoint, e.g. a local stand-in in tests.
 */
import type { KmsKey } from "../../core/sops/metadata.js";
import { importOptional } from "../optional-package.js";

/** The SDK, an optional package: a clear error naming it when it is not installed. */
const loadKms = () => importOptional("@aws-sdk/client-kms", "AWS KMS", () => import("@aws-sdk/client-kms"));

function regionOf(arn: string, env: NodeJS.ProcessEnv): string {
  const m = /^arn:aws[\w-]*:kms:([^:]+):/.exec(arn);
  return m?.[1] ?? env.AWS_REGION ?? env.AWS_DEFAULT_REGION ?? "us-east-1";
}

async function createClient(arn: string, profile: string, env: NodeJS.ProcessEnv) {
  const { KMSClient } = await loadKms();
  const endpoint = env.STRATA_KMS_ENDPOINT || env.AWS_ENDPOINT_URL_KMS || undefined;
  // Credentials given in the environment we were handed win; otherwise the SDK's default chain.
  const credentials =
    env.AWS_ACCESS_KEY_ID && env.AWS_SECRET_ACCESS_KEY
      ? {
          credentials: {
            accessKeyId: env.AWS_ACCESS_KEY_ID,
            secretAccessKey: env.AWS_SECRET_ACCESS_KEY,
            ...(env.AWS_SESSION_TOKEN ? { sessionToken: env.AWS_SESSION_TOKEN } : {}),
          },
        }
      : {};
  return new KMSClient({
    region: regionOf(arn, env),
    ...(endpoint ? { endpoint } : {}),
    ...(profile ? { profile } : {}),
    ...credentials,
    maxAttempts: 2,
  });
}

export async function decryptKmsDataKey(key: KmsKey, env: NodeJS.ProcessEnv): Promise<Uint8Array> {
  if (key.role !== "")
    throw new Error(`assuming the role ${key.role} is not supported; use credentials for it directly`);
  const { DecryptCommand } = await loadKms();
  const client = await createClient(key.arn, key.awsProfile, env);
  try {
    const out = await client.send(
      new DecryptCommand({
        CiphertextBlob: Buffer.from(key.enc, "base64"),
        KeyId: key.arn,
        ...(Object.keys(key.context).length > 0 ? { EncryptionContext: key.context } : {}),
      }),
    );
    if (!out.Plaintext) throw new Error("KMS returned no plaintext");
    return new Uint8Array(out.Plaintext);
  } catch (e) {
    throw new Error(`KMS Decrypt failed: ${(e as Error).name}: ${(e as Error).message}`, { cause: e });
  } finally {
    client.destroy();
  }
}

export async function encryptKmsDataKey(
  dataKey: Uint8Array,
  arn: string,
  context: Record<string, string>,
  env: NodeJS.ProcessEnv,
): Promise<string> {
  const { EncryptCommand } = await loadKms();
  const client = await createClient(arn, "", env);
  try {
    const out = await client.send(
      new EncryptCommand({
        KeyId: arn,
        Plaintext: dataKey,
        ...(Object.keys(context).length > 0 ? { EncryptionContext: context } : {}),
      }),
    );
    if (!out.CiphertextBlob) throw new Error("KMS returned no ciphertext");
    return Buffer.from(out.CiphertextBlob).toString("base64");
  } catch (e) {
    throw new Error(`KMS Encrypt failed: ${(e as Error).name}: ${(e as Error).message}`, { cause: e });
  } finally {
    client.destroy();
  }
}
