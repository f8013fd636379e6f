/**
 * The octokit client, with the retry and throttling plugins. Loaded with `await import()` so that
 * commands which never talk to GitHub never pay for octokit.
 */
import type { Octokit } from "@octokit/rest";
import { StrataError } from "../../core/findings.js";

export type { Octokit };

export interface GitHubClientOptions {
  token: string | null;
  /** `GITHUB_API_URL`; default https://api.github.com. */
  apiUrl?: string;
  /** Extra throttling options (tests lower the waits); merged over strata's handlers. */
  throttle?: Record<string, unknown>;
  /** Retries of server errors (retry plugin); default 3. */
  retries?: number;
  /** Warnings about rate limits; default stderr via the caller's logger. */
  warn?: (message: string) => void;
}

/** Rate-limit waits longer than this fail instead: a CI job should not sleep for an hour. */
const MAX_WAIT_SECONDS = 120;
const MAX_RATE_LIMIT_RETRIES = 3;

export async function createOctokit(options: GitHubClientOptions): Promise<Octokit> {
  const [{ Octokit }, { retry }, { throttling }] = await Promise.all([
    import("@octokit/rest"),
    import("@octokit/plugin-retry"),
    import("@octokit/plugin-throttling"),
  ]);
  const warn = options.warn ?? (() => {});
  const Client = Octokit.plugin(retry, throttling);
  const onLimit =
    (kind: string) =>
    (retryAfter: number, request: { method: string; url: string }, _octokit: unknown, retryCount: number): boolean => {
      const retrying = retryCount < MAX_RATE_LIMIT_RETRIES && retryAfter <= MAX_WAIT_SECONDS;
      warn(
        `GitHub ${kind} rate limit on ${request.method} ${request.url}; ${retrying ? `retrying after ${retryAfter}s` : "giving up"}`,
      );
      return retrying;
    };
  return new Client({
    ...(options.token ? { auth: options.token } : {}),
    baseUrl: (options.apiUrl ?? "https://api.github.com").replace(/\/+$/, ""),
    userAgent: "strata",
    // Octokit logs warnings and request errors to the console on its own; strata reports them itself.
    log: { debug: () => {}, info: () => {}, warn: (m: string) => warn(m), error: () => {} },
    retry: { retries: options.retries ?? 3 },
    throttle: { onRateLimit: onLimit("primary"), onSecondaryRateLimit: onLimit("secondary"), ...options.throttle },
  }) as unknown as Octokit;
}

interface RequestErrorLike {
  status: number;
  message: string;
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
      hint: "the token lacks a permission this needs; see docs/github.md for the permissions of each job",
    });
  }
  return new StrataError("unreachable", `GitHub answered ${status} while ${doing}: ${detail}`, { cause: error });
}
