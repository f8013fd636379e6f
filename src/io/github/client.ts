/**
 * The GitHub client: `@octokit/core` with the pagination plugin, and strata's own retry and rate-limit
 * handling as one request hook (the retry and throttling plugins pinned another major of octokit's
 * types: a second 5 MB copy of the type-only OpenAPI package in every install). Loaded with `await import()`
 * so that commands which never talk to GitHub never pay for octokit.
 */
import type { Octokit as Core } from "@octokit/core";
import type { PaginateInterface } from "@octokit/plugin-paginate-rest";
import { setTimeout as sleep } from "node:timers/promises";
import { StrataError } from "../../core/findings.js";
import { docsUrl } from "../../core/docs.js";

/** The client strata's GitHub adapter uses: `request` and `paginate`. */
export type Octokit = Core & { paginate: PaginateInterface };

export interface GitHubClientOptions {
  token: string | null;
  /** `GITHUB_API_URL`; default https://api.github.com. */
  apiUrl?: string;
  /** Rate-limit handling; `enabled: false` fails at once instead of waiting (tests of other failures). */
  throttle?: { enabled?: boolean };
  /** Retries of server errors; default 3. */
  retries?: number;
  /** Warnings about rate limits; default stderr via the caller's logger. */
  warn?: (message: string) => void;
}

/** Rate-limit waits longer than this fail instead: a CI job should not sleep for an hour. */
const MAX_WAIT_SECONDS = 120;
const MAX_RATE_LIMIT_RETRIES = 3;
/** Client errors that a retry cannot change (octokit's retry plugin's list). */
const DO_NOT_RETRY = new Set([400, 401, 403, 404, 410, 422, 451]);

interface RequestOptionsLike {
  method: string;
  url: string;
}

/** A rate-limit answer: how long GitHub asks to wait, or null when the error is not one. */
function rateLimitWait(error: RequestErrorLike): { kind: "primary" | "secondary"; seconds: number } | null {
  if (error.status !== 403 && error.status !== 429) return null;
  const headers = error.response?.headers ?? {};
  const retryAfter = Number(headers["retry-after"]);
  if (/secondary rate/i.test(error.message) || (Number.isFinite(retryAfter) && headers["retry-after"] !== undefined)) {
    return { kind: "secondary", seconds: Number.isFinite(retryAfter) ? retryAfter : 60 };
  }
  if (headers["x-ratelimit-remaining"] === "0") {
    const reset = Number(headers["x-ratelimit-reset"]);
    const seconds = Number.isFinite(reset) ? Math.max(0, Math.ceil(reset - Date.now() / 1000)) : 60;
    return { kind: "primary", seconds };
  }
  return null;
}

export async function createOctokit(options: GitHubClientOptions): Promise<Octokit> {
  const [{ Octokit }, { paginateRest }] = await Promise.all([
    import("@octokit/core"),
    import("@octokit/plugin-paginate-rest"),
  ]);
  const warn = options.warn ?? (() => {});
  const retries = options.retries ?? 3;
  const throttle = options.throttle?.enabled !== false;
  const Client = Octokit.plugin(paginateRest);
  const octokit = new Client({
    ...(options.token ? { auth: options.token } : {}),
    baseUrl: (options.apiUrl ?? "https://api.github.com").replace(/\/+$/, ""),
    userAgent: "strata",
    // Octokit logs warnings and request errors to the console on its own; strata reports them itself.
    log: { debug: () => {}, info: () => {}, warn: (m: string) => warn(m), error: () => {} },
  });
  octokit.hook.wrap("request", async (request, requestOptions) => {
    let serverRetries = 0;
    let limitRetries = 0;
    for (;;) {
      try {
        return await request(requestOptions);
      } catch (error) {
        if (!isRequestError(error)) throw error;
        // The request as sent (URL template expanded), as octokit's error carries it.
        const { method, url } = error.request ?? (requestOptions as unknown as RequestOptionsLike);
        const limit = throttle ? rateLimitWait(error) : null;
        if (limit) {
          const retrying = limitRetries < MAX_RATE_LIMIT_RETRIES && limit.seconds <= MAX_WAIT_SECONDS;
          warn(
            `GitHub ${limit.kind} rate limit on ${method} ${url}; ${retrying ? `retrying after ${limit.seconds}s` : "giving up"}`,
          );
          if (!retrying) throw error;
          limitRetries++;
          await sleep(limit.seconds * 1000);
          continue;
        }
        if (DO_NOT_RETRY.has(error.status) || error.status < 400 || serverRetries >= retries) throw error;
        serverRetries++;
        // The retry plugin's backoff: 1 s, 4 s, 9 s.
        await sleep(serverRetries ** 2 * 1000);
      }
    }
  });
  return octokit;
}

interface RequestErrorLike {
  status: number;
  message: string;
  request?: RequestOptionsLike;
  response?: { headers?: Record<string, string | undefined> };
}

function isRequestError(e: unknown): e is RequestErrorLike {
  return typeof e === "object" && e !== null && typeof (e as { status?: unknown }).status === "number";
}

/** The HTTP status of an octokit error, or null for a network failure. */
export function statusOf(error: unknown): number | null {
  return isRequestError(error) ? error.status : null;
}

/** Turns an octokit failure into a StrataError that says what strata was doing and how to fix it. */
export function toStrataError(error: unknown, doing: string): StrataError {
  if (error instanceof StrataError) return error;
  const status = statusOf(error);
  const detail = error instanceof Error ? error.message : String(error);
  if (status === null) {
    return new StrataError("unreachable", `cannot reach GitHub while ${doing}: ${detail}`, {
      cause: error,
      hint: "check GITHUB_API_URL and the network",
    });
  }
  if (status === 401) {
    return new StrataError("unauthenticated", `GitHub rejected the token while ${doing}`, {
      cause: error,
      hint: "set GITHUB_TOKEN to a valid token (in Actions: `env: GITHUB_TOKEN: ${{ github.token }}`)",
    });
  }
  if ((status === 403 || status === 429) && /rate limit/i.test(detail)) {
    return new StrataError("unreachable", `GitHub's rate limit stopped strata while ${doing}: ${detail}`, {
      cause: error,
      hint: "retry later; an App token has a higher limit than the Actions token",
    });
  }
  if (status === 403 || status === 404) {
    return new StrataError("access-denied", `GitHub answered ${status} while ${doing}: ${detail}`, {
      cause: error,
      hint: `the token lacks a permission this needs; see ${docsUrl("github", "tokens")} for the permissions of each job`,
    });
  }
  return new StrataError("unreachable", `GitHub answered ${status} while ${doing}: ${detail}`, { cause: error });
}
