// @module-tag e2e
import { execFileSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import type { DiffResult, KeyChange } from "../../src/core/diff/model.js";
import { renderDiffMarkdown } from "../../src/cli/render/diff-markdown.js";
import { renderDiffText } from "../../src/cli/render/diff-text.js";
import { exampleKeyEnv, noKeyEnv, projectRoot, strata } from "../support/cli.js";
import { cleanupTempdirs, commitAll, git, gitdir, tempdir, writeTree } from "../support/gitdir.js";
import { baseTree, sopsFile } from "../app/diff-fixture.js";

afterAll(cleanupTempdirs);

const SECRET_B64 = Buffer.from("prod-password-2").toString("base64");

function changedRepo(): string {
  const dir = gitdir(baseTree());
  writeTree(dir, {
    "environments/base/db.yaml": "host: db.internal\nlegacy_timeout: 30\npool: { max: 20 }\n",
    "environments/production/db.sops.yaml": sopsFile({ password: "prod-password-2" }),
  });
  commitAll(dir, "raise the pool, rotate the password");
  return dir;
}

describe("strata diff (CLI)", () => {
  it("--format json prints SPEC §7's document", async () => {
    const dir = changedRepo();
    const r = await strata(["diff", "--base", "HEAD~1", "--head", "HEAD", "--format", "json"], { cwd: dir });
    expect(r.exitCode).toBe(0);
    const doc = JSON.parse(r.stdout) as DiffResult;
    expect(doc).toMatchObject({
      schemaVersion: 1,
      base: git(dir, "rev-parse", "HEAD~1").trim(),
      head: git(dir, "rev-parse", "HEAD").trim(),
    });
    expect(doc.changedLayers).toContainEqual({
      environment: "base",
      file: "environments/base/db.yaml",
      reaches: ["staging"],
    });
    expect(Object.keys(doc.environments)).toEqual(["production", "production-eu", "staging"]);
    expect(doc.environments.staging?.changes[0]).toMatchObject({
      key: "db.pool.max",
      change: "changed",
      before: 10,
      after: 20,
      flags: ["restart-required"],
    });
    expect(doc.environments.production?.changes).toContainEqual(
      expect.objectContaining({ key: "db.password", sensitive: true, certain: false }),
    );
  });

  it("text: production first, coloured only on a TTY, sensitive values never printed in any format", async () => {
    const dir = changedRepo();
    const outputs: string[] = [];
    for (const format of ["text", "json", "markdown", "github"]) {
      const r = await strata(["diff", "--base", "HEAD~1", "--head", "HEAD", "--format", format], {
        cwd: dir,
        env: { GITHUB_STEP_SUMMARY: join(dir, "summary.md") },
      });
      expect(r.exitCode).toBe(0);
      outputs.push(r.stdout, r.stderr);
    }
    outputs.push(readFileSync(join(dir, "summary.md"), "utf8"));
    for (const out of outputs) {
      expect(out).not.toContain(SECRET_B64);
      expect(out).not.toContain("ENC[");
      expect(out).not.toContain("prod-password");
    }
    const text = outputs[0]!;
    const headings = text
      .split("\n")
      .filter((l) => /^[a-z]/.test(l) && !l.startsWith("strata diff") && !l.startsWith("changed layers"))
      .map((l) => l.split(" ")[0]);
    expect(headings.slice(0, 3)).toEqual(["production", "production-eu", "staging"]);
    expect(text).toMatch(/db\.pool\.max: 10 → 20/);
    expect(text).toMatch(/db\.password: sensitive value may have changed/);
    expect(text).not.toContain("\u001b[");
  });

  it("--format markdown is the PR comment: summary table then <details> per environment", async () => {
    const dir = changedRepo();
    const r = await strata(["diff", "--base", "HEAD~1", "--head", "HEAD", "--format", "markdown"], { cwd: dir });
    expect(r.stdout).toMatch(/\| environment \| added \| removed \| changed \| sensitive \| invalid \|/);
    expect(r.stdout.indexOf("<details open><summary><b>production</b>")).toBeGreaterThan(
      r.stdout.indexOf("| environment |"),
    );
    expect(r.stdout).toContain("<code>db.pool.max</code>");
  });

  it("--format github: notices, and the markdown in $GITHUB_STEP_SUMMARY; default under GitHub Actions", async () => {
    const dir = changedRepo();
    const summary = join(dir, "summary.md");
    writeFileSync(summary, "");
    const r = await strata(["diff", "--base", "HEAD~1", "--head", "HEAD"], {
      cwd: dir,
      env: { GITHUB_ACTIONS: "true", GITHUB_STEP_SUMMARY: summary },
    });
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toMatch(
      /^::notice title=strata diff%3A production::production \(production\): 0 added, 0 removed, 1 changed$/m,
    );
    expect(readFileSync(summary, "utf8")).toContain("### strata diff");
  });

  it("--exit-code exits 1 on changes, 0 without", async () => {
    const dir = changedRepo();
    expect((await strata(["diff", "--base", "HEAD~1", "--head", "HEAD", "--exit-code"], { cwd: dir })).exitCode).toBe(
      1,
    );
    const same = await strata(["diff", "--base", "HEAD", "--head", "HEAD", "--exit-code"], { cwd: dir });
    expect(same.exitCode).toBe(0);
    expect(same.stdout).toMatch(/no changes to the effective configuration/);
  });

  it("a head that breaks validation exits 1 and says where", async () => {
    const dir = gitdir(baseTree());
    writeTree(dir, { "environments/staging/db.yaml": "host: db.staging\npool: { max: many }\n" });
    const r = await strata(["diff"], { cwd: dir });
    expect(r.exitCode).toBe(1);
    expect(r.stdout).toMatch(/invalid.*\[invalid-type\].*environments\/staging\/db\.yaml/);
  });

  it.each([
    [["diff", "--base", "nope"], "unknown-ref"],
    [["diff", "--env", "nope"], "unknown-environment"],
    [["diff", "--format", "xml"], "argument"],
  ])("%j exits 2 (%s)", async (args, what) => {
    const dir = changedRepo();
    const r = await strata(args, { cwd: dir });
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toContain(what);
  });

  it("a shallow clone without the base exits 2 with shallow-clone and the fetch-depth hint", async () => {
    const origin = changedRepo();
    const dir = join(tempdir(), "c");
    git(tempdir(), "clone", "-q", "--depth", "1", `file://${origin}`, dir);
    git(dir, "checkout", "-q", "-b", "topic");
    git(dir, "update-ref", "-d", "refs/remotes/origin/HEAD");
    git(dir, "update-ref", "-d", "refs/remotes/origin/main");
    git(dir, "branch", "-D", "main");
    const r = await strata(["diff", "--format", "json"], { cwd: dir });
    expect(r.exitCode).toBe(2);
    expect(r.stdout).toBe("");
    expect(r.stderr).toMatch(/\[shallow-clone\]/);
    expect(r.stderr).toMatch(/fetch-depth: 2.*fetch-depth: 0/);
  });

  it("--repo points at the repository from elsewhere; outside git is missing-repository (exit 2)", async () => {
    const dir = changedRepo();
    const r = await strata(["diff", "--repo", dir, "--base", "HEAD~1", "--head", "HEAD", "--format", "json"], {
      cwd: tempdir(),
    });
    expect(r.exitCode).toBe(0);
    const plain = gitdir(baseTree(), {});
    const r2 = await strata(["diff"], { cwd: plain });
    expect(r2.exitCode).toBe(2);
    expect(r2.stderr).toMatch(/missing-repository/);
  });
});

describe("renderDiffMarkdown", () => {
  function bigResult(envs: number, changes: number): DiffResult {
    const change = (i: number): KeyChange => ({
      key: `svc.key${i}`,
      change: "changed",
      before: "x".repeat(60),
      after: "y".repeat(60),
      sensitive: false,
      layer: { environment: "base", file: "environments/base/svc.yaml" },
      flags: [],
      owner: null,
      approvers: [],
    });
    const environments: DiffResult["environments"] = {};
    for (let e = 0; e < envs; e++)
      environments[`env${e}`] = {
        renamedFrom: null,
        status: "changed",
        production: e === 0,
        changes: Array.from({ length: changes }, (_, i) => change(i)),
        invalid: [],
      };
    return {
      schemaVersion: 1,
      base: "a".repeat(40),
      head: "worktree",
      changedLayers: [],
      environments,
      renamedNamespaces: [],
      problems: [],
    };
  }

  it("stays under GitHub's comment limit, truncating with a note", () => {
    const md = renderDiffMarkdown(bigResult(10, 500));
    expect(md.length).toBeLessThanOrEqual(65_536);
    expect(md).toMatch(/Truncated to fit a GitHub comment: \d+ change\(s\) not shown/);
    expect(md).toContain("| env9 |"); // the summary table lists every environment
    expect(md.match(/<details/g)?.length ?? 0).toBeGreaterThan(0);
    expect((md.match(/<details/g) ?? []).length).toBe((md.match(/<\/details>/g) ?? []).length);
  });

  it.each([50, 500, 2_000, 20_000])("honours maxLength %i", (max) => {
    const md = renderDiffMarkdown(bigResult(3, 200), { maxLength: max });
    expect(md.length).toBeLessThanOrEqual(max);
    if (max >= 500) expect(md).toMatch(/Truncated/);
  });

  it("does not truncate what fits, and escapes table-breaking values", () => {
    const r = bigResult(1, 1);
    r.environments.env0!.changes[0]!.after = "a|b<script>";
    const md = renderDiffMarkdown(r);
    expect(md).not.toMatch(/Truncated/);
    expect(md).toContain("a&#124;b&lt;script&gt;");
  });

  it("says when there are no changes", () => {
    const r = bigResult(0, 0);
    expect(renderDiffMarkdown(r)).toMatch(/\*\*no changes\*\*/);
    expect(renderDiffText(r)).toMatch(/no changes/);
  });
});

describe("strata diff and log with real SOPS files (the example repository and its example-only key)", () => {
  async function exampleRepo(): Promise<{ dir: string; secrets: string[] }> {
    const dir = tempdir();
    for (const path of ["strata.yaml", ".sops.yaml", "schemas", "environments"])
      execFileSync("cp", ["-r", join(projectRoot, path), dir]);
    git(dir, "init", "-q", "-b", "main");
    commitAll(dir, "example");
    const file = "environments/staging/database.sops.yaml";
    const old = await strata(["secrets", "decrypt", file, "--extract", '["password"]'], {
      cwd: dir,
      env: exampleKeyEnv,
    });
    expect(old.exitCode).toBe(0);
    const set = await strata(["secrets", "set", file, "password", '"a-brand-new-staging-password"'], {
      cwd: dir,
      env: exampleKeyEnv,
    });
    expect(set.exitCode).toBe(0);
    commitAll(dir, "rotate the staging password (#21)");
    const rotate = await strata(["secrets", "rotate", "--in-place", "environments/production/database.sops.yaml"], {
      cwd: dir,
      env: exampleKeyEnv,
    });
    expect(rotate.exitCode).toBe(0);
    commitAll(dir, "new data key for production, same values");
    return { dir, secrets: [old.stdout.trim(), "a-brand-new-staging-password"] };
  }

  it("with the key: plaintext compared (a re-encryption is no change); without: 'may have changed'; never a value", async () => {
    const { dir, secrets } = await exampleRepo();
    expect(secrets[0]!.length).toBeGreaterThan(3);
    const withKey = await strata(["diff", "--base", "HEAD~2", "--head", "HEAD", "--format", "json"], {
      cwd: dir,
      env: exampleKeyEnv,
    });
    expect(withKey.exitCode).toBe(0);
    const doc = JSON.parse(withKey.stdout) as DiffResult;
    expect(Object.keys(doc.environments)).toEqual(["staging"]);
    expect(doc.environments.staging?.changes).toEqual([
      expect.objectContaining({ key: "database.password", change: "changed", sensitive: true, certain: true }),
    ]);

    const noKey = await strata(["diff", "--base", "HEAD~2", "--head", "HEAD", "--format", "json"], {
      cwd: dir,
      env: noKeyEnv,
    });
    expect(noKey.exitCode).toBe(0);
    const uncertain = JSON.parse(noKey.stdout) as DiffResult;
    expect(uncertain.environments.staging?.changes).toContainEqual(
      expect.objectContaining({ key: "database.password", certain: false }),
    );
    // The rotated production file's ciphertext changed: without the key that cannot be told from a change.
    expect(uncertain.environments.production?.changes.every((c) => c.sensitive && c.certain === false)).toBe(true);

    const outputs = [withKey.stdout, withKey.stderr, noKey.stdout, noKey.stderr];
    for (const format of ["text", "markdown", "github"]) {
      const r = await strata(["diff", "--base", "HEAD~2", "--head", "HEAD", "--format", format], {
        cwd: dir,
        env: exampleKeyEnv,
      });
      outputs.push(r.stdout, r.stderr);
    }
    const log = await strata(["log", "--env", "staging", "database.**"], { cwd: dir, env: exampleKeyEnv });
    expect(log.exitCode).toBe(0);
    expect(log.stdout).toMatch(
      /#21 {2}rotate the staging password \(#21\)\n {4}~ database\.password: sensitive value changed/,
    );
    outputs.push(log.stdout, log.stderr);
    for (const out of outputs) for (const s of secrets) expect(out).not.toContain(s);
  });
});
