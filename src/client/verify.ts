/**
 * The checks every snapshot passes before a client uses it (docs/runtime.md): well-formed with
 * `apiVersion` 1, the digest matches the content, a trusted key signed it, and it is for this environment.
 * The version and the secrets are checked by the client, which knows what it has seen.
 */
import { StrataError } from "../core/findings.js";
// Not the snapshot index: it would load the SOPS engine, which only snapshots with secrets need.
import { parsePublicKey, type PublicKey } from "../core/snapshot/keys.js";
import { parseSnapshot, type Snapshot } from "../core/snapshot/snapshot.js";
import {
  checkSignedPlan,
  signedVersion,
  verifyPlanSignature,
  type PlanCheck,
  type PlanVerifyOptions,
  type SignedPlan,
  type SignedVersion,
} from "../core/rollout/plan.js";
import type { Chain } from "../core/protocol/chains.js";
import { StrataClientError } from "./errors.js";

export function parseTrustedKeyList(keys: readonly string[]): PublicKey[] {
  if (keys.length === 0)
    throw new StrataClientError(
      "invalid-argument",
      "trustedKeys is empty: a client must know which keys sign its snapshots",
    );
  return parseKeys(keys, "trustedKeys");
}

/** `ed25519:<base64>` keys of an option; a bad one is `invalid-argument` naming the option. */
export function parseKeys(keys: readonly string[], option: string): PublicKey[] {
  return keys.map((k) => {
    try {
      return parsePublicKey(k);
    } catch (cause) {
      throw new StrataClientError("invalid-argument", `${option}: ${(cause as Error).message}`, { cause });
    }
  });
}

function versionOf(text: string): number | null {
  const m = /"version":(\d{1,15})[,}]/.exec(text);
  return m ? Number(m[1]) : null;
}

/**
 * Parses and verifies a snapshot as received; throws a {@link StrataClientError} with the rejection code.
 * Whatever else goes wrong while checking a document (one that defeats a check) is `invalid-snapshot` too:
 * every failure here is a refusal, which the client survives by its fallback rules.
 */
function verifySnapshotText(
  text: string,
  chain: Chain,
  trusted: readonly PublicKey[],
): { snapshot: Snapshot; signed: SignedVersion } {
  try {
    return checkSnapshotText(text, chain, trusted);
  } catch (cause) {
    if (cause instanceof StrataClientError) throw cause;
    throw new StrataClientError("invalid-snapshot", `the snapshot cannot be checked: ${(cause as Error).message}`, {
      cause,
      version: versionOf(text),
    });
  }
}

/**
 * What this process verified, by reader (the keys and whatever else the check depends on) and then by the exact
 * text (a Map key is the whole string: only identical bytes hit). Bounded both ways, oldest first out: the
 * memos of verified snapshots and plans below.
 */
class VerifiedTexts<V> {
  private readonly byReader = new Map<string, Map<string, V>>();

  constructor(
    private readonly readersKept: number,
    private readonly textsPerReader: number,
  ) {}

  get(reader: string, text: string): V | undefined {
    return this.byReader.get(reader)?.get(text);
  }

  set(reader: string, text: string, value: V): void {
    let byText = this.byReader.get(reader);
    if (byText === undefined) {
      if (this.byReader.size >= this.readersKept) this.byReader.delete(this.byReader.keys().next().value!);
      this.byReader.set(reader, (byText = new Map()));
    }
    if (byText.size >= this.textsPerReader) byText.delete(byText.keys().next().value!);
    byText.set(text, value);
  }
}

/**
 * Snapshot bytes this process verified, by chain and publishing keys and then the exact text (a Map key is the
 * whole string: only identical bytes hit), with the parsed snapshot deeply frozen and shared. A thousand clients
 * of one process receiving one publish verify its parse, shape, digest and Ed25519 signature once, and build
 * its tree once when it has no secrets ({@link sharedTree}); each still runs every check of its own (expiry,
 * the version it has seen, the plan it follows, its own secrets). Only verified bytes are kept, a few at most:
 * a flood of forged snapshots is verified each time and kept never. Four readers (chain and keys), two texts
 * each: the latest publish and, in a rollout, the other version a plan names (a snapshot may be megabytes: a
 * process with one client keeps at most one more).
 */
const verifiedSnapshots = new VerifiedTexts<{ snapshot: Snapshot; signed: SignedVersion }>(4, 2);

/** {@link verifySnapshotText}, once per snapshot bytes, chain and publishing keys in this process. */
export function verifySnapshotOnce(
  text: string,
  chain: Chain,
  trusted: readonly PublicKey[],
): { snapshot: Snapshot; signed: SignedVersion } {
  const reader = `${chain.environment}/${chain.service ?? ""}/${trusted.map((k) => k.keyid).join(",")}`;
  let verified = verifiedSnapshots.get(reader, text);
  if (verified === undefined) {
    const fresh = verifySnapshotText(text, chain, trusted);
    verified = { snapshot: deepFreeze(fresh.snapshot), signed: fresh.signed };
    verifiedSnapshots.set(reader, text, verified);
  }
  return verified;
}

function checkSnapshotText(
  text: string,
  chain: Chain,
  trusted: readonly PublicKey[],
): { snapshot: Snapshot; signed: SignedVersion } {
  const { environment } = chain;
  let snapshot: Snapshot;
  let signed: SignedVersion;
  try {
    snapshot = parseSnapshot(text);
  } catch (cause) {
    throw new StrataClientError("invalid-snapshot", (cause as Error).message, { cause, version: versionOf(text) });
  }
  try {
    // The verified version a rollout plan may name (core/rollout/plan.ts): the same check, once.
    signed = signedVersion(snapshot, trusted, chain.service);
  } catch (cause) {
    if (cause instanceof StrataError && (cause.code === "digest-mismatch" || cause.code === "invalid-signature")) {
      throw new StrataClientError(cause.code, cause.message, { version: snapshot.version });
    }
    throw new StrataClientError("invalid-snapshot", (cause as Error).message, { cause, version: snapshot.version });
  }
  if (snapshot.environment !== environment) {
    throw new StrataClientError(
      "wrong-environment",
      `snapshot v${snapshot.version} is for environment "${snapshot.environment}", not "${environment}"`,
      { version: snapshot.version },
    );
  }
  // A service reads its own chain: never another service's snapshot, nor the environment's in its place.
  if ((snapshot.service ?? null) !== chain.service) {
    const held = snapshot.service === undefined ? "the environment's" : `service "${snapshot.service}"'s`;
    const wanted = chain.service === null ? "the environment's" : `service "${chain.service}"'s`;
    throw new StrataClientError(
      "wrong-environment",
      `snapshot v${snapshot.version} of ${environment} is ${held}, not ${wanted}`,
      { version: snapshot.version },
    );
  }
  return { snapshot, signed };
}

/**
 * Plan bytes whose signature this process verified, by the rollout keys and then the exact text (a Map key is
 * the whole string: only identical bytes hit). A thousand clients of one process receiving one plan verify its
 * parse, digest and Ed25519 signature once; each still runs every check of its own (environment, service,
 * expiry, the versions it holds, the plan it followed). Only verified bytes are kept, a few at most: a flood
 * of forged plans is verified each time and kept never (eight key sets, eight texts each).
 */
const verifiedPlans = new VerifiedTexts<SignedPlan>(8, 8);

/** verifyPlanText with the signature part done once per plan bytes and rollout keys in this process. */
export function verifyPlanOnce(text: string, options: PlanVerifyOptions): PlanCheck {
  const keys = options.rolloutKeys.map((k) => k.keyid).join(",");
  let signed = verifiedPlans.get(keys, text);
  if (signed === undefined) {
    const check = verifyPlanSignature(text, options.rolloutKeys);
    if (!check.ok) return check;
    signed = { ok: true, plan: deepFreeze(check.plan), keyid: check.keyid };
    verifiedPlans.set(keys, text, signed);
  }
  return checkSignedPlan(signed, options);
}

/** Freezes what every client of the process shares: nobody may change it. */
function deepFreeze<T extends object>(value: T): T {
  const freeze = (v: unknown): void => {
    if (v === null || typeof v !== "object" || Object.isFrozen(v)) return;
    Object.freeze(v);
    for (const x of Object.values(v)) freeze(x);
  };
  freeze(value);
  return value;
}
