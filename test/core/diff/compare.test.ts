import { describe, expect, it } from "vitest";
import { compareSides, type CompareInput } from "../../../src/core/diff/compare.js";
import type { ChangedFile } from "../../../src/core/diff/changes.js";
import { createFinding } from "../../../src/core/findings.js";
import type { JsonValue } from "../../../src/core/json.js";
import type { KeyMetadata } from "../../../src/core/model.js";
import { ENVS, envInfo, resolved, side, type LeafSpec } from "./helpers.js";

type Leaves = Record<string, JsonValue | LeafSpec>;

function diffOne(
  before: Leaves,
  after: Leaves,
  meta: Record<string, Partial<KeyMetadata>> = {},
  changed: string[] = ["environments/staging/db.yaml"],
) {
  const input: CompareInput = {
    base: side(ENVS, [resolved("staging", before)], meta),
    head: side(ENVS, [resolved("staging", after)], meta),
    baseRef: "b".repeat(40),
    headRef: "worktree",
    pairs: [{ base: "staging", head: "staging" }],
    changedFiles: changed.map((path): ChangedFile => ({ status: "modified", path, oldPath: null })),
    namespaceRenames: new Map(),
  };
  return compareSides(input).environments.staging?.changes ?? [];
}

describe("compareSides: per key", () => {
  it.each<[string, Leaves, Leaves, Record<string, unknown>[]]>([
    ["unchanged", { "db.port": 1 }, { "db.port": 1 }, []],
    [
      "changed scalar",
      { "db.port": 1 },
      { "db.port": 2 },
      [{ key: "db.port", change: "changed", before: 1, after: 2 }],
    ],
    ["added", {}, { "db.host": "h" }, [{ key: "db.host", change: "added", after: "h" }]],
    ["removed", { "db.host": "h" }, {}, [{ key: "db.host", change: "removed", before: "h" }]],
    ["null is a value", { "db.x": null }, { "db.x": 0 }, [{ key: "db.x", change: "changed", before: null, after: 0 }]],
    ["type change", { "db.x": "1" }, { "db.x": 1 }, [{ key: "db.x", change: "changed", before: "1", after: 1 }]],
    ["object key order is not a change", { "db.m": { a: 1, b: 2 } }, { "db.m": { b: 2, a: 1 } }, []],
    [
      "leaf becomes a subtree",
      { "db.a": 1 },
      { "db.a.b": 1 },
      [
        { key: "db.a.b", change: "added" },
        { key: "db.a", change: "removed" },
      ],
    ],
  ])("%s", (_name, before, after, expected) => {
    const changes = diffOne(before, after);
    expect(changes).toHaveLength(expected.length);
    expected.forEach((e, i) => expect(changes[i]).toMatchObject(e));
  });

  it("omits before for added and after for removed", () => {
    const [added] = diffOne({}, { "db.a": 1 });
    expect(added).not.toHaveProperty("before");
    const [removed] = diffOne({ "db.a": 1 }, {});
    expect(removed).not.toHaveProperty("after");
  });
});

describe("compareSides: sensitive values", () => {
  it.each<[string, Leaves, Leaves, Record<string, unknown> | null]>([
    [
      "plaintext changed",
      { "db.pw": { value: "old-secret", sensitive: true } },
      { "db.pw": { value: "new-secret", sensitive: true } },
      { change: "changed", sensitive: true, certain: true },
    ],
    [
      "plaintext equal",
      { "db.pw": { value: "same", sensitive: true } },
      { "db.pw": { value: "same", sensitive: true } },
      null,
    ],
    [
      "ciphertext differs",
      { "db.pw": { value: "ENC[a]", sensitive: true, ciphertextOnly: true } },
      { "db.pw": { value: "ENC[b]", sensitive: true, ciphertextOnly: true } },
      { change: "changed", sensitive: true, certain: false },
    ],
    [
      "ciphertext equal",
      { "db.pw": { value: "ENC[a]", sensitive: true, ciphertextOnly: true } },
      { "db.pw": { value: "ENC[a]", sensitive: true, ciphertextOnly: true } },
      null,
    ],
    [
      "added secret",
      {},
      { "db.pw": { value: "ENC[a]", sensitive: true, ciphertextOnly: true } },
      { change: "added", sensitive: true, certain: true },
    ],
    [
      "removed secret",
      { "db.pw": { value: "s3cret-value", sensitive: true } },
      {},
      { change: "removed", sensitive: true },
    ],
  ])("%s", (_name, before, after, expected) => {
    const changes = diffOne(before, after);
    if (expected === null) return expect(changes).toEqual([]);
    expect(changes).toHaveLength(1);
    expect(changes[0]).toMatchObject(expected);
    expect(changes[0]).not.toHaveProperty("before");
    expect(changes[0]).not.toHaveProperty("after");
    expect(JSON.stringify(changes)).not.toMatch(/secret|ENC\[/);
  });

  it("treats a key the schema marks sensitive as sensitive even if the leaf is not", () => {
    const [c] = diffOne({ "db.pw": "a-plain-value" }, { "db.pw": "b-plain-value" }, { "db.pw": { sensitive: true } });
    expect(c).toMatchObject({ sensitive: true, certain: true });
    expect(JSON.stringify(c)).not.toContain("plain-value");
  });
});

describe("compareSides: schema flags", () => {
  it.each<[string, Partial<KeyMetadata>, Record<string, unknown>]>([
    ["restart-required", { restartRequired: true }, { flags: ["restart-required"] }],
    ["deprecated", { deprecated: "use db.pool" }, { flags: ["deprecated"], deprecated: "use db.pool" }],
    [
      "owner and approvers",
      { owner: "@acme/dba", approvers: ["alice"] },
      { flags: [], owner: "@acme/dba", approvers: ["alice"] },
    ],
  ])("%s", (_name, meta, expected) => {
    const [c] = diffOne({ "db.port": 1 }, { "db.port": 2 }, { "db.port": meta });
    expect(c).toMatchObject(expected);
  });
});

describe("compareSides: arrays by item", () => {
  it.each<[string, JsonValue[], JsonValue[], Partial<KeyMetadata>, Record<string, unknown>[]]>([
    ["appended by index", ["a"], ["a", "b"], {}, [{ index: 1, change: "added", after: "b" }]],
    ["removed by index", ["a", "b"], ["a"], {}, [{ index: 1, change: "removed", before: "b" }]],
    ["changed by index", ["a", "b"], ["a", "c"], {}, [{ index: 1, change: "changed", before: "b", after: "c" }]],
    [
      "matched by x-merge by field",
      [
        { name: "r1", w: 1 },
        { name: "r2", w: 2 },
      ],
      [
        { name: "r2", w: 5 },
        { name: "r3", w: 1 },
      ],
      { merge: { by: "name" } },
      [
        { index: 0, change: "changed", id: "r2", before: { name: "r2", w: 2 }, after: { name: "r2", w: 5 } },
        { index: 1, change: "added", id: "r3" },
        { index: 0, change: "removed", id: "r1" },
      ],
    ],
    [
      "reordered items matched by field are not changes",
      [{ name: "a" }, { name: "b" }],
      [{ name: "b" }, { name: "a" }],
      { merge: { by: "name" } },
      [],
    ],
    [
      "items without the field fall back to index",
      [{ x: 1 }],
      [{ x: 2 }],
      { merge: { by: "name" } },
      [{ index: 0, change: "changed" }],
    ],
  ])("%s", (_name, before, after, meta, expected) => {
    const [c] = diffOne({ "http.allow": before }, { "http.allow": after }, { "http.allow": meta });
    expect(c).toMatchObject({ key: "http.allow", change: "changed", before, after });
    expect(c?.items).toEqual(expected.map((e) => expect.objectContaining(e)));
  });
});

describe("compareSides: layers and blast radius", () => {
  it("attributes a change to the changed layer and lists every environment it reaches", () => {
    const before = (env: string) => resolved(env, { "db.port": { value: 1, from: "base" } });
    const after = (env: string) => resolved(env, { "db.port": { value: 2, from: "base" } });
    const result = compareSides({
      base: side(ENVS, [before("staging"), before("production")]),
      head: side(ENVS, [after("staging"), after("production")]),
      baseRef: "b",
      headRef: "h",
      pairs: [
        { base: "staging", head: "staging" },
        { base: "production", head: "production" },
      ],
      changedFiles: [
        { status: "modified", path: "environments/base/db.yaml", oldPath: null },
        { status: "modified", path: "README.md", oldPath: null },
      ],
      namespaceRenames: new Map(),
    });
    expect(result.changedLayers).toEqual([
      { environment: "base", file: "environments/base/db.yaml", reaches: ["production", "staging"] },
    ]);
    expect(Object.keys(result.environments)).toEqual(["production", "staging"]);
    expect(result.environments.production?.changes[0]?.layer).toEqual({
      environment: "base",
      file: "environments/base/db.yaml",
    });
  });

  it.each<[string, LeafSpec, LeafSpec, string[], { environment: string | null; file: string }]>([
    [
      "override changed",
      { value: 1, from: "staging" },
      { value: 2, from: "staging" },
      ["environments/staging/db.yaml"],
      { environment: "staging", file: "environments/staging/db.yaml" },
    ],
    [
      "override removed",
      { value: 1, from: "staging", overridden: ["base"] },
      { value: 0, from: "base" },
      ["environments/staging/db.yaml"],
      { environment: "staging", file: "environments/staging/db.yaml" },
    ],
    [
      "schema default",
      { value: 1, from: "default" },
      { value: 2, from: "default" },
      ["schemas/db.schema.yaml"],
      { environment: null, file: "schemas/db.schema.yaml" },
    ],
    [
      "appended in parent",
      { value: 1, from: "staging", overridden: ["base"] },
      { value: 2, from: "staging", overridden: ["base"] },
      ["environments/base/db.yaml"],
      { environment: "base", file: "environments/base/db.yaml" },
    ],
    [
      "environment tree",
      { value: 1, from: "base" },
      { value: 2, from: "other" },
      ["strata.yaml"],
      { environment: null, file: "strata.yaml" },
    ],
  ])("%s", (_name, before, after, changed, layer) => {
    const [c] = diffOne({ "db.port": before }, { "db.port": after }, {}, changed);
    expect(c?.layer).toEqual(layer);
  });
});

describe("compareSides: environments", () => {
  const finding = (code: "invalid-type" | "missing-required", key: string, line = 3) =>
    createFinding({
      code,
      message: `${key} is wrong`,
      key,
      environment: "staging",
      file: "environments/staging/db.yaml",
      line,
    });

  it("reports findings the head has and the base had not, ignoring moved lines", () => {
    const result = compareSides({
      base: side(ENVS, [resolved("staging", { "db.port": 1 }, [finding("invalid-type", "db.a", 3)])]),
      head: side(ENVS, [
        resolved("staging", { "db.port": 1 }, [
          finding("invalid-type", "db.a", 9),
          finding("missing-required", "db.host"),
        ]),
      ]),
      baseRef: "b",
      headRef: "h",
      pairs: [{ base: "staging", head: "staging" }],
      changedFiles: [],
      namespaceRenames: new Map(),
    });
    expect(result.environments.staging?.invalid.map((f) => f.code)).toEqual(["missing-required"]);
  });

  it("a keyless finding whose message moved lines is not new", () => {
    const at = (line: number) =>
      createFinding({
        code: "yaml-syntax",
        message: `environments/staging/db.yaml:${line}:1: bad indentation`,
        file: "environments/staging/db.yaml",
        line,
      });
    const result = compareSides({
      base: side(ENVS, [resolved("staging", { "db.port": 1 }, [at(3)])]),
      head: side(ENVS, [resolved("staging", { "db.port": 2 }, [at(7)])]),
      baseRef: "b",
      headRef: "h",
      pairs: [{ base: "staging", head: "staging" }],
      changedFiles: [],
      namespaceRenames: new Map(),
    });
    expect(result.environments.staging?.invalid).toEqual([]);
  });

  it("shows a renamed environment as such, compared against its old name", () => {
    const headEnvs = [ENVS[0]!, envInfo("stage", ["base", "stage"]), ENVS[2]!];
    const result = compareSides({
      base: side(ENVS, [resolved("staging", { "db.port": 1, "db.host": "a" })]),
      head: side(headEnvs, [resolved("stage", { "db.port": 1, "db.host": "b" })]),
      baseRef: "b",
      headRef: "h",
      pairs: [{ base: "staging", head: "stage" }],
      changedFiles: [],
      namespaceRenames: new Map(),
    });
    expect(result.environments.stage).toMatchObject({
      renamedFrom: "staging",
      status: "renamed",
      changes: [{ key: "db.host", before: "a", after: "b" }],
    });
  });

  it("pairs an environment that vanished with one that appeared with the same config", () => {
    const headEnvs = [ENVS[0]!, envInfo("stage", ["base", "stage"]), ENVS[2]!];
    const result = compareSides({
      base: side(ENVS, [resolved("staging", { "db.port": { value: 1, from: "base" } })]),
      head: side(headEnvs, [resolved("stage", { "db.port": { value: 1, from: "base" } })]),
      baseRef: "b",
      headRef: "h",
      pairs: [
        { base: null, head: "stage" },
        { base: "staging", head: null },
      ],
      changedFiles: [{ status: "modified", path: "strata.yaml", oldPath: null }],
      namespaceRenames: new Map(),
    });
    expect(Object.keys(result.environments)).toEqual(["stage"]);
    expect(result.environments.stage).toMatchObject({ status: "renamed", renamedFrom: "staging", changes: [] });
  });

  it("compares a renamed namespace key by key", () => {
    const result = compareSides({
      base: side(ENVS, [resolved("staging", { "db.port": 1, "db.host": "a" })]),
      head: side(ENVS, [resolved("staging", { "database.port": 1, "database.host": "b" })]),
      baseRef: "b",
      headRef: "h",
      pairs: [{ base: "staging", head: "staging" }],
      changedFiles: [{ status: "renamed", path: "schemas/database.schema.yaml", oldPath: "schemas/db.schema.yaml" }],
      namespaceRenames: new Map([["db", "database"]]),
    });
    expect(result.renamedNamespaces).toEqual([{ from: "db", to: "database" }]);
    expect(result.environments.staging?.changes).toEqual([
      expect.objectContaining({ key: "database.host", change: "changed", before: "a", after: "b" }),
    ]);
    expect(result.changedLayers).toEqual([
      { environment: null, file: "schemas/database.schema.yaml", renamedFrom: "schemas/db.schema.yaml", reaches: [] },
    ]);
  });

  it("lists added and removed environments with all their keys", () => {
    const result = compareSides({
      base: side(ENVS, [resolved("staging", { "db.port": 1 })]),
      head: side([ENVS[0]!, ENVS[2]!], [resolved("production", { "db.port": 2 })]),
      baseRef: "b",
      headRef: "h",
      pairs: [
        { base: null, head: "production" },
        { base: "staging", head: null },
      ],
      changedFiles: [],
      namespaceRenames: new Map(),
    });
    expect(result.environments.production).toMatchObject({
      status: "added",
      production: true,
      changes: [{ key: "db.port", change: "added", after: 2 }],
    });
    expect(result.environments.staging).toMatchObject({
      status: "removed",
      changes: [{ key: "db.port", change: "removed", before: 1 }],
    });
  });

  it("reports repository-level problems per side", () => {
    const broken = createFinding({ code: "yaml-syntax", message: "bad strata.yaml", file: "strata.yaml", line: 2 });
    const result = compareSides({
      base: side(ENVS, []),
      head: side(ENVS, [], {}, [broken]),
      baseRef: "b",
      headRef: "h",
      pairs: [],
      changedFiles: [],
      namespaceRenames: new Map(),
    });
    expect(result.problems).toEqual([{ side: "head", finding: broken }]);
  });
});
