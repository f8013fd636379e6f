/** Runs a command in the foreground, as `env` or `sops exec-env` do: stdio inherited, signals forwarded. */
import { spawn } from "node:child_process";
import { constants } from "node:os";

export type CommandOutcome =
  | { kind: "exited"; code: number }
  | { kind: "signaled"; signal: NodeJS.Signals; number: number }
  | { kind: "failed"; errno: string; message: string };

/** The signals a terminal or a supervisor sends to the foreground process; the child gets them too. */
const FORWARDED: NodeJS.Signals[] = ["SIGINT", "SIGTERM", "SIGHUP", "SIGQUIT", "SIGUSR1", "SIGUSR2"];

export function runCommand(command: string, args: readonly string[], env: Record<string, string>): Promise<CommandOutcome> {
  return new Promise((resolvePromise) => {
    // No shell: the arguments reach the program exactly as given.
    const child = spawn(command, [...args], { stdio: "inherit", env });
    const forward = (signal: NodeJS.Signals): void => { child.kill(signal); };
    for (const s of FORWARDED) process.on(s, forward);
    const done = (outcome: CommandOutcome): void => {
      for (const s of FORWARDED) process.off(s, forward);
      resolvePromise(outcome);
    };
    child.once("error", (e: NodeJS.ErrnoException) => done({ kind: "failed", errno: e.code ?? "EUNKNOWN", message: e.message }));
    child.once("exit", (code, signal) => {
      if (signal) done({ kind: "signaled", signal, number: constants.signals[signal] ?? 0 });
      else done({ kind: "exited", code: code ?? 0 });
    });
  });
}
