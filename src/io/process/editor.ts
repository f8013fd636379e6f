/**
 * `secrets edit`'s editor: `$SOPS_EDITOR`, `$EDITOR` or `vi` on one file, in the foreground, through the
 * shell (an editor setting is a command line with arguments, as sops and git run it).
 */
import { execa } from "execa";
import { removePathSync } from "../fs/files.js";

function shellQuote(s: string): string {
  return `'${s.replaceAll("'", `'\\''`)}'`;
}

/** Runs the editor on `file` and returns its exit code (null when it was killed by a signal). */
export async function runEditor(
  file: string,
  options: { env: NodeJS.ProcessEnv; cwd: string },
): Promise<number | null> {
  const editor = options.env.SOPS_EDITOR || options.env.EDITOR || "vi";
  const r = await execa(`${editor} ${shellQuote(file)}`, {
    shell: true,
    stdio: "inherit",
    env: options.env,
    extendEnv: false,
    reject: false,
    cwd: options.cwd,
  });
  return r.exitCode ?? null;
}

const SIGNALS = ["SIGINT", "SIGTERM", "SIGHUP"] as const;

/**
 * Removes `dir` (a plaintext directory) even when strata is interrupted while it exists: the handler
 * cleans up, then re-raises the signal so the process still ends the way it was asked to. Returns the
 * release, to call once the directory is gone.
 */
export function removeOnSignal(dir: string): () => void {
  const onSignal = (signal: NodeJS.Signals): void => {
    removePathSync(dir);
    for (const s of SIGNALS) process.removeListener(s, onSignal);
    process.kill(process.pid, signal);
  };
  for (const s of SIGNALS) process.on(s, onSignal);
  return () => {
    for (const s of SIGNALS) process.removeListener(s, onSignal);
  };
}
