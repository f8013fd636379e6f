// @module-tag e2e
// The dashboard's server side without a browser: the diff between two stored versions, the audit chain, and
// the /ui/ routes' errors and headers, against the real endpoint in-process over a file store.
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { get, type IncomingMessage } from "node:http";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { serializeSnapshot, type Snapshot } from "../../src/core/snapshot/index.js";
import { openStore } from "../../src/io/stores/index.js";
import { ChainChecker } from "../../src/server/ui/audit.js";
import { diffVersions } from "../../src/server/ui/diff.js";
import { createSessionCookie, readSessionToken } from "../../src/server/ui/session.js";
import { projectRoot } from "../support/cli.js";
import { cleanupTempdirs, tempdir } from "../support/gitdir.js";
import { put, startTestServer, type TestServer } from "../support/server.js";
import { fakeSops, makeSnapshot, newKey } from "../support/snapshots.js";

const { key } = newKey();
const other = newKey().key;
const noMetadata = (): null => null;

afterAll(cleanupTempdirs);

describe("diffVersions", () => {
  const v1 = makeSnapshot(key, {
    version: 1,
    config: { app: { replicas: 2, hosts: ["a", "b"], name: "x" } },
    secrets: fakeSops({ token: "first-secret-value" }),
  });
  it("reports each key's before and after, sensitive keys without a value", () => {
    const v2 = makeSnapshot(key, {
      version: 2,
      previous: v1.digest,
      config: { app: { replicas: 3, hosts: ["a", "c"], mode: "fast" } },
      secrets: fakeSops({ token: "second-secret-value" }),
    });
    const result = diffVersions({
      environment: "staging",
      base: v1,
      head: v2,
      info: null,
      metadata: (k) =>
        k === "app.replicas"
          ? {
              sensitive: false,
              restartRequired: true,
              deprecated: null,
              owner: null,
              approvers: [],
              merge: null,
              description: null,
            }
          : null,
    });
    const changes = result.environments.staging!.changes;
    expect(changes.map((c) => [c.key, c.change])).toEqual([
      ["app.replicas", "changed"],
      ["app.hosts", "changed"],
      ["app.mode", "added"],
      ["token", "changed"],
      ["app.name", "removed"],
    ]);
    expect(changes[0]).toMatchObject({ before: 2, after: 3, flags: ["restart-required"], layer: null });
    expect(changes[1]!.items).toEqual([{ index: 1, change: "changed", before: "b", after: "c" }]);
    const token = changes.find((c) => c.key === "token")!;
    expect(token).toMatchObject({ sensitive: true, certain: false });
    expect("before" in token || "after" in token).toBe(false);
    expect(JSON.stringify(result)).not.toMatch(/ENC\[/);
  });

  it("reports nothing between versions of equal content, whatever the ciphertext", () => {
    const refresh = makeSnapshot(key, {
      version: 2,
      previous: v1.digest,
      config: v1.config,
      secrets: fakeSops({ token: "first-secret-value-re-encrypted" }),
    });
    const same: Snapshot = { ...refresh, contentDigest: v1.contentDigest };
    expect(
      diffVersions({ environment: "staging", base: v1, head: same, info: null, metadata: noMetadata }).environments,
    ).toEqual({});
  });
});

describe("ChainChecker", () => {
  it("finds the first version whose signature, digest or chain is wrong", async () => {
    const store = await openStore(`file:${tempdir("strata-ui-audit-")}`);
    try {
      const s1 = makeSnapshot(key, { version: 1 });
      const s2 = makeSnapshot(other, { version: 2, previous: s1.digest });
      const s3 = makeSnapshot(key, { version: 3, previous: s2.digest });
      for (const [i, s] of [s1, s2, s3].entries())
        await store.publish({ snapshot: s, text: serializeSnapshot(s), expected: i, action: "publish", actor: null });
      const audit = await new ChainChecker(store, [key.publicKey]).check("staging");
      expect(audit.firstBad).not.toBeNull();
      expect(audit.firstBad).toMatchObject({ version: 2, code: "invalid-signature" });
      expect(audit.versions.map((v) => [v.version, v.ok, v.problem?.code ?? null])).toEqual([
        [1, true, null],
        [2, false, "invalid-signature"],
        [3, false, null],
      ]);
      expect((await new ChainChecker(store, [key.publicKey, other.publicKey]).check("staging")).firstBad).toBeNull();
    } finally {
      await store.close();
    }
  });
});

describe("the session cookie", () => {
  const request = (method: string, headers: Record<string, string>, encrypted = false): IncomingMessage =>
    ({ method, headers, socket: { encrypted } }) as unknown as IncomingMessage;
  it("is read on GET and HEAD only, among other cookies, and only when it looks like a token", () => {
    expect(readSessionToken(request("GET", { cookie: "a=1; strata_token=strata_abc; b=2" }))).toBe("strata_abc");
    expect(readSessionToken(request("HEAD", { cookie: "strata_token=strata_abc" }))).toBe("strata_abc");
    for (const method of ["PUT", "POST", "DELETE"])
      expect(readSessionToken(request(method, { cookie: "strata_token=strata_abc" }))).toBeNull();
    expect(readSessionToken(request("GET", { cookie: "strata_token=" }))).toBeNull();
    expect(readSessionToken(request("GET", { cookie: `strata_token=${"x".repeat(300)}` }))).toBeNull();
    expect(readSessionToken(request("GET", { cookie: "other_strata_token=strata_abc" }))).toBeNull();
  });
  it("is Secure under TLS, here or at a proxy that says so", () => {
    expect(createSessionCookie(request("POST", {}), "t")).toBe("strata_token=t; Path=/; HttpOnly; SameSite=Strict");
    expect(createSessionCookie(request("POST", {}, true), "t")).toMatch(/; Secure$/);
    expect(createSessionCookie(request("POST", { "x-forwarded-proto": "https" }), "t")).toMatch(/; Secure$/);
  });
});

describe("/ui/ on the endpoint", () => {
  let s: TestServer;
  beforeAll(async () => {
    // The browser tests rebuild the bundle; this file needs only that one exists.
    if (!existsSync(join(projectRoot, "dist", "ui", "index.html")))
      execFileSync(process.execPath, [join(projectRoot, "scripts", "build-ui.mjs"), "--no-typecheck", "--quiet"], {
        cwd: projectRoot,
        stdio: "inherit",
      });
    s = await startTestServer({ trustedKeys: [key.publicKey] });
    const v1 = makeSnapshot(key, { version: 1 });
    expect((await put(s.url, v1, '"0"')).status).toBe(201);
    expect((await put(s.url, makeSnapshot(key, { version: 2, previous: v1.digest }), '"1"')).status).toBe(201);
  }, 60_000);
  afterAll(() => s.server.close());

  it("serves the app and its files with the security headers, and nothing outside dist/ui", async () => {
    const page = await fetch(`${s.url}/ui/`);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('<script type="module" src="app.js">');
    expect((await fetch(`${s.url}/ui`, { redirect: "manual" })).headers.get("location")).toBe("/ui/");
    for (const path of ["/ui/app.js", "/ui/app.css"]) expect((await fetch(`${s.url}${path}`)).status).toBe(200);
    // fetch() would normalize the dots away: send the path as is.
    const raw = await new Promise<number>((resolve, reject) =>
      get(`${s.url}/ui/../package.json`, { path: "/ui/../package.json" }, (r) => {
        r.resume();
        resolve(r.statusCode ?? 0);
      }).on("error", reject),
    );
    expect(raw).toBe(404);
    for (const path of ["/ui/nope.js", "/ui/api/nope"]) {
      const r = await fetch(`${s.url}${path}`);
      expect(r.status, path).toBe(404);
      expect(r.headers.get("content-security-policy"), path).toContain("frame-ancestors 'none'");
      expect(r.headers.get("x-content-type-options")).toBe("nosniff");
    }
  });

  it("answers the pages' questions and names a bad request's field", async () => {
    expect(await (await fetch(`${s.url}/ui/api/session`)).json()).toEqual({ auth: false, token: null, admin: true });
    const diff = (await (await fetch(`${s.url}/ui/api/environments/staging/diff?from=1&to=2`)).json()) as {
      environments: Record<string, { changes: { key: string; before: unknown; after: unknown }[] }>;
    };
    expect(diff.environments.staging!.changes).toMatchObject([{ key: "app.replicas", before: 1, after: 2 }]);
    const bad = await fetch(`${s.url}/ui/api/environments/staging/diff?from=one&to=2`);
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: { message: string } }).error.message).toMatch(
      /from and to must be versions/,
    );
    expect((await fetch(`${s.url}/ui/api/environments/staging/diff?from=1&to=9`)).status).toBe(404);
    expect((await fetch(`${s.url}/ui/api/environments/Bad!/diff?from=1&to=2`)).status).toBe(404);
    // Through the route table like every other route: a wrong method is 405 with Allow.
    const post = await fetch(`${s.url}/ui/api/audit`, { method: "POST" });
    expect([post.status, post.headers.get("allow")]).toEqual([405, "GET"]);
    expect(post.headers.get("content-security-policy")).toContain("frame-ancestors 'none'");
    const audit = (await (await fetch(`${s.url}/ui/api/audit`)).json()) as {
      environments: { environment: string; ok: boolean }[];
    };
    expect(audit.environments).toMatchObject([{ environment: "staging", ok: true }]);
  });
});
