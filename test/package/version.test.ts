// One version everywhere it is written: package.json, the SDK package, the CLI's exact dependency on it,
// the lockfile's workspace entry, the SDK's README links and src/core/version.ts (the tag the documentation links name).
// `npm version` keeps them so (scripts/sync-version.mjs).
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { VERSION } from "../../src/core/version.js";
import { projectRoot } from "../support/cli.js";

const readJson = (p: string) => JSON.parse(readFileSync(join(projectRoot, p), "utf8")) as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

describe("the version", () => {
  it("is the same in package.json, packages/client, the dependency, the lockfile and src/core/version.ts", () => {
    const root = readJson("package.json");
    const client = readJson("packages/client/package.json");
    const lock = readJson("package-lock.json");
    expect(client.version).toBe(root.version);
    expect(root.dependencies["@strata-config/client"]).toBe(root.version);
    expect(lock.packages["packages/client"].version).toBe(root.version);
    expect(VERSION).toBe(root.version);
    expect(client.homepage).toContain(`/blob/v${root.version}/`);
    const readme = readFileSync(join(projectRoot, "packages", "client", "README.md"), "utf8");
    expect([...readme.matchAll(/\/blob\/v([^/]+)\//g)].map((m) => m[1])).toEqual([root.version]);
  });

  it("both packages declare the same Node.js versions", () => {
    expect(readJson("packages/client/package.json").engines).toEqual(readJson("package.json").engines);
  });
});
