/**
 * Shamir's secret sharing over GF(2^8) with the AES polynomial 0x11B, share layout as sops uses it
 * (HashiCorp Vault's `shamir`): the y bytes followed by the x-coordinate.
 */

function mul(a: number, b: number): number {
  let r = 0;
  let x = a;
  let y = b;
  while (y > 0) {
    if (y & 1) r ^= x;
    x <<= 1;
    if (x & 0x100) x ^= 0x11b;
    y >>= 1;
  }
  return r;
}

function inverse(a: number): number {
  if (a === 0) throw new Error("no inverse of zero in GF(2^8)");
  // a^254 = a^-1 in GF(2^8).
  let r = 1;
  let base = a;
  let e = 254;
  while (e > 0) {
    if (e & 1) r = mul(r, base);
    base = mul(base, base);
    e >>= 1;
  }
  return r;
}

export type RandomBytes = (n: number) => Uint8Array;

/** Splits `secret` into `parts` shares, any `threshold` of which recombine it. */
export function splitSecret(secret: Uint8Array, parts: number, threshold: number, random: RandomBytes): Uint8Array[] {
  if (parts < threshold) throw new Error("parts cannot be less than threshold");
  if (parts > 255) throw new Error("parts cannot exceed 255");
  if (threshold < 2) throw new Error("threshold must be at least 2");
  if (secret.length === 0) throw new Error("cannot split an empty secret");
  // Unique non-zero x-coordinates: a shuffle of 1..255.
  const xs = Array.from({ length: 255 }, (_, i) => i + 1);
  const rnd = random(255 * 2);
  for (let i = xs.length - 1; i > 0; i--) {
    const j = (((rnd[i * 2] ?? 0) << 8) | (rnd[i * 2 + 1] ?? 0)) % (i + 1);
    [xs[i], xs[j]] = [xs[j] as number, xs[i] as number];
  }
  const shares = Array.from({ length: parts }, (_, i) => {
    const s = new Uint8Array(secret.length + 1);
    s[secret.length] = xs[i] as number;
    return s;
  });
  for (let b = 0; b < secret.length; b++) {
    const coeffs = [secret[b] as number, ...random(threshold - 1)];
    for (const share of shares) {
      const x = share[secret.length] as number;
      let y = 0;
      for (let k = coeffs.length - 1; k >= 0; k--) y = mul(y, x) ^ (coeffs[k] as number);
      share[b] = y;
    }
  }
  return shares;
}

/** Recombines shares (at least the threshold that split them). */
export function combineShares(shares: readonly Uint8Array[]): Uint8Array {
  if (shares.length < 2) throw new Error("less than two parts cannot be used to reconstruct the secret");
  const len = shares[0]?.length ?? 0;
  if (len < 2 || shares.some((s) => s.length !== len))
    throw new Error("all parts must be the same length and at least two bytes");
  const xs = shares.map((s) => s[len - 1] as number);
  if (new Set(xs).size !== xs.length) throw new Error("duplicate part detected");
  const out = new Uint8Array(len - 1);
  for (let b = 0; b < len - 1; b++) {
    let result = 0;
    for (let i = 0; i < xs.length; i++) {
      let basis = 1;
      for (let j = 0; j < xs.length; j++) {
        if (i === j) continue;
        basis = mul(basis, mul(xs[j] as number, inverse((xs[i] as number) ^ (xs[j] as number))));
      }
      result ^= mul(shares[i]?.[b] as number, basis);
    }
    out[b] = result;
  }
  return out;
}
