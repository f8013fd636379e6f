/**
 * Git stays the truth when the endpoint rolls back by itself (docs/rollouts.md, "Git stays the truth"): with
 * `--github-repository`, the server whose rollout loop rolled a version back opens the pull request that
 * reverts the version's commit (its signed snapshot's `source.commit`) and says so in the original pull
 * request's rollout comment, the same three steps as `strata rollback --open-revert`
 * (app/distribution/open-revert.ts).
 *
 * - Once across servers: it listens to the manager's own decisions (RolloutManager.onChange), which only the
 *   server that won the compare-and-swap of the rollback hears.
 * - Never in the rollback's way: the plan is stored and announced before this starts, and nothing here is
 *   awaited by the loop. Reverts run one at a time (they share the clone's private ref).
 * - Bounded retries: each step is retried on failures a retry can cure (GitHub or origin unreachable, a
 *   server error, a push that failed), at most `retryDelaysMs.length` times, and never repeats a step that
 *   succeeded; a failure a retry cannot cure (a conflict, no such commit, a refused token) is logged once.
 * - No secret anywhere: the token is registered with the redactor (run.ts), the logger scrubs every field,
 *   and the texts written to GitHub name versions, key paths never, values never.
 */
import { setTimeout as sleep } from "node:timers/promises";
import {
  commentOnOriginal,
  decisionReason,
  openRevertPullRequest,
  pushRevert,
  type RevertRequest,
} from "../../app/distribution/open-revert.js";
import { isStrataError, type Code } from "../../core/findings.js";
import { chainKey, chainLabel } from "../../core/protocol/chains.js";
import type { ChangeEventKind } from "../../core/rollout/index.js";
import type { GitHubApi } from "../../io/github/api.js";
import type { LogFn } from "../log.js";
import type { StoreReader } from "../store-reader.js";
import type { RolloutRecord } from "./record.js";

export interface RevertPullRequestConfig {
  github: GitHubApi;
  /** The clone the revert commit is made in (`--repo`), whose `origin` the branch is pushed to. */
  repoDir: string;
  /** The waits before each retry of a step; its length is the number of retries (default 2 s, 10 s, 30 s). */
  retryDelaysMs?: readonly number[];
}

const DEFAULT_RETRY_DELAYS_MS = [2_000, 10_000, 30_000];
const CLOSE_WAIT_MS = 5_000;

/** Failures a later attempt may not meet: the network, GitHub's or origin's own trouble. */
const RETRYABLE = new Set<Code>(["unreachable", "push-failed", "internal"]);

/** Who made the decision: the rollout loop (an operator's abort is theirs to revert, with the CLI). */
const LOOP_ACTOR = "strata serve";

export class RevertPullRequests {
  private queue: Promise<void> = Promise.resolve();
  private readonly stop = new AbortController();

  constructor(
    private readonly config: RevertPullRequestConfig,
    private readonly reader: StoreReader,
    private readonly log: LogFn,
  ) {}

  /** A change this server decided (RolloutManager.onChange): an automatic rollback opens its revert. */
  changed(kind: ChangeEventKind, record: RolloutRecord, actor: string | null): void {
    if (kind !== "rollout-rolled-back" || actor !== LOOP_ACTOR || this.stop.signal.aborted) return;
    this.queue = this.queue.then(() => this.open(record)).catch(() => undefined);
  }

  /** Stops retrying; waits a little for a step under way (a push, a request), never for GitHub's rate limit. */
  async close(): Promise<void> {
    this.stop.abort();
    await Promise.race([this.queue, sleep(CLOSE_WAIT_MS, undefined, { ref: false })]);
  }

  private async open(record: RolloutRecord): Promise<void> {
    const { state } = record;
    const { environment, service } = state;
    const version = state.candidate.version;
    const chain = { environment, service };
    const fields = { environment, ...(service === null ? {} : { service }), version, rollout: state.rolloutId };
    // The commit and pull request come from the version's signed snapshot, read back and verified.
    const rolledBack = await this.step("read the rolled-back version", fields, async () => {
      const read = await this.reader.read(chainKey(chain), version);
      return read?.snapshot ?? null;
    });
    if (rolledBack === null) return;
    const request: RevertRequest = {
      repoDir: this.config.repoDir,
      environment,
      service,
      rolledBack,
      what: `strata serve rolled back ${chainLabel(chain)} v${version}: its rollout sent every client back to v${state.stable.version} (plan ${record.planVersion})`,
      decision: decisionReason(record, version),
    };
    const { github } = this.config;
    const pushed = await this.step("push the revert branch", fields, () => pushRevert(github, request));
    if (pushed === null) return;
    const opened = await this.step("open the revert pull request", { ...fields, branch: pushed.branch }, () =>
      openRevertPullRequest(github, request, pushed),
    );
    if (opened === null) return;
    this.log("info", "opened the revert pull request", {
      ...fields,
      pullRequest: opened.number,
      url: opened.url,
      branch: pushed.branch,
      commit: rolledBack.source.commit,
    });
    const original = opened.original;
    if (original === null) return;
    const comment = await this.step("update the rollout comment", { ...fields, pullRequest: original }, () =>
      commentOnOriginal(github, request, pushed, { ...opened, original }),
    );
    if (comment !== null)
      this.log("info", "said so on the original pull request", { ...fields, pullRequest: original, url: comment });
  }

  /** One step with bounded retries; null when it failed for good (logged). */
  private async step<T>(
    what: string,
    fields: Record<string, unknown>,
    run: () => Promise<T | null>,
  ): Promise<T | null> {
    const delays = this.config.retryDelaysMs ?? DEFAULT_RETRY_DELAYS_MS;
    for (let attempt = 1; ; attempt++) {
      try {
        const result = await run();
        if (result === null) {
          this.log("error", `no revert pull request: cannot ${what}`, {
            ...fields,
            code: "not-found",
            error: `the store has no v${String(fields.version)} of ${String(fields.environment)}${fields.service === undefined ? "" : `/${String(fields.service)}`}`,
          });
        }
        return result;
      } catch (e) {
        const code: Code = isStrataError(e) ? e.code : "internal";
        const message = e instanceof Error ? e.message : String(e);
        const delay = delays[attempt - 1];
        const retrying = RETRYABLE.has(code) && delay !== undefined && !this.stop.signal.aborted;
        this.log(retrying ? "warn" : "error", `${retrying ? "" : "no revert pull request: "}cannot ${what}`, {
          ...fields,
          code,
          error: message,
          attempt,
          ...(retrying ? { retryInMs: delay } : {}),
          ...(isStrataError(e) && e.hint !== null ? { hint: e.hint } : {}),
        });
        if (!retrying) return null;
        try {
          await sleep(delay, undefined, { signal: this.stop.signal });
        } catch {
          return null; // the server is closing
        }
      }
    }
  }
}
