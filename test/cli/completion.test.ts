// @module-tag e2e
// `strata completion bash|zsh|fish`: each script parses in its shell, and (bash, fish, which can be driven
// from a script) completes commands, subcommands, option choices and the repository's environments.
// .ci/run installs zsh and fish from Debian; elsewhere a missing shell skips its test with the reason.
import { execaSync } from "execa";
import { chmodSync, writeFileSync } from "node:fs";
import { delimiter, join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { cleanupTempdirs, tempdir } from "../support/gitdir.js";
import { cliPath, projectRoot, strata } from "../support/cli.js";
import { lacking } from "../support/shared.js";

afterAll(cleanupTempdirs);

/** Why a shell's test cannot run (null: it can): .ci/run installs zsh and fish; in CI a missing one fails. */
const lacks = Object.fromEntries(
  ["bash", "zsh", "fish"].map((shell) => [shell, lacking(`strata completion ${shell}`, { tool: shell })]),
);

const SYNTAX_CHECK: Record<string, string[]> = { bash: ["-n"], zsh: ["-n"], fish: ["--no-execute"] };

/** A directory with a `strata` on it that runs the built CLI: the scripts call `strata envs`. */
function strataOnPath(): string {
  const bin = tempdir();
  writeFileSync(
    join(bin, "strata"),
    `#!/bin/sh\nexec ${JSON.stringify(process.execPath)} ${JSON.stringify(cliPath)} "$@"\n`,
  );
  chmodSync(join(bin, "strata"), 0o755);
  return `${bin}${delimiter}${process.env.PATH ?? ""}`;
}

async function script(shell: string): Promise<string> {
  const r = await strata(["completion", shell]);
  expect(r.exitCode, r.stderr).toBe(0);
  return r.stdout;
}

describe("strata completion", () => {
  for (const shell of ["bash", "zsh", "fish"]) {
    it.skipIf(lacks[shell])(`the ${shell} script parses in ${shell}`, async () => {
      const file = join(tempdir(), `strata.${shell}`);
      writeFileSync(file, await script(shell));
      const r = execaSync(shell, [...SYNTAX_CHECK[shell]!, file], { reject: false });
      expect(r.exitCode, String(r.stderr)).toBe(0);
    });
  }

  it("is generated from the command tree: every command and subcommand is in it", async () => {
    const text = await script("bash");
    for (const c of [
      "validate",
      "resolve",
      "schema export",
      "secrets set",
      "serve token create",
      "completion",
      "typegen",
    ])
      expect(text).toContain(`'strata ${c}'`);
    expect(text).toContain("--skip-secrets");
  });

  it("rejects an unknown shell with exit 2", async () => {
    const r = await strata(["completion", "tcsh"]);
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toMatch(/bash, zsh, fish/);
  });

  it.skipIf(lacks.bash)("bash completes commands, subcommands, choices and the repository's environments", async () => {
    const file = join(tempdir(), "strata.bash");
    writeFileSync(file, await script("bash"));
    const complete = (words: string[]): string[] => {
      const line = `source ${JSON.stringify(file)}; COMP_WORDS=(${words.map((w) => JSON.stringify(w)).join(" ")}); COMP_CWORD=${words.length - 1}; _strata; printf '%s\\n' "\${COMPREPLY[@]}"`;
      const r = execaSync("bash", ["-c", line], {
        cwd: projectRoot,
        env: { PATH: strataOnPath(), NO_COLOR: "1" },
        reject: false,
      });
      return String(r.stdout).split("\n").filter(Boolean);
    };
    expect(complete(["strata", "val"])).toEqual(["validate"]);
    expect(complete(["strata", "secrets", "s"])).toEqual(["set", "status"]);
    expect(complete(["strata", "validate", "--format", ""])).toEqual(["text", "json", "github"]);
    expect(complete(["strata", "validate", "--env", "prod"])).toEqual(["production", "production-eu"]);
    expect(complete(["strata", "validate", "--sk"])).toEqual(["--skip-secrets"]);
  });

  it.skipIf(lacks.fish)("fish completes commands and the repository's environments", async () => {
    const file = join(tempdir(), "strata.fish");
    writeFileSync(file, await script("fish"));
    const complete = (line: string): string[] => {
      const r = execaSync(
        "fish",
        ["--no-config", "-c", `source ${JSON.stringify(file)}; complete -C ${JSON.stringify(line)}`],
        { cwd: projectRoot, env: { PATH: strataOnPath(), NO_COLOR: "1" }, reject: false },
      );
      return String(r.stdout)
        .split("\n")
        .filter(Boolean)
        .map((l) => l.split("\t")[0]!);
    };
    expect(complete("strata val")).toEqual(["validate"]);
    expect(complete("strata validate --env prod")).toEqual(["production", "production-eu"]);
  });
});
