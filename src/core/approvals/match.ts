/**
 * Which approval rules a set of changes triggers: the configured rules, plus the implicit ones that
 * come from the schema (`x-approvers`) and from environments that require approval but match no rule.
 */
import { normalizeOwner, type ApprovalConfig, type ApprovalRule, type Owner } from "./config.js";
import { matchAnyGlob } from "../glob.js";

/**
 * One changed key in one environment, as approvals see it. Built from the diff (docs/diff.md) and the
 * schema metadata (`x-approvers`) by the caller; see `approvalChangesFromDiff`.
 */
export interface ApprovalChange {
  environment: string;
  /** Dotted path of the leaf: `database.pool.max`. */
  key: string;
  sensitive: boolean;
  /** The key's `x-approvers`; empty when none. */
  approvers: Owner[];
  /** The environment's `production` flag, when known. */
  production?: boolean;
  /** The environment's `approval_required` (docs/reference.md, strata.yaml: default true when production), when known. */
  approvalRequired?: boolean;
  /** The services that receive the change (strata.yaml `services:`); absent or empty: none. */
  services?: string[];
}

/** Where a matched rule came from: strata.yaml, a key's `x-approvers`, or an environment's `approval_required`. */
export type RuleOrigin = "rule" | "x-approvers" | "approval-required";

export interface MatchedRule {
  name: string;
  origin: RuleOrigin;
  require: number;
  from: Owner[];
  /** The changes that triggered it, in input order. */
  changes: ApprovalChange[];
}

function ruleMatches(rule: ApprovalRule, change: ApprovalChange): boolean {
  const { environments, keys, sensitive, services } = rule.when;
  if (environments !== null && !matchAnyGlob(environments, change.environment)) return false;
  if (services !== null && services !== undefined && !(change.services ?? []).some((s) => matchAnyGlob(services, s)))
    return false;
  if (keys !== null && !matchAnyGlob(keys, change.key)) return false;
  if (sensitive !== null && change.sensitive !== sensitive) return false;
  return true;
}

/** Every rule the changes trigger, configured rules first (in file order), then the implicit ones. */
export function matchApprovalRules(config: ApprovalConfig, changes: readonly ApprovalChange[]): MatchedRule[] {
  const matched: MatchedRule[] = [];
  const covered = new Set<string>();
  for (const rule of config.rules) {
    const hits = changes.filter((c) => ruleMatches(rule, c));
    if (hits.length === 0) continue;
    for (const c of hits) covered.add(c.environment);
    matched.push({ name: rule.name, origin: "rule", require: rule.require, from: rule.from, changes: hits });
  }

  // One implicit rule per distinct owner set: a key changed in five environments needs one approval.
  const byOwners = new Map<string, ApprovalChange[]>();
  for (const c of changes) {
    if (c.approvers.length === 0) continue;
    const owners = [...new Set(c.approvers.map(normalizeOwner))].sort();
    const id = owners.join(",");
    byOwners.set(id, [...(byOwners.get(id) ?? []), c]);
    covered.add(c.environment);
  }
  for (const [id, hits] of byOwners) {
    const keys = [...new Set(hits.map((c) => c.key))];
    const named = keys.length <= 3 ? keys.join(", ") : `${keys.slice(0, 3).join(", ")} and ${keys.length - 3} more`;
    matched.push({
      name: `x-approvers of ${named}`,
      origin: "x-approvers",
      require: 1,
      from: id.split(","),
      changes: hits,
    });
  }

  // An environment that requires approval must not be changed on zero approvals just because no rule
  // names it: it gets one approval from anyone.
  const uncovered = changes.filter((c) => c.approvalRequired === true && !covered.has(c.environment));
  if (uncovered.length > 0) {
    const envs = [...new Set(uncovered.map((c) => c.environment))];
    matched.push({
      name: `approval required in ${envs.join(", ")}`,
      origin: "approval-required",
      require: 1,
      from: [],
      changes: uncovered,
    });
  }
  return matched;
}

/** The teams whose members must be known to evaluate these rules, `@org/slug`, sorted. */
export function requiredTeams(rules: readonly MatchedRule[]): string[] {
  return [...new Set(rules.flatMap((r) => r.from.filter((o) => o.includes("/"))))].sort();
}
