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
    expect(doc.commits.map((c) => [c.pullRequest, c.changes[0]?.before, c.changes[0]?.after])).toEqual([[12, 10, 20], [null, undefined, 10]]);
  });

  it("text: one block per commit, globs, sensitive values redacted", async () => {
    const dir = historyRepo();
    const r = await strata(["log", "--env", "production", "db.**"], { cwd: dir });
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toMatch(/^[0-9a-f]{12} \d{4}-\d\d-\d\d Test Author #14 {2}rotate \(#14\)\n {4}~ db\.password: sensitive value may have changed$/m);
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
