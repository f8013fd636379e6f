// @module-tag e2e
// The README's quick start runs exactly as written: its shell blocks are read from README.md (never copied
// here) and run by `sh` with the built CLI on PATH as `strata` (what `npm link` gives), in an empty
// directory. The comments that promise output (`# ✓ …`) must come true. The endpoint the block starts
// listens on a port the system picks, so a busy port elsewhere cannot change the outcome.
import { spawn } from "node:child_process";
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { delimiter, join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { cliPath, projectRoot } from "../support/cli.js";
import { cleanupTempdirs, tempdir } from "../support/gitdir.js";
import { lacking } from "../support/shared.js";

afterAll(cleanupTempdirs);

/** The ```sh blocks of a `## ` section of README.md (its `###` subsections included), in order. */
function shellBlocks(section: string): string[] {
  const readme = readFileSync(join(projectRoot, "README.md"), "utf8");
  const start = readme.indexOf(`\n## ${section}\n`);
  expect(start, `README.md has a "## ${section}" section`).toBeGreaterThan(0);
  const end = readme.indexOf("\n## ", start + 1);
  const text = readme.slice(start, end < 0 ? undefined : end);
  return [...text.matchAll(/^```sh\n([\s\S]*?)^```$/gm)].map((m) => m[1]!);
}

/** A directory holding `strata`: the built CLI, as `npm link` puts it on PATH. */
function linkedStrata(): string {
  const bin = tempdir("strata-bin-");
  const shim = join(bin, "strata");
  writeFileSync(shim, `#!/bin/sh\nexec ${JSON.stringify(process.execPath)} ${JSON.stringify(cliPath)} "$@"\n`);
  chmodSync(shim, 0o755);
  return bin;
}

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs a block with `sh -e` in its own process group, which is killed when the block ends however it ends
 * (a background `strata serve` the block failed to stop dies with it).
 */
function runBlock(block: string, cwd: string, env: Record<string, string>, terminal = false): Promise<Run> {
  // On a terminal (script(1) gives the block one), as someone typing the commands sees them.
  const [command, args] = terminal
    ? ["script", ["-qec", `sh -e -c ${shellWord(block)}`, "/dev/null"]]
    : ["sh", ["-e", "-c", block]];
  return new Promise((resolve) => {
    const child = spawn(command, args, { cwd, env, detached: true, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    child.once("close", (code) => {
      try {
        process.kill(-child.pid!, "SIGKILL");
      } catch {
        // the group is gone already
      }
      resolve({ code, stdout, stderr });
    });
  });
}

function shellWord(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

/** `# ✓ …` comments: output the block promises. */
function promises(block: string): string[] {
  return [...block.matchAll(/#\s*(✓[^\n]*?)\s*$/gm)].map((m) => m[1]!);
}

const [userBlock, cloneBlock, exampleBlock] = shellBlocks("Quick start");
const noTerminal = lacking("the README's example commands on a terminal (script(1))", { tool: "script" });

describe("README quick start", () => {
  it("has the blocks this test runs: a new repository, a clone of strata, the example repository", () => {
    expect(userBlock).toMatch(/^strata init config/);
    expect(cloneBlock).toMatch(/^npm ci && npm start/); // test/cli/start.test.ts and test/package/install.test.ts
    expect(exampleBlock).toMatch(/^export SOPS_AGE_KEY_FILE=/);
    // No fixed port: whatever holds 7070 on a machine cannot answer the block's push.
    expect(userBlock).toContain("--listen 127.0.0.1:0");
    expect(userBlock).not.toMatch(/(127\.0\.0\.1|localhost):(?!0\b)\d+/);
  });

  it("a new repository: init, trust a signing key, commit, validate, resolve, serve, push, status", async () => {
    const dir = tempdir("strata-quick-start-");
    const home = join(dir, "home");
    mkdirSync(home);
    const r = await runBlock(userBlock!, dir, {
      PATH: `${linkedStrata()}${delimiter}${process.env.PATH ?? ""}`,
      HOME: home,
      NO_COLOR: "1",
      // What a user's git configuration would give.
      GIT_AUTHOR_NAME: "Quick Start",
      GIT_AUTHOR_EMAIL: "quick@example.com",
      GIT_COMMITTER_NAME: "Quick Start",
      GIT_COMMITTER_EMAIL: "quick@example.com",
      GIT_CONFIG_GLOBAL: "/dev/null",
      GIT_CONFIG_NOSYSTEM: "1",
      STRATA_CACHE_DIR: join(dir, "cache"),
    });
    expect(r.code, `${r.stdout}\n${r.stderr}`).toBe(0);
    const promised = promises(userBlock!);
    expect(promised).toEqual(["✓ 2 environment(s) valid: production, staging", "✓ production: published version 1"]);
    for (const p of promised) expect(r.stdout).toContain(p);
    expect(r.stdout).toMatch(/^production: v1, published/m);
    // The endpoint really served what was pushed, from the store the block named.
    expect(readFileSync(join(dir, "endpoint"), "utf8")).toMatch(/^http:\/\/127\.0\.0\.1:\d+\n$/);
    expect(readFileSync(join(dir, "config", "strata.yaml"), "utf8")).toMatch(/trusted_keys:.*\n {4}- ed25519:/);
  });

  it.skipIf(noTerminal)(
    "the example repository: the commands run from the project root, on a terminal, as written",
    async () => {
      const r = await runBlock(
        exampleBlock!,
        projectRoot,
        { PATH: process.env.PATH ?? "", HOME: tempdir(), NO_COLOR: "1", STRATA_CACHE_DIR: join(tempdir(), "cache") },
        true,
      );
      expect(r.code, `${r.stdout}\n${r.stderr}`).toBe(0);
      expect(r.stdout).toContain("4 environment(s) valid");
      expect(r.stdout).toMatch(/database\.replicas = /);
      expect(r.stdout).toContain("<sensitive>");
    },
  );
});
