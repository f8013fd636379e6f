// A hostile endpoint for the SDK: a local HTTP server that answers what each test makes it answer (forged
// events, bodies without end, deep JSON), with real signed snapshots where a test needs them. What the real
// `strata serve` never sends (it verifies everything it serves) can only be tested this way.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach } from "vitest";

export interface HostileRequest {
  path: string;
  headers: IncomingMessage["headers"];
}

export interface HostileEndpoint {
  url: string;
  /** Every request seen, in order. */
  requests: HostileRequest[];
  /** Event streams opened and not yet closed by the client, newest last. */
  streams: ServerResponse[];
  /** Event streams the client closed (or that ended), counted. */
  closedStreams: number;
  close(): Promise<void>;
}

export type HostileHandler = (req: IncomingMessage, res: ServerResponse, path: string) => void;

/** Opens an event stream on `res` as the endpoint does (the test then writes frames to it). */
export function openEventStream(res: ServerResponse): void {
  res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache" });
  res.write("retry: 2000\n\n");
}

export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(text) });
  res.end(text);
}

export function sendText(res: ServerResponse, text: string): void {
  res.writeHead(200, { "content-type": "application/json", "content-length": Buffer.byteLength(text) });
  res.end(text);
}

const servers: Server[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) {
    s.closeAllConnections();
    await new Promise((r) => s.close(r));
  }
});

/** Starts a hostile endpoint on a free port; it is closed after the test, however the test ended. */
export async function startHostileEndpoint(handler: HostileHandler): Promise<HostileEndpoint> {
  const ep: HostileEndpoint = {
    url: "",
    requests: [],
    streams: [],
    closedStreams: 0,
    async close() {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    },
  };
  const server = createServer((req, res) => {
    const path = new URL(req.url ?? "/", "http://x").pathname;
    // The environment declares no services (the endpoint's answer for a service's chain then): a client
    // reads the environment's snapshot, where each test plays its hostile part.
    if (/\/services\/[^/]+\/snapshot$/.test(path)) {
      res.writeHead(404, { "content-type": "application/json" });
      return void res.end(
        JSON.stringify({ error: { code: "unknown-service", message: "no services published", services: [] } }),
      );
    }
    ep.requests.push({ path, headers: req.headers });
    if (path.endsWith("/events")) {
      ep.streams.push(res);
      res.once("close", () => {
        ep.streams.splice(ep.streams.indexOf(res), 1);
        ep.closedStreams++;
      });
    }
    handler(req, res, path);
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  ep.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return ep;
}
