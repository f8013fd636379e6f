// A service's snapshot names its service (signed): it never passes for the environment's snapshot or for
// another service's, neither as the version a push builds on nor as the successor an endpoint accepts.
import { describe, expect, it } from "vitest";
import {
  computeContentDigest,
  createSnapshot,
  generateSigningKey,
  parseSigningKey,
  parseSnapshot,
  serializeSnapshot,
  validateSuccessor,
  verifyCurrentSnapshot,
  type Snapshot,
} from "../../../src/core/snapshot/index.js";

const key = parseSigningKey(generateSigningKey().pem);
function build(service?: string): Snapshot {
  const config = { http: { port: 8080 } };
  return createSnapshot(
    {
      environment: "production",
      ...(service !== undefined ? { service } : {}),
      version: 1,
      previous: null,
      createdAt: new Date("2026-01-01T00:00:00Z"),
      source: {},
      contentDigest: computeContentDigest(config, []),
      config,
      secrets: null,
    },
    [key],
  );
}
const codeOf = (f: () => void): string | null => {
  try {
    f();
    return null;
  } catch (e) {
    return (e as { code: string }).code;
  }
};

describe("a service's snapshot", () => {
  it("carries its service, signed and parsed back; an environment's snapshot has none", () => {
    const checkout = build("checkout");
    expect(parseSnapshot(serializeSnapshot(checkout)).service).toBe("checkout");
    expect("service" in build()).toBe(false);
    expect(() => parseSnapshot(serializeSnapshot({ ...checkout, service: "Bad Name" }))).toThrow(
      /service must be a name/,
    );
  });

  it("is never built on as another chain's current version", () => {
    const checkout = build("checkout");
    expect(codeOf(() => verifyCurrentSnapshot(checkout, "production", [key.publicKey], "current", "checkout"))).toBe(
      null,
    );
    expect(codeOf(() => verifyCurrentSnapshot(checkout, "production", [key.publicKey]))).toBe("invalid-snapshot");
    expect(codeOf(() => verifyCurrentSnapshot(checkout, "production", [key.publicKey], "current", "web"))).toBe(
      "invalid-snapshot",
    );
    expect(codeOf(() => verifyCurrentSnapshot(build(), "production", [key.publicKey], "current", "checkout"))).toBe(
      "invalid-snapshot",
    );
  });

  it("is never accepted as the successor of the environment's chain (an endpoint's PUT of the environment)", () => {
    expect(() => validateSuccessor(build("checkout"), "production", null)).toThrow(
      /service "checkout"'s, not the environment's/,
    );
    expect(codeOf(() => validateSuccessor(build("checkout"), "production", null, "checkout"))).toBe(null);
    expect(codeOf(() => validateSuccessor(build(), "production", null, "checkout"))).toBe("invalid-snapshot");
  });
});
