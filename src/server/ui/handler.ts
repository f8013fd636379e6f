/**
 * `strata serve`'s read-only dashboard at /ui/ (docs/dashboard.md): the built pages, the login that keeps a
 * token in a cookie, and the few answers the pages need that the /v1 API does not give (the environment
 * tree, the diff between two versions, the verified audit chain). Everything else the pages read from /v1
 * with the same cookie. Every response carries the dashboard's security headers.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { StrataError } from "../../core/findings.js";
import type { KeyMetadata, EnvironmentInfo } from "../../core/model.js";
import { ENVIRONMENT_NAME, parseSnapshot, type PublicKey } from "../../core/snapshot/index.js";
import type { SnapshotStore } from "../../io/stores/index.js";
import { hashToken, type Grant, type Permission } from "../tokens.js";
import { findAsset, SECURITY_HEADERS, sendAsset } from "./assets.js";
import { auditEnvironment } from "./audit.js";
import { diffVersions } from "./diff.js";
import { loadRepositoryView, type RepositoryView } from "./repository.js";
import { clearSessionCookie, createSessionCookie, isSameOrigin } from "./session.js";

export interface UiContext {
  store: SnapshotStore;
  trustedKeys: readonly PublicKey[];
  /** The server's tokens (token hash -> grant), replaced in place on SIGHUP; null: no auth (loopback). */
  tokens: () => Map<string, Grant> | null;
  /** The repository the server was started with (`--repo`): the environment tree and schema flags. */
  repoDir: string | null;
  /** The server's auth for this request (Authorization header or the session cookie); throws 401/403. */
  authorize: (req: IncomingMessage, permission: Permission | "status", environment?: string) => Grant | null;
}

const MAX_LOGIN_BYTES = 4096;
const APP_PAGES = new Set(["/ui", "/ui/", "/ui/index.html"]);

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    "content-type": "application/json",
    "content-length": Buffer.byteLength(text),
    "cache-control": "no-store",
  });
  res.end(text);
}

function redirect(res: ServerResponse, location: string, cookie?: string): void {
  res.writeHead(303, {
    location,
    "content-length": 0,
    "cache-control": "no-store",
    ...(cookie === undefined ? {} : { "set-cookie": cookie }),
  });
  res.end();
}

function allow(req: IncomingMessage, ...methods: string[]): void {
  if (!methods.includes(req.method ?? "GET"))
    throw new StrataError(
      "invalid-argument",
      `${req.method ?? ""} is not allowed on ${req.url ?? ""} (use ${methods.join(", ")})`,
    );
}

async function readForm(req: IncomingMessage): Promise<URLSearchParams> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_LOGIN_BYTES)
      throw new StrataError("payload-too-large", `the login form is over ${MAX_LOGIN_BYTES} bytes`);
    chunks.push(chunk);
  }
  return new URLSearchParams(Buffer.concat(chunks).toString("utf8"));
}

export interface UiHandler {
  handle(req: IncomingMessage, res: ServerResponse, path: string, query: URLSearchParams | null): Promise<void>;
}

export function createUiHandler(ctx: UiContext): UiHandler {
  let repository: Promise<RepositoryView | null> | null = null;
  const repo = (): Promise<RepositoryView | null> =>
    (repository ??= ctx.repoDir === null ? Promise.resolve(null) : loadRepositoryView(ctx.repoDir));
  const readable = (grant: Grant | null, environment: string): boolean =>
    grant === null || grant.allows("read", environment);

  async function environments(req: IncomingMessage): Promise<unknown> {
    const grant = ctx.authorize(req, "status");
    const view = await repo();
    const now = Date.now();
    const names = new Set([...(view?.environments.keys() ?? []), ...(await ctx.store.environments())]);
    const out = [];
    for (const name of names) {
      if (!readable(grant, name)) continue;
      const info = view?.environments.get(name) ?? null;
      const history = await ctx.store.history(name);
      const last = history.at(-1) ?? null;
      out.push({
        name,
        declared: info !== null,
        parent: info?.parent ?? null,
        abstract: info?.abstract ?? false,
        production: info?.production ?? false,
        approvalRequired: info?.approvalRequired ?? false,
        description: info?.description ?? null,
        current:
          last === null
            ? null
            : {
                version: last.version,
                digest: last.digest,
                action: last.action,
                publishedAt: last.publishedAt,
                createdAt: last.createdAt,
                expiresAt: last.expiresAt,
                ageSeconds: Math.round((now - Date.parse(last.publishedAt)) / 1000),
                expired: Date.parse(last.expiresAt) < now,
                emergency: last.emergency,
                actor: last.actor,
                source: last.source,
              },
      });
    }
    return { schemaVersion: 1, repository: view !== null, environments: out };
  }

  async function readVersion(environment: string, text: string | null): Promise<ReturnType<typeof parseSnapshot>> {
    const version = text !== null && /^\d{1,15}$/.test(text) ? Number(text) : NaN;
    if (!Number.isSafeInteger(version) || version < 1)
      throw new StrataError(
        "invalid-argument",
        `from and to must be versions (got ${JSON.stringify((text ?? "").slice(0, 20))})`,
      );
    const stored = await ctx.store.read(environment, version);
    if (stored === null) throw new StrataError("unknown-environment", `${environment} has no version ${version}`);
    return parseSnapshot(stored);
  }

  async function diff(req: IncomingMessage, environment: string, query: URLSearchParams | null): Promise<unknown> {
    ctx.authorize(req, "read", environment);
    const [base, head] = [
      await readVersion(environment, query?.get("from") ?? null),
      await readVersion(environment, query?.get("to") ?? null),
    ];
    const view = await repo();
    const info: EnvironmentInfo | null = view?.environments.get(environment) ?? null;
    const metadata = (key: string): KeyMetadata | null => view?.metadata(key) ?? null;
    return diffVersions({ environment, base, head, info, metadata });
  }

  async function audit(req: IncomingMessage): Promise<unknown> {
    const grant = ctx.authorize(req, "status");
    const out = [];
    for (const name of await ctx.store.environments())
      if (readable(grant, name)) out.push(await auditEnvironment(ctx.store, name, ctx.trustedKeys));
    return { schemaVersion: 1, trustedKeys: ctx.trustedKeys.map((k) => k.keyid), environments: out };
  }

  async function login(req: IncomingMessage, res: ServerResponse): Promise<void> {
    allow(req, "POST");
    if (!isSameOrigin(req))
      throw new StrataError("access-denied", "the login form must be posted from this server's own page");
    const tokens = ctx.tokens();
    if (tokens === null) return redirect(res, "/ui/");
    const token = (await readForm(req)).get("token")?.trim() ?? "";
    if (token === "" || !tokens.has(hashToken(token))) return redirect(res, "/ui/?login=failed");
    redirect(res, "/ui/", createSessionCookie(req, token));
  }

  return {
    async handle(req, res, path, query) {
      for (const [k, v] of Object.entries(SECURITY_HEADERS)) res.setHeader(k, v);
      if (path === "/ui") return redirect(res, "/ui/");
      if (path === "/ui/login") return login(req, res);
      if (path === "/ui/logout") {
        allow(req, "POST");
        if (!isSameOrigin(req)) throw new StrataError("access-denied", "log out from this server's own page");
        return redirect(res, "/ui/", clearSessionCookie(req));
      }
      if (path.startsWith("/ui/api/")) {
        allow(req, "GET");
        const parts = path.slice("/ui/api/".length).split("/");
        if (parts.length === 1 && parts[0] === "session") {
          const grant = ctx.authorize(req, "status");
          return sendJson(res, 200, {
            auth: ctx.tokens() !== null,
            token: grant?.name ?? null,
            admin: grant === null || grant.admin,
          });
        }
        if (parts.length === 1 && parts[0] === "environments") return sendJson(res, 200, await environments(req));
        if (parts.length === 1 && parts[0] === "audit") return sendJson(res, 200, await audit(req));
        if (parts.length === 3 && parts[0] === "environments" && parts[2] === "diff") {
          if (!ENVIRONMENT_NAME.test(parts[1]!))
            throw new StrataError(
              "unknown-environment",
              `invalid environment name ${JSON.stringify(parts[1]!.slice(0, 100))}`,
            );
          return sendJson(res, 200, await diff(req, parts[1]!, query));
        }
        throw new StrataError("unknown-environment", `no such dashboard resource: ${path}`);
      }
      allow(req, "GET", "HEAD");
      const asset = await findAsset(APP_PAGES.has(path) ? "index.html" : path.slice("/ui/".length));
      if (asset === null) {
        if (APP_PAGES.has(path))
          throw new StrataError("unreachable", "the dashboard is not built: run `npm run build`");
        throw new StrataError("unknown-environment", `no such dashboard file: ${path}`);
      }
      sendAsset(res, asset, req.method === "HEAD");
    },
  };
}
