// The hand-off renderers (docs/deploy.md): what an env file, a manifest or an environment can carry.
import { describe, expect, it } from "vitest";
import type { LeafInfo } from "../../../src/core/model.js";
import type { EnvVariable } from "../../../src/core/render/variables.js";
import {
  dotenvProblem,
  environmentProblem,
  isConfigMapKey,
  isDns1123Label,
  isDns1123Subdomain,
  MAX_KUBERNETES_DATA_BYTES,
  renderDotenv,
  renderManifest,
} from "../../../src/core/render/handoff.js";

function variable(name: string, text: string, sensitive = false): EnvVariable {
  const leaf: LeafInfo = {
    path: name.toLowerCase().replace(/_/, "."),
    value: text,
    origin: { environment: "staging", file: "environments/staging/app.yaml", line: 3, column: 9 },
    overridden: [],
    sensitive,
  };
  return { name, text, leaf };
}

describe("dotenv", () => {
  it.each([
    ["plain", null],
    ["", null],
    ["a b", null],
    ["a=b#c", null],
    ['{"a":"b"}', null],
    ["x'y\"z", null],
    ["tab\tinside", null],
    ["ünïcödé ✓", null],
    ["a\nb", /line break/],
    [" a", /whitespace/],
    ["a\t", /whitespace/],
    ['"a"', /leading quote/],
    ["'a", /leading quote/],
    ["a\\b", /backslash/],
    ["a\x7fb", /U\+007F/],
    ["a\x00b", /U\+0000/],
    ["a\uD800b", /not valid Unicode/],
  ])("%j -> %s", (text, problem) => {
    const why = dotenvProblem("APP_X", text);
    if (problem === null) expect(why).toBeNull();
    else expect(why).toMatch(problem);
  });

  it("refusals are located at the layer and never carry the value", () => {
    const { text, findings } = renderDotenv([
      variable("APP_OK", "fine"),
      variable("APP_PASSWORD", "s3cret-with-trailing-space ", true),
    ]);
    expect(text).toBe("");
    expect(findings).toHaveLength(1);
    expect(findings[0]).toMatchObject({
      code: "unrepresentable-value",
      file: "environments/staging/app.yaml",
      line: 3,
      column: 9,
      environment: "staging",
    });
    expect(JSON.stringify(findings)).not.toContain("s3cret");
  });

  it("a NUL cannot be an environment variable; anything else can", () => {
    expect(environmentProblem("a\0b")).toMatch(/NUL/);
    expect(environmentProblem("multi\nline 'quoted' \\ ")).toBeNull();
  });
});

describe("Kubernetes names and manifests", () => {
  it.each([
    ["checkout", true],
    ["checkout.config-1", true],
    ["Checkout", false],
    ["-x", false],
    ["x-", false],
    ["a_b", false],
    ["a".repeat(254), false],
  ])("subdomain %j: %s", (s, ok) => {
    expect(isDns1123Subdomain(s)).toBe(ok);
  });
  it("labels have no dots and at most 63 characters; keys follow [-._a-zA-Z0-9]+", () => {
    expect(isDns1123Label("shop")).toBe(true);
    expect(isDns1123Label("a.b")).toBe(false);
    expect(isDns1123Label("a".repeat(64))).toBe(false);
    expect(isConfigMapKey("DATABASE_URL")).toBe(true);
    expect(isConfigMapKey("..x")).toBe(false);
    expect(isConfigMapKey("a b")).toBe(false);
  });
  it("a Secret is base64 in data; more than 1 MiB of values is refused", () => {
    const { manifest } = renderManifest([variable("APP_PASSWORD", "pä55", true)], {
      kind: "Secret",
      name: "s",
      namespace: null,
    });
    expect(manifest).toEqual({
      apiVersion: "v1",
      kind: "Secret",
      metadata: { name: "s" },
      type: "Opaque",
      data: { APP_PASSWORD: Buffer.from("pä55").toString("base64") },
    });
    const big = renderManifest([variable("APP_A", "x".repeat(MAX_KUBERNETES_DATA_BYTES)), variable("APP_B", "y")], {
      kind: "ConfigMap",
      name: "c",
      namespace: "n",
    });
    expect(big.findings[0]?.message).toMatch(/1048577 bytes/);
  });
});
