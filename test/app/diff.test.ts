// @module-tag slow
import { readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { diffConfig, type DiffOptions } from "../../src/app/diff.js";
import type { KeyChange } from "../../src/core/diff/model.js";
import { StrataError } from "../../src/core/findings.js";
import { cleanupTempdirs, commitAll, git, gitdir, writeTree } from "../support/gitdir.js";
import { baseTree, sopsFile, STRATA_YAML } from "./diff-fixture.js";

afterAll(cleanupTempdirs);

async function diff(dir: string, options: Omit<DiffOptions, "dir"> = {}) {
  return diffConfig({ dir, ...options });
}

const keys = (changes: readonly KeyChange[] | undefined): string[] =>
  (changes ?? []).map((c) => `${c.change} ${c.key}`);

describe("diffConfig between commits", () => {
  it("shows a base change in every environment it reaches, with the layer and the blast radius", async () => {
    const dir = gitdir(baseTree());
    writeTree(dir, { "environments/base/db.yaml": "host: db.internal\nlegacy_timeout: 60\npool: { max: 20 }\n" });
    commitAll(dir, "raise");
    const { result } = await diff(dir, { base: "HEAD~1", head: "HEAD" });
    expect(result.base).toMatch(/^[0-9a-f]{40}$/);
    expect(result.head).toMatch(/^[0-9a-f]{40}$/);
    expect(result.changedLayers).toEqual([
      { environment: "base", file: "environments/base/db.yaml", reaches: ["production", "production-eu", "staging"] },
    ]);
    // production first; production-eu inherits production: true.
    expect(Object.keys(result.environments)).toEqual(["production", "production-eu", "staging"]);
    const staging = result.environments.staging!.changes;
    expect(staging).toEqual([
      {
        key: "db.pool.max",
        change: "changed",
        before: 10,
        after: 20,
        sensitive: false,
        layer: { environment: "base", file: "environments/base/db.yaml" },
        flags: ["restart-required"],
        owner: "@acme/dba",
        approvers: [],
      },
      {
        key: "db.legacy_timeout",
        change: "changed",
        before: 30,
        after: 60,
        sensitive: false,
        layer: { environment: "base", file: "environments/base/db.yaml" },
        flags: ["deprecated"],
        deprecated: "use pool settings",
        owner: null,
        approvers: [],
      },
    ]);
    // production overrides pool.max: only the deprecated key changes there.
    expect(keys(result.environments.production!.changes)).toEqual(["changed db.legacy_timeout"]);
  });

  it("follows interpolation across namespaces (incremental mode re-resolves the namespace that references)", async () => {
    const dir = gitdir(baseTree());
    writeTree(dir, { "environments/staging/db.yaml": "host: db2.staging\n" });
    commitAll(dir, "move db");
    for (const incremental of [true, false]) {
      const { result } = await diff(dir, { base: "HEAD~1", head: "HEAD", incremental });
      expect(Object.keys(result.environments)).toEqual(["staging"]);
      expect(result.environments.staging!.changes.map((c) => [c.key, c.before, c.after])).toEqual([
        ["db.host", "db.staging", "db2.staging"],
        ["http.url", "https://db.staging/api", "https://db2.staging/api"],
      ]);
    }
  });

  it("incremental: a leaf layer's change resolves only that namespace (and those interpolating it) where it is inherited", async () => {
    const dir = gitdir(baseTree());
    writeTree(dir, { "environments/production/http.yaml": "allow: [p]\n" });
    commitAll(dir, "production http");
    const inc = await diff(dir, { base: "HEAD~1", head: "HEAD" });
    expect(inc.resolved).toEqual([
      { environment: "production", namespaces: 1 },
      { environment: "production-eu", namespaces: 1 },
    ]);
    const full = await diff(dir, { base: "HEAD~1", head: "HEAD", incremental: false });
    expect(full.resolved.map((r) => r.namespaces)).toEqual([null, null, null]);
    expect(full.result).toEqual(inc.result);
  });

  it("shows array changes by item, matched by the x-merge field", async () => {
    const dir = gitdir(baseTree());
    writeTree(dir, {
      "environments/base/http.yaml":
        "url: https://${db.host}/api\nallow: [a, b]\nroutes:\n  - { name: r2, weight: 5 }\n  - { name: r1, weight: 1 }\n",
    });
    commitAll(dir, "routes");
    const { result } = await diff(dir, { base: "HEAD~1", head: "HEAD", environments: ["staging"] });
    const [allow, routes] = result.environments.staging!.changes;
    expect(allow).toMatchObject({
      key: "http.allow",
      before: ["a"],
      after: ["a", "b"],
      items: [{ index: 1, change: "added", after: "b" }],
    });
    expect(routes).toMatchObject({
      key: "http.routes",
      items: [
        { index: 0, change: "changed", id: "r2", before: { name: "r2", weight: 2 }, after: { name: "r2", weight: 5 } },
      ],
    });
  });

  it("compares sensitive values without printing them; ciphertext only means 'may have changed'", async () => {
    const dir = gitdir(baseTree());
    writeTree(dir, { "environments/production/db.sops.yaml": sopsFile({ password: "prod-password-2" }) });
    commitAll(dir, "rotate");
    const { result } = await diff(dir, { base: "HEAD~1", head: "HEAD" });
    expect(result.environments.production!.changes).toEqual([
      {
        key: "db.password",
        change: "changed",
        sensitive: true,
        certain: false,
        layer: { environment: "production", file: "environments/production/db.sops.yaml" },
        flags: [],
        owner: null,
        approvers: ["@acme/security"],
      },
    ]);
    expect(Object.keys(result.environments)).toEqual(["production", "production-eu"]);
    const json = JSON.stringify(result);
    expect(json).not.toContain("ENC[");
    expect(json).not.toContain(Buffer.from("prod-password-2").toString("base64"));
  });

  it("reports findings the head has that the base had not, per environment", async () => {
    const dir = gitdir(baseTree());
    writeTree(dir, { "environments/staging/db.yaml": "host: db.staging\npool: { max: many }\n" });
    commitAll(dir, "break staging");
    const { result } = await diff(dir, { base: "HEAD~1", head: "HEAD" });
    expect(result.environments.staging!.invalid.map((f) => [f.code, f.key])).toEqual([["invalid-type", "db.pool.max"]]);
    expect(result.environments.staging!.invalid[0]?.file).toBe("environments/staging/db.yaml");
  });

  it("shows a renamed environment as a rename, not a delete and an add", async () => {
    const dir = gitdir(baseTree());
    git(dir, "mv", "environments/staging", "environments/stage");
    writeTree(dir, {
      "strata.yaml": STRATA_YAML.replace("staging:", "stage:"),
      "environments/stage/db.yaml": "host: db.staging\npool: { max: 12 }\n",
    });
    commitAll(dir, "rename staging");
    const { result } = await diff(dir, { base: "HEAD~1", head: "HEAD" });
    expect(Object.keys(result.environments)).toEqual(["stage"]);
    expect(result.environments.stage).toMatchObject({ renamedFrom: "staging", status: "renamed" });
    expect(keys(result.environments.stage!.changes)).toEqual(["changed db.pool.max"]);
  });

  it("shows a renamed environment without files of its own as a rename too", async () => {
    const dir = gitdir({ ...baseTree(), "strata.yaml": STRATA_YAML + "  qa: { parent: base }\n" });
    writeTree(dir, { "strata.yaml": STRATA_YAML + "  test: { parent: base }\n" });
    commitAll(dir, "rename qa");
    const { result } = await diff(dir, { base: "HEAD~1", head: "HEAD" });
    expect(result.environments).toEqual({
      test: expect.objectContaining({ renamedFrom: "qa", status: "renamed", changes: [] }),
    });
  });

  it("shows a renamed namespace as such", async () => {
    const dir = gitdir(baseTree());
    git(dir, "mv", "schemas/http.schema.yaml", "schemas/web.schema.yaml");
    git(dir, "mv", "environments/base/http.yaml", "environments/base/web.yaml");
    commitAll(dir, "rename http");
    const { result } = await diff(dir, { base: "HEAD~1", head: "HEAD" });
    expect(result.renamedNamespaces).toEqual([{ from: "http", to: "web" }]);
    expect(result.environments).toEqual({});
  });

  it("a broken strata.yaml at head: the error for that side, and the values diff still shown", async () => {
    const dir = gitdir(baseTree());
    writeTree(dir, {
      "strata.yaml": "version: 1\nenvironments: [oops\n",
      "environments/staging/db.yaml": "host: db.new\n",
    });
    commitAll(dir, "break settings");
    const { result } = await diff(dir, { base: "HEAD~1", head: "HEAD" });
    expect(result.problems[0]).toMatchObject({
      side: "head",
      // At the [ that is never closed, not where the parser gave up.
      finding: { code: "yaml-syntax", file: "strata.yaml", line: 2, column: 15 },
    });
    expect(result.problems.every((p) => p.side === "head" && p.finding.file === "strata.yaml")).toBe(true);
    expect(result.environments.staging!.changes.map((c) => c.key)).toEqual(["db.host", "http.url"]);
  });

  it("a broken strata.yaml at base: reported for the base", async () => {
    const dir = gitdir({ ...baseTree(), "strata.yaml": "version: 1\nenvironments: {{\n" });
    writeTree(dir, { "strata.yaml": STRATA_YAML });
    commitAll(dir, "fix settings");
    const { result } = await diff(dir, { base: "HEAD~1", head: "HEAD" });
    expect(result.problems[0]).toMatchObject({ side: "base", finding: { code: "yaml-syntax", file: "strata.yaml" } });
    expect(result.problems.every((p) => p.side === "base")).toBe(true);
    expect(result.environments).toEqual({});
  });

  it("a base without any config: every environment is new", async () => {
    const dir = gitdir({ "README.md": "x" });
    writeTree(dir, baseTree());
    commitAll(dir, "add config");
    const { result } = await diff(dir, { base: "HEAD~1", head: "HEAD" });
    expect(Object.values(result.environments).map((e) => e.status)).toEqual(["added", "added", "added"]);
  });

  it("binary and huge files: a binary values file is that side's finding, files outside the layout are never read", async () => {
    const dir = gitdir(baseTree());
    writeTree(dir, {
      "environments/staging/db.yaml": Buffer.from([0xff, 0xfe, 0, 1, 2]),
      "assets/big.bin": Buffer.alloc(20 * 1024 * 1024, 1),
    });
    commitAll(dir, "binary");
    const { result } = await diff(dir, { base: "HEAD~1", head: "HEAD" });
    const codes = [
      ...result.problems.map((p) => p.finding.code),
      ...Object.values(result.environments).flatMap((e) => e.invalid.map((f) => f.code)),
    ];
    expect(codes.length).toBeGreaterThan(0);
    expect(result.changedLayers.map((l) => l.file)).toEqual(["environments/staging/db.yaml"]);
  });

  it("files over the size limit fail with unreadable-file naming the file", async () => {
    const dir = gitdir(baseTree());
    writeTree(dir, { "environments/staging/db.yaml": "host: x\n# " + "x".repeat(17 * 1024 * 1024) + "\n" });
    commitAll(dir, "huge");
    await expect(diff(dir, { base: "HEAD~1", head: "HEAD" })).rejects.toMatchObject({
      code: "unreadable-file",
      message: expect.stringContaining("environments/staging/db.yaml"),
    });
  });

  it("--env limits the diff; an environment neither side declares is unknown-environment", async () => {
    const dir = gitdir(baseTree());
    writeTree(dir, { "environments/base/db.yaml": "host: db.other\n" });
    commitAll(dir, "host");
    const { result } = await diff(dir, { base: "HEAD~1", head: "HEAD", environments: ["production-eu"] });
    expect(Object.keys(result.environments)).toEqual(["production-eu"]);
    const globbed = await diff(dir, { base: "HEAD~1", head: "HEAD", environments: ["prod*"] });
    expect(Object.keys(globbed.result.environments)).toEqual(["production", "production-eu"]);
    await expect(diff(dir, { base: "HEAD~1", head: "HEAD", environments: ["nope"] })).rejects.toMatchObject({
      code: "unknown-environment",
    });
  });

  it("bad refs: unknown-ref", async () => {
    const dir = gitdir(baseTree());
    await expect(diff(dir, { base: "nope" })).rejects.toMatchObject({ code: "unknown-ref" });
    await expect(diff(dir, { base: "HEAD", head: "deadbeef" })).rejects.toMatchObject({ code: "unknown-ref" });
  });

  it("a base that is not an ancestor: compared as is, with a note", async () => {
    const dir = gitdir(baseTree());
    git(dir, "checkout", "-q", "-b", "other");
    writeTree(dir, { "environments/staging/db.yaml": "host: db.other\n" });
    commitAll(dir, "other");
    git(dir, "checkout", "-q", "main");
    writeTree(dir, { "environments/staging/db.yaml": "host: db.main\n" });
    commitAll(dir, "main");
    const outcome = await diff(dir, { base: "other", head: "main" });
    expect(outcome.notes.join("\n")).toMatch(/not an ancestor/);
    expect(outcome.result.environments.staging!.changes[0]).toMatchObject({ before: "db.other", after: "db.main" });
  });
});

describe("diffConfig against the working tree", () => {
  it("defaults to the merge-base with main vs the working tree, uncommitted and untracked files included", async () => {
    const dir = gitdir(baseTree());
    git(dir, "checkout", "-q", "-b", "feature");
    writeTree(dir, { "environments/staging/db.yaml": "host: db.committed\n" });
    commitAll(dir, "feature");
    writeTree(dir, { "environments/production/http.yaml": "allow: [z]\n" }); // untracked
    writeTree(dir, { "environments/staging/db.yaml": "host: db.uncommitted\n" });
    const outcome = await diff(dir);
    expect(outcome.result.head).toBe("worktree");
    expect(outcome.result.base).toBe(git(dir, "rev-parse", "main").trim());
    expect(outcome.baseLabel).toMatch(/merge-base with main/);
    expect(outcome.result.environments.staging!.changes[0]).toMatchObject({
      key: "db.host",
      before: "db.staging",
      after: "db.uncommitted",
    });
    expect(outcome.result.environments.production!.changes[0]).toMatchObject({
      key: "http.allow",
      before: ["a"],
      after: ["z"],
    });
  });

  it("a deleted values file is a removal", async () => {
    const dir = gitdir(baseTree());
    rmSync(join(dir, "environments/production/db.yaml"));
    const { result } = await diff(dir);
    expect(result.environments.production!.changes[0]).toMatchObject({
      key: "db.pool.max",
      before: 50,
      after: 10,
      layer: { file: "environments/production/db.yaml" },
    });
  });

  it("a repository with no commits: unknown-ref", async () => {
    const dir = gitdir(baseTree(), {});
    git(dir, "init", "-q", "-b", "main");
    await expect(diff(dir)).rejects.toMatchObject({
      code: "unknown-ref",
      message: expect.stringMatching(/no commits/),
    });
  });

  it("no changes: an empty diff", async () => {
    const dir = gitdir(baseTree());
    const { result } = await diff(dir);
    expect(result).toMatchObject({ environments: {}, changedLayers: [], problems: [] });
    expect(readFileSync(join(dir, "strata.yaml"), "utf8")).toBe(STRATA_YAML);
  });
});

describe("diffConfig with a secrets opener", () => {
  const opener = (plaintext: (bytes: string) => string | null) => ({
    async open(path: string, bytes: Uint8Array) {
      const text = Buffer.from(bytes).toString("utf8");
      const password = plaintext(text);
      if (password === null) throw new StrataError("decryption-failed", `${path}: no key`);
      return { password };
    },
  });
  const decode = (text: string): string => Buffer.from(/data:([^,]+)/.exec(text)![1]!, "base64").toString("utf8");

  it("with keys, compares plaintext: a re-encryption with the same value is no change", async () => {
    const dir = gitdir(baseTree());
    // Same plaintext, different ciphertext (as sops re-encrypting with fresh IVs).
    writeTree(dir, {
      "environments/production/db.sops.yaml": sopsFile({ password: "prod-password-1" }).replace(/iv:aaaa/, "iv:cccc"),
    });
    commitAll(dir, "re-encrypt");
    const same = await diff(dir, { base: "HEAD~1", head: "HEAD", secrets: opener(decode) });
    expect(same.result.environments).toEqual({});
    writeTree(dir, { "environments/production/db.sops.yaml": sopsFile({ password: "prod-password-2" }) });
    commitAll(dir, "rotate");
    const changed = await diff(dir, { base: "HEAD~1", head: "HEAD", secrets: opener(decode) });
    expect(changed.result.environments.production!.changes).toEqual([
      expect.objectContaining({ key: "db.password", change: "changed", sensitive: true, certain: true }),
    ]);
    expect(JSON.stringify(changed.result)).not.toContain("prod-password");
  });

  it("without a key, falls back to ciphertext on both sides with a note (never 'removed')", async () => {
    const dir = gitdir(baseTree());
    writeTree(dir, { "environments/production/db.sops.yaml": sopsFile({ password: "prod-password-2" }) });
    commitAll(dir, "rotate");
    const outcome = await diff(dir, { base: "HEAD~1", head: "HEAD", secrets: opener(() => null) });
    expect(outcome.notes.join(" ")).toMatch(
      /not decrypted: environments\/production\/db\.sops\.yaml \(decryption-failed\).*compared as ciphertext/,
    );
    expect(outcome.result.environments.production!.changes).toEqual([
      expect.objectContaining({ key: "db.password", change: "changed", certain: false }),
    ]);
  });
});
