// @module-tag e2e
// The dashboard's server side at the level of its answers, on the real endpoint in-process over a file store:
// who pushed and approved a version come from the signed snapshot and an edited history line is a break
// (item 9), the per-version verification cache and the paged versions (item 10), the status row's flags
// (item 12), and the transport details: compressed assets with an ETag and a favicon, /v1 answers read with
// the dashboard's cookie, and a revoked token's event stream (item 13).
import { execFileSync } from "node:child_process";
import { appendFileSync, cpSync, existsSync, readFileSync, statSync, utimesSync, writeFileSync } from "node:fs";
import { request } from "node:http";
import { join } from "node:path";
import { brotliDecompressSync, gunzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { JsonObject } from "../../src/core/json.js";
import type {
  ChainAuditDocument,
  EnvironmentsDocument,
  SnapshotSource,
  VersionsDocument,
} from "../../src/core/protocol/index.js";
import {
  computeContentDigest,
  createSnapshot,
  serializeSnapshot,
  type Snapshot,
} from "../../src/core/snapshot/index.js";
import { openStore, type SnapshotStore } from "../../src/io/stores/index.js";
import { createJsonLogger, startServer, type RunningServer } from "../../src/server/index.js";
import { createToken, readTokens } from "../../src/server/tokens.js";
import { projectRoot } from "../support/cli.js";
import { cleanupTempdirs, commitAll, git, gitdir, tempdir } from "../support/gitdir.js";
import { put } from "../support/server.js";
import { newKey } from "../support/snapshots.js";

const { key } = newKey();

afterAll(cleanupTempdirs);

function snapshot(
  environment: string,
  version: number,
  previous: string | null,
  source: Partial<SnapshotSource>,
  config: Record<string, JsonObject> = { app: { replicas: version } },
): Snapshot {
  return createSnapshot(
    {
      environment,
      version,
      previous,
      createdAt: new Date(),
      source: { repository: "acme/config", pushedBy: "ci-bot", ...source },
      contentDigest: computeContentDigest(config, []),
      config,
      secrets: null,
    },
    [key],
  );
}

async function publish(store: SnapshotStore, s: Snapshot, actor: string | null = "ci"): Promise<void> {
  const r = await store.publish({
    snapshot: s,
    text: serializeSnapshot(s),
    expected: s.version - 1,
    action: "publish",
    actor,
  });
  expect(r.ok).toBe(true);
}

/** Rewrites one line of an environment's history.jsonl, as someone with the store's disk could. */
function editHistory(dir: string, environment: string, version: number, edit: (line: Record<string, unknown>) => void) {
  const file = join(dir, "envs", environment, "history.jsonl");
  const lines = readFileSync(file, "utf8").split("\n");
  const i = lines.findIndex((l) => l !== "" && (JSON.parse(l) as { version: number }).version === version);
  const entry = JSON.parse(lines[i]!) as Record<string, unknown>;
  edit(entry);
  lines[i] = JSON.stringify(entry);
  writeFileSync(file, lines.join("\n"));
}

async function getJson<T>(url: string, headers: Record<string, string> = {}): Promise<T> {
  const r = await fetch(url, { headers });
  expect(r.status, `${url}: ${await r.clone().text()}`).toBe(200);
  return (await r.json()) as T;
}

describe("who pushed and approved a version: the signed snapshot, not the history file", () => {
  let dir: string;
  let store: SnapshotStore;
  let server: RunningServer;
  beforeAll(async () => {
    dir = tempdir("strata-ui-signed-");
    store = await openStore(`file:${dir}`);
    const v1 = snapshot("staging", 1, null, {
      commit: "1".repeat(40),
      pullRequest: 11,
      approvedBy: ["alice"],
      pullRequests: [{ number: 11, approvedBy: ["alice"], emergency: false }],
    });
    const v2 = snapshot("staging", 2, v1.digest, { commit: "2".repeat(40), pullRequest: 12, approvedBy: [] });
    const v3 = snapshot("staging", 3, v2.digest, { commit: "3".repeat(40), pullRequest: 13, approvedBy: ["carol"] });
    for (const s of [v1, v2, v3]) await publish(store, s);
    server = await startServer(
      { store, trustedKeys: [key.publicKey], tokens: null, log: createJsonLogger({ level: "error", write: () => {} }) },
      { host: "127.0.0.1", port: 0 },
    );
  });
  afterAll(async () => {
    await server?.close();
  });

  it("shows a history line edited to invent approvers and an emergency as a break, with the signed values", async () => {
    // v2 was published without approvals; someone edits its history line to say otherwise.
    editHistory(dir, "staging", 2, (e) => {
      (e.source as SnapshotSource).approvedBy = ["mallory", "eve"];
      (e.source as SnapshotSource).pushedBy = "trusted-release-bot";
      e.emergency = true;
      (e.source as SnapshotSource).emergency = true;
    });
    const chain = await getJson<VersionsDocument>(`${server.url}/ui/api/environments/staging/versions`);
    expect(chain.ok).toBe(false);
    expect(chain.firstBad).toMatchObject({ version: 2, code: "history-mismatch" });
    expect(chain.firstBad!.message).toMatch(/emergency.*source\.approvedBy.*source\.pushedBy|source\.approvedBy/);
    const v2 = chain.versions.find((v) => v.version === 2)!;
    expect(v2.source).toMatchObject({ approvedBy: [], pushedBy: "ci-bot", emergency: false });
    expect(v2.emergency).toBe(false);
    expect(JSON.stringify(chain)).not.toMatch(/mallory|trusted-release-bot/);
    const audit = await getJson<ChainAuditDocument>(`${server.url}/ui/api/audit`);
    expect(audit.environments).toMatchObject([{ environment: "staging", ok: false, firstBad: { version: 2 } }]);
  });

  it("takes the environments page's current version from the verified snapshot", async () => {
    editHistory(dir, "staging", 3, (e) => {
      (e.source as SnapshotSource).approvedBy = ["mallory"];
    });
    const doc = await getJson<EnvironmentsDocument>(`${server.url}/ui/api/environments`);
    const current = doc.environments.find((e) => e.name === "staging")!.current!;
    expect(current.source.approvedBy).toEqual(["carol"]);
    expect(current.problem).toMatchObject({ code: "history-mismatch" });
    expect(JSON.stringify(doc)).not.toContain("mallory");
  });

  it("reports a tampered current version as store-corrupt on the environments page, with nothing of it shown", async () => {
    const file = join(dir, "envs", "staging", "v", "000000000003.json");
    writeFileSync(file, readFileSync(file, "utf8").replace('"carol"', '"mallory"'));
    const doc = await getJson<EnvironmentsDocument>(`${server.url}/ui/api/environments`);
    const current = doc.environments.find((e) => e.name === "staging")!.current!;
    expect(current.problem).toMatchObject({ code: "store-corrupt" });
    expect(current.source.approvedBy).toEqual([]);
    expect(JSON.stringify(doc)).not.toContain("mallory");
  });
});

describe("the verification cache and the pages of versions", () => {
  it("verifies each stored version once, and again only when its bytes change", async () => {
    const dir = tempdir("strata-ui-cache-");
    const store = await openStore(`file:${dir}`);
    try {
      let previous: string | null = null;
      for (let v = 1; v <= 30; v++) {
        const s = snapshot("staging", v, previous, { commit: "a".repeat(40) });
        await publish(store, s);
        previous = s.digest;
      }
      // Imported here: main had no checker to import, and the other tests of this file ran against it.
      const { ChainChecker } = await import("../../src/server/ui/audit.js");
      const checker = new ChainChecker(store, [key.publicKey]);
      expect((await checker.check("staging")).firstBad).toBeNull();
      expect([checker.verifications, checker.reads]).toEqual([30, 30]);
      // Again: nothing verified again, and on a file store no file read again while it is untouched.
      expect((await checker.check("staging")).firstBad).toBeNull();
      expect([checker.verifications, checker.reads]).toEqual([30, 30]);
      // Edited behind the server's back after it was checked, keeping its size and modification time: its
      // change time moved, so it is read again, and the new bytes fail.
      const file = join(dir, "envs", "staging", "v", "000000000017.json");
      const { mtime } = statSync(file);
      writeFileSync(file, readFileSync(file, "utf8").replace('"replicas":17', '"replicas":71'));
      utimesSync(file, mtime, mtime);
      const again = await checker.check("staging");
      expect([checker.verifications, checker.reads]).toEqual([31, 31]);
      expect(again.firstBad).toMatchObject({ version: 17, code: "digest-mismatch" });
      expect(again.versions.filter((v) => v.ok)).toHaveLength(16);
      // Only touched (same bytes, new change time): read again, the same bytes, not verified again.
      utimesSync(file, new Date(), new Date());
      expect((await checker.check("staging")).firstBad).toMatchObject({ version: 17 });
      expect([checker.verifications, checker.reads]).toEqual([31, 32]);
    } finally {
      await store.close();
    }
  });

  it("pages the versions newest first, and refuses a bad page", async () => {
    const s = await startServer(
      {
        store: await openStore(`file:${tempdir("strata-ui-pages-")}`),
        trustedKeys: [key.publicKey],
        tokens: null,
        log: createJsonLogger({ level: "error", write: () => {} }),
      },
      { host: "127.0.0.1", port: 0 },
    );
    try {
      let previous: string | null = null;
      for (let v = 1; v <= 7; v++) {
        const snap = snapshot("staging", v, previous, {});
        expect((await put(s.url, snap, `"${v - 1}"`)).status).toBe(201);
        previous = snap.digest;
      }
      const base = `${s.url}/ui/api/environments/staging/versions`;
      // Gzipped when the client accepts it (fetch does, and decodes it), as it is when it does not.
      const zipped = await fetch(base, { headers: { "accept-encoding": "gzip" } });
      expect([zipped.headers.get("content-encoding"), zipped.headers.get("cache-control")]).toEqual([
        "gzip",
        "no-store",
      ]);
      const plain = await fetch(base, { headers: { "accept-encoding": "identity" } });
      expect(plain.headers.get("content-encoding")).toBeNull();
      expect(await zipped.json()).toEqual(await plain.json());
      const first = await getJson<VersionsDocument>(`${base}?limit=3`);
      expect([first.count, first.versions.map((v) => v.version), first.next]).toEqual([7, [7, 6, 5], 5]);
      const second = await getJson<VersionsDocument>(`${base}?limit=3&before=5`);
      expect([second.versions.map((v) => v.version), second.next]).toEqual([[4, 3, 2], 2]);
      const last = await getJson<VersionsDocument>(`${base}?limit=3&before=2`);
      expect([last.versions.map((v) => v.version), last.next]).toEqual([[1], null]);
      // The audit's summary carries no versions: each environment's verdict and count only.
      const audit = await getJson<ChainAuditDocument>(`${s.url}/ui/api/audit`);
      expect(audit.environments).toMatchObject([{ environment: "staging", ok: true, count: 7, versions: [] }]);
      for (const q of ["limit=0", "limit=201", "before=x", "before=-1"]) {
        const r = await fetch(`${base}?${q}`);
        expect(r.status, q).toBe(400);
        expect(((await r.json()) as { error: { code: string } }).error.code).toBe("invalid-argument");
      }
      expect((await fetch(`${s.url}/ui/api/environments/nothing/versions`)).status).toBe(404);
    } finally {
      await s.close();
    }
  });
});

describe("the status row: approvals and drift against the repository's HEAD", () => {
  it("flags a version published without its approval record, and tells drift from a moved HEAD", async () => {
    const repo = gitdir({});
    for (const p of ["strata.yaml", ".sops.yaml", "schemas", "environments"])
      cpSync(join(projectRoot, p), join(repo, p), { recursive: true });
    const published = commitAll(repo, "the example repository");
    git(repo, "remote", "add", "origin", "https://ci:hunter2@github.com/acme/config.git");
    const store = await openStore(`file:${tempdir("strata-ui-row-")}`);
    // production requires approval (production: true); it was published without the gate's record.
    await publish(store, snapshot("production", 1, null, { commit: published }));
    // production-eu went through the gate: one pull request, approved.
    await publish(
      store,
      snapshot("production-eu", 1, null, {
        commit: published,
        pullRequest: 7,
        approvedBy: ["alice", "bob"],
        pullRequests: [{ number: 7, approvedBy: ["alice", "bob"], emergency: false }],
      }),
    );
    // development needs no approval.
    await publish(store, snapshot("development", 1, null, { commit: published }));
    await publish(store, snapshot("staging", 1, null, { commit: published }));
    // HEAD moves: a staging change (not published) and nothing for production or development.
    appendFileSync(join(repo, "environments/staging/http.yaml"), "listen:\n  port: 9191\n");
    commitAll(repo, "staging listens on 9191");
    const server = await startServer(
      {
        store,
        trustedKeys: [key.publicKey],
        tokens: null,
        repoDir: repo,
        log: createJsonLogger({ level: "error", write: () => {} }),
      },
      { host: "127.0.0.1", port: 0 },
    );
    try {
      const doc = await getJson<EnvironmentsDocument>(`${server.url}/ui/api/environments`);
      const row = (name: string) => doc.environments.find((e) => e.name === name)!.current!;
      expect(row("production").unapproved).toMatch(/without the approval record/);
      expect(row("production-eu").unapproved).toBeNull();
      expect(row("development").unapproved).toBeNull();
      expect(row("staging").drift).toMatchObject({ state: "changed", files: ["environments/staging/http.yaml"] });
      expect(row("production").drift).toMatchObject({ state: "unchanged" });
      expect(doc.repositoryUrl).toBe("https://github.com/acme/config.git");
    } finally {
      await server.close();
    }
  });
});

describe("the dashboard's files and cookie answers", () => {
  let server: RunningServer;
  let tokensFile: string;
  let token: string;
  beforeAll(async () => {
    if (!existsSync(join(projectRoot, "dist", "ui", "favicon.svg")))
      execFileSync(process.execPath, [join(projectRoot, "scripts", "build-ui.mjs"), "--no-typecheck", "--quiet"], {
        cwd: projectRoot,
        stdio: "inherit",
      });
    tokensFile = join(tempdir("strata-ui-tok-"), "tokens.json");
    token = (await createToken(tokensFile, { scopes: ["read:staging"], name: "on-call" })).token;
    await createToken(tokensFile, { scopes: ["push:*"], name: "ci" });
    const store = await openStore(`file:${tempdir("strata-ui-files-")}`);
    await publish(store, snapshot("staging", 1, null, {}));
    server = await startServer(
      {
        store,
        trustedKeys: [key.publicKey],
        tokens: await readTokens(tokensFile),
        log: createJsonLogger({ level: "error", write: () => {} }),
      },
      { host: "127.0.0.1", port: 0 },
    );
  }, 60_000);
  afterAll(async () => {
    await server?.close();
  });

  it("sends each file compressed as the browser accepts, with an ETag answered by 304, and a favicon", async () => {
    const raw = (path: string, headers: Record<string, string>) =>
      new Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: Buffer }>(
        (resolve, reject) => {
          const req = request(`${server.url}${path}`, { headers }, (res) => {
            const chunks: Buffer[] = [];
            res.on("data", (c: Buffer) => chunks.push(c));
            res.on("end", () =>
              resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }),
            );
          });
          req.on("error", reject);
          req.end();
        },
      );
    const plain = readFileSync(join(projectRoot, "dist", "ui", "app.js"));
    const br = await raw("/ui/app.js", { "accept-encoding": "gzip, deflate, br" });
    expect([br.status, br.headers["content-encoding"], br.headers.vary]).toEqual([200, "br", "Accept-Encoding"]);
    expect(brotliDecompressSync(br.body).equals(plain)).toBe(true);
    expect(br.body.length).toBeLessThan(plain.length / 2);
    const gz = await raw("/ui/app.js", { "accept-encoding": "gzip" });
    expect(gz.headers["content-encoding"]).toBe("gzip");
    expect(gunzipSync(gz.body).equals(plain)).toBe(true);
    const none = await raw("/ui/app.js", { "accept-encoding": "identity, br;q=0" });
    expect([none.headers["content-encoding"], none.body.equals(plain)]).toEqual([undefined, true]);
    const etag = br.headers.etag as string;
    expect(etag).toMatch(/^"[\w-]{20,}"$/);
    expect(gz.headers.etag).toBe(etag);
    const again = await raw("/ui/app.js", { "accept-encoding": "br", "if-none-match": etag });
    expect([again.status, again.body.length, again.headers.etag]).toEqual([304, 0, etag]);
    expect(again.headers["content-security-policy"]).toContain("frame-ancestors 'none'");
    expect((await raw("/ui/app.js", { "if-none-match": '"other"' })).status).toBe(200);
    const icon = await raw("/ui/favicon.svg", {});
    expect([icon.status, icon.headers["content-type"]]).toEqual([200, "image/svg+xml"]);
    expect(readFileSync(join(projectRoot, "dist", "ui", "index.html"), "utf8")).toContain(
      'rel="icon" href="favicon.svg"',
    );
  });

  it("sends /v1 answers read with the cookie with the security headers and no-store; a header token's as before", async () => {
    for (const path of ["/v1/environments/staging/snapshots/1", "/v1/environments/staging/history", "/v1/status"]) {
      const withCookie = await fetch(`${server.url}${path}`, { headers: { cookie: `strata_token=${token}` } });
      expect(withCookie.status, path).toBe(200);
      expect(withCookie.headers.get("cache-control"), path).toBe("no-store");
      expect(withCookie.headers.get("content-security-policy"), path).toContain("frame-ancestors 'none'");
      expect(withCookie.headers.get("x-content-type-options"), path).toBe("nosniff");
    }
    const withHeader = await fetch(`${server.url}/v1/environments/staging/snapshots/1`, {
      headers: { authorization: `Bearer ${token}` },
    });
    expect(withHeader.headers.get("cache-control")).toMatch(/immutable/);
  });

  it("ends an open event stream when its token is revoked and the tokens file re-read", async () => {
    const res = await new Promise<import("node:http").IncomingMessage>((resolve, reject) => {
      const req = request(`${server.url}/v1/environments/staging/events`, {
        headers: { cookie: `strata_token=${token}`, accept: "text/event-stream" },
      });
      req.on("response", resolve).on("error", reject).end();
    });
    expect(res.statusCode).toBe(200);
    const ended = new Promise<string>((resolve) => {
      let text = "";
      res.on("data", (d: Buffer) => (text += d.toString()));
      res.on("end", () => resolve(text));
      res.on("close", () => resolve(text));
    });
    // Revoke: the file without the on-call token, re-read (what SIGHUP does in `strata serve`).
    const doc = JSON.parse(readFileSync(tokensFile, "utf8")) as { tokens: { name: string }[] };
    doc.tokens = doc.tokens.filter((t) => t.name !== "on-call");
    writeFileSync(tokensFile, JSON.stringify(doc));
    server.replaceTokens(await readTokens(tokensFile));
    expect(await ended).toContain("event: snapshot");
    expect((await fetch(`${server.url}/v1/status`, { headers: { cookie: `strata_token=${token}` } })).status).toBe(401);
  });
});
