/** Runs a command in the foreground, as `env` or `sops exec-env` do: stdio inherited, signals forwarded. */
import { spawn } from "node:child_process";
import { constants } from "node:os";

export type CommandOutcome =
  | { kind: "exited"; code: number }
  | { kind: "signaled"; signal: NodeJS.Signals; number: number }
  | { kind: "failed"; errno: string; message: string };

/** Signals a supervisor sends to one process id (systemd, kubelet, `kill`): passed on to the child. */
const FORWARDED: NodeJS.Signals[] = ["SIGTERM", "SIGHUP", "SIGUSR1", "SIGUSR2"];
/**
 * Ctrl-C and Ctrl-\ reach the whole foreground process group, the child included: strata only outlives
 * them (to report the child's exit), since forwarding would deliver them twice.
 */
const IGNORED: NodeJS.Signals[] = ["SIGINT", "SIGQUIT"];
const ignore = (): void => {};

export function runCommand(
  command: string,
  args: readonly string[],
  env: Record<string, string>,
): Promise<CommandOutcome> {
  return new Promise((resolvePromise) => {
    // No shell: the arguments reach the program exactly as given.
    const child = spawn(command, [...args], { stdio: "inherit", env });
    const forward = (signal: NodeJS.Signals): void => {
      child.kill(signal);
    };
    for (const s of FORWARDED) process.on(s, forward);
    for (const s of IGNORED) process.on(s, ignore);
    const done = (outcome: CommandOutcome): void => {
      for (const s of FORWARDED) process.off(s, forward);
      for (const s of IGNORED) process.off(s, ignore);
      resolvePromise(outcome);
    };
    child.once("error", (e: NodeJS.ErrnoException) =>
      done({ kind: "failed", errno: e.code ?? "EUNKNOWN", message: e.message }),
    );
    child.once("exit", (code, signal) => {
      if (signal) done({ kind: "signaled", signal, number: constants.signals[signal] ?? 0 });
      else done({ kind: "exited", code: code ?? 0 });
    });
  });
}
