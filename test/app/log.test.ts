// @module-tag slow
import { afterAll, describe, expect, it } from "vitest";
import { logConfig } from "../../src/app/log.js";
import { cleanupTempdirs, commitAll, git, gitdir, writeTree } from "../support/gitdir.js";
import { baseTree, sopsFile, STRATA_YAML } from "./diff-fixture.js";

afterAll(cleanupTempdirs);

function historyRepo(): string {
  const dir = gitdir(baseTree());
  writeTree(dir, { "README.md": "docs" });
  commitAll(dir, "docs only");
  git(dir, "checkout", "-q", "-b", "feature");
  writeTree(dir, { "environments/base/db.yaml": "host: db.internal\nlegacy_timeout: 30\npool: { max: 20 }\n" });
  commitAll(dir, "raise the pool");
  git(dir, "checkout", "-q", "main");
  git(dir, "merge", "-q", "--no-ff", "-m", "Merge pull request #12 from acme/feature", "feature");
  writeTree(dir, { "environments/production/db.yaml": "pool: { max: 80 }\n" });
  commitAll(dir, "production pool (#13)");
  writeTree(dir, { "environments/staging/db.yaml": "host: db2.staging\npool: { max: 25 }\n" });
  commitAll(dir, "staging pool");
  writeTree(dir, { "environments/production/db.sops.yaml": sopsFile({ password: "rotated-password" }) });
  commitAll(dir, "rotate (#14)");
  return dir;
}

describe("logConfig", () => {
  it("lists the commits that changed the key's effective value in the environment, newest first", async () => {
    const dir = historyRepo();
    const result = await logConfig({ dir, environment: "production-eu", key: "db.pool.max" });
    expect(result).toMatchObject({ schemaVersion: 1, environment: "production-eu", key: "db.pool.max" });
    expect(result.commits.map((c) => [c.subject, c.pullRequest, c.changes])).toEqual([
      [
        "production pool (#13)",
        13,
        [
          {
            environment: "production-eu",
            key: "db.pool.max",
            change: "changed",
            before: 50,
            after: 80,
            sensitive: false,
          },
        ],
      ],
      [
        "initial",
        null,
        [{ environment: "production-eu", key: "db.pool.max", change: "added", after: 50, sensitive: false }],
      ],
    ]);
    expect(result.commits[0]).toMatchObject({
      author: "Test Author",
      email: "author@example.com",
      date: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
    });
  });

  it("counts changes to any inherited layer (a base change reaches staging through the merge, credited to the branch commit)", async () => {
    const dir = historyRepo();
    const result = await logConfig({ dir, environment: "staging", key: "db.**" });
    expect(
      result.commits.map((c) => [
        c.subject,
        c.changes.map((x) => `${x.key} ${JSON.stringify(x.before)}→${JSON.stringify(x.after)}`),
      ]),
    ).toEqual([
      ["staging pool", ["db.pool.max 20→25", 'db.host "db.staging"→"db2.staging"']],
      ["raise the pool", ["db.pool.max 10→20"]],
      ["initial", ["db.pool.max undefined→10", 'db.host undefined→"db.staging"', "db.legacy_timeout undefined→30"]],
    ]);
    expect(result.commits[1]).toMatchObject({
      pullRequest: 12,
      merge: { subject: "Merge pull request #12 from acme/feature", pullRequest: 12 },
    });
    const mainLine = await logConfig({ dir, environment: "staging", key: "db.**", firstParent: true });
    expect(mainLine.commits[1]).toMatchObject({
      subject: "Merge pull request #12 from acme/feature",
      pullRequest: 12,
      merge: null,
    });
    // `*` is one segment: db.pool.max is not under db.*
    const shallow = await logConfig({ dir, environment: "staging", key: "db.*" });
    expect(shallow.commits.map((c) => c.subject)).toEqual(["staging pool", "initial"]);
  });

  it("follows interpolation: http.url changes when db.host does", async () => {
    const dir = historyRepo();
    const result = await logConfig({ dir, environment: "staging", key: "http.url" });
    expect(result.commits.map((c) => [c.subject, c.changes[0]?.after])).toEqual([
      ["staging pool", "https://db2.staging/api"],
      ["initial", "https://db.staging/api"],
    ]);
  });

  it("reports sensitive changes without values", async () => {
    const dir = historyRepo();
    const result = await logConfig({ dir, environment: "production", key: "db.password" });
    expect(result.commits.map((c) => [c.pullRequest, c.changes])).toEqual([
      [14, [{ environment: "production", key: "db.password", change: "changed", sensitive: true, certain: false }]],
      [null, [{ environment: "production", key: "db.password", change: "added", sensitive: true, certain: true }]],
    ]);
    expect(JSON.stringify(result)).not.toMatch(/ENC\[|password-1|rotated/);
  });

  it("--max-count limits how far back it looks, comparing the oldest with its parent", async () => {
    const dir = historyRepo();
    const result = await logConfig({ dir, environment: "staging", key: "db.pool.max", maxCount: 3 });
    expect(result.commits.map((c) => c.subject)).toEqual(["staging pool"]);
  });

  it("--env takes a glob: every matching environment, each change naming its environment", async () => {
    const dir = historyRepo();
    const result = await logConfig({ dir, environment: "production*", key: "db.pool.max" });
    expect(result.environments).toEqual(["production", "production-eu"]);
    expect(result.commits[0]?.changes.map((c) => [c.environment, c.before, c.after])).toEqual([
      ["production", 50, 80],
      ["production-eu", 50, 80],
    ]);
  });

  it("an environment the head does not declare is unknown-environment; a bad ref unknown-ref", async () => {
    const dir = historyRepo();
    await expect(logConfig({ dir, environment: "nope", key: "db.*" })).rejects.toMatchObject({
      code: "unknown-environment",
    });
    await expect(logConfig({ dir, environment: "staging", key: "db.*", head: "nope" })).rejects.toMatchObject({
      code: "unknown-ref",
    });
  });

  it("an environment added later starts with its first appearance", async () => {
    const dir = historyRepo();
    writeTree(dir, { "strata.yaml": STRATA_YAML + "  qa: { parent: staging }\n" });
    commitAll(dir, "add qa");
    const result = await logConfig({ dir, environment: "qa", key: "db.host" });
    expect(result.commits.map((c) => [c.subject, c.changes[0]?.change, c.changes[0]?.after])).toEqual([
      ["add qa", "added", "db2.staging"],
    ]);
  });
});
