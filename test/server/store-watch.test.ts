// The store's change feed failing (the file store's poll, etcd's resync) is logged once by the endpoint when
// it starts failing and once when it recovers: it used to be swallowed, every second, without a word.
import { renameSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { waitFor } from "../client/support.js";
import { cleanupTempdirs, tempdir } from "../support/gitdir.js";
import { put, startTestServer, type TestServer } from "../support/server.js";
import { makeChain, newKey } from "../support/snapshots.js";

const { key } = newKey();
const servers: TestServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.server.close()));
});
afterAll(() => cleanupTempdirs());

const lines = (s: TestServer, msg: string): Record<string, unknown>[] =>
  s.logs.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l.msg === msg);

describe("the store watch", () => {
  it("logs the store failing (with the error naming the directory) once, and its recovery once", async () => {
    const dir = tempdir("strata-store-");
    const s = await startTestServer({ trustedKeys: [key.publicKey], dir });
    servers.push(s);
    for (const v of makeChain(key, 1)) expect((await put(s.url, v, '"0"')).status).toBe(201);
    // envs/ replaced by a file: unreadable as a directory for any user, root included (ENOTDIR).
    const envs = join(dir, "envs");
    renameSync(envs, `${envs}.aside`);
    writeFileSync(envs, "");
    const failing = await waitFor(() => lines(s, "store watch failing")[0], "the failure's log line");
    expect(failing.level).toBe("warn");
    expect(failing.error).toContain(`cannot read the store directory ${envs}: ENOTDIR`);
    rmSync(envs);
    renameSync(`${envs}.aside`, envs);
    const recovered = await waitFor(() => lines(s, "store watch recovered")[0], "the recovery's log line");
    expect(recovered.level).toBe("info");
    // Once each, not once per poll: the recovery came after at least one more poll of the failing store.
    expect(lines(s, "store watch failing")).toHaveLength(1);
  });
});
