/**
 * Change events: what happened to the configuration an environment (or service) runs, for the webhooks an
 * operator configures (io/webhooks: CDEvents, Grafana annotations, Datadog change events). An event carries
 * versions, digests, key paths, the rollout's share and the reason of a decision (metrics, thresholds,
 * sample counts) and never a configuration value: the type has no field that could hold one, and
 * {@link createChangeEvent} checks the key paths it is given.
 */
import { isEqualJson } from "../diff/values.js";
import { isJsonObject, type JsonObject, type JsonValue } from "../json.js";
import { DIGEST_PATTERN } from "../snapshot/canonical.js";
import type { VersionRef } from "../snapshot/snapshot.js";
import type { RolloutState } from "./decide.js";

export const CHANGE_EVENT_KINDS = [
  /** A version published and sent to every client at once (no rollout). */
  "published",
  "rollout-started",
  "rollout-advanced",
  "rollout-paused",
  "rollout-resumed",
  "rollout-promoted",
  "rollout-rolled-back",
  "rollout-aborted",
] as const;
export type ChangeEventKind = (typeof CHANGE_EVENT_KINDS)[number];

export interface ChangeEvent {
  /** Unique and stable per event, so receivers can drop a retried duplicate. */
  id: string;
  kind: ChangeEventKind;
  /** RFC 3339. */
  time: string;
  environment: string;
  service: string | null;
  /** The version clients move to (for a rollback or an abort: the stable version they return to). */
  version: VersionRef;
  /** The version clients move from, when there is one. */
  previous: VersionRef | null;
  rollout: { id: string; planVersion: number; basisPoints: number } | null;
  /** Dotted key paths the version changes (never their values), sorted; at most MAX_EVENT_KEYS. */
  keys: string[];
  /** How many changed key paths there were in all (more than `keys` holds when the list was cut). */
  keyCount: number;
  actor: string | null;
  /** Why (the decision or operator action): versions, metrics, thresholds and samples only. */
  reason: string | null;
  source: { repository: string | null; commit: string | null; pullRequest: number | null } | null;
}

const MAX_EVENT_KEYS = 100;
const KEY_PATH = /^[A-Za-z0-9_$][A-Za-z0-9_$.\-[\]]{0,1023}$/;

export interface ChangeEventInit {
  kind: ChangeEventKind;
  /** Milliseconds since the epoch. */
  time: number;
  environment: string;
  service?: string | null;
  version: VersionRef;
  previous?: VersionRef | null;
  rollout?: ChangeEvent["rollout"];
  keys?: readonly string[];
  actor?: string | null;
  reason?: string | null;
  source?: ChangeEvent["source"];
}

/** Builds an event; throws a RangeError for a key path that is not one (it could be a value). */
export function createChangeEvent(init: ChangeEventInit): ChangeEvent {
  for (const ref of [init.version, init.previous ?? null])
    if (ref !== null && (!Number.isSafeInteger(ref.version) || !DIGEST_PATTERN.test(ref.digest)))
      throw new RangeError("a change event names versions by number and sha256: digest");
  const keys = [...new Set(init.keys ?? [])].sort();
  for (const k of keys)
    if (!KEY_PATH.test(k)) throw new RangeError(`not a key path: ${JSON.stringify(k.slice(0, 40))}`);
  const service = init.service ?? null;
  const scope = `${init.environment}${service === null ? "" : `/${service}`}`;
  const step = init.rollout ? `.p${init.rollout.planVersion}` : "";
  return {
    id: `strata:${scope}:v${init.version.version}${step}:${init.kind}`,
    kind: init.kind,
    time: new Date(init.time).toISOString(),
    environment: init.environment,
    service,
    version: { version: init.version.version, digest: init.version.digest },
    previous: init.previous ? { version: init.previous.version, digest: init.previous.digest } : null,
    rollout: init.rollout ?? null,
    keys: keys.slice(0, MAX_EVENT_KEYS),
    keyCount: keys.length,
    actor: init.actor ?? null,
    reason: init.reason ?? null,
    source: init.source ?? null,
  };
}

/** The event a rollout state change makes (after applyDecision or operate). */
export function rolloutEvent(
  kind: Exclude<ChangeEventKind, "published">,
  state: RolloutState,
  extra: {
    time: number;
    planVersion: number;
    keys?: readonly string[];
    actor?: string | null;
    source?: ChangeEvent["source"];
  },
): ChangeEvent {
  const back = kind === "rollout-rolled-back" || kind === "rollout-aborted";
  return createChangeEvent({
    kind,
    time: extra.time,
    environment: state.environment,
    service: state.service,
    version: back ? state.stable : state.candidate,
    previous: back ? state.candidate : state.stable,
    rollout: { id: state.rolloutId, planVersion: extra.planVersion, basisPoints: state.percent },
    keys: extra.keys ?? [],
    actor: extra.actor ?? null,
    reason: state.reason,
    source: extra.source ?? null,
  });
}

/**
 * The dotted key paths (`namespace.key.sub`) whose values differ between two configs: leaves that changed,
 * appeared or went away; an array is one value. Only paths leave this function, never values. (A snapshot's
 * secrets are ciphertext that is re-encrypted on every change; their paths come from the diff of the
 * source, not from here.)
 */
export function changedKeyPaths(
  before: Readonly<Record<string, JsonObject>> | null,
  after: Readonly<Record<string, JsonObject>>,
): string[] {
  const out: string[] = [];
  const walk = (a: JsonValue | undefined, b: JsonValue | undefined, path: string): void => {
    if (isJsonObject(a) && isJsonObject(b)) {
      for (const k of new Set([...Object.keys(a), ...Object.keys(b)])) walk(a[k], b[k], `${path}.${k}`);
      return;
    }
    if (isEqualJson(a, b)) return;
    // A map replaced by a scalar (or the reverse), or one side missing: every leaf under it changed.
    if (isJsonObject(a) || isJsonObject(b)) {
      const tree = (isJsonObject(a) ? a : b) as JsonObject;
      if (Object.keys(tree).length === 0) out.push(path);
      for (const k of Object.keys(tree))
        walk(isJsonObject(a) ? a[k] : undefined, isJsonObject(b) ? b[k] : undefined, `${path}.${k}`);
      if (!isJsonObject(a) && a !== undefined) out.push(path);
      if (!isJsonObject(b) && b !== undefined) out.push(path);
      return;
    }
    out.push(path);
  };
  const namespaces = new Set([...Object.keys(before ?? {}), ...Object.keys(after)]);
  for (const ns of namespaces) walk(before?.[ns], after[ns], ns);
  return [...new Set(out)].sort();
}
