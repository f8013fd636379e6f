/**
 * `strata agent`: the SDK as a sidecar process for services in any language. It keeps files equal to the
 * verified effective configuration (secrets decrypted, mode 0600, replaced atomically) and, on each change,
 * runs a command or signals a process. Health and Prometheus metrics on request. docs/runtime.md.
 */
import { spawn } from "node:child_process";
import { readFile } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import { writeFileAtomic } from "../cache.js";
import { StrataClient, type ClientOptions } from "../client.js";
import type { RejectionCode } from "../../core/protocol/codes.js";
import { isRejection } from "../errors.js";
import { renderOutput, type OutputFormat } from "./render.js";

export interface AgentOutput {
  /** A file, or a template with `{namespace}`: one file per namespace. */
  path: string;
  format: OutputFormat;
}

export type AgentLog = (level: "info" | "warn" | "error", msg: string, fields?: Record<string, unknown>) => void;

export interface AgentOptions {
  client: ClientOptions;
  outputs: readonly AgentOutput[];
  /** A shell command run after each change (with STRATA_VERSION set), one run at a time. */
  exec?: string;
  /** Sent to the process whose pid `pidFile` holds after each change. */
  signal?: NodeJS.Signals;
  pidFile?: string;
  /** Write once and stop (an init container). */
  once?: boolean;
  /** `HOST:PORT` for /healthz and /metrics. */
  health?: { host: string; port: number };
  log: AgentLog;
}

export interface RunningAgent {
  client: StrataClient;
  /** `http://HOST:PORT` of the health server, when there is one. */
  healthUrl: string | null;
  close(): Promise<void>;
}

interface Counters {
  rejections: Map<RejectionCode, number>;
  reconnects: number;
  writes: number;
  execs: number;
  execFailures: number;
}

async function renderFiles(
  root: Readonly<Record<string, unknown>>,
  outputs: readonly AgentOutput[],
): Promise<Map<string, string>> {
  const files = new Map<string, string>();
  for (const o of outputs) {
    if (o.path.includes("{namespace}")) {
      for (const [ns, tree] of Object.entries(root))
        files.set(o.path.replaceAll("{namespace}", ns), await renderOutput(tree, o.format));
    } else files.set(o.path, await renderOutput(root, o.format));
  }
  return files;
}

/** Starts the agent: resolves once the first verified configuration is written (and, with `once`, closed). */
export async function startAgent(options: AgentOptions): Promise<RunningAgent> {
  const client = new StrataClient({ ...options.client, kind: "agent" });
  const counters: Counters = { rejections: new Map(), reconnects: 0, writes: 0, execs: 0, execFailures: 0 };
  const log = options.log;
  client.on("error", (e) => {
    if (isRejection(e)) {
      counters.rejections.set(e.code, (counters.rejections.get(e.code) ?? 0) + 1);
      log("error", "snapshot rejected; keeping the current configuration", {
        code: e.code,
        version: e.version,
        error: e.message,
        current: client.version,
      });
    } else log("warn", e.message, { code: e.code });
  });
  client.on("reconnect", (e) => {
    counters.reconnects++;
    log("info", "reconnecting", { attempt: e.attempt, delayMs: e.delayMs, transport: e.transport, reason: e.reason });
  });
  client.on("stale", (e) =>
    log("warn", "the configuration is past its expiry: the endpoint has not refreshed it", {
      version: e.version,
      expiresAt: e.expiresAt,
    }),
  );

  const written = new Map<string, string>();
  /** Output files that existed before this process first wrote them. */
  let initialFiles = 0;
  /** Writes what the client serves now; returns the version written, or null when no file changed. */
  const write = async (): Promise<number | null> => {
    // The tree and its version are taken together: the client may move on while the files are written.
    const version = client.version;
    const files = await renderFiles(client.getAll() as Readonly<Record<string, unknown>>, options.outputs);
    let changed = false;
    for (const [path, text] of files) {
      if (!written.has(path)) {
        // First write of this process: what an earlier run (the init container) left there counts.
        const existing = await readFile(path, "utf8").catch(() => null);
        if (existing !== null) {
          written.set(path, existing);
          initialFiles++;
        }
      }
      if (written.get(path) === text) continue;
      await writeFileAtomic(path, text, 0o600);
      written.set(path, text);
      changed = true;
    }
    if (!changed) return null;
    counters.writes++;
    log("info", "wrote the configuration", { version, files: [...files.keys()] });
    return version;
  };

  const react = async (version: number): Promise<void> => {
    if (options.exec !== undefined) {
      counters.execs++;
      const code = await new Promise<number | null>((resolve) => {
        const child = spawn("/bin/sh", ["-c", options.exec!], {
          stdio: ["ignore", "inherit", "inherit"],
          env: { ...process.env, STRATA_VERSION: String(version) },
        });
        child.once("error", () => resolve(null));
        child.once("exit", (c) => resolve(c));
      });
      if (code !== 0) {
        counters.execFailures++;
        log("warn", "the --exec command failed", { exitCode: code, version });
      }
    }
    if (options.signal !== undefined && options.pidFile !== undefined) {
      try {
        const pid = Number((await readFile(options.pidFile, "utf8")).trim());
        if (!Number.isSafeInteger(pid) || pid <= 0) throw new Error(`${options.pidFile} holds no pid`);
        process.kill(pid, options.signal);
        log("info", "signalled the process", { pid, signal: options.signal, version });
      } catch (e) {
        log("warn", "could not signal the process", { pidFile: options.pidFile, error: (e as Error).message });
      }
    }
  };

  await client.ready();
  let first: number | null;
  try {
    first = await write();
  } catch (e) {
    await client.close();
    throw e;
  }
  if (options.once) {
    await client.close();
    return { client, healthUrl: null, close: async () => undefined };
  }

  // Changes are handled one at a time, in order: each write and its command finish before the next.
  // A first write that replaced an older file (the init container's, or a previous run's) is a change too.
  let queue: Promise<void> =
    first !== null && initialFiles > 0
      ? react(first).catch((e: unknown) =>
          log("error", "could not run the change action", { error: (e as Error).message }),
        )
      : Promise.resolve();
  client.on("change", () => {
    queue = queue
      .then(async () => {
        const version = await write();
        if (version !== null) await react(version);
      })
      .catch((e: unknown) => log("error", "could not write the configuration", { error: (e as Error).message }));
  });

  let server: Server | null = null;
  let healthUrl: string | null = null;
  if (options.health !== undefined) {
    server = createServer((req, res) => {
      const path = (req.url ?? "/").split("?")[0];
      if (path === "/healthz") {
        const body = JSON.stringify({
          status: client.isStale() ? "stale" : "ok",
          environment: options.client.environment,
          version: client.version,
          stale: client.isStale(),
          rejected: client.lastRejected,
        });
        res.writeHead(200, { "content-type": "application/json" }).end(body + "\n");
      } else if (path === "/metrics") {
        res.writeHead(200, { "content-type": "text/plain; version=0.0.4" }).end(renderMetrics(client, counters));
      } else res.writeHead(404, { "content-type": "text/plain" }).end("not found\n");
    });
    const s = server;
    await new Promise<void>((resolve, reject) => {
      s.once("error", reject);
      s.listen(options.health!.port, options.health!.host, () => resolve());
    });
    const addr = s.address() as { address: string; port: number };
    healthUrl = `http://${addr.address.includes(":") ? `[${addr.address}]` : addr.address}:${addr.port}`;
    log("info", "health endpoint listening", { url: healthUrl });
  }

  return {
    client,
    healthUrl,
    async close() {
      await client.close();
      await queue;
      if (server !== null) {
        server.closeAllConnections();
        await new Promise<void>((resolve) => server!.close(() => resolve()));
      }
    },
  };
}

function renderMetrics(client: StrataClient, c: Counters): string {
  const meta = client.snapshot;
  const age = meta === null ? 0 : Math.max(0, (Date.now() - Date.parse(meta.createdAt)) / 1000);
  const lines = [
    "# HELP strata_agent_version The configuration version in use.",
    "# TYPE strata_agent_version gauge",
    `strata_agent_version ${client.version}`,
    "# HELP strata_agent_snapshot_age_seconds Seconds since the version in use was created.",
    "# TYPE strata_agent_snapshot_age_seconds gauge",
    `strata_agent_snapshot_age_seconds ${age.toFixed(3)}`,
    "# HELP strata_agent_stale 1 when the version in use is past its expiry.",
    "# TYPE strata_agent_stale gauge",
    `strata_agent_stale ${client.isStale() ? 1 : 0}`,
    "# HELP strata_agent_rejections_total Snapshots refused, by reason.",
    "# TYPE strata_agent_rejections_total counter",
    ...[...c.rejections].map(([reason, n]) => `strata_agent_rejections_total{reason="${reason}"} ${n}`),
    "# HELP strata_agent_reconnects_total Reconnections to the endpoint.",
    "# TYPE strata_agent_reconnects_total counter",
    `strata_agent_reconnects_total ${c.reconnects}`,
    "# HELP strata_agent_writes_total Times the output files were replaced.",
    "# TYPE strata_agent_writes_total counter",
    `strata_agent_writes_total ${c.writes}`,
    "# HELP strata_agent_exec_total Runs of the --exec command (failures in strata_agent_exec_failures_total).",
    "# TYPE strata_agent_exec_total counter",
    `strata_agent_exec_total ${c.execs}`,
    "# TYPE strata_agent_exec_failures_total counter",
    `strata_agent_exec_failures_total ${c.execFailures}`,
  ];
  return lines.join("\n") + "\n";
}
