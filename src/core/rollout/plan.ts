/**
 * The rollout plan: the small signed document clients follow (docs/rollouts.md, "Plans and trust"). It
 * names the stable and the candidate version of an environment (and service), the range of cohort
 * positions that runs the candidate, and a plan version that only increases. Clients verify it and apply
 * it themselves, so a rollout needs nothing from the server but the document: it works unchanged with
 * several servers on one store and behind a cache.
 *
 * It is signed like a snapshot: `digest` is `sha256:` + hex SHA-256 over the canonical JSON (RFC 8785) of
 * the plan without `digest` and `signatures`, and each signature is Ed25519 over the UTF-8 bytes of the
 * digest. The signing keys are rollout keys (`rollouts.trusted_keys` in strata.yaml), which are not
 * publishing keys: a rollout key chooses between versions, it cannot make one. So {@link verifyPlan}
 * refuses a plan unless both versions it names are snapshots of the same environment (and service) that
 * the caller verified with the publishing keys ({@link signedVersion}).
 */
import { canonicalJson, DIGEST_PATTERN, digestOf } from "../snapshot/canonical.js";
import type { PublicKey, SigningKey } from "../snapshot/keys.js";
import {
  ENVIRONMENT_NAME,
  findValidSignature,
  MAX_VERSION,
  signDigest,
  validateSnapshotShape,
  verifySnapshot,
  type Snapshot,
  type SnapshotSignature,
  type VersionRef,
} from "../snapshot/snapshot.js";
import { isJsonObject } from "../json.js";
import {
  cohortPosition,
  inRange,
  POSITIONS,
  uniformBoundary,
  type CohortSubject,
  type PositionRange,
} from "./cohort.js";
import type { RolloutState } from "./decide.js";
import { FINAL_PHASES, ROLLOUT_PHASES, type RolloutPhase } from "./phases.js";
import { BASIS_POINTS } from "./units.js";
import type { PlanRefusal } from "./refusals.js";

export const PLAN_KIND = "strata.rollout-plan";

/** Who runs the candidate: positions [0, to) of instances and of entities (cohort.ts), and the share. */
export interface PlanCohort {
  /** The target share in basis points. */
  basisPoints: number;
  /** Instance positions that run the candidate (calibrated to the known fleet when the server knows it). */
  instances: PositionRange;
  /** Entity positions that run the candidate (uniform: entities are not known in advance). */
  entities: PositionRange;
}

export interface RolloutPlan {
  kind: typeof PLAN_KIND;
  apiVersion: 1;
  environment: string;
  /** The service of a per-service snapshot chain, or null for the environment's own. */
  service: string | null;
  /** The rollout's id: what cohort positions are hashed with. */
  rollout: string;
  /** Only increases, across rollouts of the same environment (and service). */
  planVersion: number;
  phase: RolloutPhase;
  stable: VersionRef;
  candidate: VersionRef;
  cohort: PlanCohort;
  createdAt: string;
  expiresAt: string;
  /** Why the plan is what it is (the decision or operator action): versions, metrics and thresholds only. */
  reason: string;
  digest: string;
  signatures: SnapshotSignature[];
}

export type UnsignedPlan = Omit<RolloutPlan, "digest" | "signatures">;

/** Plans are small; anything much larger is not a plan. */
const MAX_PLAN_BYTES = 16 * 1024;
const MAX_REASON_LENGTH = 1000;
/** Default validity: the server renews a plan (with a new plan version) well before it expires. */
export const DEFAULT_PLAN_TTL_MS = 24 * 3600 * 1000;
const ROLLOUT_ID = /^[A-Za-z0-9][A-Za-z0-9._:@/-]{0,127}$/;
const SERVICE_NAME = /^[a-z0-9][a-z0-9-]{0,63}$/;
const ISO_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;

/** The id of a rollout: environment, service, candidate version and the plan version it started at. */
export function rolloutIdFor(
  environment: string,
  service: string | null,
  candidate: number,
  planVersion: number,
): string {
  return `${environment}${service === null ? "" : `/${service}`}@v${candidate}.p${planVersion}`;
}

/** The cohort a state asks for; `instancesTo` is the calibrated boundary when the server computed one. */
function cohortFor(phase: RolloutPhase, basisPoints: number, instancesTo?: number): PlanCohort {
  if (phase === "promoted") return { basisPoints: BASIS_POINTS, instances: [0, POSITIONS], entities: [0, POSITIONS] };
  if (phase === "rolled-back" || phase === "aborted") return { basisPoints: 0, instances: [0, 0], entities: [0, 0] };
  const uniform = uniformBoundary(basisPoints);
  return { basisPoints, instances: [0, instancesTo ?? uniform], entities: [0, uniform] };
}

export interface PlanInit {
  state: RolloutState;
  planVersion: number;
  /** Milliseconds since the epoch. */
  now: number;
  ttlMs?: number;
  /** The calibrated instance boundary (cohort.ts calibratedBoundary), when the server knows the fleet. */
  instancesTo?: number;
}

/** Builds and signs the plan for a rollout state. */
export function createPlan(init: PlanInit, keys: readonly SigningKey[]): RolloutPlan {
  if (keys.length === 0) throw new RangeError("a rollout plan needs a rollout key to sign it");
  const { state } = init;
  const unsigned: UnsignedPlan = {
    kind: PLAN_KIND,
    apiVersion: 1,
    environment: state.environment,
    service: state.service,
    rollout: state.rolloutId,
    planVersion: init.planVersion,
    phase: state.phase,
    stable: { version: state.stable.version, digest: state.stable.digest },
    candidate: { version: state.candidate.version, digest: state.candidate.digest },
    cohort: cohortFor(state.phase, state.percent, init.instancesTo),
    createdAt: new Date(init.now).toISOString(),
    expiresAt: new Date(init.now + (init.ttlMs ?? DEFAULT_PLAN_TTL_MS)).toISOString(),
    reason:
      state.reason.length > MAX_REASON_LENGTH ? `${state.reason.slice(0, MAX_REASON_LENGTH - 3)}...` : state.reason,
  };
  return signPlan(unsigned, keys);
}

/** Signs an unsigned plan (after checking its shape). */
export function signPlan(unsigned: UnsignedPlan, keys: readonly SigningKey[]): RolloutPlan {
  const problems = validatePlanShape({ ...unsigned, digest: `sha256:${"0".repeat(64)}`, signatures: [] });
  if (problems.length > 0) throw new RangeError(`cannot build the plan: ${problems.join("; ")}`);
  const digest = computePlanDigest(unsigned);
  return { ...unsigned, digest, signatures: keys.map((k) => signDigest(digest, k)) };
}

/** sha256 over the canonical plan without `digest` and `signatures`. */
export function computePlanDigest(plan: UnsignedPlan | RolloutPlan): string {
  const { digest: _d, signatures: _s, ...rest } = plan as RolloutPlan;
  return digestOf(rest);
}

/** The bytes served and cached: canonical JSON, the same everywhere. */
export function serializePlan(plan: RolloutPlan): string {
  return canonicalJson(plan);
}

const VERSION_FIELDS = ["version", "digest"];
const COHORT_FIELDS = ["basisPoints", "instances", "entities"];
const PLAN_FIELDS = [
  "kind",
  "apiVersion",
  "environment",
  "service",
  "rollout",
  "planVersion",
  "phase",
  "stable",
  "candidate",
  "cohort",
  "createdAt",
  "expiresAt",
  "reason",
  "digest",
  "signatures",
];

const isInt = (v: unknown, min: number, max: number): v is number =>
  typeof v === "number" && Number.isSafeInteger(v) && v >= min && v <= max;

function rangeProblem(v: unknown, name: string): string | null {
  if (!Array.isArray(v) || v.length !== 2 || v[0] !== 0 || !isInt(v[1], 0, POSITIONS))
    return `cohort.${name} must be [0, to] with to from 0 to 2^32`;
  return null;
}

/** Structural problems of a would-be plan, as messages (empty when well-formed). */
function validatePlanShape(value: unknown): string[] {
  if (!isJsonObject(value)) return ["the plan is not a JSON object"];
  const p: string[] = [];
  const v = value as Record<string, unknown>;
  for (const k of Object.keys(v)) if (!PLAN_FIELDS.includes(k)) p.push(`unknown field "${k}"`);
  if (v.kind !== PLAN_KIND) p.push(`kind must be "${PLAN_KIND}"`);
  if (v.apiVersion !== 1) p.push("apiVersion must be 1");
  if (typeof v.environment !== "string" || !ENVIRONMENT_NAME.test(v.environment)) p.push("environment must be a name");
  if (!(v.service === null || (typeof v.service === "string" && SERVICE_NAME.test(v.service))))
    p.push("service must be null or a name");
  if (typeof v.rollout !== "string" || !ROLLOUT_ID.test(v.rollout))
    p.push("rollout must be an id (at most 128 of A-Z a-z 0-9 . _ : @ / -)");
  if (!isInt(v.planVersion, 1, MAX_VERSION)) p.push(`planVersion must be an integer from 1 to ${MAX_VERSION}`);
  if (!(ROLLOUT_PHASES as readonly unknown[]).includes(v.phase))
    p.push(`phase must be one of ${ROLLOUT_PHASES.join(", ")}`);
  for (const f of ["stable", "candidate"] as const) {
    const ref = v[f];
    if (
      !isJsonObject(ref) ||
      Object.keys(ref).some((k) => !VERSION_FIELDS.includes(k)) ||
      !isInt(ref.version, 1, MAX_VERSION) ||
      typeof ref.digest !== "string" ||
      !DIGEST_PATTERN.test(ref.digest)
    )
      p.push(`${f} must be { version, digest } with a version from 1 to ${MAX_VERSION} and a sha256: digest`);
  }
  const stable = v.stable as VersionRef | undefined;
  const candidate = v.candidate as VersionRef | undefined;
  if (
    typeof stable?.version === "number" &&
    typeof candidate?.version === "number" &&
    !(candidate.version > stable.version)
  )
    p.push("the candidate must be a newer version than the stable one");
  const c = v.cohort;
  if (!isJsonObject(c) || Object.keys(c).some((k) => !COHORT_FIELDS.includes(k)))
    p.push("cohort must be { basisPoints, instances, entities }");
  else {
    if (!isInt(c.basisPoints, 0, BASIS_POINTS))
      p.push(`cohort.basisPoints must be an integer from 0 to ${BASIS_POINTS}`);
    for (const r of ["instances", "entities"]) {
      const problem = rangeProblem(c[r], r);
      if (problem) p.push(problem);
    }
    const full =
      c.basisPoints === BASIS_POINTS &&
      (c.instances as number[])[1] === POSITIONS &&
      (c.entities as number[])[1] === POSITIONS;
    const empty = c.basisPoints === 0 && (c.instances as number[])[1] === 0 && (c.entities as number[])[1] === 0;
    if (v.phase === "promoted" && !full) p.push("a promoted plan gives everyone the candidate: cohort must be full");
    if ((v.phase === "rolled-back" || v.phase === "aborted") && !empty)
      p.push(`a ${String(v.phase)} plan gives everyone the stable version: cohort must be empty`);
  }
  for (const f of ["createdAt", "expiresAt"] as const) {
    const t = v[f];
    if (typeof t !== "string" || !ISO_TIME.test(t) || Number.isNaN(Date.parse(t)))
      p.push(`${f} must be an RFC 3339 time`);
  }
  if (
    typeof v.createdAt === "string" &&
    typeof v.expiresAt === "string" &&
    !(Date.parse(v.expiresAt) > Date.parse(v.createdAt))
  )
    p.push("expiresAt must be after createdAt");
  if (typeof v.reason !== "string" || v.reason.length > MAX_REASON_LENGTH)
    p.push(`reason must be a text of at most ${MAX_REASON_LENGTH} characters`);
  if (typeof v.digest !== "string" || !DIGEST_PATTERN.test(v.digest)) p.push("digest must be a sha256: digest");
  if (
    !Array.isArray(v.signatures) ||
    !v.signatures.every((g) => isJsonObject(g) && typeof g.keyid === "string" && typeof g.sig === "string")
  )
    p.push("signatures must be a list of {keyid, sig}");
  return p;
}

declare const signedByPublisher: unique symbol;

/**
 * A version that a publishing key signed, for an environment (and service): made only by
 * {@link signedVersion}, which verifies the snapshot, so a plan can be checked against it without
 * verifying the snapshot again.
 */
export interface SignedVersion extends VersionRef {
  readonly environment: string;
  readonly service: string | null;
  readonly [signedByPublisher]: true;
}

// Objects signedVersion made: a look-alike built by hand is refused at run time too, not only by the compiler.
const issued = new WeakSet<object>();

/**
 * Verifies a snapshot with the publishing keys (shape, digest, signature) and returns its version as a
 * {@link SignedVersion}. Throws what verifySnapshot throws (`digest-mismatch`, `invalid-signature`) or a
 * RangeError for a malformed snapshot. `service` is the service of its chain (null: the environment's).
 */
export function signedVersion(
  snapshot: Snapshot,
  publishingKeys: readonly PublicKey[],
  service: string | null = null,
): SignedVersion {
  const problems = validateSnapshotShape(snapshot);
  if (problems.length > 0) throw new RangeError(`malformed snapshot: ${problems.join("; ")}`);
  verifySnapshot(snapshot, publishingKeys);
  const v = Object.freeze({
    environment: snapshot.environment,
    service,
    version: snapshot.version,
    digest: snapshot.digest,
  }) as SignedVersion;
  issued.add(v);
  return v;
}

/** What a client remembers of the last plan it accepted, to refuse going back. */
export type AcceptedPlan = Pick<
  RolloutPlan,
  "planVersion" | "digest" | "rollout" | "phase" | "stable" | "candidate" | "cohort"
>;

export type { PlanRefusal } from "./refusals.js";

export interface PlanVerifyOptions {
  environment: string;
  service?: string | null;
  /** `rollouts.trusted_keys`. */
  rolloutKeys: readonly PublicKey[];
  /** Versions verified with the publishing keys (at least the plan's stable and candidate). */
  signedVersions: Iterable<SignedVersion>;
  /** The plan accepted before this one, if any. */
  previous: AcceptedPlan | null;
  /** Milliseconds since the epoch. */
  now: number;
  /** Accept an expired plan (disconnected sites, like snapshots' allowExpired). */
  allowExpired?: boolean;
}

export type PlanCheck =
  | { ok: true; plan: RolloutPlan; keyid: string; unchanged: boolean }
  | { ok: false; refusal: PlanRefusal; message: string };

/** Parses plan bytes (at most {@link MAX_PLAN_BYTES}) and verifies them: {@link verifyPlan}. */
export function verifyPlanText(text: string, options: PlanVerifyOptions): PlanCheck {
  const signed = verifyPlanSignature(text, options.rolloutKeys);
  return signed.ok ? checkSignedPlan(signed, options) : signed;
}

/** A plan whose bytes verified: well-formed, its digest right, signed by one of the rollout keys given. */
export interface SignedPlan {
  ok: true;
  plan: RolloutPlan;
  keyid: string;
}

/**
 * The part of verifying plan bytes that depends on nothing but those bytes and the rollout keys: parse,
 * shape, digest and signature. Identical bytes and keys give the identical answer, so a process may keep it
 * (src/client/verify.ts does, for its many clients receiving one plan); {@link checkSignedPlan} does the rest.
 */
export function verifyPlanSignature(
  text: string,
  rolloutKeys: readonly PublicKey[],
): SignedPlan | (PlanCheck & { ok: false }) {
  if (text.length > MAX_PLAN_BYTES) return refuse("malformed", `the plan is larger than ${MAX_PLAN_BYTES} bytes`);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    return refuse("malformed", `the plan is not JSON: ${(e as Error).message}`);
  }
  return verifySignedPlanValue(value, rolloutKeys);
}

/**
 * Whether a client may follow `value`: well-formed, its digest right, signed by a rollout key, for this
 * environment and service, not expired, naming only versions signed by a publishing key for the same
 * environment and service, and not going back from the plan accepted before (a lower plan version; the
 * same version with other content; within one rollout: other versions, a smaller cohort, or a change after
 * the end; across rollouts: older versions).
 */
export function verifyPlan(value: unknown, options: PlanVerifyOptions): PlanCheck {
  const signed = verifySignedPlanValue(value, options.rolloutKeys);
  return signed.ok ? checkSignedPlan(signed, options) : signed;
}

function verifySignedPlanValue(
  value: unknown,
  rolloutKeys: readonly PublicKey[],
): SignedPlan | (PlanCheck & { ok: false }) {
  const problems = validatePlanShape(value);
  if (problems.length > 0) return refuse("malformed", `malformed plan: ${problems.join("; ")}`);
  const plan = value as RolloutPlan;
  const name = planName(plan);
  const actual = computePlanDigest(plan);
  if (actual !== plan.digest)
    return refuse("digest-mismatch", `${name}: digest ${plan.digest} does not match the content (${actual})`);
  const keyid = findValidSignature(plan.digest, plan.signatures, rolloutKeys);
  if (keyid === null)
    return refuse(
      "untrusted-signature",
      `${name} has no valid signature by a rollout key (signatures: ${plan.signatures.map((s) => s.keyid.slice(0, 12)).join(", ") || "none"})`,
    );
  return { ok: true, plan, keyid };
}

function planName(plan: RolloutPlan): string {
  return `plan ${plan.planVersion} of ${plan.environment}${plan.service === null ? "" : `/${plan.service}`}`;
}

/**
 * The rest of {@link verifyPlan}, for plan bytes that verified: this client's environment and service, the
 * expiry, the versions it names signed by a publishing key, and no going back from the plan accepted before.
 */
export function checkSignedPlan(verified: SignedPlan, options: PlanVerifyOptions): PlanCheck {
  const { plan, keyid } = verified;
  const name = planName(plan);
  const service = options.service ?? null;
  if (plan.environment !== options.environment)
    return refuse(
      "wrong-environment",
      `${name} is for environment "${plan.environment}", not "${options.environment}"`,
    );
  if (plan.service !== service)
    return refuse(
      "wrong-service",
      `${name} is for ${plan.service === null ? "the whole environment" : `service "${plan.service}"`}, not ${service === null ? "the whole environment" : `service "${service}"`}`,
    );
  if (options.allowExpired !== true && options.now >= Date.parse(plan.expiresAt))
    return refuse("expired", `${name} expired at ${plan.expiresAt}`);

  const signed = new Map<number, SignedVersion>();
  for (const s of options.signedVersions) if (issued.has(s)) signed.set(s.version, s);
  for (const role of ["stable", "candidate"] as const) {
    const ref = plan[role];
    const s = signed.get(ref.version);
    if (!s || s.digest !== ref.digest || s.environment !== plan.environment || s.service !== plan.service)
      return refuse(
        "unsigned-version",
        `${name} names ${role} v${ref.version} (${ref.digest.slice(0, 19)}…), which is not a version of ${plan.environment}${plan.service === null ? "" : `/${plan.service}`} signed by a publishing key`,
      );
  }

  const prev = options.previous;
  if (prev === null) return { ok: true, plan, keyid, unchanged: false };
  if (plan.planVersion < prev.planVersion)
    return refuse("plan-regression", `${name} is older than plan ${prev.planVersion}, which is already in use`);
  if (plan.planVersion === prev.planVersion) {
    if (plan.digest === prev.digest) return { ok: true, plan, keyid, unchanged: true };
    return refuse(
      "plan-equivocation",
      `${name} differs from the plan ${prev.planVersion} already in use (two plans with one version)`,
    );
  }
  if (plan.rollout === prev.rollout) {
    if (plan.stable.digest !== prev.stable.digest || plan.candidate.digest !== prev.candidate.digest)
      return refuse("rollout-changed", `${name} changes the versions of rollout ${plan.rollout}`);
    if (
      FINAL_PHASES.includes(prev.phase) &&
      (plan.phase !== prev.phase || canonicalJson(plan.cohort) !== canonicalJson(prev.cohort))
    )
      return refuse("rollout-finished", `${name} changes rollout ${plan.rollout}, which is already ${prev.phase}`);
    if (
      !FINAL_PHASES.includes(plan.phase) &&
      (plan.cohort.instances[1] < prev.cohort.instances[1] || plan.cohort.entities[1] < prev.cohort.entities[1])
    )
      return refuse(
        "cohort-shrank",
        `${name} moves clients of rollout ${plan.rollout} back from the candidate without rolling back`,
      );
  } else {
    // A new rollout starts from where the previous one left everyone: never from older versions.
    const floor = prev.phase === "promoted" ? prev.candidate.version : prev.stable.version;
    if (plan.stable.version < floor)
      return refuse(
        "versions-regressed",
        `${name} starts rollout ${plan.rollout} from v${plan.stable.version}, older than v${floor} that clients already run`,
      );
  }
  return { ok: true, plan, keyid, unchanged: false };
}

function refuse(refusal: PlanRefusal, message: string): PlanCheck & { ok: false } {
  return { ok: false, refusal, message };
}

/** What a client keeps of an accepted plan. */
export function acceptedPlan(plan: RolloutPlan): AcceptedPlan {
  const { planVersion, digest, rollout, phase, stable, candidate, cohort } = plan;
  return { planVersion, digest, rollout, phase, stable, candidate, cohort };
}

/**
 * Which version a client runs under a plan: the candidate when its position (of its instance id, or of the
 * entity a request is for) is inside the cohort, else the stable version.
 */
export function versionFor(
  plan: Pick<RolloutPlan, "rollout" | "cohort" | "stable" | "candidate">,
  subject: CohortSubject,
): { role: "stable" | "candidate"; ref: VersionRef } {
  const range = "instance" in subject ? plan.cohort.instances : plan.cohort.entities;
  return inRange(cohortPosition(plan.rollout, subject), range)
    ? { role: "candidate", ref: plan.candidate }
    : { role: "stable", ref: plan.stable };
}
