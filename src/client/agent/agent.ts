/**
 * `strata agent`: the SDK as a sidecar process for services in any language. It keeps files equal to the
 * verified effective configuration (secrets decrypted, mode 0600, replaced atomically) and, on each change,
 * runs a command or signals a process. Health and Prometheus metrics on request, and the service's health
 * reports (POST /report) forwarded to the endpoint in batches for rollouts. docs/runtime.md.
 */
import { spawn } from "node:child_process";
import { readFile } from "node:fs/promises";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { StrataClient, type ClientOptions } from "../client.js";
import { StrataError } from "../../core/findings.js";
import type { JsonValue } from "../../core/json.js";
import type { RejectionCode } from "../../core/protocol/codes.js";
import { CLIENT_HEADER, formatClientHeader } from "../../core/protocol/client-header.js";
import { chainPath } from "../../core/protocol/chains.js";
import { isRejection, StrataClientError } from "../errors.js";
import { defaultInstance } from "../options.js";
import type { ReportInput } from "../reporter.js";
import { renderFiles, type OutputFile, type OutputFormat } from "./render.js";
import { readOutputFile, writeOutputFile } from "./files.js";

export interface AgentOutput {
  /** A file, or a template with `{namespace}`: one file per namespace. */
  path: string;
  format: OutputFormat;
}

export type AgentLog = (level: "info" | "warn" | "error", msg: string, fields?: Record<string, unknown>) => void;

export interface AgentOptions {
  client: ClientOptions;
  /** An age identity file, read at start (instead of `client.identity`, `SOPS_AGE_KEY`, `SOPS_AGE_KEY_FILE`). */
  identityFile?: string;
  outputs: readonly AgentOutput[];
  /** A shell command run after each change (with STRATA_VERSION set), one run at a time. */
  exec?: string;
  /** Sent to the process whose pid `pidFile` holds after each change. */
  signal?: NodeJS.Signals;
  pidFile?: string;
  /** Write once and stop (an init container). */
  once?: boolean;
  /** `HOST:PORT` for /healthz, /metrics and the service's health reports (POST /report). */
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
  renderRefusals: number;
  planRefusals: Map<string, number>;
  reportsRefused: number;
}

/** The most a POST /report body may be. */
const MAX_REPORT_BODY = 64 * 1024;

/** The files the outputs name for a config tree: a `{namespace}` template gives one file per namespace. */
function outputFiles(root: Readonly<Record<string, JsonValue>>, outputs: readonly AgentOutput[]): OutputFile[] {
  const files: OutputFile[] = [];
  for (const o of outputs) {
    if (o.path.includes("{namespace}")) {
      for (const [ns, tree] of Object.entries(root))
        files.push({
          path: o.path.replaceAll("{namespace}", ns),
          format: o.format,
          tree: tree as Record<string, JsonValue>,
        });
    } else files.push({ path: o.path, format: o.format, tree: { ...root } });
  }
  return files;
}

/** Starts the agent: resolves once the first verified configuration is written (and, with `once`, closed). */
export async function startAgent(options: AgentOptions): Promise<RunningAgent> {
  // The instance is fixed here, so that a refusal at start can be reported under the same name (reportRefusal).
  const clientOptions: ClientOptions = {
    ...options.client,
    instance: options.client.instance ?? defaultInstance(options.client.env),
    ...(options.identityFile !== undefined ? { identity: await readIdentityFile(options.identityFile) } : {}),
  };
  const client = new StrataClient({ ...clientOptions, kind: "agent" });
  const counters: Counters = {
    rejections: new Map(),
    reconnects: 0,
    writes: 0,
    execs: 0,
    execFailures: 0,
    renderRefusals: 0,
    planRefusals: new Map(),
    reportsRefused: 0,
  };
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
    } else if (e.code === "plan-refused") {
      const refusal = e.refusal ?? "malformed";
      counters.planRefusals.set(refusal, (counters.planRefusals.get(refusal) ?? 0) + 1);
      log("error", "rollout plan refused; keeping the current configuration", {
        refusal,
        planVersion: e.version,
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
  /**
   * Writes what the client serves now; returns the version written, or null when no file changed. A file
   * its format refuses (two keys of one variable name) refuses the whole change: every file keeps its last
   * good content, so the files never disagree on the version.
   */
  const write = async (): Promise<number | null> => {
    // The tree and its version are taken together: the client may move on while the files are written.
    const version = client.version;
    const tree = client.getAll() as Readonly<Record<string, JsonValue>>;
    const { texts, refused } = await renderFiles(outputFiles(tree, options.outputs));
    if (refused.length > 0) {
      counters.renderRefusals++;
      const first = refused[0]!;
      const more = refused.reduce((n, r) => n + r.findings.length, 0) - 1;
      throw new StrataError(
        first.findings[0]!.code,
        `v${version}: refusing to write ${first.path}: ${first.findings[0]!.message}${more > 0 ? ` (and ${more} more)` : ""}`,
        { hint: first.findings[0]!.hint ?? "rename one of the keys in the configuration repository" },
      );
    }
    let changed = false;
    for (const [path, text] of texts) {
      if (!written.has(path)) {
        // First write of this process: what an earlier run (the init container) left there counts.
        const existing = await readOutputFile(path);
        if (existing !== null) {
          written.set(path, existing);
          initialFiles++;
        }
      }
      if (written.get(path) === text) continue;
      const created = await writeOutputFile(path, text);
      if (created.length > 0) log("info", "created the output directory", { directories: created });
      written.set(path, text);
      changed = true;
    }
    if (!changed) return null;
    counters.writes++;
    log("info", "wrote the configuration", { version, files: [...texts.keys()] });
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

  try {
    await client.ready();
  } catch (e) {
    // A refusal at start (an untrusted signer, secrets it cannot open): the fleet status says so before the
    // process exits, rather than showing an instance at v0.
    if (isRejection(e)) await reportRefusal(clientOptions, client.lastRejected, log);
    throw e;
  }
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
      .catch((e: unknown) =>
        log("error", "could not write the configuration; the files keep their last good content", {
          ...(e instanceof StrataError ? { code: e.code, hint: e.hint } : {}),
          error: (e as Error).message,
        }),
      );
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
      } else if (path === "/report") {
        void takeReport(req, res, client, counters);
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

/**
 * POST /report: the service's `{ requests, errors, latencyMs }` (the SDK's `report()` fields; `latencyMs` one
 * number or a list), added to the batch the agent sends the endpoint. 204 when counted; 400 with the reason
 * when the body is not such an object; 413 past 64 KiB; 405 for another method.
 */
async function takeReport(
  req: IncomingMessage,
  res: ServerResponse,
  client: StrataClient,
  counters: Counters,
): Promise<void> {
  const refuse = (status: number, message: string): void => {
    counters.reportsRefused++;
    res.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify({ error: message }) + "\n");
  };
  if (req.method !== "POST") {
    res.setHeader("allow", "POST");
    return refuse(405, "POST a JSON object { requests, errors, latencyMs }");
  }
  const parts: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of req as AsyncIterable<Buffer>) {
      size += chunk.length;
      if (size > MAX_REPORT_BODY) {
        refuse(413, `the body is larger than ${MAX_REPORT_BODY} bytes`);
        req.destroy();
        return;
      }
      parts.push(chunk);
    }
  } catch {
    return; // the service hung up
  }
  let body: unknown;
  try {
    body = JSON.parse(Buffer.concat(parts).toString("utf8"));
  } catch {
    return refuse(400, "the body is not JSON");
  }
  if (body === null || typeof body !== "object" || Array.isArray(body))
    return refuse(400, "the body must be a JSON object { requests, errors, latencyMs }");
  const unknown = Object.keys(body).find((k) => !["requests", "errors", "latencyMs"].includes(k));
  if (unknown !== undefined) return refuse(400, `unknown field "${unknown}" (requests, errors, latencyMs)`);
  try {
    client.report(body as ReportInput);
  } catch (e) {
    if (e instanceof StrataClientError) return refuse(400, e.message);
    throw e;
  }
  res.writeHead(204).end();
}

async function readIdentityFile(file: string): Promise<string> {
  try {
    return await readFile(file, "utf8");
  } catch (cause) {
    throw new StrataError(
      "unreadable-file",
      `cannot read the identity file ${file}: ${(cause as NodeJS.ErrnoException).code ?? (cause as Error).message}`,
      { cause, hint: "an age identity file (AGE-SECRET-KEY-… lines), readable by this user" },
    );
  }
}

/**
 * Tells the endpoint which version this agent refused and why: one HEAD of the snapshot with the
 * `Strata-Client` header (the endpoint records a client only from its reads). Best effort, short: the agent
 * is about to exit, and an endpoint that does not answer changes nothing.
 */
async function reportRefusal(
  options: ClientOptions,
  rejected: { version: number; reason: RejectionCode } | null,
  log: AgentLog,
): Promise<void> {
  if (rejected === null) return;
  const headers: Record<string, string> = {
    [CLIENT_HEADER]: formatClientHeader({
      service: options.service,
      instance: options.instance!,
      version: 0,
      kind: "agent",
      rejected,
    }),
  };
  const token = options.token ?? (options.env ?? process.env).STRATA_TOKEN;
  if (token) headers.authorization = `Bearer ${token}`;
  // The service's chain: its token may read nothing else, and the endpoint records the header on any answer.
  const chain = { environment: options.environment, service: options.service };
  const url = `${options.endpoint.replace(/\/+$/, "")}${chainPath(chain)}/snapshot`;
  try {
    const res = await (options.fetch ?? fetch)(url, {
      method: "HEAD",
      headers,
      signal: AbortSignal.timeout(REPORT_TIMEOUT_MS),
    });
    log("info", "reported the refusal to the endpoint", {
      version: rejected.version,
      reason: rejected.reason,
      status: res.status,
    });
  } catch (e) {
    log("warn", "could not report the refusal to the endpoint", { error: (e as Error).message });
  }
}

const REPORT_TIMEOUT_MS = 2000;

function renderMetrics(client: StrataClient, c: Counters): string {
  const meta = client.snapshot;
  const age = meta === null ? 0 : Math.max(0, (Date.now() - Date.parse(meta.createdAt)) / 1000);
  const reports = client.reportStats();
  const lines = [
    ...client.metricsText().trimEnd().split("\n"),
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
    "# HELP strata_agent_render_refusals_total Versions not written because a file's format refused them (two keys of one variable name).",
    "# TYPE strata_agent_render_refusals_total counter",
    `strata_agent_render_refusals_total ${c.renderRefusals}`,
    "# HELP strata_agent_plan_refusals_total Rollout plans refused, by reason.",
    "# TYPE strata_agent_plan_refusals_total counter",
    ...[...c.planRefusals].map(([reason, n]) => `strata_agent_plan_refusals_total{reason="${reason}"} ${n}`),
    "# HELP strata_agent_report_batches_total Health report batches sent to the endpoint, by outcome.",
    "# TYPE strata_agent_report_batches_total counter",
    `strata_agent_report_batches_total{outcome="sent"} ${reports.sent}`,
    `strata_agent_report_batches_total{outcome="dropped"} ${reports.dropped}`,
    "# HELP strata_agent_reports_refused_total POST /report bodies refused (not counted).",
    "# TYPE strata_agent_reports_refused_total counter",
    `strata_agent_reports_refused_total ${c.reportsRefused}`,
  ];
  return lines.join("\n") + "\n";
}
