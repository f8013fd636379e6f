// What the tests need that this repository does not carry: the shared corpus (the SOPS conformance files,
// the repository generator) and system tools (age, gpg, etcd, chromium). One locator for the corpus:
// STRATA_SHARED_DIR, else `shared/` beside the checkout (CI clones it there; see .github/workflows/ci.yml).
//
// `lacking(...)` is what a suite passes to `describe.skipIf`: in CI (CI=true) a missing requirement fails
// the test file, so a suite can never pass by silently not running; elsewhere the suite is skipped and the
// run says what is missing and how to provide it.
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
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
const conformanceRoot = sharedPath("conformance/sops");

/** A file of the SOPS conformance corpus. */
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

const TOOL_PACKAGES: Record<string, string> = {
  age: "age",
  gpg: "gnupg",
  gpgconf: "gnupg",
  etcd: "etcd-server",
  chromium: "chromium",
};

export type Requirement = { shared: string } | { tool: string };

/** CI=true (GitHub Actions and most CI services set it). */
export function inCI(): boolean {
  return process.env.CI === "true" || process.env.CI === "1";
}

/**
 * Null when every requirement is present. Otherwise, in CI, throws (the test file fails, naming what is
 * missing); elsewhere returns the message (truthy, for `describe.skipIf`) after printing it.
 */
export function lacking(suite: string, ...requirements: Requirement[]): string | null {
  const missing: string[] = [];
  for (const r of requirements) {
    if ("shared" in r) {
      if (!existsSync(sharedPath(r.shared)))
        missing.push(
          `${sharedPath(r.shared)} (the shared corpus: set STRATA_SHARED_DIR or put shared/ beside the checkout)`,
        );
    } else if (findTool(r.tool) === null) {
      const name = r.tool.includes("/") ? r.tool.slice(r.tool.lastIndexOf("/") + 1) : r.tool;
      missing.push(
        `${r.tool}${r.tool.includes("/") ? "" : " on PATH"} (apt-get install ${TOOL_PACKAGES[name] ?? name})`,
      );
    }
  }
  if (missing.length === 0) return null;
  const message = `${suite}: needs ${missing.join("; ")}`;
  if (inCI()) throw new Error(`${message} (CI=true: a missing requirement is a failure, not a skip)`);
  console.warn(`skipped ${message}`);
  return message;
}

export const needsCorpus: Requirement = { shared: "conformance/sops" };
export const needsGenerator: Requirement = { shared: "bench/gen-config-repo.mjs" };
