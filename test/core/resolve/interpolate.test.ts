import { describe, expect, it } from "vitest";
import { resolveInline } from "./harness.js";

const OPEN = "type: object\n";

describe("interpolation (SPEC §4 step 5)", () => {
  it.each([
    ["a whole reference keeps the type", "port: 5432\nlisten: ${app.port}", { port: 5432, listen: 5432 }],
    [
      "inside a longer string",
      "host: db\nport: 5\nurl: pg://${app.host}:${app.port}/x",
      { host: "db", port: 5, url: "pg://db:5/x" },
    ],
    ["a whole reference to a map copies it", "a: { b: 1 }\nc: ${app.a}", { a: { b: 1 }, c: { b: 1 } }],
    ["references to references", "a: x\nb: ${app.a}-y\nc: ${app.b}-z", { a: "x", b: "x-y", c: "x-y-z" }],
    ["$${ escapes", "a: 1\nb: cost $${app.a} is literal", { a: 1, b: "cost ${app.a} is literal" }],
    ["array items", 'a: v\nlist: ["${app.a}", "pre-${app.a}"]', { a: "v", list: ["v", "pre-v"] }],
    [
      "booleans and null spliced as text",
      "t: true\nn: null\ns: ${app.t}/${app.n}",
      { t: true, n: null, s: "true/null" },
    ],
    ["indexing into arrays", "list: [a, b]\nsecond: ${app.list[1]}", { list: ["a", "b"], second: "b" }],
  ])("%s", (_name, values, expected) => {
    const { app, findings } = resolveInline(OPEN, { base: values });
    expect(findings).toEqual([]);
    expect(app).toEqual(expected);
  });

  it("sees the merged value of the same environment", () => {
    const { app } = resolveInline(OPEN, { base: "host: base-db\nurl: pg://${app.host}", leaf: "host: leaf-db" });
    expect(app).toEqual({ host: "leaf-db", url: "pg://leaf-db" });
  });

  it("reaches other namespaces", () => {
    const { config } = resolveInline(
      OPEN,
      { base: "url: http://${other.host}" },
      {},
      { other: "type: object\nproperties: { host: { type: string, default: example.com } }" },
    );
    expect(config.app).toEqual({ url: "http://example.com" });
  });

  it("reports a cycle naming it", () => {
    const { findings } = resolveInline(OPEN, { base: "a: ${app.b}\nb: x${app.c}\nc: ${app.a}" });
    const f = findings.find((x) => x.code === "circular-reference")!;
    expect(f.message).toMatch(/app\.a -> .*app\.b -> .*app\.c -> .*app\.a/);
    expect(f.file).toBe("environments/base/app.yaml");
  });

  it("reports unknown references at their location", () => {
    const { findings } = resolveInline(OPEN, { base: "a: 1\nb: x-${app.nope}" });
    expect(findings).toMatchObject([{ code: "unresolved-reference", line: 2, column: 4, key: "app.b" }]);
  });

  it("an object or array inside a longer string is invalid-type", () => {
    const { findings } = resolveInline(OPEN, { base: "a: { b: 1 }\nc: x${app.a}" });
    expect(findings).toMatchObject([{ code: "invalid-type", line: 2, column: 4 }]);
  });

  it("a value that interpolates a secret is sensitive", () => {
    const { resolved } = resolveInline(
      OPEN,
      { base: "url: pg://u:${app.pw}@db\nplain: x" },
      { leaf: "pw: hunter2-long" },
    );
    expect(resolved.leaves.get("app.url")).toMatchObject({ sensitive: true, value: "pg://u:hunter2-long@db" });
    expect(resolved.leaves.get("app.plain")!.sensitive).toBe(false);
  });

  it("validates interpolated values against the schema", () => {
    const schema = "type: object\nproperties:\n  n: { type: integer }\n  s: { type: string }\n  m: { type: integer }";
    const { findings } = resolveInline(schema, { base: "s: abc\nn: ${app.s}" });
    expect(findings).toMatchObject([{ code: "invalid-type", key: "app.n", line: 2 }]);
  });
});

describe("values from SOPS files are literal (no interpolation, no escapes)", () => {
  it.each([
    ["a reference-shaped fragment", "password: Zq8v${Xk!9Lp}Wm4", "Zq8v${Xk!9Lp}Wm4"],
    ["an escape", "password: Ab$${cd}Ef", "Ab$${cd}Ef"],
    ["a valid reference", "password: pw-${app.port}", "pw-${app.port}"],
    ["a whole reference", "password: ${app.port}", "${app.port}"],
  ])("%s stays as written, with no finding", (_name, secret, expected) => {
    const { app, findings, resolved } = resolveInline(OPEN, { base: "port: 5432" }, { leaf: secret });
    expect(findings).toEqual([]);
    expect(app?.password).toBe(expected);
    expect(resolved.leaves.get("app.password")?.sensitive).toBe(true);
  });

  it("inside maps and arrays of a SOPS file too", () => {
    const { app, findings } = resolveInline(
      OPEN,
      { base: "port: 1" },
      { leaf: 'creds: { a: "x${app.port}", list: ["$${y}"] }' },
    );
    expect(findings).toEqual([]);
    expect(app?.creds).toEqual({ a: "x${app.port}", list: ["$${y}"] });
  });

  it("a plain value may still reference a secret, and the result is sensitive", () => {
    const { app, resolved, findings } = resolveInline(
      OPEN,
      { base: "url: pg://u:${app.password}@db" },
      { base: "password: s3cr${et}" },
    );
    expect(findings).toEqual([]);
    expect(app?.url).toBe("pg://u:s3cr${et}@db");
    expect(resolved.leaves.get("app.url")?.sensitive).toBe(true);
  });

  it("findings about an array of secrets never quote their values", () => {
    const schema = "type: object\nproperties:\n  users: { type: array, x-merge: { by: name } }\n";
    const { findings } = resolveInline(
      schema,
      {},
      { base: "users:\n  - { name: hunter-secret-name }\n  - { name: hunter-secret-name }\n" },
    );
    expect(findings.map((f) => f.code)).toContain("invalid-merge");
    expect(JSON.stringify(findings)).not.toContain("hunter-secret-name");
  });
});
