// The real endpoint in-process on port 0, over a file store in a temp dir, with its log lines captured.
import type { PublicKey, Snapshot } from "../../src/core/snapshot/index.js";
import { serializeSnapshot } from "../../src/core/snapshot/index.js";
import { openStore } from "../../src/io/stores/index.js";
import {
  createJsonLogger,
  startServer,
  type Grant,
  type RunningServer,
  type ServerLimits,
} from "../../src/server/index.js";
import { vi } from "vitest";
import { tempdir } from "./gitdir.js";

export interface TestServer {
  server: RunningServer;
  url: string;
  dir: string;
  logs: string[];
}

export async function startTestServer(options: {
  trustedKeys: PublicKey[];
  tokens?: Map<string, Grant> | null;
  maxBodyBytes?: number;
  store?: string;
  dir?: string;
  limits?: Partial<ServerLimits>;
}): Promise<TestServer> {
  const dir = options.dir ?? tempdir("strata-serve-");
  const logs: string[] = [];
  const store = await openStore(options.store ?? `file:${dir}`);
  const server = await startServer(
    {
      store,
      trustedKeys: options.trustedKeys,
      tokens: options.tokens ?? null,
      ...(options.maxBodyBytes ? { maxBodyBytes: options.maxBodyBytes } : {}),
      ...(options.limits ? { limits: options.limits } : {}),
      log: createJsonLogger({ level: "debug", write: (l) => logs.push(l) }),
      logRequests: true,
    },
    { host: "127.0.0.1", port: 0 },
  );
  return { server, url: server.url, dir, logs };
}

export function put(
  url: string,
  snapshot: Snapshot | string,
  ifMatch: string | null,
  token?: string,
): Promise<Response> {
  const headers: Record<string, string> = { "content-type": "application/json" };
  if (ifMatch !== null) headers["if-match"] = ifMatch;
  if (token) headers.authorization = `Bearer ${token}`;
  const env = typeof snapshot === "string" ? "staging" : snapshot.environment;
  return fetch(`${url}/v1/environments/${env}/snapshot`, {
    method: "PUT",
    headers,
    body: typeof snapshot === "string" ? snapshot : serializeSnapshot(snapshot),
  });
}

/** Reads server-sent events from a response until `until` returns true for the events so far. */
export async function readEvents(
  res: Response,
  until: (events: { event: string; id: string; data: string }[]) => boolean,
  timeoutMs = 10_000,
): Promise<{ event: string; id: string; data: string }[]> {
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  const events: { event: string; id: string; data: string }[] = [];
  let buffer = "";
  const timer = setTimeout(() => void reader.cancel(), timeoutMs);
  try {
    while (!until(events)) {
      const { value, done } = await reader.read();
      if (done) break;
      buffer += decoder.decode(value, { stream: true });
      let i: number;
      while ((i = buffer.indexOf("\n\n")) >= 0) {
        const block = buffer.slice(0, i);
        buffer = buffer.slice(i + 2);
        const e = { event: "", id: "", data: "" };
        for (const line of block.split("\n")) {
          const [k, ...v] = line.split(": ");
          if (k === "event" || k === "id" || k === "data") e[k] = v.join(": ");
        }
        if (e.event !== "") events.push(e);
      }
    }
  } finally {
    clearTimeout(timer);
  }
  return events;
}

/** Readiness, not a sleep: resolves once the server's metrics count `n` open watchers of the kind. */
export async function watchersReach(url: string, kind: "longpoll" | "sse", n: number): Promise<void> {
  await vi.waitFor(
    async () => {
      const text = await (await fetch(`${url}/metrics`)).text();
      if (!text.includes(`strata_watchers{kind="${kind}"} ${n}`))
        throw new Error(`waiting for ${n} ${kind} watcher(s)`);
    },
    { timeout: 30_000, interval: 20 },
  );
}
