// @module-tag e2e
/**
 * The npm packages as users get them: the project's files copied as a fresh clone has them (tracked and
 * new files, nothing ignored, so no dist/) with the project's node_modules (what `npm ci` installs),
 * `npm start` there (it must build dist/ itself), `npm pack` of the CLI (strata-config) and of the SDK
 * (@strata-config/client, packages/client; each `prepack` builds), then on every Node.js version the
 * package supports (node-versions.ts) an `npm install -g --engine-strict` of both tarballs into an empty
 * prefix, `strata --version`, the SDK imported and required, and a TypeScript `nodenext` CommonJS
 * consumer compiled and run; on Node 24 the installed `strata` runs from a directory with no source tree
 * and no dev dependency in reach: init, validate, resolve, diff, keys, serve, push, status; the optional
 * etcd and KMS packages absent. A service installs the SDK alone and gets only what it needs.
 */
import { execa } from "execa";
import { spawn, type ChildProcess } from "node:child_process";
import {
  cpSync,
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
import { nodeBinary, npmUnder, SUPPORTED_NODE_MAJORS } from "./node-versions.js";

const work = mkdtempSync(join(tmpdir(), "strata-package-"));
const prefixOf = (major: number) => join(work, `prefix-node${major}`);
/** The full end-to-end run uses the newest supported Node. */
const MAIN = SUPPORTED_NODE_MAJORS[SUPPORTED_NODE_MAJORS.length - 1]!;
const prefix = prefixOf(MAIN);
const home = join(work, "home");
const strataBin = join(prefix, "bin", "strata");
const version = (JSON.parse(readFileSync(join(projectRoot, "package.json"), "utf8")) as { version: string }).version;
const nodes = new Map<number, string>();
const installs = new Map<number, { exitCode: number; stderr: string }>();
let tarball = "";
let clientTarball = "";
let tarballFiles: string[] = [];
let clientFiles: string[] = [];
let freshStart = { exitCode: -1, stdout: "", stderr: "" };

afterAll(() => rmSync(work, { recursive: true, force: true }));

/** The range package.json's devDependencies give a package (the version the tests run against). */
function devDependency(name: string): string {
  const pkg = JSON.parse(readFileSync(join(projectRoot, "package.json"), "utf8")) as {
    devDependencies: Record<string, string>;
  };
  return pkg.devDependencies[name]!;
}

async function pack(cwd: string, args: string[] = []): Promise<{ file: string; files: string[] }> {
  const packed = await execa("npm", ["pack", "--json", "--pack-destination", work, ...args], {
    cwd,
    env: { npm_config_update_notifier: "false" },
  });
  // The JSON report follows whatever the prepack scripts printed.
  const info = JSON.parse(packed.stdout.slice(packed.stdout.search(/^\[/m))) as {
    filename: string;
    files: { path: string }[];
  }[];
  return { file: join(work, info[0]!.filename), files: info[0]!.files.map((f) => f.path).sort() };
}

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
  ({ file: tarball, files: tarballFiles } = await pack(clone));
  ({ file: clientTarball, files: clientFiles } = await pack(clone, ["--workspace", "@strata-config/client"]));
  for (const major of SUPPORTED_NODE_MAJORS) {
    const node = await nodeBinary(major);
    nodes.set(major, node);
    // Both tarballs in one install: the CLI's dependency on the SDK is met by the SDK's tarball, as it is
    // by the registry once both are published. The rest comes from the npm cache when it has them.
    const r = await npmUnder(
      node,
      [
        "install",
        "-g",
        "--prefix",
        prefixOf(major),
        "--engine-strict",
        "--prefer-offline",
        "--no-audit",
        "--no-fund",
      ].concat(tarball, clientTarball),
      work,
    );
    installs.set(major, { exitCode: r.exitCode ?? -1, stderr: String(r.stderr) });
  }
  mkdirSync(home);
}, 900_000);

describe("a fresh clone", () => {
  it("builds dist/ on `npm start` and runs the quick start", () => {
    expect(freshStart.exitCode, freshStart.stderr).toBe(0);
    expect(freshStart.stderr).toContain("dist/ is missing or older than src/: npm run build");
    expect(freshStart.stdout).toContain("All environments are valid and published.");
  });

  it("says plainly that a copy without dist/ (an install from git) is not a supported install", async () => {
    const copy = join(work, "from-git");
    cpSync(join(projectRoot, "bin"), join(copy, "bin"), { recursive: true });
    cpSync(join(projectRoot, "package.json"), join(copy, "package.json"));
    // The package's command (bin/strata.cjs) and the file scripts name (bin/strata.mjs, which runs it).
    for (const entry of ["strata.cjs", "strata.mjs"]) {
      const r = await execa(process.execPath, [join(copy, "bin", entry), "--version"], { reject: false });
      expect(r.exitCode, entry).toBe(1);
      expect(r.stderr).toContain("this copy of strata has not been built (dist/ is missing)");
      expect(r.stderr).toContain("installing from git is not supported: npm install -g strata-config");
      expect(r.stderr).not.toMatch(/\n\s+at /);
    }
  });
});

describe("the packed tarballs", () => {
  it("the CLI ships the built CLI, the declarations of its public entries only, the template and the licence", () => {
    expect(tarballFiles).toEqual(
      expect.arrayContaining([
        "LICENSE",
        "README.md",
        "package.json",
        "bin/strata.cjs",
        "bin/strata.mjs",
        "client/index.js",
        "dist/cli/main.js",
        "templates/strata-workflow.yml",
      ]),
    );
    // "." is dist/cli/main.js, "./client" re-exports @strata-config/client, "./openfeature" is the provider:
    // nothing else is public.
    expect(tarballFiles.filter((f) => f.endsWith(".d.ts"))).toEqual([
      "client/index.d.ts",
      "dist/cli/main.d.ts",
      "dist/openfeature/index.d.ts",
      "dist/openfeature/provider.d.ts",
      "openfeature/index.d.ts",
    ]);
    expect(tarballFiles.filter((f) => f.endsWith(".map"))).toEqual([]);
    expect(
      tarballFiles.filter(
        (f) =>
          !/^(bin|client|dist|openfeature|templates)\//.test(f) &&
          !["LICENSE", "README.md", "package.json"].includes(f),
      ),
    ).toEqual([]);
    expect(tarballFiles.filter((f) => f.endsWith(".ts") && !f.endsWith(".d.ts"))).toEqual([]);
    // Every `//# sourceMappingURL` would point at a file the tarball does not ship.
    const main = readFileSync(join(prefix, "lib", "node_modules", "strata-config", "dist", "cli", "main.js"), "utf8");
    expect(main).not.toContain("sourceMappingURL");
  });

  it("the SDK ships the SDK and the core (and atomic-write) modules it imports, nothing of the CLI, server or GitHub code", () => {
    expect(clientFiles).toEqual(expect.arrayContaining(["LICENSE", "package.json", "dist/client/index.js"]));
    // The SDK writes its cache file through the one atomic writer (src/io/fs/write-atomic.ts).
    expect(clientFiles.filter((f) => !/^dist\/(client\/|core\/|io\/fs\/write-atomic\.js$)/.test(f))).toEqual([
      "LICENSE",
      "README.md",
      "package.json",
    ]);
    expect(clientFiles.filter((f) => /^dist\/client\/agent\//.test(f))).toEqual([]);
    expect(clientFiles.filter((f) => f.endsWith(".map") || (f.endsWith(".ts") && !f.endsWith(".d.ts")))).toEqual([]);
    // Fewer declarations than modules: only those the entry's types reach (the consumer below compiles
    // them with skipLibCheck off, so a missing one fails there).
    const declarations = clientFiles.filter((f) => f.endsWith(".d.ts")).length;
    expect(declarations).toBeLessThan(clientFiles.filter((f) => f.endsWith(".js")).length);
    expect(clientFiles).toContain("dist/client/index.d.ts");
  });

  it("have no install-time script, and the fields a registry page and a resolver need", () => {
    const read = (name: string) =>
      JSON.parse(readFileSync(join(prefix, "lib", "node_modules", name, "package.json"), "utf8")) as Record<
        string,
        Record<string, unknown> & string
      >;
    const pkg = read("strata-config");
    const sdk = read("@strata-config/client");
    for (const p of [pkg, sdk]) {
      for (const hook of ["preinstall", "install", "postinstall", "prepare"])
        expect(p.scripts?.[hook], `${p.name} ${hook}`).toBeUndefined();
      expect(p.engines).toEqual({ node: ">=22.12" });
      expect(p.license).toBe("MIT");
      expect(p.version).toBe(version);
      for (const field of ["repository", "homepage", "bugs", "types", "exports"]) expect(p[field], field).toBeDefined();
    }
    expect(pkg.name).toBe("strata-config");
    expect(pkg.bin).toEqual({ strata: "bin/strata.cjs" });
    expect(pkg.dependencies?.["@strata-config/client"]).toBe(version);
    expect(sdk.name).toBe("@strata-config/client");
    expect(Object.keys(sdk.dependencies ?? {}).sort()).toEqual(["age-encryption", "canonicalize"]);
    expect(sdk.bin).toBeUndefined();
  });

  it("installs no dev dependency and neither optional backend", () => {
    const installed = readdirSync(join(prefix, "lib", "node_modules", "strata-config", "node_modules"));
    for (const absent of [
      "typescript",
      "vitest",
      "esbuild",
      "eslint",
      "etcd3",
      "@grpc",
      "@aws-sdk",
      "@tktco",
      "@openfeature",
    ])
      expect(installed, absent).not.toContain(absent);
    expect(installed).toEqual(expect.arrayContaining(["commander", "yaml", "ajv", "age-encryption"]));
  });

  it("exports the CLI's programmatic entry", async () => {
    const r = await execa(
      nodes.get(MAIN)!,
      ["--input-type=module", "-e", "const m = await import('strata-config'); console.log(typeof m.main)"],
      { cwd: join(prefix, "lib"), reject: false },
    );
    expect(r.stdout).toBe("function");
  });
});

describe.each(SUPPORTED_NODE_MAJORS)("on Node %i", (major) => {
  const lib = () => join(prefixOf(major), "lib");
  const run = (args: string[], cwd: string) =>
    execa(nodes.get(major)!, args, {
      cwd,
      reject: false,
      env: { PATH: `${dirname(nodes.get(major)!)}:/usr/bin:/bin`, NODE_OPTIONS: "" },
    });

  it("npm install -g --engine-strict of both tarballs succeeds, and strata --version runs", async () => {
    expect((await run(["--version"], work)).stdout).toMatch(new RegExp(`^v${major}\\.`));
    expect(installs.get(major)!.exitCode, installs.get(major)!.stderr).toBe(0);
    const r = await execa(join(prefixOf(major), "bin", "strata"), ["--version"], {
      reject: false,
      extendEnv: false,
      env: { PATH: `${dirname(nodes.get(major)!)}:/usr/bin:/bin`, HOME: home },
    });
    expect(r.stderr).toBe("");
    expect(r.stdout.trim()).toBe(version);
  });

  it("imports and requires the SDK by both names, without a warning", async () => {
    const esm = await run(
      [
        "--input-type=module",
        "-e",
        `const a = await import("strata-config/client"); const b = await import("@strata-config/client");
         console.log(Object.keys(a).sort().join(","), a.createClient === b.createClient);`,
      ],
      lib(),
    );
    expect(esm.stderr).toBe("");
    expect(esm.stdout.trim()).toBe("REJECTION_CODES,StrataClient,StrataClientError,createClient,isRejection true");
    const cjs = await run(
      [
        "-e",
        `const a = require("strata-config/client"); const b = require("@strata-config/client");
         console.log(typeof a.createClient, a.createClient === b.createClient, a.REJECTION_CODES.length > 0);`,
      ],
      lib(),
    );
    expect(cjs.stderr).toBe("");
    expect(cjs.stdout.trim()).toBe("function true true");
  });

  it("a TypeScript nodenext CommonJS consumer of the SDK and the OpenFeature provider compiles and runs", async () => {
    const app = join(work, `cjs-consumer-node${major}`);
    mkdirSync(app, { recursive: true });
    writeFileSync(join(app, "package.json"), JSON.stringify({ name: "consumer", private: true, type: "commonjs" }));
    // The provider's peer, the real OpenFeature SDK, at the version the project tests against.
    const openFeature = `@openfeature/server-sdk@${devDependency("@openfeature/server-sdk")}`;
    const install = await npmUnder(
      nodes.get(major)!,
      [
        "install",
        "--engine-strict",
        "--prefer-offline",
        "--no-audit",
        "--no-fund",
        tarball,
        clientTarball,
        openFeature,
      ],
      app,
    );
    expect(install.exitCode, String(install.stderr)).toBe(0);
    writeFileSync(
      join(app, "tsconfig.json"),
      JSON.stringify({
        compilerOptions: {
          module: "nodenext",
          moduleResolution: "nodenext",
          target: "es2022",
          strict: true,
          skipLibCheck: false,
          outDir: "out",
          types: ["node"],
          typeRoots: [join(projectRoot, "node_modules", "@types")],
        },
        files: ["main.ts"],
      }),
    );
    writeFileSync(
      join(app, "main.ts"),
      `import { createClient, isRejection, REJECTION_CODES, StrataClientError, type ClientOptions } from "strata-config/client";
import * as sdk from "@strata-config/client";
import { OpenFeature, type Provider } from "@openfeature/server-sdk";
import { StrataProvider } from "strata-config/openfeature";
const options: ClientOptions = { endpoint: "http://127.0.0.1:9", environment: "e", service: "s", trustedKeys: [] };
const rejected: boolean = isRejection(new StrataClientError("unreachable", "x"));
const key = "ed25519:2yCHK74/TAISVPpXUwzK1e+Q7rwzUGDihkGTM24ESSw=";
const provider: Provider = new StrataProvider(new sdk.StrataClient({ ...options, trustedKeys: [key] }));
console.log(typeof createClient, sdk.createClient === createClient, REJECTION_CODES.length > 0, options.service, rejected);
console.log(provider.metadata.name, provider.runsOn, typeof OpenFeature.setProviderAndWait);
`,
    );
    const tsc = await execa(
      process.execPath,
      [join(projectRoot, "node_modules", "typescript", "bin", "tsc"), "-p", app],
      {
        reject: false,
      },
    );
    expect(tsc.exitCode, tsc.stdout).toBe(0);
    expect(readFileSync(join(app, "out", "main.js"), "utf8")).toContain('require("strata-config/client")');
    const r = await run([join(app, "out", "main.js")], app);
    expect(r.stderr).toBe("");
    expect(r.stdout.trim().split("\n")).toEqual(["function true true s false", "strata server function"]);
  });

  it("strata-config/openfeature without its optional peer fails naming @openfeature/server-sdk", async () => {
    const r = await run(["--input-type=module", "-e", `await import("strata-config/openfeature")`], lib());
    expect(r.exitCode).not.toBe(0);
    expect(r.stderr).toContain("Cannot find package '@openfeature/server-sdk'");
  });
});

describe("a service that needs only the SDK", () => {
  it("installs @strata-config/client with its two dependencies and theirs, none of the CLI's", async () => {
    const app = join(work, "sdk-only");
    mkdirSync(app, { recursive: true });
    writeFileSync(join(app, "package.json"), JSON.stringify({ name: "service", private: true }));
    const r = await npmUnder(
      nodes.get(MAIN)!,
      ["install", "--engine-strict", "--prefer-offline", "--no-audit", "--no-fund", clientTarball],
      app,
    );
    expect(r.exitCode, String(r.stderr)).toBe(0);
    const top = readdirSync(join(app, "node_modules"))
      .filter((n) => !n.startsWith("."))
      .flatMap((n) => (n.startsWith("@") ? readdirSync(join(app, "node_modules", n)).map((m) => `${n}/${m}`) : [n]));
    expect(top).toEqual(expect.arrayContaining(["@strata-config/client", "age-encryption", "canonicalize"]));
    for (const p of top)
      expect(p).toMatch(/^(@strata-config\/client|age-encryption|canonicalize|@noble\/.+|@scure\/.+)$/);
  });
});

/** The installed strata, from a directory outside the project, with nothing of the project's in reach. */
async function strata(args: string[], cwd: string, env: Record<string, string> = {}) {
  const r = await execa(strataBin, args, {
    cwd,
    extendEnv: false,
    env: {
      PATH: `${dirname(nodes.get(MAIN)!)}:/usr/bin:/bin`,
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
        env: { PATH: `${dirname(nodes.get(MAIN)!)}:/usr/bin:/bin`, HOME: home, NO_COLOR: "1" },
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
