// Rollout tests' shared parts: strata.yaml policies parsed by the real reader, an in-process endpoint with a
// rollout key, signed versions, raw HTTP report batches and event-stream readers.
import { expect } from "vitest";
import { parseRolloutSettings, type RolloutSettings } from "../../src/core/rollout/index.js";
import { PLAN_EVENT } from "../../src/core/protocol/index.js";
import { parseYaml } from "../../src/core/yaml/parse.js";
import {
  computeContentDigest,
  createSnapshot,
  serializeSnapshot,
  type SigningKey,
  type Snapshot,
} from "../../src/core/snapshot/index.js";
import type { JsonObject } from "../../src/core/json.js";
import { openStore } from "../../src/io/stores/index.js";
import type { WebhookSink } from "../../src/io/webhooks/deliver.js";
import { createJsonLogger, startServer, type Grant, type RunningServer } from "../../src/server/index.js";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { tempdir } from "../support/gitdir.js";
import { newKey } from "../support/snapshots.js";

export const publisher = newKey();
export const rolloutKey = newKey();

/** strata.yaml with `rollouts:` for `staging` made of `policy` (YAML lines under `staging:`). */
export function strataYaml(policy: string[], trusted = rolloutKey.key.publicKey.text): string {
  return [
    "version: 1",
    "environments:",
    "  staging: {}",
    "  production: {}",
    "signing:",
    `  trusted_keys: ["${publisher.key.publicKey.text}"]`,
    "rollouts:",
    `  trusted_keys: ["${trusted}"]`,
    "  environments:",
    "    staging:",
    ...policy.map((l) => `      ${l}`),
    "",
  ].join("\n");
}

/** A repository for `strata serve --repo`: strata.yaml with `policy` for staging, and the rollout key's file. */
export function rolloutRepository(policy: string[], trusted?: string): { repo: string; keyFile: string } {
  const repo = tempdir("strata-rollout-repo-");
  writeFileSync(join(repo, "strata.yaml"), strataYaml(policy, trusted));
  const keyFile = join(repo, "rollout.pem");
  writeFileSync(keyFile, rolloutKey.pem, { mode: 0o600 });
  return { repo, keyFile };
}

/** `strata serve` arguments: rollouts from `repo` signed with its key file, decided every 200 ms, on `store`. */
export function rolloutServeArgs(
  { repo, keyFile }: { repo: string; keyFile: string },
  store = `file:${tempdir("strata-rollout-store-")}`,
): string[] {
  return ["--store", store, "--repo", repo, "--rollout-key", keyFile, "--rollout-interval", "200ms"];
}

function rolloutSettings(policy: string[]): RolloutSettings {
  const { documents, findings } = parseYaml(strataYaml(policy), "strata.yaml", { keys: "any", allowUnset: false });
  expect(findings).toEqual([]);
  const parsed = parseRolloutSettings(documents[0] ?? null);
  expect(parsed.findings).toEqual([]);
  return parsed.settings;
}

/** A canary of 5% for 1 s with an error-rate gate (1 point over the control, 1,000 samples). */
export const CANARY = [
  "canary: { percent: 5, bake: 1s }",
  "gates:",
  "  - { metric: error-rate, max_increase: 1%, min_samples: 1000 }",
];

export interface RolloutServer {
  server: RunningServer;
  url: string;
  dir: string;
  logs: string[];
  close(): Promise<void>;
}

export async function startRolloutServer(options: {
  policy: string[];
  store?: string;
  intervalMs?: number;
  tokens?: Map<string, Grant> | null;
  webhooks?: WebhookSink[];
  /** No rollout key: the server serves plans others make. */
  noKey?: boolean;
}): Promise<RolloutServer> {
  const dir = tempdir("strata-rollout-");
  const logs: string[] = [];
  const store = await openStore(options.store ?? `file:${dir}`);
  const server = await startServer(
    {
      store,
      trustedKeys: [publisher.key.publicKey],
      tokens: options.tokens ?? null,
      log: createJsonLogger({ level: "debug", write: (l) => logs.push(l) }),
      rollouts:
        options.noKey === true
          ? null
          : {
              key: rolloutKey.key,
              settings: rolloutSettings(options.policy),
              chains: new Map([
                ["staging", ["staging"]],
                ["production", ["production"]],
              ]),
              prometheus: null,
              webhooks: options.webhooks ?? [],
              intervalMs: options.intervalMs ?? 100,
            },
    },
    { host: "127.0.0.1", port: 0 },
  );
  return { server, url: server.url, dir, logs, close: () => server.close() };
}

export function version(
  n: number,
  previous: Snapshot | null,
  options: { key?: SigningKey; environment?: string; emergency?: boolean; config?: Record<string, JsonObject> } = {},
): Snapshot {
  const config = options.config ?? { app: { name: "demo", release: n } };
  return createSnapshot(
    {
      environment: options.environment ?? "staging",
      version: n,
      previous: previous?.digest ?? null,
      rollbackOf: null,
      createdAt: new Date(),
      source: {
        repository: "acme/config",
        commit: "0123456789abcdef0123456789abcdef01234567",
        pullRequest: 7,
        approvedBy: [],
        pushedBy: "test",
        emergency: options.emergency ?? false,
      },
      contentDigest: computeContentDigest(config, []),
      config,
      secrets: null,
    },
    [options.key ?? publisher.key],
  );
}

export function push(url: string, s: Snapshot, token?: string): Promise<Response> {
  return fetch(`${url}/v1/environments/${s.environment}/snapshot`, {
    method: "PUT",
    headers: {
      "content-type": "application/json",
      "if-match": `"${s.version - 1}"`,
      ...(token ? { authorization: `Bearer ${token}` } : {}),
    },
    body: serializeSnapshot(s),
  });
}

/** Versions 1 (stable) and 2 (the candidate) of staging published; the second starts the rollout. */
export async function stableAndCandidate(url: string, config2?: Record<string, JsonObject>) {
  const v1 = version(1, null);
  const v2 = version(2, v1, config2 ? { config: config2 } : {});
  expect((await push(url, v1)).status).toBe(201);
  const res = await push(url, v2);
  expect(res.status, await res.clone().text()).toBe(201);
  return { v1, v2 };
}

export function postReports(url: string, reports: unknown[], token?: string, env = "staging"): Promise<Response> {
  return fetch(`${url}/v1/environments/${env}/reports`, {
    method: "POST",
    headers: { "content-type": "application/json", ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify({ reports }),
  });
}

/** One report of `requests` requests with `errors` errors on `version`, covering 5 minutes. */
export function report(instance: string, v: number, requests: number, errors: number) {
  return { instance, version: v, requests, errors, intervalMs: 300_000 };
}

export interface PlanDoc {
  planVersion: number;
  phase: string;
  rollout: string;
  stable: { version: number; digest: string };
  candidate: { version: number; digest: string };
  cohort: { basisPoints: number; instances: [number, number] };
  reason: string;
  digest: string;
}

/** An event-stream reader over raw fetch: every frame (`event`, `data`) as it arrives. */
export class EventReader {
  readonly frames: { event: string; data: string }[] = [];
  private waiters: (() => void)[] = [];
  private readonly abort = new AbortController();
  private constructor() {}

  static async open(url: string, path = "/v1/environments/staging/events"): Promise<EventReader> {
    const r = new EventReader();
    const res = await fetch(`${url}${path}`, {
      signal: r.abort.signal,
      headers: { "strata-client": "instance=test-reader" },
    });
    expect(res.status).toBe(200);
    void r.pump(res);
    return r;
  }

  private async pump(res: Response): Promise<void> {
    const reader = res.body!.getReader();
    const decoder = new TextDecoder();
    let buffer = "";
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buffer += decoder.decode(value, { stream: true });
        let i: number;
        while ((i = buffer.indexOf("\n\n")) >= 0) {
          const block = buffer.slice(0, i);
          buffer = buffer.slice(i + 2);
          const f = { event: "", data: "" };
          for (const line of block.split("\n")) {
            if (line.startsWith("event: ")) f.event = line.slice(7);
            else if (line.startsWith("data: ")) f.data = line.slice(6);
          }
          if (f.event !== "") this.frames.push(f);
        }
        for (const w of this.waiters.splice(0)) w();
      }
    } catch {
      // closed
    }
    for (const w of this.waiters.splice(0)) w();
  }

  /** The plans received, parsed. */
  plans(): PlanDoc[] {
    return this.frames.filter((f) => f.event === PLAN_EVENT).map((f) => JSON.parse(f.data) as PlanDoc);
  }

  /** Resolves once a frame satisfies `pred` (waits on the stream itself, no clock but the test's timeout). */
  async until<T>(pred: (frames: { event: string; data: string }[]) => T | undefined | false): Promise<T> {
    for (;;) {
      const hit = pred(this.frames);
      if (hit !== undefined && hit !== false) return hit;
      if (this.abort.signal.aborted) throw new Error("the stream is closed");
      await new Promise<void>((resolve) => this.waiters.push(resolve));
    }
  }

  plan(pred: (p: PlanDoc) => boolean): Promise<PlanDoc> {
    return this.until(() => this.plans().find(pred));
  }

  close(): void {
    this.abort.abort();
  }
}
