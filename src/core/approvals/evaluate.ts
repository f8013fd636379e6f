/**
 * Rules x reviews -> decision (docs/github.md). Pure: reviews, labels and team members are looked up by the
 * caller beforehand (`requiredTeams` says which teams).
 */
import { isTeamOwner, normalizeOwner, type ApprovalConfig, type Owner } from "./config.js";
import { matchApprovalRules, type ApprovalChange, type MatchedRule, type RuleOrigin } from "./match.js";

export type ReviewState = "APPROVED" | "CHANGES_REQUESTED" | "COMMENTED" | "DISMISSED" | "PENDING";

/** One pull request review, reduced to what the decision needs. */
export interface PullRequestReview {
  id: number;
  login: string;
  state: ReviewState;
  /** The head commit the review was given on. */
  commitId: string | null;
  submittedAt: string | null;
  /**
   * GitHub's `author_association` of the reviewer (OWNER, MEMBER, COLLABORATOR, CONTRIBUTOR, NONE…).
   * Rules that name no owner count only reviewers who belong to the repository; unknown counts.
   */
  association?: string;
}

/** Associations of people with a say in the repository: anyone else can review a public repository. */
const TRUSTED_ASSOCIATIONS = new Set(["OWNER", "MEMBER", "COLLABORATOR"]);

export interface ApprovalContext {
  /** The pull request's author: never counts as an approver. */
  author: string;
  /** The pull request's current head commit, to tell stale approvals. */
  headSha: string;
  labels: readonly string[];
  /** `@org/slug` -> member logins, for every team in `requiredTeams(...)`. */
  teams: Readonly<Record<string, readonly string[]>>;
}

/** What one reviewer's latest decisive review amounts to. */
export interface ReviewerVerdict {
  login: string;
  state: "approved" | "changes-requested";
  commitId: string | null;
  /** An approval that counts: not stale (or stale approvals allowed). */
  counts: boolean;
  /** Why an approval does not count. */
  reason: "stale" | null;
  /** Owner, member or collaborator of the repository (counts for rules that name no owner). */
  member: boolean;
}

export interface RuleResult {
  name: string;
  origin: RuleOrigin;
  /** As configured (or implied). */
  require: number;
  /** After the emergency label, if any. */
  required: number;
  from: Owner[];
  /** `environment: key` of the changes that triggered the rule. */
  changes: { environment: string; key: string }[];
  approvedBy: string[];
  missing: number;
  met: boolean;
}

export interface ApprovalDecision {
  met: boolean;
  /** The commit status state. */
  state: "success" | "failure" | "pending";
  rules: RuleResult[];
  reviewers: ReviewerVerdict[];
  /** Every approval that counts, whether or not a rule needed it (the snapshot's `source.approvedBy`). */
  approvedBy: string[];
  changesRequestedBy: string[];
  /** The emergency label and whether it is on the pull request; null when none is configured. */
  emergency: { label: string; require: number; active: boolean } | null;
  /** Teams named by a matched rule whose members were not supplied. */
  unresolvedTeams: string[];
  /** The commit status description (GitHub keeps 140 characters). */
  description: string;
}

const DECISIVE = new Set<ReviewState>(["APPROVED", "CHANGES_REQUESTED"]);

/**
 * The latest decisive review of every reviewer but the author. COMMENTED reviews do not replace an
 * approval (as on GitHub); DISMISSED ones are gone, so an earlier review of the same reviewer stands.
 */
function summarizeReviews(
  reviews: readonly PullRequestReview[],
  context: Pick<ApprovalContext, "author" | "headSha">,
  dismissStale: boolean,
): ReviewerVerdict[] {
  const author = normalizeOwner(context.author);
  const ordered = reviews
    .map((r, i) => ({ r, i }))
    .sort((a, b) => (a.r.submittedAt ?? "").localeCompare(b.r.submittedAt ?? "") || a.r.id - b.r.id || a.i - b.i)
    .map(({ r }) => r);
  const latest = new Map<string, PullRequestReview>();
  for (const r of ordered) {
    const login = normalizeOwner(r.login);
    if (login === author || !DECISIVE.has(r.state)) continue;
    latest.set(login, r);
  }
  return [...latest]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([login, r]): ReviewerVerdict => {
      const member = r.association === undefined || TRUSTED_ASSOCIATIONS.has(r.association);
      if (r.state === "CHANGES_REQUESTED")
        return { login, state: "changes-requested", commitId: r.commitId, counts: false, reason: null, member };
      const stale = dismissStale && r.commitId !== null && r.commitId !== context.headSha;
      return { login, state: "approved", commitId: r.commitId, counts: !stale, reason: stale ? "stale" : null, member };
    });
}

function isOwnedBy(reviewer: ReviewerVerdict, owners: readonly Owner[], teams: ApprovalContext["teams"]): boolean {
  if (owners.length === 0) return reviewer.member;
  const login = reviewer.login;
  return owners.some((o) => (isTeamOwner(o) ? (teams[o] ?? []).some((m) => normalizeOwner(m) === login) : o === login));
}

/** Evaluates every rule the changes trigger against the pull request's reviews. */
export function evaluateApprovals(
  config: ApprovalConfig,
  changes: readonly ApprovalChange[],
  reviews: readonly PullRequestReview[],
  context: ApprovalContext,
): ApprovalDecision {
  return decideApprovals(config, matchApprovalRules(config, changes), reviews, context);
}

/** As `evaluateApprovals`, for rules already matched. */
export function decideApprovals(
  config: ApprovalConfig,
  matched: readonly MatchedRule[],
  reviews: readonly PullRequestReview[],
  context: ApprovalContext,
): ApprovalDecision {
  const teams: Record<string, readonly string[]> = {};
  for (const [team, members] of Object.entries(context.teams)) teams[normalizeOwner(team)] = members;
  const reviewers = summarizeReviews(reviews, context, config.dismissStale);
  const counted = reviewers.filter((r) => r.counts);
  const approvers = counted.map((r) => r.login);
  const changesRequestedBy = reviewers.filter((r) => r.state === "changes-requested").map((r) => r.login);
  const labels = new Set(context.labels.map((l) => l.toLowerCase()));
  const emergency =
    config.emergency === null
      ? null
      : { ...config.emergency, active: labels.has(config.emergency.label.toLowerCase()) };

  const rules = matched.map((rule): RuleResult => {
    const required = emergency?.active ? Math.min(rule.require, emergency.require) : rule.require;
    const approvedBy = counted.filter((r) => isOwnedBy(r, rule.from, teams)).map((r) => r.login);
    const missing = Math.max(0, required - approvedBy.length);
    return {
      name: rule.name,
      origin: rule.origin,
      require: rule.require,
      required,
      from: rule.from,
      changes: rule.changes.map((c) => ({ environment: c.environment, key: c.key })),
      approvedBy,
      missing,
      met: missing === 0,
    };
  });
  const unresolvedTeams = [
    ...new Set(matched.flatMap((r) => r.from.filter((o) => isTeamOwner(o) && teams[o] === undefined))),
  ].sort();
  const met = rules.every((r) => r.met) && changesRequestedBy.length === 0;
  const state = met ? "success" : changesRequestedBy.length > 0 ? "failure" : "pending";
  const decision: ApprovalDecision = {
    met,
    state,
    rules,
    reviewers,
    approvedBy: approvers,
    changesRequestedBy,
    emergency,
    unresolvedTeams,
    description: "",
  };
  decision.description = describeDecision(decision);
  return decision;
}

/** `@acme/sre`, `@alice`; any reviewer when a rule names nobody. */
export function formatOwners(owners: readonly Owner[]): string {
  if (owners.length === 0) return "any reviewer";
  return owners.map((o) => (o.startsWith("@") ? o : `@${o}`)).join(" or ");
}

/** What a rule still needs: "1 more from @acme/sre". */
export function describeMissing(rule: Pick<RuleResult, "missing" | "from">): string {
  return rule.from.length === 0
    ? `${rule.missing} more approval${rule.missing === 1 ? "" : "s"}`
    : `${rule.missing} more from ${formatOwners(rule.from)}`;
}

const STATUS_DESCRIPTION_LIMIT = 140;

/** The short commit-status description: "needs 1 more from @acme/sre". */
function describeDecision(d: Omit<ApprovalDecision, "description">): string {
  const prefix = d.emergency?.active ? `emergency (${d.emergency.label}): ` : "";
  let text: string;
  if (d.changesRequestedBy.length > 0)
    text = `changes requested by ${d.changesRequestedBy.map((l) => `@${l}`).join(", ")}`;
  else if (!d.met) {
    // Several rules may wait on the same owners: say each distinct need once.
    const needs = [...new Set(d.rules.filter((r) => !r.met).map(describeMissing))];
    text = `needs ${needs.join("; ")}`;
  } else if (d.rules.length === 0) text = "no approval required";
  else
    text = `approved by ${
      d.rules
        .flatMap((r) => r.approvedBy)
        .filter((l, i, a) => a.indexOf(l) === i)
        .map((l) => `@${l}`)
        .join(", ") || "nobody needed"
    }`;
  const full = prefix + text;
  return full.length <= STATUS_DESCRIPTION_LIMIT ? full : `${full.slice(0, STATUS_DESCRIPTION_LIMIT - 1)}…`;
}
