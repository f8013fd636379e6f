/**
 * Cohorts: which clients run the candidate. Every client has a position in [0, 2^32): the first four bytes
 * (big-endian) of SHA-256 over the canonical JSON array ["strata.cohort.v1", rollout id, "instance",
 * instance id] (or "entity", entity id, for user-facing splits). A plan names a range [0, to) of positions;
 * a client whose position is inside runs the candidate. Hence:
 *
 * - sticky: the position depends on nothing but the rollout and the id, so a restarted client (same
 *   instance id) lands where it was, and every server and client computes the same answer;
 * - monotone: a larger share only raises `to`, so a client in the cohort stays in it as the rollout grows;
 * - fresh per rollout: a new rollout id reshuffles, so the same machines are not always the first to
 *   take a change.
 *
 * A plain hash gives each client an independent coin, so at n clients the share is off the target by
 * about sqrt(p(1−p)/n) (half a point at 10,000 clients and 50%). When the server knows the fleet (the
 * instances it has seen), {@link calibratedBoundary} places `to` at the exact quantile of their positions,
 * so the known fleet's share is the target to within one client, and new clients still fall in at random.
 */
import { canonicalJson, sha256Hex } from "../snapshot/canonical.js";
import { BASIS_POINTS } from "./units.js";

/** Positions are 32-bit: [0, 2^32). */
export const POSITIONS = 2 ** 32;

/** Who a position is for: a client process (sticky per instance id), or an entity (a user, an account). */
export type CohortSubject = { instance: string } | { entity: string };

/** A half-open range of positions [from, to). */
export type PositionRange = readonly [from: number, to: number];

/** The client's position in the rollout's hash space. */
export function cohortPosition(rolloutId: string, subject: CohortSubject): number {
  const [kind, id] = "instance" in subject ? ["instance", subject.instance] : ["entity", subject.entity];
  const hex = sha256Hex(canonicalJson(["strata.cohort.v1", rolloutId, kind, id]));
  return Number.parseInt(hex.slice(0, 8), 16);
}

export function inRange(position: number, range: PositionRange): boolean {
  return position >= range[0] && position < range[1];
}

/** The boundary that puts `bp` basis points of a uniformly random population below it. */
export function uniformBoundary(bp: number): number {
  if (bp <= 0) return 0;
  if (bp >= BASIS_POINTS) return POSITIONS;
  return Math.round((bp * POSITIONS) / BASIS_POINTS);
}

/**
 * The boundary that puts exactly round(bp × n / 10,000) of the known positions below it, never below
 * `atLeast` (the boundary already published in this rollout: the cohort only grows). With no known
 * positions it is the uniform boundary. The boundary sits halfway between the last position inside and the
 * first outside, so that clients the server has not seen yet are split as evenly as the known ones.
 */
export function calibratedBoundary(positions: readonly number[], bp: number, atLeast = 0): number {
  if (bp >= BASIS_POINTS) return POSITIONS;
  if (positions.length === 0 || bp <= 0) return Math.max(atLeast, uniformBoundary(bp));
  const sorted = Float64Array.from(positions).sort();
  const k = Math.round((bp * sorted.length) / BASIS_POINTS);
  let boundary: number;
  if (k === 0) boundary = Math.floor(sorted[0]! / 2);
  else if (k >= sorted.length) boundary = sorted[sorted.length - 1]! + 1;
  else {
    const inside = sorted[k - 1]!;
    const outside = sorted[k]!;
    // Equal positions (a hash collision) cannot be separated: both go in.
    boundary = outside === inside ? inside + 1 : inside + 1 + Math.floor((outside - inside - 1) / 2);
  }
  return Math.min(POSITIONS, Math.max(atLeast, boundary));
}

/** The share (0..1) of `positions` inside `range`. */
export function shareInRange(positions: readonly number[], range: PositionRange): number {
  if (positions.length === 0) return 0;
  let inside = 0;
  for (const p of positions) if (inRange(p, range)) inside++;
  return inside / positions.length;
}
