// @module-tag e2e
// `strata serve token create` writes the tokens file through the one link-safe atomic writer.
import { existsSync, lstatSync, readdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { strata } from "../support/cli.js";
import { tempdir } from "../support/gitdir.js";

describe("the tokens file", () => {
  it("is never written through a link that leads out of its directory", async () => {
    // A tokens file elsewhere (another server's): read through the link, it would be merged into this one.
    const outside = join(tempdir(), "tokens.json");
    const theirs = '{ "version": 1, "tokens": [] }\n';
    writeFileSync(outside, theirs);
    const dir = tempdir();
    const file = join(dir, "tokens.json");
    symlinkSync(outside, file);
    const r = await strata(["serve", "token", "create", "--scope", "admin", "--tokens", file]);
    expect(r.exitCode, r.stderr).toBe(2);
    expect(r.stderr).toContain(file);
    expect(r.stderr).toContain("link");
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(r.stdout).toBe("");
    expect(readFileSync(outside, "utf8")).toBe(theirs);
    expect(lstatSync(file).isSymbolicLink()).toBe(true);
  });

  it("is replaced whole (0600, nothing left beside it), and a missing directory is a located error", async () => {
    const dir = tempdir();
    const file = join(dir, "tokens.json");
    for (const name of ["one", "two"]) {
      const r = await strata(["serve", "token", "create", "--scope", "read:*", "--name", name, "--tokens", file]);
      expect(r.exitCode, r.stderr).toBe(0);
    }
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(readdirSync(dir)).toEqual(["tokens.json"]);
    const doc = JSON.parse(readFileSync(file, "utf8")) as { tokens: { name: string }[] };
    expect(doc.tokens.map((t) => t.name)).toEqual(["one", "two"]);

    const missing = join(dir, "no-such-dir", "tokens.json");
    const r = await strata(["serve", "token", "create", "--scope", "admin", "--tokens", missing]);
    expect(r.exitCode, r.stderr).toBe(2);
    expect(r.stderr).toContain(missing);
    expect(r.stderr).not.toContain("internal error");
    expect(existsSync(missing)).toBe(false);
  });
});
