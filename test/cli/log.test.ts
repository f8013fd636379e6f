// @module-tag e2e
import { afterAll, describe, expect, it } from "vitest";
import type { LogResult } from "../../src/app/log.js";
import { strata } from "../support/cli.js";
import { cleanupTempdirs, commitAll, git, gitdir, writeTree } from "../support/gitdir.js";
import { baseTree, sopsFile } from "../app/diff-fixture.js";

afterAll(cleanupTempdirs);

function historyRepo(): string {
  const dir = gitdir(baseTree());
  git(dir, "checkout", "-q", "-b", "feature");
  writeTree(dir, { "environments/base/db.yaml": "host: db.internal\nlegacy_timeout: 30\npool: { max: 20 }\n" });
  commitAll(dir, "raise the pool");
  git(dir, "checkout", "-q", "main");
  git(dir, "merge", "-q", "--no-ff", "-m", "Merge pull request #12 from acme/feature", "feature");
  writeTree(dir, { "environments/production/db.sops.yaml": sopsFile({ password: "rotated-password" }) });
  commitAll(dir, "rotate (#14)");
  return dir;
}

describe("strata log (CLI)", () => {
  it("--format json prints { schemaVersion: 1, … } with the commits newest first", async () => {
    const dir = historyRepo();
    const r = await strata(["log", "--env", "staging", "db.pool.max", "--format", "json"], { cwd: dir });
    expect(r.exitCode).toBe(0);
    const doc = JSON.parse(r.stdout) as LogResult;
    expect(doc).toMatchObject({ schemaVersion: 1, environment: "staging", key: "db.pool.max" });
    expect(doc.commits.map((c) => [c.pullRequest, c.changes[0]?.before, c.changes[0]?.after])).toEqual([
      [12, 10, 20],
      [null, undefined, 10],
    ]);
  });

  it("text: one block per commit, globs, sensitive values redacted", async () => {
    const dir = historyRepo();
    const r = await strata(["log", "--env", "production", "db.**"], { cwd: dir });
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toMatch(
      /^[0-9a-f]{12} \d{4}-\d\d-\d\d Test Author #14 {2}rotate \(#14\)\n {4}~ db\.password: sensitive value may have changed$/m,
    );
    // production overrides pool.max: the base change of #12 does not reach it.
    expect(r.stdout).not.toMatch(/Merge pull request #12/);
    expect(r.stdout).not.toMatch(/ENC\[|rotated|cm90YXRl/);
  });

  it("bad input exits 2", async () => {
    const dir = historyRepo();
    expect((await strata(["log", "--env", "nope", "db.*"], { cwd: dir })).exitCode).toBe(2);
    expect((await strata(["log", "db.*"], { cwd: dir })).exitCode).toBe(2);
    const r = await strata(["log", "--env", "staging", "db.*", "--head", "nope"], { cwd: dir });
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toMatch(/unknown-ref/);
  });
});

describe("strata log credits the branch commit that made a change", () => {
  // main: initial; feature: two commits (pool to 15 and legacy_timeout to 40, then pool to 20); main
  // moves on (a commit that touches no config), then merges the branch with --no-ff.
  function mergedBranchRepo(): { dir: string; first: string; second: string; merge: string } {
    const dir = gitdir(baseTree());
    git(dir, "checkout", "-q", "-b", "feature");
    writeTree(dir, { "environments/base/db.yaml": "host: db.internal\nlegacy_timeout: 40\npool: { max: 15 }\n" });
    const first = commitAll(dir, "pool to 15, timeout to 40");
    writeTree(dir, { "environments/base/db.yaml": "host: db.internal\nlegacy_timeout: 40\npool: { max: 20 }\n" });
    const second = commitAll(dir, "pool to 20");
    git(dir, "checkout", "-q", "main");
    writeTree(dir, { "README.md": "docs\n" });
    commitAll(dir, "docs");
    git(dir, "merge", "-q", "--no-ff", "-m", "Merge pull request #12 from acme/feature", "feature");
    const merge = git(dir, "rev-parse", "HEAD").trim();
    return { dir, first, second, merge };
  }

  it("names the commit on the branch and the merge that brought it", async () => {
    const { dir, first, second, merge } = mergedBranchRepo();
    const r = await strata(["log", "--env", "staging", "db.**", "--format", "json"], { cwd: dir });
    expect(r.exitCode).toBe(0);
    const doc = JSON.parse(r.stdout) as LogResult;
    const rows = doc.commits.slice(0, 2).map((c) => ({
      commit: c.commit,
      subject: c.subject,
      pr: c.pullRequest,
      merge: c.merge?.commit,
      keys: c.changes.map((x) => `${x.key}:${String(x.before)}->${String(x.after)}`),
    }));
    expect(rows).toEqual([
      { commit: second, subject: "pool to 20", pr: 12, merge, keys: ["db.pool.max:10->20"] },
      { commit: first, subject: "pool to 15, timeout to 40", pr: 12, merge, keys: ["db.legacy_timeout:30->40"] },
    ]);
    expect(doc.commits[0]!.merge).toMatchObject({
      commit: merge,
      subject: "Merge pull request #12 from acme/feature",
      pullRequest: 12,
    });
    const text = await strata(["log", "--env", "staging", "db.pool.max"], { cwd: dir });
    expect(text.stdout).toMatch(
      new RegExp(
        `^${second.slice(0, 12)} .* pool to 20\\n {4}merged in ${merge.slice(0, 12)} .*Merge pull request #12`,
        "m",
      ),
    );
  });

  it("--first-parent credits the merge, as the main line sees it", async () => {
    const { dir, merge } = mergedBranchRepo();
    const r = await strata(["log", "--env", "staging", "db.**", "--format", "json", "--first-parent"], { cwd: dir });
    expect(r.exitCode).toBe(0);
    const doc = JSON.parse(r.stdout) as LogResult;
    expect(doc.commits[0]).toMatchObject({ commit: merge, pullRequest: 12, merge: null });
    expect(doc.commits[0]!.changes.map((c) => c.key).sort()).toEqual(["db.legacy_timeout", "db.pool.max"]);
  });

  it("a change made in the merge itself (a conflict resolution) stays with the merge", async () => {
    const dir = gitdir(baseTree());
    git(dir, "checkout", "-q", "-b", "feature");
    writeTree(dir, { "environments/base/db.yaml": "host: db.internal\nlegacy_timeout: 30\npool: { max: 15 }\n" });
    commitAll(dir, "pool to 15");
    git(dir, "checkout", "-q", "main");
    git(dir, "merge", "-q", "--no-ff", "--no-commit", "feature");
    writeTree(dir, { "environments/base/db.yaml": "host: db.internal\nlegacy_timeout: 30\npool: { max: 25 }\n" });
    const merge = commitAll(dir, "Merge branch 'feature' with pool 25");
    const r = await strata(["log", "--env", "staging", "db.pool.max", "--format", "json"], { cwd: dir });
    const doc = JSON.parse(r.stdout) as LogResult;
    expect(doc.commits[0]).toMatchObject({ commit: merge, merge: null });
    expect(doc.commits[0]!.changes[0]).toMatchObject({ before: 10, after: 25 });
  });
});

describe("strata log on a broken strata.yaml", () => {
  it("reports strata.yaml's own located errors (exit 1), not an unknown environment", async () => {
    const dir = gitdir({
      ...baseTree(),
      "strata.yaml": "version: 1\nenvironments:\n  base: { abstract: true\n  staging: { parent: base }\n",
    });
    const r = await strata(["log", "--env", "staging", "db.**"], { cwd: dir });
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toMatch(/strata\.yaml:\d+:\d+: /);
    expect(r.stderr).not.toMatch(/unknown environment/);
  });
});
