// @module-tag e2e
// The validator cache holds code strata runs: compiled data produced for other code is never handed to V8
// (V8 itself checks only the source's length), and a cache directory others can write is not used at all.
import { createHash } from "node:crypto";
import { chmodSync, chownSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Script } from "node:vm";
import { afterAll, describe, expect, it } from "vitest";
import { strata } from "../../support/cli.js";
import { cleanupTempdirs, tempdir, writeTree } from "../../support/gitdir.js";
import { fixtureRepo } from "../../support/repo-fixture.js";
import { lacking } from "../../support/shared.js";

afterAll(cleanupTempdirs);

/** A repository whose production sets app.replicas, which the schema bounds at 10. */
function repo(replicas: number): string {
  return fixtureRepo({ "environments/production/app.yaml": `replicas: ${replicas}\n` });
}

const validate = (dir: string, cache: string): ReturnType<typeof strata> =>
  strata(["validate", "--skip-secrets", "--repo", dir], { env: { STRATA_CACHE_DIR: cache } });

/** As strata wraps a cached validator's code (src/core/schema/compile.ts). */
const wrap = (code: string): string => `(function (require, module, exports) {${code}\n})`;

/**
 * V8's compiled data for a validator that accepts everything, from source of exactly `length`
 * characters: what V8 accepts for any other source of that length.
 */
function permissiveCompiledData(length: number): { code: string; data: Buffer } {
  const head = "module.exports=function(){return true};module.exports.default=module.exports;/*";
  const code = `${head}${" ".repeat(length - head.length - 2)}*/`;
  const script = new Script(wrap(code));
  const module = { exports: {} as unknown };
  (script.runInThisContext() as (r: unknown, m: unknown, e: unknown) => void)(null, module, module.exports);
  (module.exports as () => boolean)();
  return { code, data: script.createCachedData() };
}

describe("the validator cache", () => {
  it("a poisoned .v8 next to a correct .cjs does not make validate accept a forbidden value", async () => {
    const cache = tempdir("strata-cache-");
    const ok = repo(5);
    for (let i = 0; i < 2; i++) expect((await validate(ok, cache)).exitCode).toBe(0);
    const dir = join(cache, "validators");
    const codes = readdirSync(dir).filter((f) => f.endsWith(".cjs"));
    const validators = codes.filter((f) => readFileSync(join(dir, f), "utf8").includes("validate"));
    expect(validators.length).toBeGreaterThan(0);
    expect(readdirSync(dir).some((f) => f.endsWith(".v8"))).toBe(true);

    const forbidden = repo(50);
    const before = await validate(forbidden, cache);
    expect(before.exitCode).toBe(1);
    expect(before.stdout + before.stderr).toContain("app.replicas");

    // For every validator: V8 data of a permissive validator of the same length, beside it under the name
    // the cache once used (the key), and under the name of the code it sits next to, with the header
    // strata writes for the code it was really produced from (a copied or renamed entry).
    for (const file of validators) {
      const code = readFileSync(join(dir, file), "utf8");
      const evil = permissiveCompiledData(code.length);
      const sha = (t: string | Uint8Array): string => createHash("sha256").update(t).digest("hex");
      writeFileSync(join(dir, file.replace(/\.cjs$/, ".v8")), evil.data);
      writeFileSync(
        join(dir, `${sha(code)}.v8`),
        Buffer.concat([Buffer.from(`strata-v8-1 ${sha(evil.code)} ${sha(evil.data)}\n`, "latin1"), evil.data]),
      );
    }
    const after = await validate(forbidden, cache);
    expect(after.exitCode, after.stdout).toBe(1);
    expect(after.stdout + after.stderr).toContain("app.replicas");
    expect((await validate(ok, cache)).exitCode).toBe(0);
  }, 120_000);

  it("a cache directory that its group can write to is not used: one warning, nothing written", async () => {
    const cache = tempdir("strata-cache-");
    chmodSync(cache, 0o775);
    const dir = repo(5);
    const r = await validate(dir, cache);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stderr.match(/warning: not using the cache/g)).toHaveLength(1);
    expect(r.stderr).toContain("is writable by its group (mode 0775)");
    expect(readdirSync(cache)).toEqual([]);
    // Resolution reads no cache from there either, and a forbidden value is still refused.
    const bad = await validate(repo(50), cache);
    expect(bad.exitCode).toBe(1);
    expect(readdirSync(cache)).toEqual([]);
  }, 120_000);

  it.skipIf(lacking("a cache directory owned by another user", { root: true }))(
    "a cache directory another user owns is not used",
    async () => {
      const cache = tempdir("strata-cache-");
      writeTree(cache, { "validators/.keep": "" });
      chownSync(cache, 65534, 65534);
      const r = await validate(repo(5), cache);
      expect(r.exitCode, r.stderr).toBe(0);
      expect(r.stderr).toMatch(
        /warning: not using the cache in .*: .* is owned by user 65534, not by the current user/,
      );
      expect(readdirSync(join(cache, "validators"))).toEqual([".keep"]);
    },
    120_000,
  );
});
