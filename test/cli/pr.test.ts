// @module-tag e2e
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, afterEach, beforeEach, describe, expect, it } from "vitest";
import { strata } from "../support/cli.js";
import { cleanupTempdirs, tempdir } from "../support/gitdir.js";
import { startFakeGitHub, type FakeGitHub } from "../support/github-server.js";

const BASE = "a".repeat(40);
const HEAD = "b".repeat(40);

let gh: FakeGitHub;
let dir: string;

beforeEach(async () => {
  gh = await startFakeGitHub();
  gh.state.files.set(BASE, { "strata.yaml": "version: 1\nenvironments:\n  production: { production: true }\n" });
  gh.state.pulls.set(7, { number: 7, author: "dev", head: { sha: HEAD }, base: { sha: BASE } });
  gh.state.comments.set(
    7,
    Array.from({ length: 120 }, (_, i) => ({ id: i + 1, login: "dev", body: `chatter ${i}` })),
  );
  dir = tempdir();
  writeFileSync(
    join(dir, "diff.json"),
    JSON.stringify({
      environments: {
        production: { production: true, changes: [{ key: "http.timeout", sensitive: false, approvers: [] }] },
      },
    }),
  );
});
afterEach(() => gh.close());
afterAll(() => cleanupTempdirs());

describe("strata pr comment", () => {
  it("updates one sticky comment in place instead of posting another", async () => {
    const env = {
      GITHUB_TOKEN: "test-token",
      GITHUB_REPOSITORY: "acme/config",
      GITHUB_API_URL: gh.url,
      GITHUB_EVENT_PATH: "",
    };
    const comment = async (markdown: string) => {
      writeFileSync(join(dir, "diff.md"), markdown);
      return strata(
        ["pr", "comment", "--pr", "7", "--diff", join(dir, "diff.json"), "--diff-markdown", join(dir, "diff.md")],
        { cwd: dir, env },
      );
    };
    const first = await comment("## production\n| key | change |\n|---|---|\n| http.timeout | 10 → 20 |\n");
    expect(first.stderr).toBe("");
    expect(first.exitCode).toBe(0);
    expect(first.stdout).toMatch(/^created https:\/\/github.com\/acme\/config\/issues\/7#issuecomment-\d+/);
    const second = await comment("## production\n| key | change |\n|---|---|\n| http.timeout | 10 → 30 |\n");
    expect(second.stdout).toMatch(/^updated /);
    const third = await comment("## production\n| key | change |\n|---|---|\n| http.timeout | 10 → 30 |\n");
    expect(third.stdout).toMatch(/^unchanged /);
    const mine = gh.state.comments.get(7)!.filter((c) => c.login === "strata-bot");
    expect(mine).toHaveLength(1);
    expect(mine[0]?.body).toContain("10 → 30");
    expect(mine[0]?.body).toContain("approval required in production");
  });

  it("is an invocation error for an unreadable --diff-markdown file", async () => {
    const r = await strata(
      ["pr", "comment", "--pr", "7", "--no-approvals", "--diff-markdown", join(dir, "missing.md")],
      { cwd: dir, env: { GITHUB_TOKEN: "test-token", GITHUB_REPOSITORY: "acme/config", GITHUB_API_URL: gh.url } },
    );
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toContain("[unreadable-file]");
  });
});
