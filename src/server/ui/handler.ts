/**
 * `strata serve`'s read-only dashboard at /ui/ (docs/dashboard.md): the built pages, the login that keeps a
 * token in a cookie, and the few answers the pages need that the /v1 API does not give (the environment
 * tree, the diff between two versions, the verified audit chain). Everything else the pages read from /v1
 * with the same cookie. Each is a route of the table (routes.ts), authorized by the dispatch like every
 * other; every answer carries the dashboard's security headers (set by the dispatch for the routes of this part).
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { gzipSync } from "node:zlib";
import { StrataError } from "../../core/findings.js";
import type { EnvironmentInfo, KeyMetadata } from "../../core/model.js";
import type {
  ChainAuditDocument,
  EnvironmentRow,
  EnvironmentsDocument,
  SessionDocument,
  Snapshot,
  VersionDiffDocument,
  VersionsDocument,
} from "../../core/protocol/index.js";
import { mayRead } from "../auth.js";
import type { Handlers } from "../dispatch.js";
import { HttpError, readBody, sendJson as sendJsonWith } from "../http.js";
import type { EndpointParts } from "../parts.js";
import type { Grant } from "../tokens.js";
import { acceptedEncodings, findAsset, sendAsset, varyWithEncoding } from "./assets.js";
import { auditedEnvironment, ChainChecker, MAX_PAGE_SIZE, PAGE_SIZE } from "./audit.js";
import { readRolloutAudit } from "../rollouts/audit.js";

/** The dashboard's audit page shows this many rollout entries, the newest (`GET /v1/audit` has them all). */
const MAX_ROLLOUT_AUDIT = 200;
import { diffVersions } from "./diff.js";
import { loadRepositoryView, type RepositoryView } from "./repository.js";
import { clearSessionCookie, createSessionCookie, isSameOrigin } from "./session.js";

const MAX_LOGIN_BYTES = 4096;

/** `?before=N&limit=M` of a page of versions; a bad value is `400 invalid-argument`. */
function pageQuery(query: URLSearchParams | null): { before: number | null; limit: number } {
  const number = (name: string, min: number, max: number): number | null => {
    const raw = query?.get(name) ?? null;
    if (raw === null || raw === "") return null;
    const n = /^\d{1,15}$/.test(raw) ? Number(raw) : NaN;
    if (!(n >= min && n <= max))
      throw new StrataError(
        "invalid-argument",
        `${name} must be a whole number from ${min} to ${max} (got ${JSON.stringify(raw.slice(0, 20))})`,
      );
    return n;
  };
  return {
    before: number("before", 1, Number.MAX_SAFE_INTEGER),
    limit: number("limit", 1, MAX_PAGE_SIZE) ?? PAGE_SIZE,
  };
}
const APP_PAGES = new Set(["/ui/", "/ui/index.html"]);

type DashboardKey =
  | "GET ui-session"
  | "GET ui-environments"
  | "GET ui-diff"
  | "GET ui-versions"
  | "GET ui-audit"
  | "POST ui-login"
  | "POST ui-logout"
  | "GET ui";

/** Answers smaller than this are sent as they are: compressing them saves less than it costs. */
const COMPRESS_FROM_BYTES = 1024;

/**
 * The dashboard's answers are about this very moment: never stored. Gzipped when the browser accepts it (the
 * environments answer of 50 environments is 70 KB of JSON, 8 KB gzipped; the pages refetch it when live).
 */
function sendJson(req: IncomingMessage, res: ServerResponse, status: number, body: unknown): void {
  const text = Buffer.from(JSON.stringify(body), "utf8");
  // A small answer is the same whatever the request accepts; a larger one depends on Accept-Encoding.
  if (text.length < COMPRESS_FROM_BYTES) return sendJsonWith(res, status, body, { "cache-control": "no-store" });
  if (!acceptedEncodings(req.headers["accept-encoding"]).has("gzip"))
    return sendJsonWith(res, status, body, { "cache-control": "no-store", vary: varyWithEncoding(res) });
  const gz = gzipSync(text, { level: 6 });
  res.writeHead(status, {
    "content-type": "application/json",
    "content-encoding": "gzip",
    "content-length": gz.length,
    "cache-control": "no-store",
    vary: varyWithEncoding(res),
  });
  res.end(gz);
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

export function dashboardHandlers(parts: EndpointParts): Pick<Handlers, DashboardKey> {
  const { store, reader } = parts;
  let repository: Promise<RepositoryView | null> | null = null;
  const repo = (): Promise<RepositoryView | null> =>
    (repository ??= parts.repoDir === null ? Promise.resolve(null) : loadRepositoryView(parts.repoDir));

  const checker = new ChainChecker(store, parts.trustedKeys);

  /**
   * Whether a version was published without what its environment's rules require: an approval-required
   * environment's `publish` must carry the record `push --require-approval` signs into the snapshot (every
   * pull request merged since the version before, with its approvers), and each of those pull requests an
   * approval (or the emergency label). Which approvals count (owners, teams, key rules) is the gate's to
   * decide at publish time; a snapshot without the record was not published through it.
   */
  function unapproved(info: EnvironmentInfo | null, action: string, source: Snapshot["source"]): string | null {
    if (info === null || !info.approvalRequired || info.abstract || action !== "publish") return null;
    if (source.pullRequests === undefined) return "published without the approval record of push --require-approval";
    const bare = source.pullRequests.filter((p) => p.approvedBy.length === 0 && !p.emergency);
    if (bare.length > 0) return `pull request ${bare.map((p) => `#${p.number}`).join(", ")} had no approval`;
    return null;
  }

  async function environments(grant: Grant | null): Promise<EnvironmentsDocument> {
    const view = await repo();
    const head = view === null ? null : await view.head();
    const now = Date.now();
    const names = new Set([...(view?.environments.keys() ?? []), ...(await store.environments())]);
    const out: EnvironmentRow[] = [];
    for (const name of names) {
      if (!mayRead(grant, name)) continue;
      const info = view?.environments.get(name) ?? null;
      const checked = await checker.latest(name);
      const row: EnvironmentRow = {
        name,
        declared: info !== null,
        parent: info?.parent ?? null,
        abstract: info?.abstract ?? false,
        production: info?.production ?? false,
        approvalRequired: info?.approvalRequired ?? false,
        description: info?.description ?? null,
        current: null,
      };
      if (checked !== null) {
        const { entry, metadata, problem } = checked;
        // Times, source and flags from the verified snapshot; the history line only says when and which.
        const source = metadata?.source ?? {
          repository: null,
          commit: null,
          pullRequest: null,
          approvedBy: [],
          pushedBy: null,
          emergency: false,
        };
        const expiresAt = metadata?.expiresAt ?? entry.expiresAt;
        row.current = {
          version: entry.version,
          digest: entry.digest,
          action: entry.action,
          publishedAt: entry.publishedAt,
          createdAt: metadata?.createdAt ?? entry.createdAt,
          expiresAt,
          ageSeconds: Math.round((now - Date.parse(entry.publishedAt)) / 1000),
          expired: Date.parse(expiresAt) < now,
          emergency: source.emergency,
          actor: entry.actor,
          source,
          problem,
          unapproved: metadata === null ? null : unapproved(info, entry.action, source),
          drift:
            view === null || head === null || metadata === null ? null : await view.drift(name, source.commit, head),
        };
      }
      out.push(row);
    }
    return { schemaVersion: 1, repository: view !== null, repositoryUrl: view?.url ?? null, environments: out };
  }

  /** One side of the diff, verified like every version the server reads (store-reader.ts). */
  async function readVersion(environment: string, text: string | null): Promise<Snapshot> {
    const version = text !== null && /^\d{1,15}$/.test(text) ? Number(text) : NaN;
    if (!Number.isSafeInteger(version) || version < 1)
      throw new StrataError(
        "invalid-argument",
        `from and to must be versions (got ${JSON.stringify((text ?? "").slice(0, 20))})`,
      );
    const read = await reader.read(environment, version);
    if (read === null) throw new HttpError(404, "not-found", `${environment} has no version ${version}`);
    return read.snapshot;
  }

  async function diff(environment: string, query: URLSearchParams | null): Promise<VersionDiffDocument> {
    const base = await readVersion(environment, query?.get("from") ?? null);
    const head = await readVersion(environment, query?.get("to") ?? null);
    const view = await repo();
    const info: EnvironmentInfo | null = view?.environments.get(environment) ?? null;
    const metadata = (key: string): KeyMetadata | null => view?.metadata(key) ?? null;
    return diffVersions({ environment, base, head, info, metadata });
  }

  async function login(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (!isSameOrigin(req))
      throw new StrataError("access-denied", "the login form must be posted from this server's own page");
    if (!parts.auth.enabled) return redirect(res, "/ui/");
    const form = new URLSearchParams(await readBody(req, MAX_LOGIN_BYTES, "the login form"));
    const token = form.get("token")?.trim() ?? "";
    if (token === "" || !parts.auth.knows(token)) return redirect(res, "/ui/?login=failed");
    redirect(res, "/ui/", createSessionCookie(req, token));
  }

  return {
    "GET ui-session": ({ req, res, grant }) => {
      const body: SessionDocument = {
        auth: parts.auth.enabled,
        token: grant?.name ?? null,
        admin: grant === null || grant.admin,
      };
      sendJson(req, res, 200, body);
    },
    "GET ui-environments": async ({ req, res, grant }) => sendJson(req, res, 200, await environments(grant)),
    "GET ui-diff": async ({ req, res, params, query }) => sendJson(req, res, 200, await diff(params.env, query)),
    "GET ui-versions": async ({ req, res, params, query }) => {
      const { before, limit } = pageQuery(query);
      const chain = await checker.check(params.env);
      if (chain.versions.length === 0 && chain.firstBad === null && !(await store.environments()).includes(params.env))
        throw new HttpError(404, "unknown-environment", `nothing is published for ${params.env}`);
      const body: VersionsDocument = {
        schemaVersion: 1,
        repositoryUrl: (await repo())?.url ?? null,
        ...auditedEnvironment(chain, before, limit),
      };
      sendJson(req, res, 200, body);
    },
    "GET ui-audit": async ({ req, res, grant }) => {
      const out = [];
      for (const name of await store.environments())
        if (mayRead(grant, name)) out.push(auditedEnvironment(await checker.check(name), null, 0));
      // Broken chains first: what an auditor opens the page for.
      out.sort((a, b) => Number(a.ok) - Number(b.ok));
      // The rollouts of the chains the token may read (a service's: read:<env>/<svc> is enough), newest first.
      const rollouts = (await readRolloutAudit(store))
        .filter((r) => grant === null || grant.allows("read", r.environment, r.service))
        .reverse()
        .slice(0, MAX_ROLLOUT_AUDIT);
      const body: ChainAuditDocument = {
        schemaVersion: 1,
        trustedKeys: parts.trustedKeys.map((k) => k.keyid),
        environments: out,
        rollouts,
      };
      sendJson(req, res, 200, body);
    },
    "POST ui-login": ({ req, res }) => login(req, res),
    "POST ui-logout": ({ req, res }) => {
      if (!isSameOrigin(req)) throw new StrataError("access-denied", "log out from this server's own page");
      redirect(res, "/ui/", clearSessionCookie(req));
    },
    "GET ui": async ({ req, res, path }) => {
      if (path === "/ui") return redirect(res, "/ui/");
      const asset = await findAsset(APP_PAGES.has(path) ? "index.html" : path.slice("/ui/".length));
      if (asset === null) {
        if (APP_PAGES.has(path))
          throw new StrataError("unreachable", "the dashboard is not built: run `npm run build`");
        throw new HttpError(404, "not-found", `no such dashboard file: ${path}`);
      }
      sendAsset(req, res, asset, req.method === "HEAD");
    },
  };
}
