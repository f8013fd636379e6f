// A real etcd for tests (Debian's etcd-server): free ports, a temp data dir, killed after the file.
import { spawn, type ChildProcess } from "node:child_process";
import { createServer } from "node:net";
import { killOnExit } from "./daemons.js";
import { tempdir } from "./gitdir.js";
import { findTool, lacking, needsEtcd } from "./shared.js";

const etcdBinary = findTool("etcd");
/** What skips the etcd tests (null: nothing); says what is missing, and fails the file in CI, once per importing file. */
export const etcdMissing = lacking("the etcd store tests", needsEtcd);

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

export interface EtcdHandle {
  /** `127.0.0.1:PORT`, for `etcd://…/PREFIX`. */
  hostPort: string;
  /** Kill -9 (a crash); `start()` brings it back on the same ports and data. */
  kill(): Promise<void>;
  start(): Promise<void>;
  stop(): Promise<void>;
}

export async function startEtcd(): Promise<EtcdHandle> {
  if (etcdBinary === null) throw new Error("no etcd binary");
  const dataDir = tempdir("strata-etcd-");
  const [client, peer] = [await freePort(), await freePort()];
  const url = `http://127.0.0.1:${client}`;
  let child: ChildProcess | null = null;
  const args = [
    "--name",
    "t",
    "--data-dir",
    dataDir,
    "--listen-client-urls",
    url,
    "--advertise-client-urls",
    url,
    "--listen-peer-urls",
    `http://127.0.0.1:${peer}`,
    "--initial-advertise-peer-urls",
    `http://127.0.0.1:${peer}`,
    "--initial-cluster",
    `t=http://127.0.0.1:${peer}`,
    "--max-request-bytes",
    String(16 * 1024 * 1024),
    "--log-level",
    "error",
    "--unsafe-no-fsync",
  ];
  const start = async (): Promise<void> => {
    const c = spawn(etcdBinary, args, { stdio: ["ignore", "ignore", "pipe"] });
    child = c;
    killOnExit(c);
    let err = "";
    c.stderr?.on("data", (d: Buffer) => {
      err = (err + d.toString()).slice(-4000);
    });
    // Generous: on a loaded machine etcd takes seconds to open its WAL; this is readiness, not a timing claim.
    const deadline = Date.now() + 60_000;
    for (;;) {
      try {
        const r = await fetch(`${url}/health`);
        if (r.ok) return;
      } catch {
        // not up yet
      }
      if (c.exitCode !== null || Date.now() > deadline) throw new Error(`etcd did not start: ${err}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  };
  const killWith = async (signal: NodeJS.Signals): Promise<void> => {
    const c = child as ChildProcess | null;
    if (c === null || c.exitCode !== null) return;
    await new Promise<void>((resolve) => {
      c.once("exit", () => resolve());
      c.kill(signal);
    });
    child = null;
  };
  await start();
  return { hostPort: `127.0.0.1:${client}`, start, kill: () => killWith("SIGKILL"), stop: () => killWith("SIGTERM") };
}
