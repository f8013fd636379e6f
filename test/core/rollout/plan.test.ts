import { verify } from "node:crypto";
import { describe, expect, it } from "vitest";
import {
  acceptedPlan,
  computePlanDigest,
  createPlan,
  POSITIONS,
  serializePlan,
  signedVersion,
  signPlan,
  verifyPlan,
  verifyPlanText,
  versionFor,
  type PlanVerifyOptions,
  type RolloutPlan,
  type RolloutState,
  type SignedVersion,
  type UnsignedPlan,
} from "../../../src/core/rollout/index.js";
import { parseSigningKey, type Snapshot } from "../../../src/core/snapshot/index.js";
import { makeSnapshot } from "../../support/snapshots.js";

// RFC 8032 §7.1 test keys: TEST 1 is the rollout key, TEST 2 the publishing key.
const pemOf = (seedHex: string) =>
  `-----BEGIN PRIVATE KEY-----\n${Buffer.concat([Buffer.from("302e020100300506032b657004220420", "hex"), Buffer.from(seedHex, "hex")]).toString("base64")}\n-----END PRIVATE KEY-----\n`;
const rolloutKey = parseSigningKey(pemOf("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60"));
const publishingKey = parseSigningKey(pemOf("4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb"));

const VECTOR: UnsignedPlan = {
  kind: "strata.rollout-plan",
  apiVersion: 1,
  environment: "production",
  service: null,
  rollout: "production@v42.p7",
  planVersion: 7,
  phase: "progressing",
  stable: { version: 41, digest: `sha256:${"a".repeat(64)}` },
  candidate: { version: 42, digest: `sha256:${"b".repeat(64)}` },
  cohort: { basisPoints: 500, instances: [0, 214748365], entities: [0, 214748365] },
  createdAt: "2026-03-02T10:00:00.000Z",
  expiresAt: "2026-03-03T10:00:00.000Z",
  reason: "started at 5%",
};

describe("the plan document: fixed vector", () => {
  // Bytes in, digest and signature out: a change to the serialization or the signing breaks this test before it
  // breaks a deployed client. Ed25519 is deterministic, so the signature is fixed too.
  const bytes =
    '{"apiVersion":1,"candidate":{"digest":"sha256:bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb","version":42},' +
    '"cohort":{"basisPoints":500,"entities":[0,214748365],"instances":[0,214748365]},"createdAt":"2026-03-02T10:00:00.000Z",' +
    '"environment":"production","expiresAt":"2026-03-03T10:00:00.000Z","kind":"strata.rollout-plan","phase":"progressing",' +
    '"planVersion":7,"reason":"started at 5%","rollout":"production@v42.p7","service":null,' +
    '"stable":{"digest":"sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa","version":41}}';
  const digest = "sha256:0f4ef48f473b43dc43f868c8586547b176adf7403d486d10ddfae54c7f3c293a";
  const signature = {
    keyid: "21fe31dfa154a261626bf854046fd2271b7bed4b6abe45aa58877ef47f9721b9",
    sig: "9tvcU9ycgYHeYtcgnaa5TrhdoYbndlxdN0e3AEdg+hdvc92yufvw1wsgh+phfs2Y0WE0Ue7Uuu1g0f/ELx7HCA==",
  };

  it("canonical bytes, digest and Ed25519 signature", () => {
    const plan = signPlan(VECTOR, [rolloutKey]);
    const { digest: _d, signatures: _s, ...unsigned } = plan;
    expect(serializePlan(unsigned as RolloutPlan)).toBe(bytes);
    expect(plan.digest).toBe(digest);
    expect(computePlanDigest(plan)).toBe(digest);
    expect(plan.signatures).toEqual([signature]);
    expect(rolloutKey.publicKey.text).toBe("ed25519:11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=");
    // The signature is over the UTF-8 bytes of the digest text, as for snapshots.
    expect(verify(null, Buffer.from(digest), rolloutKey.publicKey.key, Buffer.from(signature.sig, "base64"))).toBe(
      true,
    );
    expect(JSON.parse(serializePlan(plan))).toEqual(plan);
  });
});

describe("verifying a plan", () => {
  const now = Date.parse("2026-03-02T10:05:00Z");
  const snap = (version: number, environment = "production"): Snapshot =>
    makeSnapshot(publishingKey, {
      environment,
      version,
      previous: `sha256:${"c".repeat(64)}`,
      createdAt: new Date(now - 3600_000),
    });
  const [v41, v42, v43] = [snap(41), snap(42), snap(43)];
  const signed = [v41, v42, v43].map((s) => signedVersion(s, [publishingKey.publicKey]));
  const state: RolloutState = {
    rolloutId: "production@v42.p7",
    environment: "production",
    service: null,
    stable: { version: 41, digest: v41.digest },
    candidate: { version: 42, digest: v42.digest },
    phase: "progressing",
    step: 0,
    percent: 500,
    startedAt: now,
    stepStartedAt: now,
    reason: "started at 5%",
  };
  const plan = (over: Partial<RolloutState> = {}, planVersion = 7, key = rolloutKey) =>
    createPlan({ state: { ...state, ...over }, planVersion, now }, [key]);
  const options = (over: Partial<PlanVerifyOptions> = {}): PlanVerifyOptions => ({
    environment: "production",
    rolloutKeys: [rolloutKey.publicKey],
    signedVersions: signed,
    previous: null,
    now,
    ...over,
  });
  const refusal = (value: unknown, over: Partial<PlanVerifyOptions> = {}) => {
    const r = verifyPlan(value, options(over));
    return r.ok ? "accepted" : r.refusal;
  };

  it("accepts a plan signed by a rollout key that names versions a publishing key signed", () => {
    const p = plan();
    const r = verifyPlan(JSON.parse(serializePlan(p)), options());
    expect(r).toMatchObject({ ok: true, keyid: rolloutKey.publicKey.keyid, unchanged: false });
    expect(verifyPlanText(serializePlan(p), options({ previous: acceptedPlan(p) }))).toMatchObject({
      ok: true,
      unchanged: true,
    });
  });

  it("refuses a plan naming a version no publishing key signed, or another environment's version", () => {
    const forged = { version: 44, digest: `sha256:${"d".repeat(64)}` };
    expect(refusal(plan({ candidate: forged }))).toBe("unsigned-version");
    // v42's number with another digest (content the publishers never signed).
    expect(refusal(plan({ candidate: { version: 42, digest: v43.digest } }))).toBe("unsigned-version");
    // staging's v42, signed by the same publishing key: not a version of production.
    const staging42 = snap(42, "staging");
    const withStaging = [...signed, signedVersion(staging42, [publishingKey.publicKey])];
    expect(
      refusal(plan({ candidate: { version: 42, digest: staging42.digest } }), { signedVersions: withStaging }),
    ).toBe("unsigned-version");
    // A look-alike of a SignedVersion built by hand is not one.
    const fake = {
      environment: "production",
      service: null,
      version: 44,
      digest: forged.digest,
    } as unknown as SignedVersion;
    expect(refusal(plan({ candidate: forged }), { signedVersions: [...signed, fake] })).toBe("unsigned-version");
  });

  it("a rollout key cannot make a version: a snapshot signed by it is not a signed version", () => {
    const byRolloutKey = makeSnapshot(rolloutKey, {
      environment: "production",
      version: 44,
      previous: `sha256:${"c".repeat(64)}`,
    });
    expect(() => signedVersion(byRolloutKey, [publishingKey.publicKey])).toThrow(/no valid signature by a trusted key/);
  });

  it.each<[string, () => unknown, Partial<PlanVerifyOptions>, string]>([
    ["not a plan", () => ({ kind: "strata.snapshot" }), {}, "malformed"],
    ["an unknown field", () => ({ ...plan(), extra: 1 }), {}, "malformed"],
    ["a promoted plan with a partial cohort", () => ({ ...plan(), phase: "promoted" }), {}, "malformed"],
    [
      "a cohort range not starting at 0",
      () => ({ ...plan(), cohort: { ...plan().cohort, instances: [5, 10] } }),
      {},
      "malformed",
    ],
    [
      "the candidate older than the stable",
      () => plan({ stable: { version: 42, digest: v42.digest }, candidate: { version: 41, digest: v41.digest } }),
      {},
      "malformed-build",
    ],
    [
      "tampered content",
      () => ({ ...plan(), cohort: { basisPoints: 10_000, instances: [0, POSITIONS], entities: [0, POSITIONS] } }),
      {},
      "digest-mismatch",
    ],
    ["signed by a publishing key", () => plan({}, 7, publishingKey), {}, "untrusted-signature"],
    ["no signature", () => ({ ...plan(), signatures: [] }), {}, "untrusted-signature"],
    ["another environment", () => plan(), { environment: "staging" }, "wrong-environment"],
    ["another service", () => plan(), { service: "checkout" }, "wrong-service"],
    ["expired", () => plan(), { now: now + 25 * 3600_000 }, "expired"],
  ])("refuses %s", (_, make, over, expected) => {
    if (expected === "malformed-build") {
      expect(make).toThrow(/newer version than the stable/);
      return;
    }
    expect(refusal(make(), over)).toBe(expected);
  });

  it("an expired plan is accepted when the caller allows it (disconnected sites)", () => {
    expect(refusal(plan(), { now: now + 25 * 3600_000, allowExpired: true })).toBe("accepted");
  });

  it("refuses going back: an older plan version, two plans with one version, a shrinking cohort, a change after the end", () => {
    const p7 = plan({}, 7);
    const prev = acceptedPlan(p7);
    expect(refusal(plan({}, 6), { previous: prev })).toBe("plan-regression");
    expect(refusal(plan({ percent: 1000 }, 7), { previous: prev })).toBe("plan-equivocation");
    expect(refusal(plan({ percent: 1000 }, 8), { previous: prev })).toBe("accepted");
    expect(refusal(plan({ percent: 100 }, 8), { previous: prev })).toBe("cohort-shrank");
    expect(refusal(plan({ candidate: { version: 43, digest: v43.digest } }, 8), { previous: prev })).toBe(
      "rollout-changed",
    );
    expect(refusal(plan({ phase: "rolled-back", percent: 0 }, 8), { previous: prev })).toBe("accepted");
    const rolledBack = acceptedPlan(plan({ phase: "rolled-back", percent: 0 }, 8));
    expect(refusal(plan({ phase: "progressing", percent: 500 }, 9), { previous: rolledBack })).toBe("rollout-finished");
    // Renewing a finished plan (same phase, same cohort, a new plan version) is fine.
    expect(refusal(plan({ phase: "rolled-back", percent: 0 }, 9), { previous: rolledBack })).toBe("accepted");
  });

  it("a new rollout never starts from versions older than those clients run", () => {
    const promoted = acceptedPlan(plan({ phase: "promoted", percent: 10_000 }, 8));
    const next = {
      rolloutId: "production@v43.p9",
      stable: { version: 42, digest: v42.digest },
      candidate: { version: 43, digest: v43.digest },
    };
    expect(refusal(plan(next, 9), { previous: promoted })).toBe("accepted");
    const back = {
      rolloutId: "production@v43.p9",
      stable: { version: 41, digest: v41.digest },
      candidate: { version: 43, digest: v43.digest },
    };
    expect(refusal(plan(back, 9), { previous: promoted })).toBe("versions-regressed");
  });

  it("refuses oversized and non-JSON text", () => {
    expect(verifyPlanText("x".repeat(20_000), options())).toMatchObject({ ok: false, refusal: "malformed" });
    expect(verifyPlanText("{", options())).toMatchObject({ ok: false, refusal: "malformed" });
  });

  it("phases set the cohort: promoted is everyone, rolled back and aborted no one; a calibrated boundary is kept", () => {
    expect(plan({ phase: "promoted", percent: 10_000 }).cohort).toEqual({
      basisPoints: 10_000,
      instances: [0, POSITIONS],
      entities: [0, POSITIONS],
    });
    expect(plan({ phase: "aborted", percent: 0 }).cohort).toEqual({
      basisPoints: 0,
      instances: [0, 0],
      entities: [0, 0],
    });
    const calibrated = createPlan({ state, planVersion: 7, now, instancesTo: 123_456 }, [rolloutKey]);
    expect(calibrated.cohort.instances).toEqual([0, 123_456]);
    expect(calibrated.cohort.entities).toEqual([0, 214748365]);
  });

  it("clients pick their version from the plan; an entity's pick is the same on every instance", () => {
    const half = plan({ percent: 5000 });
    const picks = Array.from({ length: 1000 }, (_, i) => versionFor(half, { instance: `pod-${i}` }).role);
    const candidates = picks.filter((r) => r === "candidate").length;
    expect(candidates).toBeGreaterThan(400);
    expect(candidates).toBeLessThan(600);
    expect(versionFor(plan({ phase: "promoted", percent: 10_000 }), { instance: "x" }).ref).toEqual(half.candidate);
    expect(versionFor(plan({ phase: "rolled-back", percent: 0 }), { entity: "user-1" }).ref).toEqual(half.stable);
  });
});
