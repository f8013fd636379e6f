/**
 * The GitHub Action, run as the runner runs a `node24` action: `node action/main.mjs` (the committed
 * bundle) with each input in an `INPUT_<NAME>` environment variable, RUNNER_TEMP and GITHUB_PATH set.
 * Inputs must never be evaluated by a shell: every input carries `$(touch …)` and a backtick command,
 * and the test checks that nothing ran and that the words reached strata literally.
 */
import { execa } from "execa";
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { createCliEnvironment, parseCommand, readInput } from "../../action/src/main.js";
import { projectRoot } from "../support/cli.js";
import { addReviews, startFakeGitHub } from "../support/github-server.js";

const entry = join(projectRoot, "action", "main.mjs");
const temps: string[] = [];
afterAll(() => {
  for (const t of temps) rmSync(t, { recursive: true, force: true });
});
function temp(prefix: string): string {
  const d = mkdtempSync(join(tmpdir(), prefix));
  temps.push(d);
  return d;
}

const action = parse(readFileSync(join(projectRoot, "action.yml"), "utf8")) as {
  inputs: Record<string, { default?: string }>;
  runs: Record<string, unknown>;
};
const INPUTS = Object.keys(action.inputs);

/** The runner's environment for a JavaScript action step, with the given inputs. */
function runnerEnv(dir: string, inputs: Record<string, string>): Record<string, string> {
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? "",
    HOME: dir,
    RUNNER_TEMP: join(dir, "runner-temp"),
    GITHUB_PATH: join(dir, "github-path"),
    GITHUB_ACTIONS: "",
    NO_COLOR: "1",
    STRATA_NO_CACHE: "1",
  };
  mkdirSync(env.RUNNER_TEMP!, { recursive: true });
  writeFileSync(env.GITHUB_PATH!, "");
  // As the runner does: every declared input is set, to its default when the workflow gave none.
  for (const name of INPUTS)
    env[`INPUT_${name.toUpperCase()}`] =
      inputs[name] ?? (action.inputs[name]?.default?.includes("${{") ? "" : (action.inputs[name]?.default ?? ""));
  return env;
}

async function runAction(entryPath: string, env: Record<string, string>, cwd: string) {
  const r = await execa(process.execPath, [entryPath], { cwd, env, extendEnv: false, reject: false, timeout: 60_000 });
  return { stdout: String(r.stdout), stderr: String(r.stderr), exitCode: r.exitCode ?? -1 };
}

describe("action.yml", () => {
  it("is a node24 JavaScript action whose entry is the committed bundle", () => {
    expect(action.runs).toEqual({ using: "node24", main: "action/main.mjs" });
    expect(existsSync(entry)).toBe(true);
    expect(existsSync(join(projectRoot, "action", "strata.mjs"))).toBe(true);
  });

  it("reads every input it declares, and declares every input it reads", () => {
    const source = readFileSync(join(projectRoot, "action", "src", "main.ts"), "utf8");
    const read = new Set(
      [...source.matchAll(/readInput\(env, "([a-z-]+)"\)|\["([a-z-]+)", "[A-Z_]+"\]/g)].map((m) => m[1] ?? m[2]),
    );
    expect([...read].sort()).toEqual([...INPUTS].sort());
  });
});

describe("the command input", () => {
  it("splits like shell quoting and expands nothing", () => {
    expect(parseCommand(`validate --skip-secrets`)).toEqual(["validate", "--skip-secrets"]);
    expect(parseCommand(`diff --base 'origin/main' --env "prod eu"  x\\ y`)).toEqual([
      "diff",
      "--base",
      "origin/main",
      "--env",
      "prod eu",
      "x y",
    ]);
    expect(parseCommand("resolve --env $(touch /tmp/pwned) `id` $HOME ~ *")).toEqual([
      "resolve",
      "--env",
      "$(touch",
      "/tmp/pwned)",
      "`id`",
      "$HOME",
      "~",
      "*",
    ]);
    expect(parseCommand("  ")).toEqual([]);
  });

  it("refuses an unterminated quote", () => {
    expect(() => parseCommand(`validate --env "prod`)).toThrow(/cannot be split/);
  });

  it("passes secrets once, under the names strata reads, and drops empty inputs", () => {
    const env = createCliEnvironment({
      PATH: "/bin",
      "INPUT_AGE-KEY": "AGE-SECRET-KEY-1X",
      INPUT_ENDPOINT: "",
      "INPUT_GITHUB-TOKEN": " t ",
    });
    expect(env).toEqual({ PATH: "/bin", SOPS_AGE_KEY: "AGE-SECRET-KEY-1X", GITHUB_TOKEN: "t" });
    expect(readInput({ "INPUT_WORKING-DIRECTORY": "cfg" }, "working-directory")).toBe("cfg");
  });
});

describe("the action, run as the runner runs it", () => {
  it("never evaluates an input: $(…) and backticks in every input run nothing and reach strata literally", async () => {
    const dir = temp("strata-action-");
    const marker = (what: string) => join(dir, `pwned-${what}`);
    const hostile = (name: string) => `$(touch ${marker(`${name}-subst`)}) \`touch ${marker(`${name}-tick`)}\``;
    const inputs: Record<string, string> = {};
    for (const name of INPUTS) inputs[name] = hostile(name);
    // The command's own words are hostile too; working-directory must exist for strata to run at all.
    inputs.command = `resolve --env "$(touch ${marker("env")})" --key \`touch\${IFS}${marker("key")}\``;
    inputs["working-directory"] = projectRoot;
    const r = await runAction(entry, runnerEnv(dir, inputs), dir);
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toContain(`unknown environment "$(touch ${marker("env")})"`);
    expect(readdirSync(dir).filter((f) => f.startsWith("pwned"))).toEqual([]);
    expect(existsSync("/tmp/pwned")).toBe(false);

    // A hostile working-directory is a path that does not exist, not a command.
    const bad = await runAction(
      entry,
      runnerEnv(dir, { ...inputs, "working-directory": hostile("working-directory"), command: "--version" }),
      dir,
    );
    expect(bad.exitCode).toBe(2);
    expect(bad.stdout).toMatch(/^::error title=strata action::working-directory .* is not a directory/m);
    expect(readdirSync(dir).filter((f) => f.startsWith("pwned"))).toEqual([]);
  });

  it("puts a working strata on PATH, even from a directory whose name a shell would expand", async () => {
    const dir = temp("strata-action-");
    const actionDir = join(dir, "it's $(touch pwned) `touch pwned2`");
    mkdirSync(actionDir);
    for (const f of ["main.mjs", "strata.mjs"]) copyFileSync(join(projectRoot, "action", f), join(actionDir, f));
    const env = runnerEnv(dir, { command: "" });
    const r = await runAction(join(actionDir, "main.mjs"), env, dir);
    expect(r.exitCode, r.stderr + r.stdout).toBe(0);
    const bin = readFileSync(env.GITHUB_PATH!, "utf8").trim();
    const version = await execa(join(bin, "strata"), ["--version"], { cwd: dir, env });
    expect(version.stdout).toBe(JSON.parse(readFileSync(join(projectRoot, "package.json"), "utf8")).version);
    expect(readdirSync(dir).filter((f) => f.startsWith("pwned"))).toEqual([]);
  });

  it("runs the command with the token input as GITHUB_TOKEN and a quoted path with a space as one argument", async () => {
    const dir = temp("strata action ");
    const gh = await startFakeGitHub();
    try {
      const base = "a".repeat(40);
      const head = "b".repeat(40);
      gh.state.files.set(base, {
        "strata.yaml":
          "approvals:\n  rules:\n    - { name: prod, when: { environments: [prod] }, require: 1, from: [alice] }\n",
      });
      gh.state.pulls.set(3, { number: 3, author: "dev", head: { sha: head }, base: { sha: base } });
      addReviews(gh.state, 3, [{ login: "alice", state: "APPROVED", commitId: head }]);
      writeFileSync(
        join(dir, "diff.json"),
        JSON.stringify({ environments: { prod: { changes: [{ key: "a.b", sensitive: false }] } } }),
      );
      const env = {
        ...runnerEnv(dir, {
          command: `approvals check --pr 3 --format json --diff '${join(dir, "diff.json")}'`,
          "github-token": "test-token",
          "working-directory": dir,
        }),
        GITHUB_REPOSITORY: "acme/config",
        GITHUB_API_URL: gh.url,
      };
      const r = await runAction(entry, env, dir);
      expect(r.stderr).toBe("");
      expect(JSON.parse(r.stdout)).toMatchObject({ met: true, approvedBy: ["alice"] });
      expect(gh.state.requests.length).toBeGreaterThan(0);
      expect(gh.state.requests.every((q) => q.token === "test-token")).toBe(true);
    } finally {
      await gh.close();
    }
  });

  it("reports an unterminated quote as an error annotation, exit 2, and runs nothing", async () => {
    const dir = temp("strata-action-");
    const r = await runAction(entry, runnerEnv(dir, { command: `validate --env "prod` }), dir);
    expect(r.exitCode).toBe(2);
    expect(r.stdout).toMatch(/^::error title=strata action::the command input cannot be split into arguments/m);
  });
});
