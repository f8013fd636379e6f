/**
 * A local stand-in for the GitHub REST API (the one thing tests cannot reach): the endpoints strata
 * uses, answering with the recorded shapes of test/fixtures/github/, paginated with `link` headers,
 * authenticated by token, with injectable failures (secondary rate limits). Point octokit at it through
 * GITHUB_API_URL.
 */
import { readFileSync } from "node:fs";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

const fixture = <T>(name: string): T =>
  JSON.parse(readFileSync(new URL(`../fixtures/github/${name}.json`, import.meta.url), "utf8")) as T;
type Json = Record<string, unknown>;

export interface FakePull {
  number: number;
  author: string;
  title?: string;
  state?: "open" | "closed";
  merged?: boolean;
  mergeCommitSha?: string | null;
  head: { sha: string; ref?: string };
  base: { sha: string; ref?: string };
  labels?: string[];
  files?: string[];
  /** The description (pull requests strata opens). */
  body?: string;
}

export interface FakeReview {
  login: string;
  state: string;
  commitId: string;
  submittedAt?: string;
  association?: string;
}

export interface FakeComment {
  id: number;
  login: string;
  body: string;
}

export interface RecordedRequest {
  method: string;
  path: string;
  query: URLSearchParams;
  body: unknown;
  token: string | null;
}

export interface InjectedFailure {
  method: string;
  path: RegExp;
  status: number;
  body: unknown;
  headers?: Record<string, string>;
  times: number;
}

/** Everything the fake knows; tests mutate it directly. */
export interface FakeGitHubState {
  owner: string;
  repo: string;
  defaultBranch: string;
  /** token -> login; a null login is GitHub Actions' installation token (GET /user is refused). */
  tokens: Record<string, string | null>;
  pulls: Map<number, FakePull>;
  reviews: Map<number, FakeReview[]>;
  comments: Map<number, FakeComment[]>;
  /** commit sha -> path -> text */
  files: Map<string, Record<string, string>>;
  /** `org/slug` -> member logins; a team absent here answers 404 (as to a token that cannot see it). */
  teams: Map<string, string[]>;
  statuses: Map<string, Json[]>;
  /** branch -> its commits, oldest first (the last is the tip). */
  branches: Map<string, string[]>;
  /** commit sha -> numbers of the pull requests it is associated with. */
  commitPulls: Map<string, number[]>;
  failures: InjectedFailure[];
  requests: RecordedRequest[];
}

export interface FakeGitHub {
  url: string;
  state: FakeGitHubState;
  close(): Promise<void>;
  /** Requests made, as "METHOD /path". */
  calls(): string[];
  /** Fails the next `times` requests matching with GitHub's secondary rate limit answer. */
  failWithSecondaryRateLimit(method: string, path: RegExp, retryAfterSeconds: number, times?: number): void;
}

const errors = fixture<Record<string, Json>>("errors");

function user(login: string): Json {
  return {
    ...fixture<Json>("user"),
    login,
    id: hashId(login),
    node_id: Buffer.from(`04:User${login}`).toString("base64"),
    type: login.endsWith("[bot]") ? "Bot" : "User",
  };
}

function hashId(s: string): number {
  let h = 7;
  for (const c of s) h = (h * 31 + c.charCodeAt(0)) % 1_000_000_007;
  return h;
}

export async function startFakeGitHub(init: Partial<FakeGitHubState> = {}): Promise<FakeGitHub> {
  const state: FakeGitHubState = {
    owner: "acme",
    repo: "config",
    defaultBranch: "main",
    tokens: { "test-token": "strata-bot" },
    pulls: new Map(),
    reviews: new Map(),
    comments: new Map(),
    files: new Map(),
    teams: new Map(),
    statuses: new Map(),
    branches: new Map(),
    commitPulls: new Map(),
    failures: [],
    requests: [],
    ...init,
  };
  let nextCommentId = 1000;
  let base = "";

  const pullJson = (p: FakePull): Json => {
    const t = fixture<Json>("pull-request");
    const repoJson = { id: 1, name: state.repo, full_name: `${state.owner}/${state.repo}` };
    return {
      ...t,
      url: `${base}/repos/${state.owner}/${state.repo}/pulls/${p.number}`,
      html_url: `https://github.com/${state.owner}/${state.repo}/pull/${p.number}`,
      id: 100000 + p.number,
      number: p.number,
      title: p.title ?? `Change ${p.number}`,
      state: p.state ?? "open",
      user: user(p.author),
      labels: (p.labels ?? []).map((name, i) => ({
        id: i + 1,
        node_id: `L${i}`,
        url: "",
        name,
        description: null,
        color: "ededed",
        default: false,
      })),
      merged: p.merged ?? false,
      merged_at: p.merged ? "2026-01-02T00:00:00Z" : null,
      closed_at: p.state === "closed" ? "2026-01-02T00:00:00Z" : null,
      merge_commit_sha: p.mergeCommitSha ?? null,
      head: {
        label: `${state.owner}:${p.head.ref ?? "topic"}`,
        ref: p.head.ref ?? "topic",
        sha: p.head.sha,
        user: user(state.owner),
        repo: repoJson,
      },
      base: {
        label: `${state.owner}:${p.base.ref ?? state.defaultBranch}`,
        ref: p.base.ref ?? state.defaultBranch,
        sha: p.base.sha,
        user: user(state.owner),
        repo: repoJson,
      },
    };
  };

  const reviewJson = (r: FakeReview & { id: number }, number: number): Json => ({
    ...fixture<Json>("review"),
    id: r.id,
    node_id: `PRR_${r.id}`,
    user: user(r.login),
    state: r.state,
    commit_id: r.commitId,
    author_association: r.association ?? "MEMBER",
    submitted_at:
      r.state === "PENDING"
        ? undefined
        : (r.submittedAt ?? new Date(Date.UTC(2026, 0, 1, 0, 0, r.id % 50000)).toISOString().replace(".000", "")),
    html_url: `https://github.com/${state.owner}/${state.repo}/pull/${number}#pullrequestreview-${r.id}`,
  });

  const commentJson = (c: FakeComment, number: number): Json => ({
    ...fixture<Json>("issue-comment"),
    id: c.id,
    node_id: `IC_${c.id}`,
    body: c.body,
    user: user(c.login),
    url: `${base}/repos/${state.owner}/${state.repo}/issues/comments/${c.id}`,
    html_url: `https://github.com/${state.owner}/${state.repo}/issues/${number}#issuecomment-${c.id}`,
  });

  const send = (res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void => {
    const text = body === undefined ? "" : JSON.stringify(body);
    res.writeHead(status, {
      "content-type": "application/json; charset=utf-8",
      "x-github-api-version-selected": "2022-11-28",
      "x-ratelimit-limit": "5000",
      "x-ratelimit-remaining": "4999",
      "x-ratelimit-used": "1",
      "x-ratelimit-resource": "core",
      "x-ratelimit-reset": String(Math.floor(Date.now() / 1000) + 3600),
      ...headers,
    });
    res.end(text);
  };

  const paginate = (req: IncomingMessage, res: ServerResponse, url: URL, items: unknown[]): void => {
    const perPage = Math.min(Number(url.searchParams.get("per_page") ?? 30) || 30, 100);
    const page = Math.max(Number(url.searchParams.get("page") ?? 1) || 1, 1);
    const last = Math.max(1, Math.ceil(items.length / perPage));
    const link = (p: number): string => {
      const u = new URL(url.toString());
      u.searchParams.set("page", String(p));
      u.searchParams.set("per_page", String(perPage));
      return `${base}${u.pathname}${u.search}`;
    };
    const links: string[] = [];
    if (page < last) links.push(`<${link(page + 1)}>; rel="next"`, `<${link(last)}>; rel="last"`);
    if (page > 1) links.push(`<${link(1)}>; rel="first"`, `<${link(page - 1)}>; rel="prev"`);
    send(
      res,
      200,
      items.slice((page - 1) * perPage, page * perPage),
      links.length > 0 ? { link: links.join(", ") } : {},
    );
  };

  const readBody = async (req: IncomingMessage): Promise<unknown> => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const text = Buffer.concat(chunks).toString("utf8");
    return text === "" ? undefined : (JSON.parse(text) as unknown);
  };

  const server = createServer((req, res) => {
    void handle(req, res).catch((error: unknown) => send(res, 500, { message: String(error) }));
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", "http://localhost");
    const method = req.method ?? "GET";
    const path = decodeURIComponent(url.pathname);
    const auth = req.headers.authorization ?? "";
    const token = /^(?:token|bearer)\s+(.+)$/i.exec(auth)?.[1] ?? null;
    const body = await readBody(req);
    state.requests.push({ method, path, query: url.searchParams, body, token });

    const failure = state.failures.find((f) => f.method === method && f.path.test(path) && f.times > 0);
    if (failure) {
      failure.times--;
      send(res, failure.status, failure.body, failure.headers);
      return;
    }
    if (token === null || !Object.hasOwn(state.tokens, token)) {
      send(res, 401, errors.badCredentials);
      return;
    }
    const login = state.tokens[token] ?? null;
    const actor = login ?? "github-actions[bot]";
    const prefix = `/repos/${state.owner}/${state.repo}`;
    let m: RegExpExecArray | null;
    const notFound = (): void => send(res, 404, errors.notFound);

    if (method === "GET" && path === "/user") {
      if (login === null) return send(res, 403, errors.integrationForbidden);
      return send(res, 200, user(login));
    }
    if ((m = /^\/orgs\/([^/]+)\/teams\/([^/]+)\/members$/.exec(path)) && method === "GET") {
      const members = state.teams.get(`${m[1]}/${m[2]}`);
      if (!members) return notFound();
      return paginate(req, res, url, members.map(user));
    }
    if (!path.startsWith(prefix)) return notFound();
    const rest = path.slice(prefix.length);

    if (method === "GET" && rest === "") {
      return send(res, 200, {
        ...fixture<Json>("repository"),
        name: state.repo,
        full_name: `${state.owner}/${state.repo}`,
        owner: user(state.owner),
        default_branch: state.defaultBranch,
      });
    }
    if (rest === "/pulls" && method === "POST") {
      // GitHub's "Create a pull request": head must be a branch that exists (the test pushed it to a bare origin).
      const b = body as Json;
      if (typeof b.title !== "string" || typeof b.head !== "string" || typeof b.base !== "string")
        return send(res, 422, {
          message: "Validation Failed",
          errors: [{ resource: "PullRequest", code: "missing_field" }],
        });
      const number = Math.max(0, ...state.pulls.keys()) + 1;
      const p: FakePull = {
        number,
        author: actor,
        title: b.title,
        head: { sha: "0".repeat(40), ref: b.head },
        base: { sha: "0".repeat(40), ref: b.base },
        body: typeof b.body === "string" ? b.body : "",
      };
      state.pulls.set(number, p);
      return send(res, 201, pullJson(p));
    }
    if ((m = /^\/pulls\/(\d+)$/.exec(rest)) && method === "GET") {
      const p = state.pulls.get(Number(m[1]));
      return p ? send(res, 200, pullJson(p)) : notFound();
    }
    if ((m = /^\/pulls\/(\d+)\/reviews$/.exec(rest)) && method === "GET") {
      const n = Number(m[1]);
      if (!state.pulls.has(n)) return notFound();
      const reviews = (state.reviews.get(n) ?? []).map((r, i) =>
        reviewJson({ ...r, id: (r as { id?: number }).id ?? i + 1 }, n),
      );
      return paginate(req, res, url, reviews);
    }
    if ((m = /^\/pulls\/(\d+)\/files$/.exec(rest)) && method === "GET") {
      const p = state.pulls.get(Number(m[1]));
      if (!p) return notFound();
      return paginate(
        req,
        res,
        url,
        (p.files ?? []).map((filename) => ({ ...fixture<Json>("pull-request-file"), filename })),
      );
    }
    if ((m = /^\/contents\/(.+)$/.exec(rest)) && method === "GET") {
      const ref = url.searchParams.get("ref") ?? state.branches.get(state.defaultBranch)?.at(-1) ?? "";
      const text = state.files.get(ref)?.[m[1]!];
      if (text === undefined) return notFound();
      if ((req.headers.accept ?? "").includes("raw")) {
        res.writeHead(200, { "content-type": "application/vnd.github.raw+json" });
        return void res.end(text);
      }
      const content = Buffer.from(text)
        .toString("base64")
        .replace(/(.{60})/g, "$1\n");
      return send(res, 200, {
        ...fixture<Json>("content-file"),
        path: m[1],
        name: m[1]!.split("/").at(-1),
        size: Buffer.byteLength(text),
        content,
      });
    }
    if ((m = /^\/statuses\/([0-9a-f]+)$/.exec(rest)) && method === "POST") {
      const b = body as Json;
      const status = {
        ...fixture<Json>("status"),
        state: b.state,
        description: b.description ?? null,
        context: b.context ?? "default",
        target_url: b.target_url ?? null,
        creator: user(actor),
      };
      state.statuses.set(m[1]!, [...(state.statuses.get(m[1]!) ?? []), status]);
      return send(res, 201, status);
    }
    if ((m = /^\/issues\/(\d+)\/comments$/.exec(rest))) {
      const n = Number(m[1]);
      if (!state.pulls.has(n)) return notFound();
      const list = state.comments.get(n) ?? [];
      if (method === "GET")
        return paginate(
          req,
          res,
          url,
          list.map((c) => commentJson(c, n)),
        );
      if (method === "POST") {
        const c = { id: nextCommentId++, login: actor, body: String((body as Json).body) };
        state.comments.set(n, [...list, c]);
        return send(res, 201, commentJson(c, n));
      }
    }
    if ((m = /^\/issues\/comments\/(\d+)$/.exec(rest)) && method === "PATCH") {
      const id = Number(m[1]);
      for (const [n, list] of state.comments) {
        const c = list.find((x) => x.id === id);
        if (!c) continue;
        if (c.login !== actor) return send(res, 403, { message: "Must have admin rights to Repository." });
        c.body = String((body as Json).body);
        return send(res, 200, commentJson(c, n));
      }
      return notFound();
    }
    if ((m = /^\/commits\/([0-9a-f]+)\/pulls$/.exec(rest)) && method === "GET") {
      const numbers = state.commitPulls.get(m[1]!) ?? [];
      return paginate(
        req,
        res,
        url,
        numbers
          .map((n) => state.pulls.get(n))
          .filter((p) => p !== undefined)
          .map(pullJson),
      );
    }
    if ((m = /^\/compare\/([^.]+)\.\.\.([0-9a-f]+)$/.exec(rest)) && method === "GET") {
      const commits = state.branches.get(m[1]!);
      if (!commits) return notFound();
      const i = commits.indexOf(m[2]!);
      const known = i >= 0 || [...state.branches.values()].some((c) => c.includes(m![2]!));
      if (!known) return notFound();
      const status = i === commits.length - 1 ? "identical" : i >= 0 ? "behind" : "diverged";
      return send(res, 200, {
        ...fixture<Json>("compare"),
        status,
        behind_by: i >= 0 ? commits.length - 1 - i : 1,
        ahead_by: i >= 0 ? 0 : 1,
      });
    }
    notFound();
  }

  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  return {
    url: base,
    state,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
    calls: () => state.requests.map((r) => `${r.method} ${r.path}`),
    failWithSecondaryRateLimit: (method, path, retryAfterSeconds, times = 1) => {
      state.failures.push({
        method,
        path,
        status: 403,
        body: errors.secondaryRateLimit,
        headers: { "retry-after": String(retryAfterSeconds), "x-ratelimit-remaining": "4990" },
        times,
      });
    },
  };
}

/** Adds reviews with increasing ids (GitHub's order), returning their ids. */
export function addReviews(state: FakeGitHubState, number: number, reviews: FakeReview[]): void {
  const list = state.reviews.get(number) ?? [];
  const start = list.length;
  state.reviews.set(number, [...list, ...reviews.map((r, i) => ({ ...r, id: start + i + 1 }))]);
}
