// @module-tag slow
import { execFileSync } from "node:child_process";
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { applyRawChanges, readChangedFiles } from "../../../src/io/git/changes.js";
import { createBlobReader } from "../../../src/io/git/cat-file.js";
import { createCommitFiles, createGitWorktreeFiles, createTreeFiles, readTree } from "../../../src/io/git/files.js";
import { findInterpolatingFiles } from "../../../src/io/git/grep.js";
import { readHistory } from "../../../src/io/git/history.js";
import { findDefaultBase, openGitRepo, resolveCommit, type GitRepo } from "../../../src/io/git/repo.js";
import { cleanupTempdirs, commitAll, git, gitdir, tempdir, writeTree } from "../../support/gitdir.js";

afterAll(cleanupTempdirs);

const text = (b: Uint8Array | null): string | null => (b === null ? null : Buffer.from(b).toString("utf8"));

async function withRepo<T>(dir: string, f: (repo: GitRepo) => Promise<T>): Promise<T> {
  const repo = await openGitRepo(dir);
  try {
    return await f(repo);
  } finally {
    repo.close();
  }
}

async function expectCode(p: Promise<unknown>, code: string, message?: RegExp): Promise<void> {
  const error = await p.then(
    () => null,
    (e: unknown) => e as { code: string; message: string; hint: string | null },
  );
  expect(error?.code).toBe(code);
  if (message) expect(`${error?.message} ${error?.hint}`).toMatch(message);
}

describe("blob reader (one git cat-file --batch)", () => {
  it("answers many concurrent reads in order, missing objects as null, large and binary blobs intact", async () => {
    const big = Buffer.alloc(3 * 1024 * 1024, "x");
    const binary = Buffer.from([0, 1, 2, 255, 10, 0, 13, 10]);
    const dir = gitdir({ "a.txt": "alpha\n", "b.bin": binary, "big.txt": big });
    const ids = git(dir, "ls-tree", "HEAD")
      .trim()
      .split("\n")
      .map((l) => l.split(/\s+/)[2]!);
    const reader = createBlobReader(dir);
    try {
      const reads = await Promise.all([...ids, "0".repeat(40), ...ids].map((id) => reader.read(id)));
      expect(text(reads[0]!)).toBe("alpha\n");
      expect(Buffer.from(reads[1]!)).toEqual(binary);
      expect(reads[2]!.length).toBe(big.length);
      expect(reads[3]).toBeNull();
      expect(text(reads[4]!)).toBe("alpha\n");
      await expect(reader.read("HEAD\nfoo")).rejects.toThrow(/not an object id/);
    } finally {
      reader.close();
    }
  });
});

describe("RepoFiles over git", () => {
  it("lists and reads one commit's files without touching the working tree", async () => {
    const dir = gitdir({
      "strata.yaml": "version: 1\n",
      "schemas/db.schema.yaml": "type: object\n",
      "environments/base/db.yaml": "a: 1\n",
      "docs/x.md": "x",
    });
    const first = git(dir, "rev-parse", "HEAD").trim();
    writeTree(dir, { "environments/base/db.yaml": "a: 2\n" });
    commitAll(dir, "two");
    writeTree(dir, { "environments/base/db.yaml": "a: 3 # uncommitted\n" });
    await withRepo(dir, async (repo) => {
      const files = createCommitFiles(repo, first);
      expect(await files.list(["schemas", "environments"])).toEqual([
        "environments/base/db.yaml",
        "schemas/db.schema.yaml",
      ]);
      expect(await files.list(["strata.yaml"])).toEqual(["strata.yaml"]);
      expect(text(await files.read("environments/base/db.yaml"))).toBe("a: 1\n");
      expect(await files.read("environments/base/nope.yaml")).toBeNull();
    });
  });

  it("reads a config repository that lives in a subdirectory of the git repository", async () => {
    const top = gitdir({
      "config/strata.yaml": "version: 1\n",
      "config/environments/base/db.yaml": "a: 1\n",
      "app/main.ts": "",
    });
    await withRepo(join(top, "config"), async (repo) => {
      expect(repo.prefix).toBe("config/");
      const files = createCommitFiles(repo, await resolveCommit(repo, "HEAD", "head"));
      expect(await files.list(["environments"])).toEqual(["environments/base/db.yaml"]);
      writeTree(top, { "config/environments/base/db.yaml": "a: 2\n", "app/main.ts": "changed" });
      expect(await readChangedFiles(repo, await resolveCommit(repo, "HEAD", "base"), null)).toEqual([
        { status: "modified", path: "environments/base/db.yaml", oldPath: null },
      ]);
    });
  });

  it("the working tree includes uncommitted and untracked files, not ignored or deleted ones", async () => {
    const dir = gitdir({
      ".gitignore": "*.local.yaml\n",
      "strata.yaml": "version: 1\n",
      "environments/base/db.yaml": "a: 1\n",
      "environments/base/gone.yaml": "x: 1\n",
    });
    writeTree(dir, {
      "environments/base/db.yaml": "a: 2\n",
      "environments/base/new.yaml": "b: 1\n",
      "environments/base/me.local.yaml": "c: 1\n",
    });
    rmSync(join(dir, "environments/base/gone.yaml"));
    await withRepo(dir, async (repo) => {
      const files = createGitWorktreeFiles(repo);
      expect(await files.list(["environments"])).toEqual(["environments/base/db.yaml", "environments/base/new.yaml"]);
      expect(text(await files.read("environments/base/db.yaml"))).toBe("a: 2\n");
      const base = await resolveCommit(repo, "HEAD", "base");
      const changes = await readChangedFiles(repo, base, null);
      expect(changes).toEqual(
        expect.arrayContaining([
          { status: "modified", path: "environments/base/db.yaml", oldPath: null },
          { status: "deleted", path: "environments/base/gone.yaml", oldPath: null },
          { status: "added", path: "environments/base/new.yaml", oldPath: null },
        ]),
      );
      expect(changes).toHaveLength(3);
    });
  });

  it("detects renames between commits", async () => {
    const dir = gitdir({ "environments/staging/db.yaml": "host: db.internal\nport: 5432\nuser: app\n" });
    const base = git(dir, "rev-parse", "HEAD").trim();
    git(dir, "mv", "environments/staging", "environments/stage");
    const head = commitAll(dir, "rename");
    await withRepo(dir, async (repo) => {
      expect(await readChangedFiles(repo, base, head)).toEqual([
        { status: "renamed", path: "environments/stage/db.yaml", oldPath: "environments/staging/db.yaml" },
      ]);
    });
  });

  it("finds the files that interpolate, at a commit and in the working tree", async () => {
    const dir = gitdir({
      "environments/base/http.yaml": "url: https://${db.host}/\n",
      "environments/base/db.yaml": "host: x\n",
      "README.md": "${db.host}",
    });
    const head = git(dir, "rev-parse", "HEAD").trim();
    writeTree(dir, { "environments/base/cache.yaml": "h: ${db.host}\n" });
    await withRepo(dir, async (repo) => {
      expect(await findInterpolatingFiles(repo, head)).toEqual(["environments/base/http.yaml"]);
      expect((await findInterpolatingFiles(repo, null)).sort()).toEqual([
        "environments/base/cache.yaml",
        "environments/base/http.yaml",
      ]);
    });
  });
});

describe("refs", () => {
  it("resolves refs and rejects unknown ones with unknown-ref", async () => {
    const dir = gitdir({ "a.yaml": "a: 1\n" });
    await withRepo(dir, async (repo) => {
      expect(await resolveCommit(repo, "HEAD", "base")).toMatch(/^[0-9a-f]{40}$/);
      await expectCode(resolveCommit(repo, "no-such-branch", "base"), "unknown-ref", /no-such-branch/);
      await expectCode(resolveCommit(repo, "--output=/tmp/x", "base"), "unknown-ref");
    });
  });

  it("a repository with no commits has no base", async () => {
    const dir = gitdir({ "a.yaml": "a: 1\n" }, {});
    git(dir, "init", "-q", "-b", "main");
    await withRepo(dir, async (repo) => {
      await expectCode(findDefaultBase(repo, null), "unknown-ref", /no commits/);
      await expectCode(resolveCommit(repo, "HEAD", "base"), "unknown-ref", /no commits/);
    });
  });

  it("outside a git repository is missing-repository", async () => {
    await expectCode(openGitRepo(tempdir()), "missing-repository", /not inside a git repository/);
  });

  it("the default base is the merge-base with main (then origin/HEAD) from a feature branch", async () => {
    const dir = gitdir({ "a.yaml": "a: 1\n" });
    const fork = git(dir, "rev-parse", "HEAD").trim();
    git(dir, "checkout", "-q", "-b", "feature");
    writeTree(dir, { "a.yaml": "a: 2\n" });
    const feature = commitAll(dir, "feature");
    git(dir, "checkout", "-q", "main");
    writeTree(dir, { "b.yaml": "b: 1\n" });
    commitAll(dir, "main moves on");
    git(dir, "checkout", "-q", "feature");
    await withRepo(dir, async (repo) => {
      expect(await findDefaultBase(repo, null)).toMatchObject({ sha: fork, description: "merge-base with main" });
      expect((await findDefaultBase(repo, feature)).sha).toBe(fork);
    });
    // A clone: origin/HEAD names the default branch.
    git(dir, "checkout", "-q", "main");
    const clone = tempdir();
    git(clone, "clone", "-q", "--no-local", dir, "c");
    await withRepo(join(clone, "c"), async (repo) => {
      git(join(clone, "c"), "checkout", "-q", "-b", "topic", "origin/feature");
      expect(await findDefaultBase(repo, null)).toMatchObject({
        sha: fork,
        description: "merge-base with origin/main",
      });
    });
  });

  it("no default branch and no merge commit: unknown-ref asking for --base", async () => {
    const dir = gitdir({ "a.yaml": "a: 1\n" });
    git(dir, "branch", "-m", "main", "trunk");
    await withRepo(dir, async (repo) => {
      await expectCode(findDefaultBase(repo, null), "unknown-ref", /--base/);
    });
  });
});

describe("shallow clones", () => {
  /** main with history, a feature branch, and the merge commit GitHub makes for a pull request. */
  function pullRequestRepo(): { origin: string; mergeSha: string; mainSha: string } {
    const origin = gitdir({ "a.yaml": "a: 1\n" });
    for (let i = 0; i < 3; i++) {
      writeTree(origin, { "a.yaml": `a: ${i + 2}\n` });
      commitAll(origin, `main ${i}`);
    }
    git(origin, "checkout", "-q", "-b", "feature");
    writeTree(origin, { "b.yaml": "b: 1\n" });
    commitAll(origin, "feature");
    git(origin, "checkout", "-q", "main");
    const mainSha = git(origin, "rev-parse", "HEAD").trim();
    git(origin, "checkout", "-q", "-b", "pr-merge");
    git(origin, "merge", "-q", "--no-ff", "-m", "Merge pull request #7 from acme/feature", "feature");
    const mergeSha = git(origin, "rev-parse", "HEAD").trim();
    git(origin, "checkout", "-q", "main");
    return { origin, mergeSha, mainSha };
  }

  it("depth 2 of a pull request merge commit: the base is HEAD^1", async () => {
    const { origin, mergeSha, mainSha } = pullRequestRepo();
    const dir = join(tempdir(), "c");
    git(tempdir(), "clone", "-q", "--depth", "2", "--branch", "pr-merge", `file://${origin}`, dir);
    git(dir, "update-ref", "-d", "refs/remotes/origin/HEAD");
    await withRepo(dir, async (repo) => {
      expect(repo.shallow).toBe(true);
      expect(git(dir, "rev-parse", "HEAD").trim()).toBe(mergeSha);
      const base = await findDefaultBase(repo, null);
      expect(base.sha).toBe(mainSha);
      expect(base.description).toMatch(/HEAD\^1/);
    });
  });

  it("depth 1: the base is not visible, so shallow-clone with the fetch-depth hint (never 'no changes')", async () => {
    const { origin } = pullRequestRepo();
    const dir = join(tempdir(), "c");
    git(tempdir(), "clone", "-q", "--depth", "1", "--branch", "pr-merge", `file://${origin}`, dir);
    await withRepo(dir, async (repo) => {
      await expectCode(findDefaultBase(repo, null), "shallow-clone", /fetch-depth: 2.*fetch-depth: 0/);
      await expectCode(resolveCommit(repo, "HEAD~1", "base"), "shallow-clone", /fetch-depth/);
    });
  });

  it("depth 1 of a feature branch: shallow-clone", async () => {
    const { origin } = pullRequestRepo();
    const dir = join(tempdir(), "c");
    git(tempdir(), "clone", "-q", "--depth", "1", "--no-single-branch", "--branch", "feature", `file://${origin}`, dir);
    await withRepo(dir, async (repo) => {
      await expectCode(findDefaultBase(repo, null), "shallow-clone");
    });
  });
});

describe("history", () => {
  it("walks first parents oldest first with the files each commit changed and merge commits as one change", async () => {
    const dir = gitdir({ "environments/base/db.yaml": "a: 1\n", "README.md": "r" });
    writeTree(dir, { "README.md": "r2" });
    commitAll(dir, "docs only");
    git(dir, "checkout", "-q", "-b", "feature");
    writeTree(dir, { "environments/base/db.yaml": "a: 2\n" });
    commitAll(dir, "raise a");
    git(dir, "checkout", "-q", "main");
    git(dir, "merge", "-q", "--no-ff", "-m", "Merge pull request #12 from acme/feature", "feature");
    const head = git(dir, "rev-parse", "HEAD").trim();
    mkdirSync(join(dir, "x"), { recursive: true });
    writeFileSync(join(dir, "x/y"), "");
    await withRepo(dir, async (repo) => {
      const commits = await readHistory(repo, head, ["environments"]);
      expect(commits.map((c) => c.subject)).toEqual(["initial", "Merge pull request #12 from acme/feature"]);
      expect(commits[1]?.changes).toEqual([
        {
          status: "modified",
          path: "environments/base/db.yaml",
          oldPath: null,
          oid: git(dir, "rev-parse", "HEAD:environments/base/db.yaml").trim(),
        },
      ]);
      expect(commits[1]).toMatchObject({ author: "Test Author", email: "author@example.com" });
      expect(commits[0]?.parent).toBeNull();
    });
  });
});

it("git is what the tests use", () => {
  expect(execFileSync("git", ["--version"]).toString()).toMatch(/git version/);
});

describe("trees derived from raw diffs", () => {
  it("a commit's tree is its parent's with the raw diff applied (renames, deletions, additions)", async () => {
    const dir = gitdir({
      "environments/a/db.yaml": "host: a-long-enough-value-to-rename\nport: 1\n",
      "environments/a/x.yaml": "x: 1\n",
      "schemas/db.schema.yaml": "type: object\n",
    });
    const first = git(dir, "rev-parse", "HEAD").trim();
    mkdirSync(join(dir, "environments/b"));
    git(dir, "mv", "environments/a/db.yaml", "environments/b/db.yaml");
    rmSync(join(dir, "environments/a/x.yaml"));
    writeTree(dir, { "environments/b/new.yaml": "n: 1\n" });
    const second = commitAll(dir, "move");
    await withRepo(dir, async (repo) => {
      const [commit] = (await readHistory(repo, second, ["environments", "schemas"])).slice(-1);
      const derived = applyRawChanges(await readTree(repo, first), commit!.changes);
      const actual = await readTree(repo, second);
      expect([...derived].map(([p, e]) => [p, e.oid]).sort()).toEqual([...actual].map(([p, e]) => [p, e.oid]).sort());
      const files = createTreeFiles(repo, derived, "derived");
      expect(text(await files.read("environments/b/db.yaml"))).toMatch(/^host: a-long/);
      expect(await files.read("environments/a/x.yaml")).toBeNull();
    });
  });
});
