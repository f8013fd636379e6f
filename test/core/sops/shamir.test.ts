import { randomBytes } from "node:crypto";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { combineShares, splitSecret } from "../../../src/core/sops/shamir.js";

describe("Shamir over GF(2^8)", () => {
  it("recombines any threshold-sized subset", () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 1, maxLength: 40 }),
        fc.integer({ min: 2, max: 5 }),
        fc.integer({ min: 0, max: 3 }),
        (secret, threshold, extra) => {
          const parts = threshold + extra;
          const shares = splitSecret(secret, parts, threshold, randomBytes);
          expect(shares.every((s) => s.length === secret.length + 1)).toBe(true);
          expect(combineShares(shares.slice(extra))).toEqual(secret);
          expect(combineShares(shares.slice(0, threshold))).toEqual(secret);
        },
      ),
      { numRuns: 60 },
    );
  });

  it("needs the threshold: fewer shares give something else", () => {
    const secret = randomBytes(32);
    const shares = splitSecret(secret, 3, 3, randomBytes);
    expect(Buffer.from(combineShares(shares.slice(0, 2)))).not.toEqual(secret);
  });

  it("rejects malformed input", () => {
    expect(() => combineShares([new Uint8Array([1, 2])])).toThrow(/less than two parts/);
    expect(() => combineShares([new Uint8Array([1, 2]), new Uint8Array([3, 2])])).toThrow(/duplicate part/);
    expect(() => splitSecret(new Uint8Array([1]), 2, 3, randomBytes)).toThrow(/less than threshold/);
  });

  it("matches a share layout sops/vault would produce (known vector)", () => {
    // f(x) = 0x42 + 0x07·x over GF(2^8): shares at x=1 and x=2.
    const mul = (a: number, b: number): number => {
      let r = 0;
      while (b) {
        if (b & 1) r ^= a;
        a <<= 1;
        if (a & 0x100) a ^= 0x11b;
        b >>= 1;
      }
      return r;
    };
    const s1 = new Uint8Array([0x42 ^ mul(7, 1), 1]);
    const s2 = new Uint8Array([0x42 ^ mul(7, 2), 2]);
    expect(combineShares([s1, s2])).toEqual(new Uint8Array([0x42]));
  });
});
