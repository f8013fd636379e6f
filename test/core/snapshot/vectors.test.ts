// Fixed test vectors for the snapshot format: bytes in, digests and signature out, written down here.
// The expected values were computed independently of strata (Python's json with sorted keys and compact
// separators, hashlib and the cryptography package's Ed25519), with the RFC 8032 section 7.1 test-1 key.
// Clients in the field verify exactly these bytes: a change to serialization, digests or signing breaks
// this test before it breaks them.
import { describe, expect, it } from "vitest";
import {
  computeContentDigest,
  createSnapshot,
  encodeSnapshot,
  parsePublicKey,
  parseSigningKey,
  parseSnapshot,
  serializeSnapshot,
  verifySnapshot,
} from "../../../src/core/snapshot/index.js";

/** RFC 8032, section 7.1, test 1: secret key 9d61b19d…7f60, public key d75a9801…511a. */
const SIGNING_KEY_PEM =
  "-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIJ1hsZ3v/VpguoRK9JLsLMREScVpezJpGXA7rAMcrn9g\n-----END PRIVATE KEY-----\n";
const PUBLIC_KEY = "ed25519:11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=";
const KEYID = "21fe31dfa154a261626bf854046fd2271b7bed4b6abe45aa58877ef47f9721b9";

const CONFIG = {
  http: { port: 8080, hosts: ["a.example", "b.example"], ratio: 0.5, zone: "zürich", note: 'line\n"quoted" \\ tab\t' },
  database: { pool: { max: 20, min: 2 }, host: "db.internal", ssl: true, replica: null },
};
const SECRET_SOURCES: [string, string][] = [
  ["database.password", `sha256:${"1".repeat(64)}`],
  ["api.token", `sha256:${"2".repeat(64)}`],
];
const SECRETS = {
  database: { password: "ENC[AES256_GCM,data:AAAA,iv:BBBB,tag:CCCC,type:str]" },
  sops: { version: "3.13.2", mac: "ENC[AES256_GCM,data:DDDD,iv:EEEE,tag:FFFF,type:str]" },
};

const CONTENT_DIGEST = "sha256:6c99adec4f19349925a205ba76ab6d6ad2ba390ad0159f38e39048ba31c284bc";
/** The same content encrypted to two recipients (given unsorted and with a duplicate: sorted, deduplicated). */
const RECIPIENTS = [
  "age1s4zuzuny3lurh72kxt05legh22esvmqm2ugkfa24n7kaetl5xqjqp5dk8l",
  "age15jsrarl6gc65llmlssk23kf2dvcj9dalhrh6nz4293md38ja34psc74tel",
  "age1s4zuzuny3lurh72kxt05legh22esvmqm2ugkfa24n7kaetl5xqjqp5dk8l",
];
const CONTENT_DIGEST_WITH_RECIPIENTS = "sha256:be53ea239182e50bf8b90c06539e5e5ac0cc6e73a68c3ba679b0daefc63c0414";
const DIGEST = "sha256:107b1c01aa69268484eba63aef44687cdd8283d1e1b97625410915fc6c4efca1";
const SIGNATURE = "8Zof9HaVkdmNaocNLd9rQP8LAgU81zyIIThECBbzIBOuy3q+UqggzK7QBp51Fg1FiTZmXBl1kD0J5sIu8S+lCw==";
/** The stored and served bytes (UTF-8 of this text). */
const TEXT =
  '{"apiVersion":1,"config":{"database":{"host":"db.internal","pool":{"max":20,"min":2},"replica":null,"ssl":true},"http":{"hosts":["a.example","b.example"],"note":"line\\n\\"quoted\\" \\\\ tab\\t","port":8080,"ratio":0.5,"zone":"z\u00fcrich"}},"contentDigest":"sha256:6c99adec4f19349925a205ba76ab6d6ad2ba390ad0159f38e39048ba31c284bc","createdAt":"2025-01-02T03:04:05.000Z","digest":"sha256:107b1c01aa69268484eba63aef44687cdd8283d1e1b97625410915fc6c4efca1","environment":"production","expiresAt":"2025-01-09T03:04:05.000Z","kind":"strata.snapshot","previous":"sha256:abababababababababababababababababababababababababababababababab","rollbackOf":null,"secrets":{"database":{"password":"ENC[AES256_GCM,data:AAAA,iv:BBBB,tag:CCCC,type:str]"},"sops":{"mac":"ENC[AES256_GCM,data:DDDD,iv:EEEE,tag:FFFF,type:str]","version":"3.13.2"}},"signatures":[{"keyid":"21fe31dfa154a261626bf854046fd2271b7bed4b6abe45aa58877ef47f9721b9","sig":"8Zof9HaVkdmNaocNLd9rQP8LAgU81zyIIThECBbzIBOuy3q+UqggzK7QBp51Fg1FiTZmXBl1kD0J5sIu8S+lCw=="}],"source":{"approvedBy":["alice","bob"],"commit":"0123456789abcdef0123456789abcdef01234567","emergency":false,"pullRequest":42,"pushedBy":"ci","repository":"acme/config"},"version":3}';

describe("snapshot format test vectors", () => {
  it("the key: its public form and key id", () => {
    const key = parseSigningKey(SIGNING_KEY_PEM);
    expect(key.publicKey.text).toBe(PUBLIC_KEY);
    expect(key.publicKey.keyid).toBe(KEYID);
    expect(parsePublicKey(PUBLIC_KEY).keyid).toBe(KEYID);
  });

  it("content digest: canonical {config, secretSources}, sources sorted", () => {
    expect(computeContentDigest(CONFIG, SECRET_SOURCES)).toBe(CONTENT_DIGEST);
    expect(computeContentDigest(CONFIG, [...SECRET_SOURCES].reverse())).toBe(CONTENT_DIGEST);
  });

  it("content digest with secrets: canonical {config, secretSources, recipients}, recipients sorted and unique", () => {
    expect(computeContentDigest(CONFIG, SECRET_SOURCES, RECIPIENTS)).toBe(CONTENT_DIGEST_WITH_RECIPIENTS);
    expect(computeContentDigest(CONFIG, SECRET_SOURCES, [...RECIPIENTS].reverse())).toBe(
      CONTENT_DIGEST_WITH_RECIPIENTS,
    );
    expect(computeContentDigest(CONFIG, SECRET_SOURCES, RECIPIENTS.slice(0, 1))).not.toBe(
      CONTENT_DIGEST_WITH_RECIPIENTS,
    );
  });

  it("build: the canonical bytes, the digest and the Ed25519 signature", () => {
    const snapshot = createSnapshot(
      {
        environment: "production",
        version: 3,
        previous: `sha256:${"ab".repeat(32)}`,
        createdAt: new Date("2025-01-02T03:04:05.000Z"),
        source: {
          repository: "acme/config",
          commit: "0123456789abcdef0123456789abcdef01234567",
          pullRequest: 42,
          approvedBy: ["alice", "bob"],
          pushedBy: "ci",
        },
        contentDigest: CONTENT_DIGEST,
        config: CONFIG,
        secrets: SECRETS,
      },
      [parseSigningKey(SIGNING_KEY_PEM)],
    );
    expect(snapshot.digest).toBe(DIGEST);
    expect(snapshot.signatures).toEqual([{ keyid: KEYID, sig: SIGNATURE }]);
    expect(serializeSnapshot(snapshot)).toBe(TEXT);
    expect(Buffer.from(serializeSnapshot(snapshot), "utf8")).toEqual(Buffer.from(TEXT, "utf8"));
  });

  it("read: the bytes parse, re-encode to themselves and verify against the public key", () => {
    const parsed = parseSnapshot(TEXT);
    expect(encodeSnapshot(parsed)).toEqual({ actualDigest: DIGEST, text: TEXT });
    expect(verifySnapshot(parsed, [parsePublicKey(PUBLIC_KEY)], DIGEST)).toBe(KEYID);
  });

  it("one changed value is a digest mismatch; a changed signature does not verify", () => {
    const edited = parseSnapshot(TEXT.replace('"max":20', '"max":21'));
    expect(() => verifySnapshot(edited, [parsePublicKey(PUBLIC_KEY)], encodeSnapshot(edited).actualDigest)).toThrow(
      /digest/,
    );
    const forged = parseSnapshot(TEXT.replace(SIGNATURE, SIGNATURE.replace(/^8/, "9")));
    expect(() => verifySnapshot(forged, [parsePublicKey(PUBLIC_KEY)], DIGEST)).toThrow();
  });
});
