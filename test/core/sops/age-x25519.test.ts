// The age fast path (core/sops/age-x25519.ts): X25519 files opened with Node's crypto. It must open what age
// and age-encryption write, exactly as age-encryption does, and answer null (so that age-encryption decides)
// for anything else: wrong keys, tampering, other identity and stanza kinds.
import { describe, expect, it } from "vitest";
import { armor, Encrypter, generateHybridIdentity, generateIdentity, identityToRecipient } from "age-encryption";
import { armorDecode, bech32Decode, openAgeX25519 } from "../../../src/core/sops/age-x25519.js";
import { decryptAgeDataKey } from "../../../src/io/keys/age.js";

// Made by the Go tool (age 1.1.1): `age -a -r <recipient of K1> -r <recipient of K2>` of a 32-byte file.
// EXAMPLE KEYS, made for this test only.
const K1 = "AGE-SECRET-KEY-1L2FMPMFV0560G4K3AJLVFY3FGY3SXUEPWZZJRSX3XCUNTTZURFWQF3DH9S";
const K2 = "AGE-SECRET-KEY-1QUK4YLHW7A85CJMTERRW99P05UAL6DGGEZP67V3M5CKPGR3T27YQGPWS7S";
const GO_FILE = `-----BEGIN AGE ENCRYPTED FILE-----
YWdlLWVuY3J5cHRpb24ub3JnL3YxCi0+IFgyNTUxOSBxNHIxK1dTazI5bmtXdTFT
djUrUzdScXpnVTl6blFObHdQV0crMWZIWnhZCmoxNm1pbC8vRTBVOFJFY0pVbzhz
cUsvQ1A5ME5leklRbFhyMGoyUFJDSmcKLT4gWDI1NTE5IHlnem5ZVWZpaFpCZzR6
OUI5RkhjNWFMcCtFUE4zbGR0SXZRWk9yQ0l4Z2sKaUdtOHJrSkVlVDJDRDUrRnRX
VHRrcktjQTlMVXI1WHBFVFlBN2ljNlM1YwotLS0gejBiSWFIUEtLQkRWRk1scFJJ
U3hiUEZPZENOTy9ibE9hS0t6SUlFZmZYRQqFVj1QKCmyxirvnPvgLeath9K0yVtt
rE9VgPpNqNbfr2ZLgQ3cf6E0bLC+tHRCGz+xS2MPIHsf+Z578yg+rE+D
-----END AGE ENCRYPTED FILE-----
`;
const GO_PLAIN = "sops data key 32 bytes!!........";

async function encryptTo(plain: Uint8Array, recipients: string[]): Promise<string> {
  const e = new Encrypter();
  for (const r of recipients) e.addRecipient(r);
  return armor.encode(await e.encrypt(plain));
}

/** The armored file with one byte of its binary form changed. */
function flipByte(armored: string, at: (length: number) => number): string {
  const bin = armorDecode(armored)!;
  const i = at(bin.length);
  bin[i] = bin[i]! ^ 1;
  return armor.encode(bin);
}

describe("age X25519 through Node's crypto", () => {
  it("opens a file the Go tool wrote, for either recipient", () => {
    for (const k of [K1, K2]) expect(Buffer.from(openAgeX25519(GO_FILE, [k])!).toString()).toBe(GO_PLAIN);
    // The first identity that matches wins, whatever the order.
    expect(Buffer.from(openAgeX25519(GO_FILE, [K2, K1])!).toString()).toBe(GO_PLAIN);
  });

  it("opens what age-encryption writes as age-encryption does (random keys and sizes)", async () => {
    for (const size of [0, 1, 32, 1000, 65536]) {
      const ids = [await generateIdentity(), await generateIdentity()];
      const plain = new Uint8Array(size).map((_, i) => (i * 31 + size) & 0xff);
      const file = await encryptTo(plain, await Promise.all(ids.map(identityToRecipient)));
      expect(openAgeX25519(file, [ids[1]!])).toEqual(plain);
      expect(await decryptAgeDataKey(file, [ids[0]!])).toEqual(plain);
    }
  });

  it("answers null for a wrong key, a tampered header, stanza or payload, and a damaged armor", async () => {
    expect(openAgeX25519(GO_FILE, [await generateIdentity()])).toBeNull();
    expect(openAgeX25519(GO_FILE, [])).toBeNull();
    expect(
      openAgeX25519(
        flipByte(GO_FILE, (n) => n - 1),
        [K1],
      ),
    ).toBeNull(); // the payload's tag
    expect(
      openAgeX25519(
        flipByte(GO_FILE, (n) => n - 40),
        [K1],
      ),
    ).toBeNull(); // the payload nonce
    expect(
      openAgeX25519(
        flipByte(GO_FILE, () => 0),
        [K1],
      ),
    ).toBeNull(); // the version line
    // A stanza argument the MAC covers: re-encoded so that only the MAC can tell.
    const text = armorDecode(GO_FILE)!.toString("latin1");
    const withExtraStanza = text.replace("\n---", "\n-> X25519 AAAA\nAAAA\n---");
    expect(openAgeX25519(armor.encode(Buffer.from(withExtraStanza, "latin1")), [K1])).toBeNull();
    expect(openAgeX25519(GO_FILE.replace("-----END AGE", "-----END AEG"), [K1])).toBeNull();
    expect(openAgeX25519(GO_FILE.replace(/\n([A-Za-z0-9+/]{64})\n/, "\n$1 \n"), [K1])).toBeNull();
  });

  it("leaves post-quantum identities, larger files and malformed keys to age-encryption", async () => {
    const pq = await generateHybridIdentity();
    const pqFile = await encryptTo(new Uint8Array(32).fill(7), [await identityToRecipient(pq)]);
    expect(openAgeX25519(pqFile, [pq])).toBeNull();
    expect(await decryptAgeDataKey(pqFile, [pq])).toEqual(new Uint8Array(32).fill(7));
    const id = await generateIdentity();
    const big = new Uint8Array(70_000).fill(3);
    const bigFile = await encryptTo(big, [await identityToRecipient(id)]);
    expect(openAgeX25519(bigFile, [id])).toBeNull();
    expect(await decryptAgeDataKey(bigFile, [id])).toEqual(big);
    expect(openAgeX25519(GO_FILE, [K1.toLowerCase().slice(0, -1) + "q"])).toBeNull();
    await expect(decryptAgeDataKey(GO_FILE, [await generateIdentity()])).rejects.toThrow(/no age identity matches/);
  });

  it("bech32 as BIP 173 defines it (its test vectors), no length limit", () => {
    expect(bech32Decode("A12UEL5L")).toEqual({ prefix: "a", bytes: new Uint8Array() });
    expect(bech32Decode("abcdef1qpzry9x8gf2tvdw0s3jn54khce6mua7lmqqqxw")?.prefix).toBe("abcdef");
    expect(bech32Decode("A1G7SGD8")).toBeNull(); // checksum of an upper-case prefix computed in upper case
    expect(bech32Decode("a12UEL5L")).toBeNull(); // mixed case
    expect(bech32Decode("x1b4n0q5v")).toBeNull(); // invalid data character
    expect(bech32Decode(K1)?.bytes.length).toBe(32);
  });
});
