// validate's clean path (Resolver.cleanConfig: merging without provenance) against the full resolution, on
// random repositories with problems in different layers: where the clean path returns a config, resolve
// finds nothing and has that config, key for key; validate reports exactly what it reports when every
// environment is resolved in full.
import { afterAll, afterEach, describe, expect, it, vi } from "vitest";
import { loadRepository } from "../../../src/app/repository.js";
import { validateRepository } from "../../../src/app/validate.js";
import { Resolver } from "../../../src/core/resolve/resolve.js";
import { createWorktreeFiles } from "../../../src/io/repo/worktree.js";
import { cleanupTempdirs, gitdir, type FileTree } from "../../support/gitdir.js";
import { resolveInline } from "./harness.js";

afterAll(cleanupTempdirs);
afterEach(() => vi.restoreAllMocks());

/** mulberry32: a fixed seed gives the same repositories on every run. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const ENVIRONMENTS: [string, string | null, boolean][] = [
  ["base", null, true],
  ["dev", "base", false],
  ["prod", "base", false],
  ["prod-eu", "prod", false],
  ["prod-us", "prod", false],
  ["shared", "base", true],
  ["shared-a", "shared", false],
  ["lonely", "base", true],
];

/**
 * A repository whose layers are mostly valid, each value wrong or unusual with probability `trouble`:
 * types and ranges, unknown keys, `!unset` (of something or nothing), `$unset` items, references (good,
 * unknown, circular, escaped), a layer that is not a map, a sensitive key in plain text, a deprecated key,
 * keys that become one variable name, a file that does not parse.
 */
function randomRepository(seed: number, trouble: number): FileTree {
  const r = rng(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
  const chance = (p: number) => r() < p;
  const files: FileTree = {};
  const nsCount = 3 + Math.floor(r() * 4);
  // Arrays merged by a field and collisions leave an environment to the full path: not in every repository.
  const routes = chance(0.3);
  const collide = chance(0.3);
  // A schema property named after an object prototype member: ajv sees the inherited one.
  const oddSchema = chance(0.05);
  const namespaces = Array.from({ length: nsCount }, (_, i) => `ns${i}`);
  files["strata.yaml"] =
    "version: 1\nenvironments:\n" +
    ENVIRONMENTS.map(
      ([name, parent, abstract]) =>
        `  ${name}: { ${[parent ? `parent: ${parent}` : "", abstract ? "abstract: true" : ""].filter(Boolean).join(", ")} }`,
    ).join("\n") +
    "\n";
  for (const [i, ns] of namespaces.entries()) {
    const sensitive = i > 0 && chance(0.2);
    const deprecated = i > 0 && chance(0.2);
    const closed = chance(0.8);
    const required = chance(0.3) ? "required: [name]\n" : "";
    files[`schemas/${ns}.schema.yaml`] = `type: object
additionalProperties: ${!closed}
${required}properties:
  name: { type: string, pattern: "^[a-z0-9-]+$"${chance(0.5) ? ", default: svc" : ""} }
  port: { type: integer, minimum: 1, maximum: 65535${chance(0.5) ? ", default: 8080" : ""} }
  level: { type: string, enum: [debug, info, warn]${chance(0.5) ? ", default: info" : ""} }
  on: { type: boolean }
  url: { type: string${chance(0.05) ? ', default: "http://${ns0.name}"' : ""} }
  db_pool: { type: integer }
  db:
    type: object
    additionalProperties: ${!closed}
    properties:
      pool: { type: integer${chance(0.5) ? ", default: 5" : ""} }
      host: { type: string }
  tags: { type: array, items: { type: string } }
  extra: { type: array, items: { type: string }, x-merge: append }
  routes:
    type: array
    x-merge: { by: name }
    items: { type: object, properties: { name: { type: string }, weight: { type: integer } } }
${oddSchema ? "  constructor: { type: string }\n" : ""}${sensitive ? "  password: { type: string, x-sensitive: true }\n" : ""}${deprecated ? '  old: { type: integer, x-deprecated: "use port" }\n' : ""}`;
  }
  const goodValue = (key: string): string => {
    switch (key) {
      case "name":
        return pick(["api", "web", "svc-1"]);
      case "port":
        return String(1 + Math.floor(r() * 9000));
      case "level":
        return pick(["debug", "info", "warn"]);
      case "on":
        return pick(["true", "false"]);
      case "url":
        return pick(['"https://example.com"', '"https://a.example.com/x"']);
      default:
        return "x";
    }
  };
  const badValue = (key: string, ns: string): string =>
    pick([
      '"not a number"',
      "70000",
      "NOPE",
      "[1, 2]",
      "{ a: 1 }",
      "!unset",
      `"\${${ns}.name}"`,
      `"\${${pick(namespaces)}.port}-x"`,
      '"${nowhere.key}"',
      `"\${${ns}.${key}}"`,
      '"$${literal}"',
      '"cost: $5"',
      "null",
    ]);
  for (const [env] of ENVIRONMENTS) {
    for (const ns of namespaces) {
      if (env !== "base" && !chance(0.6)) continue;
      const path = `environments/${env}/${ns}.yaml`;
      if (chance(trouble / 8)) {
        files[path] = pick(["- a\n- b\n", "just text\n", "a: [1, 2\n", "", "k: 1\n  j: 2\n"]);
        continue;
      }
      const lines: string[] = [];
      for (const key of ["name", "port", "level", "on", "url"]) {
        if (!chance(env === "base" ? 0.8 : 0.3)) continue;
        lines.push(`${key}: ${chance(trouble) ? badValue(key, ns) : goodValue(key)}`);
      }
      if (chance(0.4)) {
        lines.push("db:");
        const pool = chance(0.7);
        if (pool) lines.push(`  pool: ${chance(trouble) ? pick(['"many"', "!unset"]) : String(Math.floor(r() * 50))}`);
        if (!pool || chance(0.5))
          lines.push(`  host: ${chance(trouble) ? pick(["!unset", '"${' + ns + '.name}.db"']) : "db.local"}`);
        if (chance(trouble / 2)) lines.push("  surprise: 1");
      }
      if (collide && chance(0.3)) lines.push(`db_pool: ${Math.floor(r() * 9)}`);
      if (chance(0.4)) lines.push(`tags: [${chance(trouble) ? "1, {x: 2}" : '"a", "b"'}]`);
      if (chance(0.4)) lines.push(`extra: [${chance(trouble) ? "3" : '"e"'}]`);
      if (routes && chance(0.3)) {
        lines.push("routes:");
        lines.push(`  - { name: ${pick(["a", "b"])}, weight: ${Math.floor(r() * 5)} }`);
        if (chance(trouble))
          lines.push(pick(["  - { weight: 1 }", "  - { name: a, $unset: true }", "  - { name: zz, $unset: true }"]));
      }
      if (chance(trouble / 2)) lines.push(pick(["unknownKey: 1", "$unset: true", "password: hunter2", "old: 3"]));
      if (chance(trouble / 4)) lines.push(`${pick(["port", "nothing"])}: !unset`);
      files[path] = lines.length ? lines.join("\n") + "\n" : "";
    }
  }
  if (chance(0.2)) files["environments/prod-eu/ns0.sops.yaml"] = "port: 1\n";
  return files;
}

/** How likely each value is to be wrong or unusual, by seed. */
const TROUBLE = [0, 0, 0.01, 0.03, 0.1, 0.3];

describe("validate's clean path", () => {
  it("returns a config only where resolve finds nothing, and then resolve's config, key for key", async () => {
    let clean = 0;
    let full = 0;
    for (let seed = 1; seed <= 40; seed++) {
      const trouble = TROUBLE[seed % TROUBLE.length]!;
      const dir = gitdir(randomRepository(seed, trouble));
      const repo = await loadRepository(createWorktreeFiles(dir), { secrets: null });
      // A second resolver over the same input: its caches hold only what the full path put there.
      const other = (await loadRepository(createWorktreeFiles(dir), { secrets: null })).resolver;
      for (const env of [...repo.environments.values()].filter((e) => !e.abstract).map((e) => e.name)) {
        const config = repo.resolver.cleanConfig(env);
        const resolved = other.resolve(env);
        if (config === null) {
          full++;
          continue;
        }
        clean++;
        expect(resolved.findings, `seed ${seed}, ${env}`).toEqual([]);
        expect(JSON.stringify(config), `seed ${seed}, ${env}`).toBe(JSON.stringify(resolved.config));
        // And the same answers from the resolver the clean path used first.
        expect(repo.resolver.resolve(env).findings).toEqual([]);
      }
    }
    // Both paths were taken, many times.
    expect(clean).toBeGreaterThan(40);
    expect(full).toBeGreaterThan(40);
  });

  it("validate gives the same result as resolving every environment in full", async () => {
    let withFindings = 0;
    for (let seed = 100; seed < 140; seed++) {
      const trouble = TROUBLE[seed % TROUBLE.length]!;
      const dir = gitdir(randomRepository(seed, trouble));
      const fast = await validateRepository({ files: createWorktreeFiles(dir), secrets: null });
      const spy = vi.spyOn(Resolver.prototype, "cleanConfig").mockReturnValue(null);
      const slow = await validateRepository({ files: createWorktreeFiles(dir), secrets: null });
      spy.mockRestore();
      expect(fast, `seed ${seed}`).toEqual(slow);
      expect(JSON.stringify(fast)).toBe(JSON.stringify(slow));
      if (slow.findings.some((f) => f.environments.length > 0)) withFindings++;
    }
    expect(withFindings).toBeGreaterThan(20);
  });
});

const SCHEMA = `type: object
additionalProperties: false
properties:
  name: { type: string, default: app }
  port: { type: integer, minimum: 1, default: 80 }
  url: { type: string }
  password: { type: string, x-sensitive: true }
  token: { type: string }
  old: { type: integer, x-deprecated: "use port" }
  db: { type: object, properties: { pool: { type: integer }, host: { type: string } } }
  tags: { type: array, items: { type: string } }
  extra: { type: array, items: { type: string }, x-merge: append }
  routes:
    type: array
    x-merge: { by: name }
    items: { type: object, properties: { name: { type: string }, weight: { type: integer } } }
`;
const OTHER = "type: object\nproperties:\n  host: { type: string }\n";
const BASE =
  "name: api\ndb: { pool: 5 }\ntags: [a]\nextra: [x]\nroutes: [{ name: a, weight: 1 }, { name: b, weight: 2 }]\n";

/** One problem (or one feature the clean path leaves to the full one) in one layer of a valid chain. */
const CASES: [string, string][] = [
  ["a deprecated key", "old: 3"],
  ["a sensitive key in a plain file", "password: hunter2"],
  ["a sensitive key under a map set as a whole", "db: { pool: 1 }\npassword: { a: 1 }"],
  ["an !unset of something", "port: !unset"],
  ["an !unset of nothing", "url: !unset"],
  ["an !unset below", "db: { pool: !unset }"],
  ["an !unset in an array item", "tags: [a, !unset]"],
  ["a $unset key", "$unset: true"],
  ["a $unset key in an open map", "db: { pool: 1, $unset: true }"],
  ["an item removed by $unset", "routes: [{ name: a, $unset: true }]"],
  ["an item $unset that removes nothing", "routes: [{ name: zz, $unset: true }]"],
  ["$unset: false", "routes: [{ name: a, $unset: false }]"],
  ["an item without the merge field", "routes: [{ weight: 3 }]"],
  ["two items with one name", "routes: [{ name: c }, { name: c }]"],
  ["an item merged into a parent's", "routes: [{ name: b, weight: 9 }]"],
  ["an item merged wrongly", "routes: [{ name: b, weight: x }]"],
  ["an item appended", "routes: [{ name: c, weight: 9 }]"],
  ["an array appended", "extra: [y, z]"],
  ["a wrong type", "port: high"],
  ["a value out of range", "port: 0"],
  ["an unknown key", "nope: 1"],
  ["a whole reference", "url: ${app.name}"],
  ["a reference inside a string", 'url: "http://${other.host}/x"'],
  ["an unknown reference", "url: ${app.nothing}"],
  ["an escaped reference", 'url: "$${app.name}"'],
  ["a dollar", 'url: "cost: $5"'],
  ["a map replacing a scalar", "name: { a: 1 }"],
  ["a scalar replacing a map", "db: 3"],
  ["a layer that is not a map", "- a"],
  ["an empty map", "db: {}"],
  ["nothing unusual", "port: 8080\ntags: [b, c]"],
];

/** The base layer with `text` in it: its keys replace the base's own (a key twice is a parse error). */
function withBase(text: string): string {
  if (text.startsWith("- ")) return `${text}\n`;
  const keys = new Set(text.split("\n").map((l) => l.split(":")[0]));
  return `${[
    ...BASE.trim()
      .split("\n")
      .filter((l) => !keys.has(l.split(":")[0])),
    text,
  ].join("\n")}\n`;
}

describe("validate's clean path, one problem at a time", () => {
  it.each(CASES)("%s, in each layer of the chain", (_name, text) => {
    for (const where of ["base", "mid", "leaf"] as const) {
      const layers = { base: BASE, [where]: where === "base" ? withBase(text) : `${text}\n` };
      const { resolved, resolver } = resolveInline(SCHEMA, layers, {}, { other: OTHER });
      const config = resolver.cleanConfig("leaf");
      if (config !== null) {
        expect(resolved.findings, where).toEqual([]);
        expect(JSON.stringify(config), where).toBe(JSON.stringify(resolved.config));
      }
      if (resolved.findings.length > 0) expect(config, where).toBeNull();
    }
  });

  it.each([
    ["a secret alone", {}, { leaf: "password: s3cret\ntoken: ${app.name}" }, true],
    ["a secret over a plain parent", { base: BASE }, { mid: "password: s3cret" }, true],
    ["a key in both files of one environment", { leaf: "token: a" }, { leaf: "token: b" }, false],
    ["both files, different keys", { leaf: "port: 9" }, { leaf: "password: b" }, false],
    ["a secret of the wrong type", {}, { leaf: "port: x" }, false],
  ] as const)("%s", (_name, plain, secret, clean) => {
    const { resolved, resolver } = resolveInline(SCHEMA, plain, secret, { other: OTHER });
    const config = resolver.cleanConfig("leaf");
    expect(config !== null).toBe(clean);
    if (config !== null) {
      expect(resolved.findings).toEqual([]);
      expect(JSON.stringify(config)).toBe(JSON.stringify(resolved.config));
    }
  });

  it("leaves a namespace with a sensitive default to the full path, which reports it", () => {
    const schema = SCHEMA.replace("x-sensitive: true }", "x-sensitive: true, default: hunter2 }");
    const { resolved, resolver } = resolveInline(schema, { base: BASE });
    expect(resolved.findings.map((f) => [f.code, f.key])).toEqual([["sensitive-in-plaintext", "app.password"]]);
    expect(resolver.cleanConfig("leaf")).toBeNull();
  });

  it("decides the common case: a valid chain with arrays merged every way", () => {
    const { resolved, resolver } = resolveInline(SCHEMA, {
      base: BASE,
      mid: "routes: [{ name: a, $unset: true }, { name: c, weight: 3 }]\nextra: [y]",
      leaf: "routes: [{ name: b, weight: 7 }]\ndb: { host: h }\ntags: [z]",
    });
    expect(resolved.findings).toEqual([]);
    const config = resolver.cleanConfig("leaf");
    expect(config).not.toBeNull();
    expect(JSON.stringify(config)).toBe(JSON.stringify(resolved.config));
  });
});
