// Snapshots for tests: a fixed signing key, fake SOPS ciphertext, and a chain builder.
import {
  computeContentDigest,
  createSnapshot,
  generateSigningKey,
  type SigningKey,
  type Snapshot,
  parseSigningKey,
} from "../../src/core/snapshot/index.js";
import type { JsonObject } from "../../src/core/json.js";

export function newKey(): { pem: string; key: SigningKey } {
  const { pem } = generateSigningKey();
  return { pem, key: parseSigningKey(pem) };
}

/** A SOPS-shaped document whose leaves are ciphertext (the plaintext never appears in it). */
export function fakeSops(leaves: Record<string, string>): JsonObject {
  const doc: JsonObject = {};
  for (const [k, v] of Object.entries(leaves))
    doc[k] = `ENC[AES256_GCM,data:${Buffer.from(v)
      .toString("base64")
      .replace(/./g, (c) =>
        String.fromCharCode(((c.charCodeAt(0) - 32 + 7) % 94) + 32).replace(/[^A-Za-z0-9+/=]/, "Q"),
      )},iv:AAAA,tag:BBBB,type:str]`;
  doc.sops = {
    age: [{ recipient: "age1test", enc: "-----BEGIN AGE ENCRYPTED FILE-----" }],
    lastmodified: "2026-01-01T00:00:00Z",
    mac: "ENC[AES256_GCM,data:xx,iv:yy,tag:zz,type:str]",
    version: "3.13.2",
  };
  return doc;
}

export function makeSnapshot(
  key: SigningKey,
  init: {
    environment?: string;
    version?: number;
    previous?: string | null;
    config?: Record<string, JsonObject>;
    secrets?: JsonObject | null;
    createdAt?: Date;
    rollbackOf?: number | null;
    /** A service's chain of the environment. */
    service?: string;
  },
): Snapshot {
  const config = init.config ?? { app: { name: "demo", replicas: init.version ?? 1 } };
  return createSnapshot(
    {
      environment: init.environment ?? "staging",
      ...(init.service === undefined ? {} : { service: init.service }),
      version: init.version ?? 1,
      previous: init.previous ?? null,
      rollbackOf: init.rollbackOf ?? null,
      createdAt: init.createdAt ?? new Date(),
      source: { repository: "acme/config", commit: "0123456789abcdef0123456789abcdef01234567", pushedBy: "test" },
      contentDigest: computeContentDigest(config, []),
      config,
      secrets: init.secrets ?? null,
    },
    [key],
  );
}

/** Versions 1..n of one environment, each chained to the one before. */
export function makeChain(key: SigningKey, n: number, environment = "staging"): Snapshot[] {
  const out: Snapshot[] = [];
  for (let v = 1; v <= n; v++)
    out.push(makeSnapshot(key, { environment, version: v, previous: out.at(-1)?.digest ?? null }));
  return out;
}
