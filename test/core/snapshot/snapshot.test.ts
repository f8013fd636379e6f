import { createHash, createPublicKey, verify } from "node:crypto";
import { describe, expect, it } from "vitest";
import {
  canonicalJson,
  computeContentDigest,
  computeDigest,
  createSnapshot,
  digestOf,
  encodeSnapshot,
  formatPublicKey,
  generateSigningKey,
  parsePublicKey,
  parseSigningKey,
  parseSnapshot,
  parseTrustedKeys,
  serializeSnapshot,
  validateSnapshotShape,
  validateSuccessor,
  verifySnapshot,
} from "../../../src/core/snapshot/index.js";
import { StrataError } from "../../../src/core/findings.js";
import { fakeSops, makeChain, makeSnapshot, newKey } from "../../support/snapshots.js";

function codeOf(f: () => unknown): string | undefined {
  try {
    f();
  } catch (e) {
    return e instanceof StrataError ? e.code : "not-a-strata-error";
  }
  return undefined;
}

describe("canonical JSON (RFC 8785)", () => {
  it("sorts keys by UTF-16 code units and formats numbers as ECMAScript does", () => {
    expect(canonicalJson({ b: 1, a: [1e21, 0.000001, -0, "\u20ac"], "\u00e9": true, A: null })).toBe(
      '{"A":null,"a":[1e+21,0.000001,0,"€"],"b":1,"é":true}',
    );
  });
  it("is the RFC 8785 appendix example's sort order", () => {
    const input = {
      "\u20ac": "Euro Sign",
      "\r": "Carriage Return",
      "\ufb33": "Hebrew Letter Dalet With Dagesh",
      "1": "One",
      "\ud83d\ude00": "Emoji: Grinning Face",
      "\u0080": "Control",
      "\u00f6": "Latin Small Letter O With Diaeresis",
    };
    const order = [
      "Carriage Return",
      "One",
      "Control",
      "Latin Small Letter O With Diaeresis",
      "Euro Sign",
      "Emoji: Grinning Face",
      "Hebrew Letter Dalet With Dagesh",
    ];
    const text = canonicalJson(input);
    expect(order.map((v) => text.indexOf(v))).toEqual(order.map((v) => text.indexOf(v)).sort((a, b) => a - b));
  });
  it("refuses NaN", () => expect(codeOf(() => canonicalJson({ a: NaN }))).toBe("invalid-snapshot"));
  it("digest is sha256: + hex over the canonical bytes", () => {
    expect(digestOf({ b: 2, a: 1 })).toBe("sha256:" + createHash("sha256").update('{"a":1,"b":2}').digest("hex"));
  });
});

describe("keys", () => {
  it("round-trips ed25519:<base64> and derives keyid from the raw bytes", () => {
    const { pem, publicKey } = generateSigningKey();
    expect(pem).toMatch(/^-----BEGIN PRIVATE KEY-----/);
    expect(publicKey.text).toMatch(/^ed25519:[A-Za-z0-9+/]{43}=$/);
    const raw = Buffer.from(publicKey.text.slice(8), "base64");
    expect(publicKey.keyid).toBe(createHash("sha256").update(raw).digest("hex"));
    expect(parsePublicKey(publicKey.text).keyid).toBe(publicKey.keyid);
    expect(formatPublicKey(createPublicKey(pem))).toBe(publicKey.text);
  });
  it("matches RFC 8032 test 1's public key", () => {
    // RFC 8032 §7.1 TEST 1 secret key 9d61b1…; its public key is d75a98…
    const seed = Buffer.from("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60", "hex");
    const pem = `-----BEGIN PRIVATE KEY-----\n${Buffer.concat([Buffer.from("302e020100300506032b657004220420", "hex"), seed]).toString("base64")}\n-----END PRIVATE KEY-----\n`;
    const k = parseSigningKey(pem);
    expect(Buffer.from(k.publicKey.text.slice(8), "base64").toString("hex")).toBe(
      "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a",
    );
  });
  it.each(["", "ed25519:", "ed25519:abc", "rsa:AAAA", "ed25519:" + "A".repeat(44)])("rejects %j", (t) =>
    expect(codeOf(() => parsePublicKey(t))).toBe("invalid-argument"),
  );
  it("parses a trusted keys file with comments", () => {
    const a = generateSigningKey().publicKey.text;
    expect(parseTrustedKeys(`# ops\n${a}\n\n  ${a}  # again\n`)).toHaveLength(2);
  });
  it("rejects a non-ed25519 or garbage signing key", () => {
    expect(codeOf(() => parseSigningKey("nope"))).toBe("invalid-argument");
  });
});

describe("snapshots", () => {
  const { key } = newKey();

  it("has the SPEC §9 digest and signature encodings", () => {
    const s = makeSnapshot(key, { secrets: fakeSops({ password: "hunter22" }) });
    const { digest, signatures, ...rest } = s;
    expect(digest).toBe("sha256:" + createHash("sha256").update(canonicalJson(rest)).digest("hex"));
    expect(signatures).toHaveLength(1);
    expect(signatures[0]!.keyid).toBe(key.publicKey.keyid);
    expect(signatures[0]!.sig).toMatch(/^[A-Za-z0-9+/]{86}==$/);
    expect(
      verify(null, Buffer.from(digest, "utf8"), key.publicKey.key, Buffer.from(signatures[0]!.sig, "base64")),
    ).toBe(true);
    expect(verifySnapshot(s, [key.publicKey])).toBe(key.publicKey.keyid);
    expect(Date.parse(s.expiresAt) - Date.parse(s.createdAt)).toBe(7 * 24 * 3600 * 1000);
    expect(parseSnapshot(serializeSnapshot(s))).toEqual(s);
  });

  it("encodes the digest and the canonical text from one canonicalization", () => {
    const s = makeSnapshot(key, {
      secrets: fakeSops({ password: "hunter22" }),
      config: { z: { "\u00e9": 1, a: [1.5, "x"] }, a: {} },
    });
    expect(encodeSnapshot(s)).toEqual({ actualDigest: computeDigest(s), text: serializeSnapshot(s) });
    const tampered = { ...s, config: { z: { a: 2 } } };
    expect(encodeSnapshot(tampered).actualDigest).toBe(computeDigest(tampered));
    expect(encodeSnapshot(tampered).actualDigest).not.toBe(s.digest);
  });

  it("contentDigest covers config and the sorted secret sources", () => {
    const c = { app: { a: 1 } };
    const d1 = computeContentDigest(c, [
      ["b", "2"],
      ["a", "1"],
    ]);
    expect(d1).toBe(
      computeContentDigest(c, [
        ["a", "1"],
        ["b", "2"],
      ]),
    );
    expect(d1).toBe(
      digestOf({
        config: c,
        secretSources: [
          ["a", "1"],
          ["b", "2"],
        ],
      }),
    );
    expect(d1).not.toBe(
      computeContentDigest(c, [
        ["a", "1"],
        ["b", "3"],
      ]),
    );
  });

  it("detects a changed byte as digest-mismatch and an untrusted or forged signature as invalid-signature", () => {
    const s = makeSnapshot(key, {});
    expect(codeOf(() => verifySnapshot({ ...s, config: { app: { name: "evil" } } }, [key.publicKey]))).toBe(
      "digest-mismatch",
    );
    const other = newKey().key;
    expect(codeOf(() => verifySnapshot(s, [other.publicKey]))).toBe("invalid-signature");
    const forged = {
      ...s,
      signatures: [
        { keyid: key.publicKey.keyid, sig: s.signatures[0]!.sig.replace(/^./, (c) => (c === "A" ? "B" : "A")) },
      ],
    };
    expect(codeOf(() => verifySnapshot(forged, [key.publicKey]))).toBe("invalid-signature");
    expect(codeOf(() => verifySnapshot({ ...s, signatures: [] }, [key.publicKey]))).toBe("invalid-signature");
    // Any one trusted signature is enough.
    const both = {
      ...s,
      signatures: [
        ...createSnapshot({ ...s, createdAt: new Date(s.createdAt), expiresAt: new Date(s.expiresAt) }, [other])
          .signatures,
        ...s.signatures,
      ],
    };
    expect(verifySnapshot(both, [key.publicKey])).toBe(key.publicKey.keyid);
    expect(computeDigest(both)).toBe(s.digest);
  });

  it.each([
    ["not an object", [], "not a JSON object"],
    ["wrong kind", { kind: "x" }, "kind"],
    ["bad environment", { environment: "Prod" }, "environment"],
    ["version 0", { version: 0 }, "version"],
    ["previous on version 1", { previous: "sha256:" + "a".repeat(64) }, "version 1 has no previous"],
    ["unknown field", { extra: 1 }, 'unknown field "extra"'],
    ["plaintext secret", { secrets: { password: "hunter22", sops: {} } }, "secrets.password is not SOPS ciphertext"],
    [
      "secrets without sops metadata",
      { secrets: { password: "ENC[AES256_GCM,data:abc,iv:x,tag:y,type:str]" } },
      "SOPS document",
    ],
    ["expired before created", { expiresAt: "2000-01-01T00:00:00Z" }, "expiresAt"],
  ])("shape: %s", (_n, patch, message) => {
    const base = makeSnapshot(key, {});
    const doc = Array.isArray(patch) ? patch : { ...base, ...patch };
    expect(validateSnapshotShape(doc).join("; ")).toContain(message);
  });

  it("parseSnapshot refuses malformed JSON with invalid-snapshot", () => {
    expect(codeOf(() => parseSnapshot("{"))).toBe("invalid-snapshot");
    expect(codeOf(() => parseSnapshot('{"kind":"strata.snapshot"}'))).toBe("invalid-snapshot");
  });

  it("validates the chain: environment, next version, previous digest", () => {
    const [v1, v2, v3] = makeChain(key, 3);
    expect(() => validateSuccessor(v1!, "staging", null)).not.toThrow();
    expect(() => validateSuccessor(v2!, "staging", v1!)).not.toThrow();
    expect(codeOf(() => validateSuccessor(v2!, "production", v1!))).toBe("invalid-snapshot");
    expect(codeOf(() => validateSuccessor(v3!, "staging", v1!))).toBe("invalid-snapshot");
    expect(
      codeOf(() =>
        validateSuccessor(makeSnapshot(key, { version: 2, previous: "sha256:" + "f".repeat(64) }), "staging", v1!),
      ),
    ).toBe("invalid-snapshot");
  });

  it("refuses to build without a key", () =>
    expect(
      codeOf(() =>
        createSnapshot(
          {
            environment: "a",
            version: 1,
            previous: null,
            createdAt: new Date(),
            source: {},
            contentDigest: digestOf({}),
            config: {},
            secrets: null,
          },
          [],
        ),
      ),
    ).toBe("invalid-argument"));
});
