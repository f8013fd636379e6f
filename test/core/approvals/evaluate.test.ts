import { describe, expect, it } from "vitest";
import { readApprovalPolicy } from "../../../src/app/approvals/read-policy.js";
import {
  evaluateApprovals,
  type ApprovalContext,
  type PullRequestReview,
} from "../../../src/core/approvals/evaluate.js";
import { approvalChangesFromDiff } from "../../../src/core/approvals/from-diff.js";
import { matchApprovalRules, requiredTeams, type ApprovalChange } from "../../../src/core/approvals/match.js";
import { renderApprovalsMarkdown } from "../../../src/core/approvals/markdown.js";

const { config } = await readApprovalPolicy(`approvals:
  rules:
    - name: production
      when: { environments: ["production*"] }
      require: 2
      from: ["@acme/sre"]
    - name: secrets
      when: { sensitive: true }
      require: 1
      from: ["@acme/security"]
    - name: database-owners
      when: { keys: ["database.**"] }
      require: 1
      from: ["@acme/dba", "alice"]
  emergency: { label: config-emergency, require: 1 }
`);

const HEAD = "h2";
const teams = { "@acme/sre": ["sre1", "sre2", "SRE3", "author"], "@acme/security": ["sec1"], "@acme/dba": ["dba1"] };
const context = (over: Partial<ApprovalContext> = {}): ApprovalContext => ({
  author: "author",
  headSha: HEAD,
  labels: [],
  teams,
  ...over,
});
const change = (environment: string, key: string, over: Partial<ApprovalChange> = {}): ApprovalChange => ({
  environment,
  key,
  sensitive: false,
  approvers: [],
  ...over,
});
let nextId = 1;
const review = (
  login: string,
  state: PullRequestReview["state"],
  over: Partial<PullRequestReview> = {},
): PullRequestReview => {
  const id = nextId++;
  return { id, login, state, commitId: HEAD, submittedAt: `2026-01-01T00:00:${String(id).padStart(2, "0")}Z`, ...over };
};

const prodChange = [change("production", "http.timeout")];

describe("matchApprovalRules", () => {
  it("combines every matching rule", () => {
    const changes = [
      change("production-eu", "database.pool.max"),
      change("staging", "database.password", { sensitive: true }),
    ];
    const m = matchApprovalRules(config, changes);
    expect(m.map((r) => [r.name, r.changes.map((c) => `${c.environment}:${c.key}`)])).toEqual([
      ["production", ["production-eu:database.pool.max"]],
      ["secrets", ["staging:database.password"]],
      ["database-owners", ["production-eu:database.pool.max", "staging:database.password"]],
    ]);
    expect(requiredTeams(m)).toEqual(["@acme/dba", "@acme/security", "@acme/sre"]);
  });

  it("turns x-approvers into one implicit rule per owner set", () => {
    const changes = [
      change("staging", "billing.rate", { approvers: ["@acme/billing"] }),
      change("production", "billing.rate", { approvers: ["@acme/billing"] }),
    ];
    const m = matchApprovalRules({ ...config, rules: [] }, changes);
    expect(m).toHaveLength(1);
    expect(m[0]).toMatchObject({
      origin: "x-approvers",
      require: 1,
      from: ["@acme/billing"],
      name: "x-approvers of billing.rate",
    });
  });

  it("names an x-approvers rule by its first keys", () => {
    const changes = ["a.b", "a.c", "a.d", "a.e"].map((k) => change("staging", k, { approvers: ["bob"] }));
    expect(matchApprovalRules({ ...config, rules: [] }, changes)[0]?.name).toBe(
      "x-approvers of a.b, a.c, a.d and 1 more",
    );
  });

  it("requires one approval in an approval_required environment no rule covers", () => {
    const m = matchApprovalRules({ ...config, rules: [] }, [
      change("prod", "a.b", { approvalRequired: true }),
      change("dev", "a.b", { approvalRequired: false }),
    ]);
    expect(m.map((r) => [r.origin, r.require, r.from, r.changes.length])).toEqual([["approval-required", 1, [], 1]]);
  });

  it("matches nothing for an unruled environment", () => {
    expect(matchApprovalRules(config, [change("staging", "http.timeout")])).toEqual([]);
  });
});

describe("evaluateApprovals (issue 6 scenarios)", () => {
  it.each<
    [
      string,
      ApprovalChange[],
      PullRequestReview[],
      Partial<ApprovalContext>,
      { met: boolean; state: string; description: string },
    ]
  >([
    [
      "approvals met",
      prodChange,
      [review("sre1", "APPROVED"), review("sre2", "APPROVED")],
      {},
      { met: true, state: "success", description: "approved by @sre1, @sre2" },
    ],
    [
      "a required team missing",
      [change("production", "database.password", { sensitive: true })],
      [review("sre1", "APPROVED"), review("sre2", "APPROVED"), review("dba1", "APPROVED")],
      {},
      { met: false, state: "pending", description: "needs 1 more from @acme/security" },
    ],
    [
      "the author approving their own pull request",
      prodChange,
      [review("sre1", "APPROVED"), review("author", "APPROVED")],
      {},
      { met: false, state: "pending", description: "needs 1 more from @acme/sre" },
    ],
    [
      "CHANGES_REQUESTED blocks",
      prodChange,
      [review("sre1", "APPROVED"), review("sre2", "APPROVED"), review("sec1", "CHANGES_REQUESTED")],
      {},
      { met: false, state: "failure", description: "changes requested by @sec1" },
    ],
    [
      "CHANGES_REQUESTED then approved",
      prodChange,
      [
        review("sre1", "CHANGES_REQUESTED"),
        review("sre2", "APPROVED"),
        review("sre1", "COMMENTED"),
        review("sre1", "APPROVED"),
      ],
      {},
      { met: true, state: "success", description: "approved by @sre1, @sre2" },
    ],
    [
      "a dismissed CHANGES_REQUESTED no longer blocks",
      prodChange,
      [review("sre1", "APPROVED"), review("sre2", "APPROVED"), review("sec1", "DISMISSED")],
      {},
      { met: true, state: "success", description: "approved by @sre1, @sre2" },
    ],
    [
      "a dismissed approval does not count",
      prodChange,
      [review("sre1", "APPROVED"), review("sre2", "DISMISSED")],
      {},
      { met: false, state: "pending", description: "needs 1 more from @acme/sre" },
    ],
    [
      "a stale approval after a new push",
      prodChange,
      [review("sre1", "APPROVED"), review("sre2", "APPROVED", { commitId: "h1" })],
      {},
      { met: false, state: "pending", description: "needs 1 more from @acme/sre" },
    ],
    [
      "the emergency label",
      prodChange,
      [review("sre1", "APPROVED")],
      { labels: ["config-emergency"] },
      { met: true, state: "success", description: "emergency (config-emergency): approved by @sre1" },
    ],
    [
      "the emergency label still needs someone",
      prodChange,
      [],
      { labels: ["Config-Emergency"] },
      { met: false, state: "pending", description: "emergency (config-emergency): needs 1 more from @acme/sre" },
    ],
    [
      "nothing to approve",
      [change("staging", "http.timeout")],
      [],
      {},
      { met: true, state: "success", description: "no approval required" },
    ],
    [
      "logins compare case-insensitively",
      prodChange,
      [review("SRE1", "APPROVED"), review("sre3", "APPROVED")],
      {},
      { met: true, state: "success", description: "approved by @sre1, @sre3" },
    ],
    [
      "COMMENTED after APPROVED keeps the approval",
      prodChange,
      [review("sre1", "APPROVED"), review("sre2", "APPROVED"), review("sre2", "COMMENTED")],
      {},
      { met: true, state: "success", description: "approved by @sre1, @sre2" },
    ],
    [
      "a user owner and a team owner both count",
      [change("staging", "database.pool.max")],
      [review("alice", "APPROVED")],
      {},
      { met: true, state: "success", description: "approved by @alice" },
    ],
  ])("%s", (_name, changes, reviews, ctx, expected) => {
    const d = evaluateApprovals(config, changes, reviews, context(ctx));
    expect({ met: d.met, state: d.state, description: d.description }).toEqual(expected);
  });

  it("counts stale approvals when dismiss_stale is false", () => {
    const d = evaluateApprovals(
      { ...config, dismissStale: false },
      prodChange,
      [review("sre1", "APPROVED"), review("sre2", "APPROVED", { commitId: "h1" })],
      context(),
    );
    expect(d.met).toBe(true);
  });

  it("records the emergency and what each rule normally needs", () => {
    const d = evaluateApprovals(
      config,
      prodChange,
      [review("sre1", "APPROVED")],
      context({ labels: ["config-emergency"] }),
    );
    expect(d.emergency).toEqual({ label: "config-emergency", require: 1, active: true });
    expect(d.rules[0]).toMatchObject({ require: 2, required: 1, approvedBy: ["sre1"], met: true });
  });

  it("says who is still needed per rule and reviewer", () => {
    const d = evaluateApprovals(
      config,
      [change("production", "database.password", { sensitive: true })],
      [review("sre1", "APPROVED"), review("sre2", "APPROVED", { commitId: "old" })],
      context(),
    );
    expect(d.rules.map((r) => [r.name, r.missing, r.approvedBy])).toEqual([
      ["production", 1, ["sre1"]],
      ["secrets", 1, []],
      ["database-owners", 1, []],
    ]);
    expect(d.description).toBe(
      "needs 1 more from @acme/sre; 1 more from @acme/security; 1 more from @acme/dba or @alice",
    );
    expect(d.reviewers).toEqual([
      { login: "sre1", state: "approved", commitId: HEAD, counts: true, reason: null, member: true },
      { login: "sre2", state: "approved", commitId: "old", counts: false, reason: "stale", member: true },
    ]);
    const md = renderApprovalsMarkdown(d);
    expect(md).toContain(
      "| production | 2 from @acme/sre | @sre1 | needs 1 more from @acme/sre | `production: database.password` |",
    );
    expect(md).toContain("older commit do not count (`dismiss_stale`): @sre2");
  });

  it("counts only the repository's people for a rule that names no owner", () => {
    const anyone = { rules: [], emergency: null, dismissStale: true };
    const changes = [change("prod", "a.b", { approvalRequired: true })];
    const outsider = evaluateApprovals(
      anyone,
      changes,
      [review("drive-by", "APPROVED", { association: "CONTRIBUTOR" })],
      context(),
    );
    expect(outsider.description).toBe("needs 1 more approval");
    const member = evaluateApprovals(
      anyone,
      changes,
      [review("colleague", "APPROVED", { association: "MEMBER" })],
      context(),
    );
    expect(member.description).toBe("approved by @colleague");
  });

  it("reports teams whose members were not supplied", () => {
    const d = evaluateApprovals(config, prodChange, [review("sre1", "APPROVED")], context({ teams: {} }));
    expect(d.unresolvedTeams).toEqual(["@acme/sre"]);
    expect(d.met).toBe(false);
  });

  it("keeps the status description under GitHub's 140 characters", () => {
    const many = {
      ...config,
      rules: Array.from({ length: 10 }, (_, i) => ({
        name: `r${i}`,
        when: { environments: null, keys: null, sensitive: null },
        require: 1,
        from: [`@acme/team-with-a-long-name-${i}`],
      })),
    };
    const d = evaluateApprovals(many, prodChange, [], context({ teams: {} }));
    expect(d.description.length).toBeLessThanOrEqual(140);
  });
});

describe("approvalChangesFromDiff", () => {
  it("reads SPEC §7 diff JSON", () => {
    const diff = {
      schemaVersion: 1,
      environments: {
        production: {
          renamedFrom: null,
          changes: [
            { key: "database.pool.max", change: "changed", before: 10, after: 20, sensitive: false },
            { key: "database.password", change: "changed", sensitive: true, certain: true },
          ],
          invalid: [],
        },
      },
    };
    const changes = approvalChangesFromDiff(diff, {
      environments: { production: { production: true, approvalRequired: true } },
      approversOf: (k) => (k === "database.password" ? ["@acme/vault"] : []),
    });
    expect(changes).toEqual([
      {
        environment: "production",
        key: "database.pool.max",
        sensitive: false,
        approvers: [],
        production: true,
        approvalRequired: true,
      },
      {
        environment: "production",
        key: "database.password",
        sensitive: true,
        approvers: ["@acme/vault"],
        production: true,
        approvalRequired: true,
      },
    ]);
  });
});

describe("withEnvironmentFlags", () => {
  it("lets a pull request make an environment stricter, never laxer", async () => {
    const { withEnvironmentFlags } = await import("../../../src/core/approvals/from-diff.js");
    const base = {
      prod: { production: true, approvalRequired: true },
      dev: { production: false, approvalRequired: false },
    };
    const out = withEnvironmentFlags(
      [
        change("prod", "a", { production: false, approvalRequired: false }),
        change("dev", "a", { production: false, approvalRequired: true }),
        change("new", "a", { production: true, approvalRequired: true }),
      ],
      base,
    );
    expect(out.map((c) => [c.environment, c.production, c.approvalRequired])).toEqual([
      ["prod", true, true],
      ["dev", false, true],
      ["new", true, true],
    ]);
  });
});
