// @module-tag e2e
// The README's "Progressive delivery" worked example runs as written: its blocks are read from README.md (never
// copied here): the shell blocks run by `sh -e` as one session with the built CLI on PATH as `strata`, the
// `fleet.mjs` block written beside the repository where it says, importing `strata-config/client` as an
// installed package would. The comments that promise output (`# ✓ …`) must come true: the canary reaches half
// the instances, the endpoint rolls it back by itself, every instance is on version 1 again, and
// `strata rollout status` and `strata impact` say why.
import { spawn } from "node:child_process";
import { chmodSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { delimiter, join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { cliPath, projectRoot } from "../support/cli.js";
import { cleanupTempdirs, tempdir } from "../support/gitdir.js";

afterAll(cleanupTempdirs);

const SECTION = "Progressive delivery";

/** The fenced blocks of a `## ` section of README.md, in order, with their language. */
function blocks(section: string): { lang: string; text: string }[] {
  const readme = readFileSync(join(projectRoot, "README.md"), "utf8");
  const start = readme.indexOf(`\n## ${section}\n`);
  expect(start, `README.md has a "## ${section}" section`).toBeGreaterThan(0);
  const end = readme.indexOf("\n## ", start + 1);
  const text = readme.slice(start, end < 0 ? undefined : end);
  return [...text.matchAll(/^```(\w+)\n([\s\S]*?)^```$/gm)].map((m) => ({ lang: m[1]!, text: m[2]! }));
}

function linkedStrata(): string {
  const bin = tempdir("strata-bin-");
  const shim = join(bin, "strata");
  writeFileSync(shim, `#!/bin/sh\nexec ${JSON.stringify(process.execPath)} ${JSON.stringify(cliPath)} "$@"\n`);
  chmodSync(shim, 0o755);
  return bin;
}

/** Runs the script with `sh -e` in its own process group, killed when it ends however it ends. */
function run(script: string, cwd: string, env: Record<string, string>): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve) => {
    const child = spawn("sh", ["-e", "-c", script], { cwd, env, detached: true, stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    child.stdout.on("data", (d: Buffer) => (out += d.toString()));
    child.stderr.on("data", (d: Buffer) => (out += d.toString()));
    // When the script ends, so does what it left running (an endpoint a failed block did not stop, which
    // would hold the pipes open).
    child.once("exit", (code) => {
      try {
        process.kill(-child.pid!, "SIGKILL");
      } catch {
        // the group is gone already
      }
      child.once("close", () => resolve({ code, out }));
    });
  });
}

describe("README: progressive delivery", () => {
  it("has the blocks: a repository with a canary policy and its endpoint, the fleet, the bad change", () => {
    const b = blocks(SECTION);
    expect(b.map((x) => x.lang)).toEqual(["sh", "js", "sh"]);
    expect(b[0]!.text).toMatch(/^strata init shop && cd shop\n/);
    expect(b[0]!.text).toContain("--rollout-key ../rollout.pem");
    expect(b[0]!.text).toContain("--listen 127.0.0.1:0");
    expect(b[1]!.text).toMatch(/^\/\/ fleet\.mjs\n/);
    expect(b[1]!.text).toContain('from "strata-config/client"');
    expect(b[2]!.text).toContain("strata rollout status --env production");
    expect(b[2]!.text).toContain("strata impact --env production --version 2");
  });

  it("runs as written: the canary is rolled back by the endpoint, the fleet follows, status and impact say why", async () => {
    const [setup, fleet, change] = blocks(SECTION);
    const dir = tempdir("strata-progressive-");
    const home = join(dir, "home");
    mkdirSync(home);
    // `fleet.mjs` where the block says it is: beside the repository; `strata-config` as an installed package.
    writeFileSync(join(dir, "fleet.mjs"), fleet!.text);
    mkdirSync(join(dir, "node_modules"));
    symlinkSync(projectRoot, join(dir, "node_modules", "strata-config"), "dir");
    const script = `${setup!.text}\n${change!.text}`;
    const r = await run(script, dir, {
      PATH: `${linkedStrata()}${delimiter}${process.env.PATH ?? ""}`,
      HOME: home,
      NO_COLOR: "1",
      GIT_AUTHOR_NAME: "Progressive Delivery",
      GIT_AUTHOR_EMAIL: "pd@example.com",
      GIT_COMMITTER_NAME: "Progressive Delivery",
      GIT_COMMITTER_EMAIL: "pd@example.com",
      GIT_CONFIG_GLOBAL: "/dev/null",
      GIT_CONFIG_NOSYSTEM: "1",
      STRATA_CACHE_DIR: join(dir, "cache"),
    });
    expect(r.code, r.out).toBe(0);
    const promised = [...script.matchAll(/#\s*(✓[^\n]*?)\s*$/gm)].map((m) => m[1]!);
    expect(promised).toEqual([
      "✓ 2 environment(s) valid: production, staging",
      "✓ production: published version 1",
      "✓ production: published version 2",
      "✓ rolled back: all 10 instances on v1",
      "✓ production v2",
    ]);
    for (const p of promised) expect(r.out).toContain(p.slice(2));
    // What `strata rollout status` and `strata impact` say about it.
    expect(r.out).toMatch(/rolled-back/);
    // Half the fleet ran the candidate; every instance reported on the stable version (the candidates before
    // they switched and after the rollback), and all ten run it now.
    expect(r.out).toMatch(/^ {2}candidate v2: reports from 5 instances: /m);
    expect(r.out).toMatch(/^ {2}stable v1: reports from 10 instances: /m);
    expect(r.out).toMatch(/^ {2}clients: 0 on the candidate, 10 on the stable version, 0 elsewhere$/m);
    expect(r.out).toMatch(/error rate 2\d(\.\d+)?% vs \d(\.\d+)?%/);
    expect(r.out).toMatch(/^production v2 \(commit [0-9a-f]{12}\): ROLLED BACK$/m);
    expect(r.out).toMatch(/^ {2}app\.log_level$/m);
    expect(r.out).toMatch(/^decision: rollback at \S+ by strata serve: /m);
  });
});
