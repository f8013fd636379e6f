// @module-tag e2e
/**
 * The action's committed single-file builds (action/strata.mjs, action/main.mjs) must be what
 * `npm run bundle` makes of the current sources: a stale bundle would ship old code to every workflow.
 * Rebuilt into a temp dir (esbuild is deterministic) and compared byte for byte.
 */
import { execa } from "execa";
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { exampleKeyEnv, projectRoot } from "../support/cli.js";

const out = mkdtempSync(join(tmpdir(), "strata-bundle-"));
afterAll(() => rmSync(out, { recursive: true, force: true }));

describe("the committed action bundle", () => {
  it.each(["strata.mjs", "main.mjs"])(
    "action/%s is up to date (run `npm run bundle` and commit it)",
    async (file) => {
      if (file === "strata.mjs")
        await execa(process.execPath, [join(projectRoot, "scripts", "bundle.mjs"), "--out", out], { cwd: projectRoot });
      const fresh = readFileSync(join(out, file));
      const committed = readFileSync(join(projectRoot, "action", file));
      expect(committed.equals(fresh), `action/${file} is stale: run npm run bundle`).toBe(true);
    },
    120_000,
  );

  it("runs on its own: --version without package.json, the workflow template without templates/", async () => {
    const v = await execa(process.execPath, [join(projectRoot, "action", "strata.mjs"), "--version"], { cwd: out });
    expect(v.stdout).toBe(JSON.parse(readFileSync(join(projectRoot, "package.json"), "utf8")).version);
    const init = await execa(process.execPath, [join(projectRoot, "action", "strata.mjs"), "init", "repo"], {
      cwd: out,
      env: { NO_COLOR: "1" },
    });
    expect(init.exitCode).toBe(0);
    expect(readFileSync(join(out, "repo", ".github", "workflows", "strata.yml"), "utf8")).toBe(
      readFileSync(join(projectRoot, "templates", "strata-workflow.yml"), "utf8"),
    );
  });

  it("reuses cached validators with no node_modules beside it (their require() of ajv's runtime is answered from the bundle)", async () => {
    const alone = join(out, "alone");
    mkdirSync(alone);
    copyFileSync(join(projectRoot, "action", "strata.mjs"), join(alone, "strata.mjs"));
    const cache = join(out, "cache");
    const env = { ...exampleKeyEnv, STRATA_CACHE_DIR: cache, CI: "", NO_COLOR: "1" };
    const validate = () =>
      execa(process.execPath, [join(alone, "strata.mjs"), "validate", "--repo", projectRoot], { cwd: alone, env });
    expect((await validate()).exitCode).toBe(0);
    const dir = join(cache, "validators");
    const files = readdirSync(dir);
    // The example's schemas need ajv runtime helpers, so the check below means something.
    expect(files.some((f) => /require\("ajv/.test(readFileSync(join(dir, f), "utf8")))).toBe(true);
    // Entries are written through a temporary file and a rename, so a rewrite gives the entry a new inode
    // (its old one is still in use while the new file is created): a miss rewrites, a hit leaves it alone.
    const identity = (f: string): string => {
      const st = statSync(join(dir, f), { bigint: true });
      return `${st.dev}:${st.ino}`;
    };
    const before = files.map(identity);
    expect((await validate()).exitCode).toBe(0);
    expect(files.map(identity)).toEqual(before);
  });

  it("answers resolve from its result cache with no package.json beside it", async () => {
    const alone = join(out, "alone-resolve");
    mkdirSync(alone);
    copyFileSync(join(projectRoot, "action", "strata.mjs"), join(alone, "strata.mjs"));
    const env = { STRATA_CACHE_DIR: join(out, "cache-resolve"), CI: "", NO_COLOR: "1" };
    const resolve = () =>
      execa(
        process.execPath,
        [
          join(alone, "strata.mjs"),
          "resolve",
          "--repo",
          projectRoot,
          "--env",
          "staging",
          "--format",
          "json",
          "--skip-secrets",
          "--redact",
        ],
        { cwd: alone, env, reject: false },
      );
    const first = await resolve();
    expect(first.exitCode, first.stderr).toBe(0);
    const second = await resolve();
    expect(second.exitCode, second.stderr).toBe(0);
    expect(second.stdout).toBe(first.stdout);
  });
});
