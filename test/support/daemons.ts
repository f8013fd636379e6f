// Daemons a test starts (etcd, strata serve) die with the test's worker however the file ends: one exit
// hook for all of them (a hook per child would pile up listeners on process).
import type { ChildProcess } from "node:child_process";

const running = new Set<ChildProcess>();

process.once("exit", () => {
  for (const child of running) if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
});

export function killOnExit(child: ChildProcess): void {
  running.add(child);
  child.once("exit", () => running.delete(child));
}
