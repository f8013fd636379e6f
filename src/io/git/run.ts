/**
 * Runs git as a child process. Every git call of strata goes through here, so the environment is the same
 * everywhere: no optional locks (a diff must never block a concurrent `git commit`), C locale messages.
 */
import { spawn } from "node:child_process";
import { StrataError } from "../../core/findings.js";

export interface GitResult {
  stdout: Buffer;
  stderr: string;
  exitCode: number;
}

export function gitEnvironment(): NodeJS.ProcessEnv {
  return { ...process.env, GIT_OPTIONAL_LOCKS: "0", LC_ALL: "C", GIT_TERMINAL_PROMPT: "0" };
}

/** Runs `git args` in `cwd` and returns its output whatever the exit code. */
export function runGitRaw(cwd: string, args: readonly string[], input?: string): Promise<GitResult> {
  return new Promise((resolve, reject) => {
    const child = spawn("git", args, {
      cwd,
      env: gitEnvironment(),
      stdio: [input === undefined ? "ignore" : "pipe", "pipe", "pipe"],
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout?.on("data", (b: Buffer) => out.push(b));
    child.stderr?.on("data", (b: Buffer) => err.push(b));
    child.on("error", (cause) => {
      reject(
        new StrataError("internal", `could not run git: ${cause.message}`, {
          cause,
          hint: "install git and make sure it is on PATH",
        }),
      );
    });
    child.on("close", (code) => {
      resolve({ stdout: Buffer.concat(out), stderr: Buffer.concat(err).toString("utf8"), exitCode: code ?? -1 });
    });
    if (input !== undefined && child.stdin) child.stdin.end(input);
  });
}

/** Runs git and returns stdout as text; a non-zero exit is a bug in strata's use of git (exit 70). */
export async function runGit(cwd: string, args: readonly string[]): Promise<string> {
  const r = await runGitRaw(cwd, args);
  if (r.exitCode !== 0) {
    throw new StrataError("internal", `git ${args.join(" ")} failed (exit ${r.exitCode}): ${r.stderr.trim()}`);
  }
  return r.stdout.toString("utf8");
}

/** Splits NUL-separated output, dropping the empty tail. */
export function splitNul(text: string): string[] {
  const parts = text.split("\0");
  if (parts.at(-1) === "") parts.pop();
  return parts;
}
