// The one table of output formats (docs/deploy.md), and the file renderer `strata agent` shares with
// `resolve`: dotenv is what docker and kubectl read (verbatim), env is the shell form; both refuse two keys
// of one name; null is the text `null` in both.
import { describe, expect, it } from "vitest";
import { OUTPUT_FORMAT_NAMES, OUTPUT_FORMATS, renderConfigFile } from "../../../src/core/render/formats.js";
import { envVariables, leavesOfTree } from "../../../src/core/render/variables.js";

const tree = {
  app: { name: "checkout", note: "it's here", missing: null, list: ["a", "b"], pool: { max: 5 }, empty: {} },
};

describe("the output formats", () => {
  it("one table: every format has a renderer and a description", () => {
    expect(OUTPUT_FORMAT_NAMES).toEqual(["yaml", "json", "env", "dotenv", "configmap", "secret"]);
    for (const name of OUTPUT_FORMAT_NAMES) expect(OUTPUT_FORMATS[name].description).not.toBe("");
  });

  it("dotenv is NAME=value as docker --env-file and kubectl --from-env-file read it, null as the text null", async () => {
    expect(await renderConfigFile("dotenv", tree)).toEqual({
      text: [
        "APP_NAME=checkout",
        "APP_NOTE=it's here",
        "APP_MISSING=null",
        'APP_LIST=["a","b"]',
        "APP_POOL_MAX=5",
        "APP_EMPTY={}",
        "",
      ].join("\n"),
      findings: [],
    });
  });

  it("env is the shell-sourceable form", async () => {
    const { text } = await renderConfigFile("env", tree);
    expect(text.split("\n")).toContain("APP_NOTE='it'\\''s here'");
    expect(text.split("\n")).toContain("APP_MISSING='null'");
  });

  it.each(["env", "dotenv"] as const)("%s refuses two keys that become one variable, naming both", async (format) => {
    const { text, findings } = await renderConfigFile(format, {
      database: { pool: { max: 10 } },
      "database-pool": { max: 500 },
    });
    expect(text).toBe("");
    expect(findings).toEqual([
      expect.objectContaining({
        code: "invalid-key",
        message: "database.pool.max and database-pool.max both become the variable DATABASE_POOL_MAX",
      }),
    ]);
  });

  it("dotenv refuses what docker and systemd would read differently, without the value", async () => {
    const { text, findings } = await renderConfigFile("dotenv", { app: { token: "s3cret\nsecond line" } });
    expect(text).toBe("");
    expect(findings[0]).toMatchObject({ code: "unrepresentable-value", key: "app.token", file: null });
    expect(JSON.stringify(findings)).not.toContain("s3cret");
  });

  it("yaml and json write the tree", async () => {
    expect(await renderConfigFile("json", tree)).toEqual({ text: JSON.stringify(tree, null, 2) + "\n", findings: [] });
    expect((await renderConfigFile("yaml", { app: { flag: "yes" } })).text).toBe('app:\n  flag: "yes"\n');
  });

  it("names leaves as resolution does: arrays and empty maps are one leaf, an empty namespace none", () => {
    expect(leavesOfTree({ a: {}, b: { c: [1], d: {} } }).map((l) => l.path)).toEqual(["b.c", "b.d"]);
    expect(envVariables(leavesOfTree({ b: { "x-y": 1, x_y: 2 } })).collisions).toEqual([["B_X_Y", "b.x-y", "b.x_y"]]);
  });
});
