// A real `strata serve` (the built CLI) on a fixed free port over a file store, restartable on the same
// port and directory, and snapshots with real SOPS secrets for the SDK and agent tests.
import type { ChildProcess } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { generateIdentity, identityToRecipient } from "age-encryption";
import { afterEach } from "vitest";
import type { StrataClient } from "../../src/client/index.js";
import { encryptDocument } from "../../src/app/secrets/encrypt-document.js";
import type { JsonObject } from "../../src/core/json.js";
import {
  computeContentDigest,
  createSnapshot,
  createSnapshotSecretsTree,
  serializeSnapshot,
  type SigningKey,
  type Snapshot,
} from "../../src/core/snapshot/index.js";
import { freePort } from "../support/etcd.js";
import { tempdir } from "../support/gitdir.js";
import { spawnServe, type ServeProcess } from "../support/serve.js";
import { newKey } from "../support/snapshots.js";

export interface Endpoint {
  url: string;
  /** The file store's directory. */
  dir: string;
  key: SigningKey;
  publicKey: string;
  process: ServeProcess | null;
  /** The trusted-keys file the endpoint was started with (for a second server on the same store). */
  keysFile: string;
  store: string;
  start(): Promise<void>;
  /** SIGKILL (a crash) by default. */
  stop(signal?: NodeJS.Signals): Promise<void>;
  /** Publishes the next version of `environment` (signed by the trusted key unless `key` is given). */
  publish(
    config: Record<string, JsonObject>,
    options?: {
      environment?: string;
      secrets?: JsonObject | null;
      expiresAt?: Date;
      createdAt?: Date;
      via?: string;
      key?: SigningKey;
    },
  ): Promise<Snapshot>;
  /** Every snapshot published through `publish`, by environment. */
  published: Map<string, Snapshot[]>;
}

export async function startEndpoint(options: { store?: string; extraTrustedKeys?: string[] } = {}): Promise<Endpoint> {
  const dir = tempdir("strata-sdk-store-");
  const { key } = newKey();
  const keysFile = join(dir, "..", `${dir.split("/").pop()}-trusted.txt`);
  writeFileSync(keysFile, [key.publicKey.text, ...(options.extraTrustedKeys ?? [])].join("\n") + "\n");
  const port = await freePort();
  const store = options.store ?? `file:${dir}`;
  const published = new Map<string, Snapshot[]>();
  const ep: Endpoint = {
    url: `http://127.0.0.1:${port}`,
    dir,
    key,
    publicKey: key.publicKey.text,
    process: null,
    keysFile,
    store,
    published,
    async start() {
      ep.process = await spawnServe(["--listen", `127.0.0.1:${port}`, "--store", store, "--trusted-keys", keysFile]);
    },
    async stop(signal = "SIGKILL") {
      await ep.process?.stop(signal);
      ep.process = null;
    },
    async publish(config, o = {}) {
      const environment = o.environment ?? "staging";
      const chain = published.get(environment) ?? [];
      const prev = chain.at(-1) ?? null;
      const snapshot = createSnapshot(
        {
          environment,
          version: (prev?.version ?? 0) + 1,
          previous: prev?.digest ?? null,
          createdAt: o.createdAt ?? new Date(),
          ...(o.expiresAt ? { expiresAt: o.expiresAt } : {}),
          source: { repository: "acme/config", pushedBy: "test" },
          contentDigest: computeContentDigest(config, [[`v${(prev?.version ?? 0) + 1}`, "0"]]),
          config,
          secrets: o.secrets ?? null,
        },
        [o.key ?? key],
      );
      const res = await fetch(`${o.via ?? ep.url}/v1/environments/${environment}/snapshot`, {
        method: "PUT",
        headers: { "content-type": "application/json", "if-match": `"${prev?.version ?? 0}"` },
        body: serializeSnapshot(snapshot),
      });
      if (res.status !== 201) throw new Error(`publish failed: ${res.status} ${await res.text()}`);
      chain.push(snapshot);
      published.set(environment, chain);
      return snapshot;
    },
  };
  await ep.start();
  return ep;
}

/**
 * Writes a version file straight into a stopped endpoint's file store (an attacker with disk access, or a
 * corrupted backup): the store rolls its head forward to it on the next start, without verifying it.
 */
export function plantVersion(ep: Endpoint, environment: string, version: number, text: string): void {
  const vdir = join(ep.dir, "envs", environment, "v");
  mkdirSync(vdir, { recursive: true });
  writeFileSync(join(vdir, `${String(version).padStart(12, "0")}.json`), text);
}

/** A signed snapshot that the endpoint never saw (to plant, or to put in a cache file). */
export function signSnapshot(
  key: SigningKey,
  init: {
    environment: string;
    version: number;
    previous: string | null;
    config: Record<string, JsonObject>;
    secrets?: JsonObject | null;
    createdAt?: Date;
    expiresAt?: Date;
  },
): Snapshot {
  return createSnapshot(
    {
      environment: init.environment,
      version: init.version,
      previous: init.previous,
      createdAt: init.createdAt ?? new Date(),
      ...(init.expiresAt ? { expiresAt: init.expiresAt } : {}),
      source: { repository: "acme/config", pushedBy: "attacker" },
      contentDigest: computeContentDigest(init.config, []),
      config: init.config,
      secrets: init.secrets ?? null,
    },
    [key],
  );
}

export async function newAgeIdentity(): Promise<{ identity: string; recipient: string }> {
  const identity = await generateIdentity();
  return { identity, recipient: await identityToRecipient(identity) };
}

/** A real SOPS JSON document of `doc` for `recipient`, as a snapshot's `secrets` member. */
export async function encryptSecrets(doc: JsonObject, recipient: string): Promise<JsonObject> {
  return JSON.parse(
    await encryptDocument(createSnapshotSecretsTree(doc), { format: "json", age: [recipient], env: {} }),
  ) as JsonObject;
}

export async function waitFor<T>(
  probe: () => T | undefined | null | false,
  what: string,
  timeoutMs = 20_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = probe();
    if (v !== undefined && v !== null && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** {@link waitFor} with a probe that asks over the network. */
export async function waitForAsync(probe: () => Promise<boolean>, what: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Fast reconnects for tests. */
export const testBackoff = { baseMs: 50, capMs: 400 };

/**
 * Lists a test fills with the clients, endpoints and processes it starts; each is closed or stopped after the
 * test, however it ended (clients first, then processes, then endpoints).
 */
export function cleanUpAfterEach(): { endpoints: Endpoint[]; children: ChildProcess[]; clients: StrataClient[] } {
  const endpoints: Endpoint[] = [];
  const children: ChildProcess[] = [];
  const clients: StrataClient[] = [];
  afterEach(async () => {
    for (const c of clients.splice(0)) await c.close();
    for (const c of children.splice(0)) {
      if (c.exitCode !== null || c.signalCode !== null) continue;
      c.kill("SIGKILL");
      await new Promise((r) => c.once("exit", r));
    }
    for (const e of endpoints.splice(0)) await e.stop();
  });
  return { endpoints, children, clients };
}
