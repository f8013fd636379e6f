// Spawns the built CLI end to end, as a user would.
import { execa } from "execa";
import { fileURLToPath } from "node:url";

export const projectRoot = fileURLToPath(new URL("../..", import.meta.url));
/** The built CLI; in the fast tier, a stub that fails (test/support/global-setup.ts). */
export const cliPath = process.env.STRATA_TEST_CLI ?? fileURLToPath(new URL("../../bin/strata.mjs", import.meta.url));

export interface CliResult {
  stdout: string;
  stderr: string;
  exitCode: number;
}

export async function strata(
  args: string[],
  options: { cwd?: string; env?: Record<string, string | undefined>; input?: string; timeout?: number } = {},
): Promise<CliResult> {
  const r = await execa(process.execPath, [cliPath, ...args], {
    cwd: options.cwd ?? projectRoot,
    env: { NO_COLOR: "1", GITHUB_ACTIONS: "", CI: "", ...options.env },
    input: options.input,
    reject: false,
    timeout: options.timeout ?? 60_000,
    stripFinalNewline: false,
  });
  return { stdout: String(r.stdout), stderr: String(r.stderr), exitCode: r.exitCode ?? -1 };
}

/** The example repository's committed, example-only age key (README: "The example repository"). */
export const exampleKeyEnv = {
  SOPS_AGE_KEY_FILE: fileURLToPath(new URL("../../examples/keys/EXAMPLE-ONLY-NOT-A-REAL-KEY.age.txt", import.meta.url)),
};
/** No key anywhere: HOME and XDG_CONFIG_HOME point at nothing. */
export const noKeyEnv = {
  SOPS_AGE_KEY_FILE: undefined,
  SOPS_AGE_KEY: undefined,
  SOPS_AGE_KEY_CMD: undefined,
  HOME: "/nonexistent",
  XDG_CONFIG_HOME: "/nonexistent",
  GNUPGHOME: "/nonexistent",
};
