/**
 * Rollout policies: the `rollouts:` section of strata.yaml, reviewed in pull requests like every other
 * setting (docs/rollouts.md). This module turns the located YAML into a typed model and reports every
 * problem as a located finding; the section's JSON Schema (settings/strata-yaml-schema.ts) says the same
 * for editors, and a test keeps the two in agreement.
 *
 *   rollouts:
 *     trusted_keys: ["ed25519:…"]           # may sign rollout plans; never content
 *     environments:
 *       staging: all-at-once
 *       production:
 *         canary: { percent: 5, bake: 15m }  # or linear: { step: 20%, every: 5m },
 *                                            #    exponential: { start: 1%, factor: 2, every: 5m }
 *         gates:
 *           - metric: error-rate
 *             max_increase: 0.5%
 *         freeze:
 *           - { from: "2025-12-19T17:00:00Z", until: "2026-01-05T08:00:00Z", reason: year-end }
 *           - { days: [fri], from: "15:00", until: "24:00", timezone: Europe/Berlin }
 *     services:                              # a service's own policy, per environment (inherited too)
 *       checkout:
 *         production: { linear: { step: 10%, every: 10m } }
 *
 * An environment without a policy inherits its nearest ancestor's; with none, it is all-at-once (a push
 * reaches every client at once, as before rollouts existed). A service's chain (strata.yaml `services:`)
 * follows its environment's policy unless `rollouts.services` gives the service one of its own for the
 * environment or an ancestor: the service's own first, then the environment's, each by inheritance.
 */
import { findingAt, type Code, type Finding, type SourcePosition } from "../findings.js";
import { isValidName } from "../names.js";
import { suggestClosest } from "../suggest.js";
import type { LMap, LNode, Pos } from "../yaml/nodes.js";
import {
  isKnownTimeZone,
  overlappingWindows,
  parseInstant,
  parseTimeOfDay,
  WEEKDAYS,
  type FreezeWindow,
  type Weekday,
} from "./freeze.js";
import { checkQueryTemplate, type QueryTemplate } from "./promql.js";
import {
  BASIS_POINTS,
  describe,
  formatDuration,
  formatShare,
  parseDuration,
  parseLatency,
  parseShare,
} from "./units.js";

export type Strategy =
  | { kind: "all-at-once" }
  /** `step` of the clients more every `every` (basis points, milliseconds). */
  | { kind: "linear"; step: number; every: number }
  /** `start`, then `start × factor`, … every `every`. */
  | { kind: "exponential"; start: number; factor: number; every: number }
  /** `percent` of the clients for `bake`, then everyone. */
  | { kind: "canary"; percent: number; bake: number };

export type StrategyKind = Strategy["kind"];
const STRATEGY_KINDS = ["all-at-once", "linear", "exponential", "canary"] as const satisfies StrategyKind[];

export const GATE_METRICS = ["error-rate", "latency", "prometheus"] as const;
export type GateMetric = (typeof GATE_METRICS)[number];

interface GateBase {
  /** Unique within the policy; the metric's name when not given. */
  name: string;
  /** Samples each cohort needs before the gate says anything (requests; latency observations). */
  minSamples: number;
}
/** From SDK and agent reports: errors / requests, candidate cohort against the control. */
export interface ErrorRateGate extends GateBase {
  metric: "error-rate";
  /** The largest tolerated increase of the error rate, as a fraction (0.005 is half a percentage point). */
  maxIncrease: number;
}
/** From SDK and agent reports: mean latency in milliseconds, candidate against the control. */
export interface LatencyGate extends GateBase {
  metric: "latency";
  /** The largest tolerated increase of the mean latency, in milliseconds. */
  maxIncrease: number;
}
/** From Prometheus: a ratio of two counts per cohort (bad events / all events) over the rollout's window. */
export interface PrometheusGate extends GateBase {
  metric: "prometheus";
  bad: QueryTemplate;
  total: QueryTemplate;
  /** The largest tolerated increase of the ratio, as a fraction. */
  maxIncrease: number;
}
export type Gate = ErrorRateGate | LatencyGate | PrometheusGate;

export interface RolloutPolicy {
  /** The environment that declares the policy (children inherit it); null for the default. */
  declaredIn: string | null;
  strategy: Strategy;
  gates: Gate[];
  freeze: FreezeWindow[];
  /**
   * The confidence of every statistical decision of the rollout, in basis points (9900 = 99%): the chance
   * that a rollout of a change that is no worse than the gates allow is rolled back stays below 1 − this.
   */
  confidence: number;
}

export interface RolloutSettings {
  /** Public keys (`ed25519:<base64>`) whose signatures on rollout plans clients accept. */
  trustedKeys: string[];
  /** The policies as declared, by environment; see {@link policyFor}. */
  policies: ReadonlyMap<string, RolloutPolicy>;
  /** A service's own policies as declared (`rollouts.services`), by service, then environment. */
  services: ReadonlyMap<string, ReadonlyMap<string, RolloutPolicy>>;
}

const DEFAULT_CONFIDENCE = 9900;
const DEFAULT_MIN_SAMPLES = 1000;
/** More steps than this is a policy no one meant (exponential from 0.01% by a factor of 1.01). */
const MAX_STEPS = 100;
const MAX_GATES = 20;
const MAX_FREEZE_WINDOWS = 100;
/** The longest wait a policy may ask for between steps. */
const MAX_STEP_DURATION_MS = 30 * 86_400_000;

export const DEFAULT_POLICY: RolloutPolicy = Object.freeze({
  declaredIn: null,
  strategy: Object.freeze({ kind: "all-at-once" as const }),
  gates: [],
  freeze: [],
  confidence: DEFAULT_CONFIDENCE,
});

/**
 * The policy of an environment's chain (`chain`: its inheritance, root first), or of one of its services': the
 * service's own for the environment or its nearest ancestor, else the environment's own, else its nearest
 * ancestor's, else all-at-once.
 */
export function policyFor(
  settings: RolloutSettings,
  chain: readonly string[],
  service: string | null = null,
): RolloutPolicy {
  const own = service === null ? undefined : settings.services.get(service);
  if (own !== undefined)
    for (let i = chain.length - 1; i >= 0; i--) {
      const p = own.get(chain[i]!);
      if (p) return p;
    }
  for (let i = chain.length - 1; i >= 0; i--) {
    const p = settings.policies.get(chain[i]!);
    if (p) return p;
  }
  return DEFAULT_POLICY;
}

const FILE = "strata.yaml";
const PUBLIC_KEY = /^ed25519:[A-Za-z0-9+/]{43}=$/;

const POLICY_KEYS = [...STRATEGY_KINDS, "gates", "freeze", "confidence"];
// `days` and `timezone` make a window weekly; a one-off window with a timezone is reported on its own.
const FREEZE_KEYS = ["from", "until", "days", "timezone", "reason"];
const GATE_KEYS = ["name", "metric", "max_increase", "min_samples", "bad", "total"];

/** Reads the `rollouts:` section of strata.yaml's located root; every problem as a located finding. */
export function parseRolloutSettings(root: LNode | null): { settings: RolloutSettings; findings: Finding[] } {
  const r = new SectionReader();
  const policies = new Map<string, RolloutPolicy>();
  const servicePolicies = new Map<string, Map<string, RolloutPolicy>>();
  const settings: RolloutSettings = { trustedKeys: [], policies, services: servicePolicies };
  const section = root?.kind === "map" ? root.entries.get("rollouts") : undefined;
  if (!root || root.kind !== "map" || !section) return { settings, findings: r.findings };
  const declared = declaredNames(root, "environments");
  const publishingKeys = new Set(stringsAt(root, ["signing", "trusted_keys"]));

  // Empty sections (`rollouts:`, `environments:`, `trusted_keys:`) are allowed while a file is being written.
  const isEmpty = (n: LNode): boolean => n.kind === "scalar" && n.value === null;
  if (isEmpty(section.value)) return { settings, findings: r.findings };
  const node = r.map(section.value, "rollouts");
  if (!node) return { settings, findings: r.findings };
  r.unknownKeys(node, "rollouts", ["trusted_keys", "environments", "services"]);

  const keys = node.entries.get("trusted_keys");
  if (keys && !isEmpty(keys.value)) {
    const list = r.seq(keys.value, "rollouts.trusted_keys");
    for (const [i, item] of (list?.items ?? []).entries()) {
      const where = `rollouts.trusted_keys[${i}]`;
      const text = item.kind === "scalar" ? item.value : null;
      if (typeof text !== "string" || !PUBLIC_KEY.test(text)) {
        r.error("invalid-type", item.pos, `${where} is not an ed25519 public key`, {
          hint: "write public keys as ed25519:<standard base64 of the 32 raw bytes>, as `strata keys generate` prints them",
        });
      } else if (publishingKeys.has(text)) {
        r.error("constraint-violation", item.pos, `${where} is also in signing.trusted_keys`, {
          hint: "a rollout key chooses between versions that a publishing key signed; give it its own key pair (`strata keys generate`) so that neither key can do the other's job",
        });
      } else if (!settings.trustedKeys.includes(text)) settings.trustedKeys.push(text);
    }
  }

  const envs = node.entries.get("environments");
  if (envs && !isEmpty(envs.value)) {
    const map = r.map(envs.value, "rollouts.environments");
    for (const [env, entry] of map?.entries ?? []) {
      if (!isValidName(env) || !declared.has(env)) {
        const near = suggestClosest(env, declared);
        r.error(
          "unknown-environment",
          entry.keyPos,
          `rollouts.environments names "${env}", which is not a declared environment`,
          {
            environment: env,
            hint:
              near !== null ? `did you mean ${near}?` : "fix the name, or declare the environment under environments:",
          },
        );
        continue;
      }
      const policy = readPolicy(r, entry.value, env, `rollouts.environments.${env}`);
      if (policy) policies.set(env, policy);
    }
  }

  const services = node.entries.get("services");
  if (services && !isEmpty(services.value)) {
    const declaredServices = declaredNames(root, "services");
    const map = r.map(services.value, "rollouts.services");
    for (const [service, entry] of map?.entries ?? []) {
      if (!isValidName(service) || !declaredServices.has(service)) {
        const near = suggestClosest(service, declaredServices);
        r.error(
          "unknown-service",
          entry.keyPos,
          `rollouts.services names "${service}", which is not a service declared under services:`,
          {
            hint: near !== null ? `did you mean ${near}?` : "fix the name, or declare the service under services:",
          },
        );
        continue;
      }
      const perEnvironment = r.map(entry.value, `rollouts.services.${service}`);
      const own = new Map<string, RolloutPolicy>();
      for (const [env, e] of perEnvironment?.entries ?? []) {
        if (!isValidName(env) || !declared.has(env)) {
          const near = suggestClosest(env, declared);
          r.error(
            "unknown-environment",
            e.keyPos,
            `rollouts.services.${service} names "${env}", which is not a declared environment`,
            {
              environment: env,
              hint:
                near !== null
                  ? `did you mean ${near}?`
                  : "fix the name, or declare the environment under environments:",
            },
          );
          continue;
        }
        const policy = readPolicy(r, e.value, env, `rollouts.services.${service}.${env}`);
        if (policy) own.set(env, policy);
      }
      if (own.size > 0) servicePolicies.set(service, own);
    }
  }
  return { settings, findings: r.findings };
}

function readPolicy(r: SectionReader, node: LNode, env: string, where: string): RolloutPolicy | null {
  if (node.kind === "scalar" && node.value === "all-at-once")
    return { ...DEFAULT_POLICY, declaredIn: env, gates: [], freeze: [] };
  if (node.kind !== "map") {
    r.error("invalid-type", node.pos, `${where} must be "all-at-once" or a map with a strategy`, {
      hint: "e.g. canary: { percent: 5, bake: 15m }",
    });
    return null;
  }
  const before = r.findings.length;
  r.unknownKeys(node, where, POLICY_KEYS);
  // In the order written, so that a second strategy is reported where it stands.
  const strategies = [...node.entries.keys()].filter((k): k is StrategyKind =>
    (STRATEGY_KINDS as readonly string[]).includes(k),
  );
  let strategy: Strategy | null = null;
  if (strategies.length === 0)
    r.error("missing-required", node.pos, `${where} has no strategy`, {
      hint: `give one of ${STRATEGY_KINDS.join(", ")}`,
    });
  else if (strategies.length > 1)
    r.error(
      "constraint-violation",
      node.entries.get(strategies[1]!)!.keyPos,
      `${where} has more than one strategy (${strategies.join(", ")})`,
      {
        hint: "keep one",
      },
    );
  else strategy = readStrategy(r, strategies[0]!, node.entries.get(strategies[0]!)!.value, `${where}.${strategies[0]}`);

  let confidence = DEFAULT_CONFIDENCE;
  const conf = node.entries.get("confidence");
  if (conf) {
    const v = r.share(conf.value, `${where}.confidence`);
    if (v !== null && (v < 8000 || v > 9999))
      r.error(
        "constraint-violation",
        conf.value.pos,
        `${where}.confidence must be between 80% and 99.99%, not ${formatShare(v)}`,
      );
    else if (v !== null) confidence = v;
  }

  const gates: Gate[] = [];
  const gatesEntry = node.entries.get("gates");
  if (gatesEntry) {
    const list = r.seq(gatesEntry.value, `${where}.gates`);
    const items = list?.items ?? [];
    if (items.length > MAX_GATES)
      r.error(
        "constraint-violation",
        gatesEntry.value.pos,
        `${where}.gates has ${items.length} gates; at most ${MAX_GATES} are allowed`,
      );
    const names = new Map<string, Pos>();
    for (const [i, item] of items.slice(0, MAX_GATES).entries()) {
      const gate = readGate(r, item, `${where}.gates[${i}]`);
      if (!gate) continue;
      const seen = names.get(gate.name);
      if (seen) {
        r.error(
          "constraint-violation",
          item.pos,
          `${where}.gates[${i}] is a second gate named "${gate.name}" (the first is at line ${seen.line})`,
          {
            hint: "give each gate its own name:",
          },
        );
        continue;
      }
      names.set(gate.name, item.pos);
      gates.push(gate);
    }
    if (strategy?.kind === "all-at-once" && gates.length > 0)
      r.error(
        "constraint-violation",
        gatesEntry.keyPos,
        `${where} is all-at-once, which has no control group for gates to compare with`,
        {
          hint: "choose canary, linear or exponential, or remove the gates",
        },
      );
  }

  const freeze: FreezeWindow[] = [];
  const freezeEntry = node.entries.get("freeze");
  if (freezeEntry) {
    const list = r.seq(freezeEntry.value, `${where}.freeze`);
    const items = list?.items ?? [];
    if (items.length > MAX_FREEZE_WINDOWS)
      r.error(
        "constraint-violation",
        freezeEntry.value.pos,
        `${where}.freeze has ${items.length} windows; at most ${MAX_FREEZE_WINDOWS} are allowed`,
      );
    const positions: Pos[] = [];
    for (const [i, item] of items.slice(0, MAX_FREEZE_WINDOWS).entries()) {
      const w = readFreezeWindow(r, item, `${where}.freeze[${i}]`);
      if (w) {
        freeze.push(w);
        positions.push(item.pos);
      }
    }
    for (const [a, b] of overlappingWindows(freeze))
      r.error(
        "constraint-violation",
        positions[b]!,
        `${where}.freeze: this window overlaps the one at line ${positions[a]!.line}`,
        {
          hint: "merge the two into one window, so that the calendar says once when changes are frozen",
        },
      );
  }
  if (strategy === null || r.findings.length > before) return null;
  return { declaredIn: env, strategy, gates, freeze, confidence };
}

function readStrategy(r: SectionReader, kind: StrategyKind, node: LNode, where: string): Strategy | null {
  if (kind === "all-at-once") {
    if (node.kind === "scalar" && node.value === true) return { kind };
    r.error("invalid-type", node.pos, `${where} must be true`, { hint: "or write the whole policy as `all-at-once`" });
    return null;
  }
  const map = r.map(node, where);
  if (!map) return null;
  const fields = { linear: ["step", "every"], exponential: ["start", "factor", "every"], canary: ["percent", "bake"] }[
    kind
  ];
  r.unknownKeys(map, where, fields);
  const missing = fields.filter((f) => !map.entries.has(f));
  for (const f of missing) r.error("missing-required", map.pos, `${where} must have "${f}"`);
  if (missing.length > 0) return null;
  const value = (f: string): LNode => map.entries.get(f)!.value;
  const partial = (f: string): number | null => {
    const v = r.share(value(f), `${where}.${f}`);
    if (v === null) return null;
    if (v <= 0 || v >= BASIS_POINTS) {
      r.error(
        "constraint-violation",
        value(f).pos,
        `${where}.${f} must be above 0% and below 100%, not ${formatShare(v)}`,
        {
          hint: "the last step to 100% is the promotion, which the strategy takes by itself",
        },
      );
      return null;
    }
    return v;
  };
  const wait = (f: string): number | null => r.duration(value(f), `${where}.${f}`, 1000, MAX_STEP_DURATION_MS);
  let strategy: Strategy | null = null;
  switch (kind) {
    case "linear": {
      const [step, every] = [partial("step"), wait("every")];
      if (step !== null && every !== null) strategy = { kind, step, every };
      break;
    }
    case "exponential": {
      const [start, every] = [partial("start"), wait("every")];
      const f = value("factor");
      const factor = f.kind === "scalar" && typeof f.value === "number" && Number.isFinite(f.value) ? f.value : null;
      if (factor === null || factor <= 1 || factor > 100)
        r.error(
          "constraint-violation",
          f.pos,
          `${where}.factor must be a number above 1 and at most 100, not ${describe(factor ?? (f.kind === "scalar" ? f.value : null))}`,
        );
      else if (start !== null && every !== null) strategy = { kind, start, factor, every };
      break;
    }
    case "canary": {
      const [percent, bake] = [partial("percent"), wait("bake")];
      if (percent !== null && bake !== null) strategy = { kind, percent, bake };
      break;
    }
  }
  if (strategy) {
    const steps = stepPercents(strategy);
    if (steps.length > MAX_STEPS)
      r.error(
        "constraint-violation",
        map.pos,
        `${where} takes ${steps.length} steps to reach 100%; at most ${MAX_STEPS} are allowed`,
        {
          hint: "take larger steps",
        },
      );
    return steps.length > MAX_STEPS ? null : strategy;
  }
  return strategy;
}

/**
 * The shares (basis points, rising) a strategy holds before the promotion to everyone; empty for
 * all-at-once. Exponential steps are rounded to basis points and always rise by at least one.
 */
export function stepPercents(strategy: Strategy): number[] {
  const out: number[] = [];
  const push = (bp: number): boolean => {
    if (bp >= BASIS_POINTS || out.length > MAX_STEPS) return false;
    out.push(bp);
    return true;
  };
  switch (strategy.kind) {
    case "all-at-once":
      return out;
    case "canary":
      push(strategy.percent);
      return out;
    case "linear":
      for (let bp = strategy.step; push(bp); bp += strategy.step);
      return out;
    case "exponential":
      for (let x = strategy.start, bp = strategy.start; push(bp);) {
        x *= strategy.factor;
        bp = Math.max(bp + 1, Math.round(x));
      }
      return out;
  }
}

function readGate(r: SectionReader, node: LNode, where: string): Gate | null {
  const map = r.map(node, where);
  if (!map) return null;
  const before = r.findings.length;
  r.unknownKeys(map, where, GATE_KEYS);
  const metricNode = map.entries.get("metric")?.value;
  const metric = metricNode?.kind === "scalar" ? metricNode.value : undefined;
  if (metricNode === undefined) {
    r.error("missing-required", map.pos, `${where} must have "metric"`, { hint: `one of ${GATE_METRICS.join(", ")}` });
    return null;
  }
  if (typeof metric !== "string" || !(GATE_METRICS as readonly string[]).includes(metric)) {
    const near = typeof metric === "string" ? suggestClosest(metric, GATE_METRICS) : null;
    r.error(
      "invalid-type",
      metricNode.pos,
      `${where}.metric is ${describe(metric)}; the metrics are ${GATE_METRICS.join(", ")}`,
      {
        hint: near !== null ? `did you mean ${near}?` : null,
      },
    );
    return null;
  }
  const nameNode = map.entries.get("name")?.value;
  let name: string = metric;
  if (nameNode) {
    if (nameNode.kind === "scalar" && typeof nameNode.value === "string" && isValidName(nameNode.value))
      name = nameNode.value;
    else r.error("invalid-name", nameNode.pos, `${where}.name must be a name (a-z, 0-9 and -, at most 64 characters)`);
  }
  let minSamples = DEFAULT_MIN_SAMPLES;
  const minNode = map.entries.get("min_samples")?.value;
  if (minNode) {
    const v = minNode.kind === "scalar" ? minNode.value : null;
    if (typeof v !== "number" || !Number.isSafeInteger(v) || v < 1 || v > 1e12)
      r.error(
        "constraint-violation",
        minNode.pos,
        `${where}.min_samples must be a whole number from 1 to 10^12, not ${describe(v)}`,
      );
    else minSamples = v;
  }
  const maxNode = map.entries.get("max_increase")?.value;
  let maxIncrease: number | null = null;
  if (!maxNode)
    r.error("missing-required", map.pos, `${where} must have "max_increase"`, {
      hint:
        metric === "latency"
          ? 'the largest tolerated increase of the mean, e.g. "25ms"'
          : 'the largest tolerated increase in percentage points, e.g. "0.5%"',
    });
  else if (metric === "latency") {
    const v = parseLatency(maxNode.kind === "scalar" ? maxNode.value : null);
    if (!v.ok) r.error("invalid-type", maxNode.pos, `${where}.max_increase: ${v.message}`);
    else if (v.value <= 0) r.error("constraint-violation", maxNode.pos, `${where}.max_increase must be above 0ms`);
    else maxIncrease = v.value;
  } else {
    // A rate threshold is written with its % (`0.5%` is half a percentage point): a bare 0.5 could mean 50%.
    const raw = maxNode.kind === "scalar" ? maxNode.value : null;
    const v =
      typeof raw === "string"
        ? parseShare(raw)
        : ({ ok: false, message: `${describe(raw)} is not a percentage` } as const);
    if (!v.ok)
      r.error("invalid-type", maxNode.pos, `${where}.max_increase: ${v.message}`, {
        hint: 'write the largest tolerated increase in percentage points with its %, e.g. "0.5%"',
      });
    else if (v.value <= 0)
      r.error("constraint-violation", maxNode.pos, `${where}.max_increase must be above 0%`, {
        hint: "with no tolerance at all, no rollout could ever show that the candidate is good enough",
      });
    else maxIncrease = v.value / BASIS_POINTS;
  }
  let bad: QueryTemplate | null = null;
  let total: QueryTemplate | null = null;
  if (metric === "prometheus") {
    bad = readQuery(r, map, "bad", where);
    total = readQuery(r, map, "total", where);
  } else {
    for (const q of ["bad", "total"])
      if (map.entries.has(q))
        r.error(
          "constraint-violation",
          map.entries.get(q)!.keyPos,
          `${where}.${q} is a query, which only a prometheus gate has`,
        );
  }
  if (r.findings.length > before || maxIncrease === null) return null;
  if (metric === "prometheus") return { name, metric, minSamples, maxIncrease, bad: bad!, total: total! };
  return { name, metric: metric as "error-rate" | "latency", minSamples, maxIncrease };
}

function readQuery(r: SectionReader, map: LMap, field: "bad" | "total", where: string): QueryTemplate | null {
  const entry = map.entries.get(field);
  if (!entry) {
    r.error("missing-required", map.pos, `${where} must have "${field}"`, {
      hint:
        field === "bad"
          ? 'a PromQL query counting the bad events of a cohort, e.g. sum(increase(http_requests_total{code=~"5..",strata_config_version="{{version}}"}[{{window}}]))'
          : 'a PromQL query counting all events of a cohort, e.g. sum(increase(http_requests_total{strata_config_version="{{version}}"}[{{window}}]))',
    });
    return null;
  }
  const v = entry.value;
  if (v.kind !== "scalar" || typeof v.value !== "string") {
    r.error("invalid-type", v.pos, `${where}.${field} must be a PromQL query (a string)`);
    return null;
  }
  const { template, problems } = checkQueryTemplate(v.value);
  for (const p of problems) r.error("constraint-violation", v.pos, `${where}.${field}: ${p}`);
  return template;
}

function readFreezeWindow(r: SectionReader, node: LNode, where: string): FreezeWindow | null {
  const map = r.map(node, where);
  if (!map) return null;
  const before = r.findings.length;
  const weekly = map.entries.has("days");
  r.unknownKeys(map, where, FREEZE_KEYS);
  const reasonNode = map.entries.get("reason")?.value;
  let reason: string | null = null;
  if (reasonNode) {
    if (reasonNode.kind === "scalar" && typeof reasonNode.value === "string" && reasonNode.value.length <= 200)
      reason = reasonNode.value;
    else r.error("invalid-type", reasonNode.pos, `${where}.reason must be a text of at most 200 characters`);
  }
  for (const f of ["from", "until"])
    if (!map.entries.has(f)) r.error("missing-required", map.pos, `${where} must have "${f}"`);
  if (r.findings.length > before) return null;
  const from = map.entries.get("from")!.value;
  const until = map.entries.get("until")!.value;
  const scalar = (n: LNode): unknown => (n.kind === "scalar" ? n.value : null);

  if (!weekly) {
    if (map.entries.has("timezone"))
      r.error(
        "constraint-violation",
        map.entries.get("timezone")!.keyPos,
        `${where}.timezone applies to weekly windows (with days:); a one-off window's times carry their own offset`,
      );
    const start = parseInstant(scalar(from));
    const end = parseInstant(scalar(until));
    const hint =
      'write an RFC 3339 time with its offset, e.g. "2025-12-19T17:00:00Z" or "2025-12-19T18:00:00+01:00" (quoted)';
    if (start === null)
      r.error("invalid-type", from.pos, `${where}.from is ${describe(scalar(from))}, not a time`, { hint });
    if (end === null)
      r.error("invalid-type", until.pos, `${where}.until is ${describe(scalar(until))}, not a time`, { hint });
    if (start !== null && end !== null && end <= start)
      r.error("constraint-violation", until.pos, `${where}.until is not after from: the window would never be open`);
    if (r.findings.length > before) return null;
    return { kind: "once", start: start!, end: end!, reason };
  }

  const daysNode = map.entries.get("days")!.value;
  const days: Weekday[] = [];
  const daysList = r.seq(daysNode, `${where}.days`);
  for (const item of daysList?.items ?? []) {
    const d = item.kind === "scalar" && typeof item.value === "string" ? item.value.toLowerCase() : null;
    if (d === null || !(WEEKDAYS as readonly string[]).includes(d))
      r.error(
        "invalid-type",
        item.pos,
        `${where}.days: ${describe(item.kind === "scalar" ? item.value : null)} is not a day`,
        {
          hint: `the days are ${WEEKDAYS.join(", ")}`,
        },
      );
    else if (days.includes(d as Weekday)) r.error("constraint-violation", item.pos, `${where}.days lists ${d} twice`);
    else days.push(d as Weekday);
  }
  if (daysList && daysList.items.length === 0) r.error("constraint-violation", daysNode.pos, `${where}.days is empty`);
  const fromMin = parseTimeOfDay(scalar(from));
  const untilMin = parseTimeOfDay(scalar(until));
  const hint = 'write a time of day as "HH:MM" in quotes, from "00:00" to "24:00"';
  if (fromMin === null)
    r.error("invalid-type", from.pos, `${where}.from is ${describe(scalar(from))}, not a time of day`, { hint });
  else if (fromMin === 1440)
    r.error("constraint-violation", from.pos, `${where}.from cannot be 24:00`, {
      hint: 'start the window at "00:00" of the next day',
    });
  if (untilMin === null)
    r.error("invalid-type", until.pos, `${where}.until is ${describe(scalar(until))}, not a time of day`, { hint });
  if (fromMin !== null && untilMin !== null && fromMin === untilMin)
    r.error("constraint-violation", until.pos, `${where}: from and until are the same time`, {
      hint: 'for whole days write from: "00:00" and until: "24:00"',
    });
  let timeZone = "UTC";
  const tzNode = map.entries.get("timezone")?.value;
  if (tzNode) {
    const tz = scalar(tzNode);
    if (typeof tz !== "string" || !isKnownTimeZone(tz))
      r.error("invalid-type", tzNode.pos, `${where}.timezone is ${describe(tz)}, not a known time zone`, {
        hint: 'an IANA time zone name, e.g. "Europe/Berlin", "America/New_York" or "UTC"',
      });
    else timeZone = tz;
  }
  if (r.findings.length > before) return null;
  return { kind: "weekly", days, from: fromMin!, until: untilMin!, timeZone, reason };
}

/** The names a top-level section of strata.yaml declares (`environments:`, `services:`). */
function declaredNames(root: LMap, section: string): Set<string> {
  const node = root.entries.get(section)?.value;
  return new Set(node?.kind === "map" ? node.entries.keys() : []);
}

function stringsAt(root: LMap, path: string[]): string[] {
  let node: LNode | undefined = root;
  for (const seg of path) node = node?.kind === "map" ? node.entries.get(seg)?.value : undefined;
  if (node?.kind !== "seq") return [];
  return node.items.flatMap((i) => (i.kind === "scalar" && typeof i.value === "string" ? [i.value] : []));
}

/** Reads one section's nodes and collects located findings. */
class SectionReader {
  readonly findings: Finding[] = [];

  error(code: Code, pos: Pos, message: string, extra: { hint?: string | null; environment?: string } = {}): void {
    const at: SourcePosition = { file: FILE, line: pos.line, column: pos.column };
    this.findings.push(
      findingAt(code, at, message, {
        hint: extra.hint ?? null,
        ...(extra.environment ? { environment: extra.environment } : {}),
      }),
    );
  }

  map(node: LNode, where: string): LMap | null {
    if (node.kind === "map") return node;
    this.error("invalid-type", node.pos, `${where} must be a map`);
    return null;
  }

  seq(node: LNode, where: string): Extract<LNode, { kind: "seq" }> | null {
    if (node.kind === "seq") return node;
    this.error("invalid-type", node.pos, `${where} must be a list`);
    return null;
  }

  unknownKeys(map: LMap, where: string, known: readonly string[]): void {
    for (const [key, entry] of map.entries) {
      if (known.includes(key)) continue;
      const near = suggestClosest(key, known);
      this.error("unknown-key", entry.keyPos, `unknown setting "${where}.${key}"`, {
        hint: near !== null ? `did you mean ${near}?` : `the settings here are ${known.join(", ")}`,
      });
    }
  }

  share(node: LNode, where: string): number | null {
    const v = parseShare(node.kind === "scalar" ? node.value : null);
    if (v.ok) return v.value;
    this.error("invalid-type", node.pos, `${where}: ${v.message}`);
    return null;
  }

  duration(node: LNode, where: string, min: number, max: number): number | null {
    const v = parseDuration(node.kind === "scalar" ? node.value : null);
    if (!v.ok) {
      this.error("invalid-type", node.pos, `${where}: ${v.message}`);
      return null;
    }
    if (v.value < min || v.value > max) {
      this.error(
        "constraint-violation",
        node.pos,
        `${where} must be between ${formatDuration(min)} and ${formatDuration(max)}`,
      );
      return null;
    }
    return v.value;
  }
}
