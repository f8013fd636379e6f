// @module-tag e2e
// What a command loads is part of its start-up cost (docs/performance.md): `--version` loads nothing but
// the entry, and decrypting an age file never loads the schema engine, the AWS SDK, octokit or the
// subprocess library. Functional assertions on the module set, not timings.
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { execa } from "execa";
import { afterAll, describe, expect, it } from "vitest";
import { cliPath, exampleKeyEnv, projectRoot } from "../support/cli.js";

const register = fileURLToPath(new URL("../support/module-trace/register.mjs", import.meta.url));
const work = mkdtempSync(join(tmpdir(), "strata-modules-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

let n = 0;
/** Runs the CLI with the module tracer; returns its output and the packages and project modules it loaded. */
async function traced(
  args: string[],
  env: Record<string, string | undefined> = {},
  entry: string = cliPath,
): Promise<{ exitCode: number; stdout: string; packages: Set<string>; project: Set<string>; files: string[] }> {
  const file = join(work, `trace-${n++}.txt`);
  const r = await execa(process.execPath, ["--import", register, entry, ...args], {
    cwd: projectRoot,
    env: { NO_COLOR: "1", GITHUB_ACTIONS: "", CI: "", ...env, STRATA_TRACE_MODULES: file },
    reject: false,
  });
  const lines = readFileSync(file, "utf8")
    .split("\n")
    .filter(Boolean)
    .map((l) => (l.startsWith("file:") ? fileURLToPath(l) : l))
    .map((l) => l.replaceAll("\\", "/"));
  const packages = new Set<string>();
  const project = new Set<string>();
  for (const l of lines) {
    const m = /\/node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(l);
    if (m) packages.add(m[1]!);
    else if (l.includes("/dist/")) project.add(l.slice(l.lastIndexOf("/dist/") + 1));
  }
  return { exitCode: r.exitCode ?? -1, stdout: String(r.stdout), packages, project, files: lines };
}

const heavy = [
  "ajv",
  "ajv-formats",
  "@aws-sdk/client-kms",
  "@octokit/core",
  "@octokit/plugin-paginate-rest",
  "etcd3",
  "execa",
  "ora",
];

describe("modules loaded at start-up", () => {
  it("--version loads only bin/strata.mjs: no package, no module of dist/", async () => {
    const r = await traced(["--version"]);
    expect(r.exitCode).toBe(0);
    const pkg = JSON.parse(readFileSync(join(projectRoot, "package.json"), "utf8")) as { version: string };
    expect(r.stdout).toBe(pkg.version);
    expect([...r.packages]).toEqual([]);
    expect([...r.project]).toEqual([]);
  });

  it("the package's command is the CommonJS entry, which loads nothing else for --version either", async () => {
    // An ES module entry would start Node's ES module loader before the first line runs.
    const pkg = JSON.parse(readFileSync(join(projectRoot, "package.json"), "utf8")) as { bin: { strata: string } };
    expect(pkg.bin.strata).toBe("bin/strata.cjs");
    const r = await traced(["--version"], {}, join(projectRoot, pkg.bin.strata));
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toBe((await traced(["--version"])).stdout);
    expect([...r.packages]).toEqual([]);
    expect([...r.project]).toEqual([]);
    // And it runs every other command as bin/strata.mjs does.
    const envs = await traced(["envs", "--format", "json"], {}, join(projectRoot, pkg.bin.strata));
    expect(envs.exitCode).toBe(0);
    expect(envs.stdout).toBe((await traced(["envs", "--format", "json"])).stdout);
  });

  it.each(["-V", "version"])("%s prints the same version as --version", async (flag) => {
    const r = await traced([flag]);
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toBe((await traced(["--version"])).stdout);
  });

  it("secrets decrypt of an X25519 age file loads no age library, schema engine, AWS SDK, octokit or subprocess library", async () => {
    const r = await traced(
      ["secrets", "decrypt", "--format", "json", "environments/production/database.sops.yaml"],
      exampleKeyEnv,
    );
    expect(r.exitCode).toBe(0);
    expect(Object.keys(JSON.parse(r.stdout) as object).length).toBeGreaterThan(0);
    // The tracer sees what it should: the YAML parser is there; Node's crypto opened the age data key.
    expect(r.packages).toContain("yaml");
    expect(r.project).toContain("dist/core/sops/age-x25519.js");
    for (const p of [...heavy, "age-encryption", "@noble/curves", "@noble/post-quantum"])
      expect(r.packages, p).not.toContain(p);
    expect(
      [...r.project].filter(
        (m) =>
          m.startsWith("dist/core/schema/") ||
          m.startsWith("dist/app/distribution/") ||
          m.startsWith("dist/io/github/"),
      ),
    ).toEqual([]);
  });

  it("a validate whose validators are all cached never loads ajv's compiler; the cache keeps V8's compiled form", async () => {
    const cache = join(work, "cache");
    const env = { STRATA_CACHE_DIR: cache };
    for (let i = 0; i < 2; i++) expect((await traced(["validate", "--skip-secrets"], env)).exitCode).toBe(0);
    expect(readdirSync(join(cache, "validators")).some((f) => f.endsWith(".v8"))).toBe(true);
    const warm = await traced(["validate", "--skip-secrets"], env);
    expect(warm.exitCode).toBe(0);
    // The cached validators need ajv's small runtime helpers only.
    expect(warm.files.filter((f) => /\/node_modules\/ajv\/dist\/(compile|core|2020)/.test(f))).toEqual([]);
  });
});
