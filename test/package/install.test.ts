// @module-tag e2e
/**
 * The npm package as a user gets it: the project's files copied as a fresh clone has them (tracked and
 * new files, nothing ignored, so no dist/) with the project's node_modules (what `npm ci` installs),
 * `npm start` there (it must build dist/ itself), `npm pack` (its `prepack` builds), then `npm install -g` of the tarball into an empty prefix,
 * and the installed `strata` run from a directory with no source tree and no dev dependency in reach:
 * init, validate, resolve, diff, keys, serve, push, status; the optional etcd and KMS packages absent.
 */
import { execa } from "execa";
import { spawn, type ChildProcess } from "node:child_process";
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { projectRoot } from "../support/cli.js";

const work = mkdtempSync(join(tmpdir(), "strata-package-"));
const prefix = join(work, "prefix");
const home = join(work, "home");
const strataBin = join(prefix, "bin", "strata");
let tarball = "";
let tarballFiles: string[] = [];
let freshStart = { exitCode: -1, stdout: "", stderr: "" };

afterAll(() => rmSync(work, { recursive: true, force: true }));

beforeAll(async () => {
  const clone = join(work, "clone");
  const files = (await execa("git", ["ls-files", "-co", "--exclude-standard", "-z"], { cwd: projectRoot })).stdout
    .split("\0")
    .filter(Boolean);
  for (const f of files) {
    if (!existsSync(join(projectRoot, f))) continue; // deleted in the work tree, not yet committed
    mkdirSync(dirname(join(clone, f)), { recursive: true });
    writeFileSync(join(clone, f), readFileSync(join(projectRoot, f)));
  }
  expect(existsSync(join(clone, "dist"))).toBe(false);
  symlinkSync(join(projectRoot, "node_modules"), join(clone, "node_modules"), "dir");
  // `npm ci && npm start` on a fresh clone: no dist/ yet, and no install script builds it.
  const start = await execa(process.execPath, ["scripts/start.mjs"], {
    cwd: clone,
    reject: false,
    env: { NO_COLOR: "1", SOPS_AGE_KEY_FILE: undefined, GITHUB_ACTIONS: "", CI: "" },
    timeout: 300_000,
  });
  freshStart = { exitCode: start.exitCode ?? -1, stdout: String(start.stdout), stderr: String(start.stderr) };
  const packed = await execa("npm", ["pack", "--json", "--pack-destination", work], {
    cwd: clone,
    env: { npm_config_update_notifier: "false" },
  });
  const info = JSON.parse(packed.stdout) as { filename: string; files: { path: string }[] }[];
  tarball = join(work, info[0]!.filename);
  tarballFiles = info[0]!.files.map((f) => f.path).sort();
  // The dependencies come from the npm cache when it has them (CI's `npm ci` filled it).
  await execa("npm", ["install", "-g", "--prefix", prefix, "--prefer-offline", "--no-audit", "--no-fund", tarball], {
    cwd: work,
    env: { npm_config_update_notifier: "false" },
  });
  mkdirSync(home);
}, 600_000);

/** The installed strata, from a directory outside the project, with nothing of the project's in reach. */
async function strata(args: string[], cwd: string, env: Record<string, string> = {}) {
  const r = await execa(strataBin, args, {
    cwd,
    extendEnv: false,
    env: {
      PATH: `${dirname(process.execPath)}:/usr/bin:/bin`,
      HOME: home,
      NO_COLOR: "1",
      STRATA_NO_CACHE: "1",
      GIT_CONFIG_GLOBAL: "/dev/null",
      ...env,
    },
    reject: false,
    timeout: 60_000,
  });
  return { stdout: String(r.stdout), stderr: String(r.stderr), exitCode: r.exitCode ?? -1 };
}

async function git(cwd: string, ...args: string[]): Promise<void> {
  await execa("git", ["-c", "user.name=t", "-c", "user.email=t@example.com", "-c", "commit.gpgsign=false", ...args], {
    cwd,
    env: { GIT_CONFIG_GLOBAL: "/dev/null" },
  });
}

describe("a fresh clone", () => {
  it("builds dist/ on `npm start` and runs the quick start", () => {
    expect(freshStart.exitCode, freshStart.stderr).toBe(0);
    expect(freshStart.stderr).toContain("dist/ is missing or older than src/: npm run build");
    expect(freshStart.stdout).toContain("All environments are valid and published.");
  });
});

describe("the packed tarball", () => {
  it("ships the built CLI, its declarations, the template and the licence; no sources, tests or source maps", () => {
    expect(tarballFiles).toEqual(
      expect.arrayContaining([
        "LICENSE",
        "README.md",
        "package.json",
        "bin/strata.mjs",
        "dist/cli/main.js",
        "dist/cli/main.d.ts",
        "templates/strata-workflow.yml",
      ]),
    );
    expect(tarballFiles.filter((f) => f.endsWith(".map"))).toEqual([]);
    expect(
      tarballFiles.filter(
        (f) => !/^(bin|dist|templates)\//.test(f) && !["LICENSE", "README.md", "package.json"].includes(f),
      ),
    ).toEqual([]);
    expect(tarballFiles.filter((f) => f.endsWith(".ts") && !f.endsWith(".d.ts"))).toEqual([]);
    // Every `//# sourceMappingURL` would point at a file the tarball does not ship.
    const main = readFileSync(join(prefix, "lib", "node_modules", "strata-config", "dist", "cli", "main.js"), "utf8");
    expect(main).not.toContain("sourceMappingURL");
  });

  it("has no install-time script, and the fields a registry page and a resolver need", () => {
    const pkg = JSON.parse(
      readFileSync(join(prefix, "lib", "node_modules", "strata-config", "package.json"), "utf8"),
    ) as Record<string, Record<string, unknown> & string>;
    for (const hook of ["preinstall", "install", "postinstall", "prepare"])
      expect(pkg.scripts?.[hook], hook).toBeUndefined();
    expect(pkg.name).toBe("strata-config");
    expect(pkg.bin).toEqual({ strata: "bin/strata.mjs" });
    expect(pkg.engines).toEqual({ node: ">=20.19" });
    expect(pkg.license).toBe("MIT");
    for (const field of ["repository", "homepage", "bugs", "types", "exports"]) expect(pkg[field], field).toBeDefined();
  });

  it("installs no dev dependency and neither optional backend", () => {
    const installed = readdirSync(join(prefix, "lib", "node_modules", "strata-config", "node_modules"));
    for (const absent of ["typescript", "vitest", "esbuild", "eslint", "etcd3", "@grpc", "@aws-sdk", "@tktco"])
      expect(installed, absent).not.toContain(absent);
    expect(installed).toEqual(expect.arrayContaining(["commander", "yaml", "ajv", "age-encryption"]));
  });

  it("exports the CLI's programmatic entry", async () => {
    const r = await execa(
      process.execPath,
      ["--input-type=module", "-e", "const m = await import('strata-config'); console.log(typeof m.main)"],
      { cwd: join(prefix, "lib"), reject: false },
    );
    expect(r.stdout).toBe("function");
  });
});

describe("the installed strata", () => {
  it("runs init, validate, resolve, diff, keys, serve, push and status", async () => {
    const dir = mkdtempSync(join(work, "use-"));
    expect((await strata(["--version"], dir)).stdout.trim()).toBe(
      JSON.parse(readFileSync(join(projectRoot, "package.json"), "utf8")).version,
    );

    const init = await strata(["init", "config"], dir);
    expect(init.exitCode, init.stderr).toBe(0);
    const repo = join(dir, "config");
    expect(readFileSync(join(repo, ".github", "workflows", "strata.yml"), "utf8")).toBe(
      readFileSync(join(projectRoot, "templates", "strata-workflow.yml"), "utf8"),
    );

    // In the repository, keys generate adds its public key to strata.yaml's signing.trusted_keys.
    const keys = await strata(["keys", "generate", "--out", join(dir, "signing.pem")], repo);
    expect(keys.exitCode, keys.stderr).toBe(0);
    const publicKey = /ed25519:[A-Za-z0-9+/=]+/.exec(keys.stdout)?.[0];
    expect(publicKey).toBeDefined();
    expect(readFileSync(join(repo, "strata.yaml"), "utf8")).toContain(`  trusted_keys:`);
    expect(readFileSync(join(repo, "strata.yaml"), "utf8")).toContain(`    - ${publicKey}\n`);
    await git(repo, "init", "-q", "-b", "main");
    await git(repo, "add", "-A");
    await git(repo, "commit", "-qm", "init");

    const validate = await strata(["validate"], repo);
    expect(validate.exitCode, validate.stderr).toBe(0);
    expect(validate.stdout).toContain("2 environment(s) valid");

    const resolve = await strata(["resolve", "--env", "production", "--format", "json"], repo);
    expect(resolve.exitCode, resolve.stderr).toBe(0);
    expect(JSON.parse(resolve.stdout)).toMatchObject({ app: { name: "app", replicas: 3 } });

    writeFileSync(
      join(repo, "environments", "production", "app.yaml"),
      "replicas: 4\nbase_url: https://app.example.com\n",
    );
    await git(repo, "commit", "-qam", "more replicas");
    const diff = await strata(["diff", "--base", "HEAD~1", "--head", "HEAD", "--format", "json"], repo);
    expect(diff.exitCode, diff.stderr).toBe(0);
    expect(diff.stdout).toContain("app.replicas");

    const server: ChildProcess = spawn(
      strataBin,
      ["serve", "--store", `file:${join(dir, "store")}`, "--listen", "127.0.0.1:0", "--repo", repo],
      {
        cwd: dir,
        env: { PATH: `${dirname(process.execPath)}:/usr/bin:/bin`, HOME: home, NO_COLOR: "1" },
        stdio: ["ignore", "ignore", "pipe"],
      },
    );
    try {
      const url = await new Promise<string>((done, fail) => {
        let log = "";
        const timer = setTimeout(() => fail(new Error(`serve did not start: ${log}`)), 30_000);
        server.stderr!.on("data", (d: Buffer) => {
          log += d.toString();
          const m = /"msg":"listening","url":"([^"]+)"/.exec(log);
          if (m) {
            clearTimeout(timer);
            done(m[1]!);
          }
        });
        server.once("exit", (code) => {
          clearTimeout(timer);
          fail(new Error(`serve exited ${code}: ${log}`));
        });
      });
      const push = await strata(
        ["push", "--env", "production", "--endpoint", url, "--signing-key", join(dir, "signing.pem")],
        repo,
      );
      expect(push.exitCode, push.stderr).toBe(0);
      expect(push.stdout).toContain("production: published version 1");
      const status = await strata(["status", "--endpoint", url], repo);
      expect(status.exitCode, status.stderr).toBe(0);
      expect(status.stdout).toMatch(/production: v1, published/);
    } finally {
      server.kill("SIGTERM");
    }
  }, 180_000);

  it("names the package to install when the etcd store is asked for without etcd3", async () => {
    const keys = join(work, "trusted-keys.txt");
    writeFileSync(keys, "ed25519:nheQhn8Z4Zrik9v+RsZMVVK6BaHJx3FtJxGqhBtZ2gU=\n");
    const r = await strata(
      ["serve", "--store", "etcd://127.0.0.1:1/strata", "--trusted-keys", keys, "--listen", "127.0.0.1:0"],
      work,
    );
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toContain(
      "The etcd store needs the optional package etcd3, which is not installed: run `npm install -g etcd3`",
    );
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  it("names the package to install when a file has AWS KMS keys and @aws-sdk/client-kms is absent", async () => {
    const file = join(work, "kms.sops.yaml");
    const enc =
      "ENC[AES256_GCM,data:AAAA,iv:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=,tag:AAAAAAAAAAAAAAAAAAAAAA==,type:str]";
    writeFileSync(
      file,
      `password: ${enc}\nsops:\n    kms:\n        - arn: arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab\n          created_at: "2026-01-01T00:00:00Z"\n          enc: d3JhcHBlZC1rZXk=\n          aws_profile: ""\n    lastmodified: "2026-01-01T00:00:00Z"\n    mac: ${enc}\n    version: 3.9.0\n`,
    );
    const r = await strata(["secrets", "decrypt", file], work);
    expect(r.exitCode).toBe(3);
    expect(r.stderr).toContain(
      "AWS KMS needs the optional package @aws-sdk/client-kms, which is not installed: run `npm install -g @aws-sdk/client-kms`",
    );
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });
});
