import { describe, expect, it } from "vitest";
import type { ChangedFile } from "../../../src/core/diff/changes.js";
import {
  addDependents,
  chooseIncremental,
  planCoverage,
  planDiff,
  plannedNamespaces,
  type SideLayout,
} from "../../../src/core/diff/plan.js";
import { addFileReferences, closeOverDependents, closeOverReferences } from "../../../src/core/diff/references.js";
import { envInfo } from "./helpers.js";

const TREE = [
  envInfo("base", ["base"], { abstract: true }),
  envInfo("staging", ["base", "staging"]),
  envInfo("production", ["base", "production"], { production: true }),
  envInfo("production-eu", ["base", "production", "production-eu"], { production: true }),
];
const layout = (envs = TREE, namespaces = ["db", "http", "cache"]): SideLayout => ({
  environments: new Map(envs.map((e) => [e.name, e])),
  namespaces,
});
const mod = (path: string): ChangedFile => ({ status: "modified", path, oldPath: null });

function plan(changes: ChangedFile[], base = layout(), head = layout()) {
  const p = planDiff({ changedFiles: changes, base, head, incremental: true });
  return Object.fromEntries(
    p.environments.map((e) => [e.head ?? `-${e.base}`, e.namespaces === null ? "all" : [...e.namespaces].sort()]),
  );
}

describe("planDiff", () => {
  it.each<[string, ChangedFile[], Record<string, string | string[]>]>([
    ["nothing changed", [], { staging: [], production: [], "production-eu": [] }],
    [
      "a base layer reaches every environment",
      [mod("environments/base/db.yaml")],
      { staging: ["db"], production: ["db"], "production-eu": ["db"] },
    ],
    [
      "a middle layer reaches its subtree",
      [mod("environments/production/http.sops.yaml")],
      { staging: [], production: ["http"], "production-eu": ["http"] },
    ],
    [
      "a leaf layer reaches itself",
      [mod("environments/staging/cache.yaml")],
      { staging: ["cache"], production: [], "production-eu": [] },
    ],
    [
      "a schema reaches every environment",
      [mod("schemas/http.schema.yaml")],
      { staging: ["http"], production: ["http"], "production-eu": ["http"] },
    ],
    [
      "files that do not feed resolution",
      [mod("README.md"), mod(".sops.yaml"), mod("environments/staging/notes.txt")],
      { staging: [], production: [], "production-eu": [] },
    ],
    ["strata.yaml without a tree change", [mod("strata.yaml")], { staging: [], production: [], "production-eu": [] }],
    [
      // The loader reads neither: the planner must not count them (it used to re-resolve http everywhere).
      "misnamed files strata does not read",
      [mod("strata.yml"), mod("schemas/http.schema.yml"), mod("environments/staging/cache.yml")],
      { staging: [], production: [], "production-eu": [] },
    ],
  ])("%s", (_name, changes, expected) => {
    expect(plan(changes)).toEqual(expected);
  });

  it("re-resolves everything in environments whose chain changed", () => {
    const head = layout([TREE[0]!, TREE[1]!, TREE[2]!, envInfo("production-eu", ["base", "staging", "production-eu"])]);
    expect(plan([mod("strata.yaml")], layout(), head)).toEqual({ staging: [], production: [], "production-eu": "all" });
  });

  it("resolves added and removed environments entirely", () => {
    const head = layout([...TREE.slice(0, 3), envInfo("dev", ["base", "dev"])]);
    expect(plan([mod("strata.yaml")], layout(), head)).toEqual({
      staging: [],
      production: [],
      dev: "all",
      "-production-eu": "all",
    });
  });

  it("treats an environment that became abstract as removed", () => {
    const head = layout([
      TREE[0]!,
      TREE[1]!,
      envInfo("production", ["base", "production"], { abstract: true }),
      TREE[3]!,
    ]);
    expect(plan([mod("strata.yaml")], layout(), head)).toEqual({
      staging: [],
      "production-eu": [],
      "-production": "all",
    });
  });

  it("detects a renamed environment from its moved files", () => {
    const head = layout([TREE[0]!, envInfo("stage", ["base", "stage"]), TREE[2]!, TREE[3]!]);
    const p = planDiff({
      changedFiles: [
        mod("strata.yaml"),
        { status: "renamed", path: "environments/stage/db.yaml", oldPath: "environments/staging/db.yaml" },
      ],
      base: layout(),
      head,
      incremental: true,
    });
    expect(p.environmentRenames).toEqual(new Map([["staging", "stage"]]));
    expect(p.environments.find((e) => e.head === "stage")).toEqual({
      base: "staging",
      head: "stage",
      namespaces: new Set(["db"]),
    });
  });

  it("pairs a deleted and an added directory of the same files as a rename (git misses edited small files)", () => {
    const head = layout([TREE[0]!, envInfo("stage", ["base", "stage"]), TREE[2]!, TREE[3]!]);
    const p = planDiff({
      changedFiles: [
        { status: "deleted", path: "environments/staging/db.yaml", oldPath: null },
        { status: "added", path: "environments/stage/db.yaml", oldPath: null },
        { status: "added", path: "environments/other/db.yaml", oldPath: null },
      ],
      base: layout(),
      head,
      incremental: true,
    });
    expect(p.environmentRenames).toEqual(new Map([["staging", "stage"]]));
  });

  it("detects a renamed namespace from its moved schema", () => {
    const p = planDiff({
      changedFiles: [
        { status: "renamed", path: "schemas/database.schema.yaml", oldPath: "schemas/db.schema.yaml" },
        { status: "renamed", path: "environments/base/database.yaml", oldPath: "environments/base/db.yaml" },
      ],
      base: layout(),
      head: layout(TREE, ["database", "http", "cache"]),
      incremental: true,
    });
    expect(p.namespaceRenames).toEqual(new Map([["db", "database"]]));
    expect(plannedNamespaces(p)).toEqual(new Set(["database"]));
  });

  it("--no-incremental resolves everything", () => {
    const p = planDiff({ changedFiles: [], base: layout(), head: layout(), incremental: false });
    expect(p.environments.every((e) => e.namespaces === null)).toBe(true);
    expect(plannedNamespaces(p)).toBeNull();
  });

  it("adds namespaces that interpolate an affected one, transitively, where one is affected", () => {
    const p = planDiff({
      changedFiles: [mod("environments/staging/db.yaml")],
      base: layout(),
      head: layout(),
      incremental: true,
    });
    addDependents(
      p,
      new Map([
        ["http", new Set(["db"])],
        ["cache", new Set(["http"])],
      ]),
    );
    expect(p.environments.map((e) => [e.head, [...(e.namespaces ?? [])].sort()])).toEqual([
      ["staging", ["cache", "db", "http"]],
      ["production", []],
      ["production-eu", []],
    ]);
  });
});

describe("chooseIncremental (per run)", () => {
  it("keeps the plan when it leaves most pairs out", () => {
    const p = planDiff({
      changedFiles: [mod("environments/staging/db.yaml")],
      base: layout(),
      head: layout(),
      incremental: true,
    });
    expect(planCoverage(p, 3)).toBeCloseTo(1 / 9);
    expect(chooseIncremental(p, 3)).toBe(true);
    expect(p.environments.map((e) => [...(e.namespaces ?? [])])).toEqual([["db"], [], []]);
  });

  it("turns the plan into the full diff when the changes reach most pairs", () => {
    const p = planDiff({
      changedFiles: [mod("environments/base/db.yaml"), mod("schemas/http.schema.yaml")],
      base: layout(),
      head: layout(),
      incremental: true,
    });
    expect(planCoverage(p, 3)).toBeCloseTo(6 / 9);
    expect(chooseIncremental(p, 3)).toBe(false);
    expect(plannedNamespaces(p)).toBeNull();
  });

  it("an environment that needs everything makes the coverage whole", () => {
    const p = planDiff({ changedFiles: [], base: layout(), head: layout(), incremental: false });
    expect(planCoverage(p, 3)).toBe(1);
    expect(chooseIncremental(p, 3)).toBe(false);
  });
});

describe("reference graph", () => {
  it("reads cross-namespace references, ignoring escapes and self-references", () => {
    const g = new Map<string, Set<string>>();
    addFileReferences(
      g,
      "environments/base/http.yaml",
      "url: https://${db.host}:${db.port}\nself: ${http.x}\nescaped: $${cache.x}\n",
    );
    addFileReferences(g, "schemas/cache.schema.yaml", "default: ${db.host}");
    addFileReferences(g, "README.md", "${db.host}");
    expect(g).toEqual(
      new Map([
        ["http", new Set(["db"])],
        ["cache", new Set(["db"])],
      ]),
    );
    expect(closeOverReferences(["http"], g)).toEqual(new Set(["http", "db"]));
    expect(closeOverDependents(["db"], g)).toEqual(new Set(["db", "http", "cache"]));
  });
});
