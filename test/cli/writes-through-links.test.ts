// @module-tag e2e
// No strata command writes or merges through a link that leads out of the repository (or out of the
// directory the user named for an output): a pull request that commits `.vscode/settings.json ->
// ~/.bashrc` cannot make a maintainer's strata write their files. One test per command that writes.
import { lstatSync, mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { scaffoldFiles } from "../../src/app/init.js";
import { SOPS_AGE_RECIPIENT, keyEnv } from "../app/secrets/keys.js";
import { strata, type CliResult } from "../support/cli.js";
import { cleanupTempdirs, gitdir, tempdir, writeTree } from "../support/gitdir.js";
import { newKey } from "../support/snapshots.js";

afterAll(cleanupTempdirs);

const PAYLOAD_FREE = "victim: the user's own file\n";

/** A directory outside the repository holding a file the user cares about. */
function outsideDir(): { outside: string; victim: string } {
  const outside = tempdir("strata-outside-");
  const victim = join(outside, "victim.txt");
  writeFileSync(victim, PAYLOAD_FREE);
  return { outside, victim };
}

function expectRefused(r: CliResult, what: string): void {
  expect(r.exitCode, r.stdout + r.stderr).toBe(2);
  expect(r.stderr).toContain(`refusing to write ${what}`);
  expect(r.stderr).toContain("never writes through a link");
  expect(r.stderr).not.toMatch(/\n\s+at .+:\d+:\d+/);
}

/** A scaffolded repository with the given paths replaced by links. */
function repoWithLinks(links: Record<string, string>): string {
  const files = scaffoldFiles("# workflow\n");
  for (const link of Object.keys(links))
    for (const path of Object.keys(files)) if (path === link || path.startsWith(`${link}/`)) delete files[path];
  const repo = gitdir(files, {});
  for (const [path, target] of Object.entries(links)) {
    mkdirSync(join(repo, path, ".."), { recursive: true });
    symlinkSync(target, join(repo, path));
  }
  return repo;
}

describe("no command writes through a link out of the repository", () => {
  it("schema export: .vscode/settings.json linked outside is neither merged nor written", async () => {
    const { victim } = outsideDir();
    const repo = repoWithLinks({ ".vscode/settings.json": victim });
    const r = await strata(["schema", "export", "--repo", repo]);
    expectRefused(r, ".vscode/settings.json");
    expect(readFileSync(victim, "utf8")).toBe(PAYLOAD_FREE);
  });

  it("schema export: a .strata directory linked outside gets nothing", async () => {
    const { outside } = outsideDir();
    const repo = repoWithLinks({ ".strata": outside });
    const r = await strata(["schema", "export", "--repo", repo]);
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toContain("refusing to write .strata/");
    expect(readdirSync(outside)).toEqual(["victim.txt"]);
  });

  it("schema export: a link inside the repository is replaced by the generated file, its target untouched", async () => {
    const files = scaffoldFiles("# workflow\n");
    delete files[".strata/strata.schema.json"];
    const repo = gitdir({ ...files, "notes/mine.json": "{}\n" }, {});
    symlinkSync("../notes/mine.json", join(repo, ".strata/strata.schema.json"));
    const r = await strata(["schema", "export", "--repo", repo]);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(lstatSync(join(repo, ".strata/strata.schema.json")).isFile()).toBe(true);
    expect(readFileSync(join(repo, ".strata/strata.schema.json"), "utf8")).toContain('"$schema"');
    expect(readFileSync(join(repo, "notes/mine.json"), "utf8")).toBe("{}\n");
  });

  it("typegen --out: a file linked outside the repository is refused", async () => {
    const { victim } = outsideDir();
    const repo = repoWithLinks({ "types/config.d.ts": victim });
    const r = await strata(["typegen", "--repo", repo, "--out", join(repo, "types/config.d.ts")]);
    expectRefused(r, join(repo, "types/config.d.ts"));
    expect(readFileSync(victim, "utf8")).toBe(PAYLOAD_FREE);
  });

  it("typegen --out: a directory linked outside the repository is refused", async () => {
    const { outside } = outsideDir();
    const repo = repoWithLinks({ types: outside });
    const r = await strata(["typegen", "--repo", repo, "--out", "types/config.d.ts"], { cwd: repo });
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toContain("refusing to write types/config.d.ts");
    expect(readdirSync(outside)).toEqual(["victim.txt"]);
  });

  it("init --existing: .gitignore linked outside is not appended to; a .github link gets no workflow", async () => {
    const { outside, victim } = outsideDir();
    const dir = tempdir("strata-adopt-");
    symlinkSync(victim, join(dir, ".gitignore"));
    const r = await strata(["init", "--existing", dir]);
    expectRefused(r, ".gitignore");
    expect(readFileSync(victim, "utf8")).toBe(PAYLOAD_FREE);

    const other = tempdir("strata-adopt-");
    symlinkSync(outside, join(other, ".github"));
    const r2 = await strata(["init", other]);
    expect(r2.exitCode).toBe(2);
    expect(r2.stderr).toContain("refusing to write .github/workflows/strata.yml");
    expect(readdirSync(outside)).toEqual(["victim.txt"]);
  });

  it("keys generate --out: a dangling link is not followed to create the key elsewhere", async () => {
    const { outside } = outsideDir();
    const dir = tempdir("strata-keys-");
    symlinkSync(join(outside, "stolen.pem"), join(dir, "signing.pem"));
    const r = await strata(["keys", "generate", "--out", join(dir, "signing.pem")]);
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toContain("exists: refusing to overwrite a key");
    expect(readdirSync(outside)).toEqual(["victim.txt"]);
  });

  it("secrets encrypt -i: a secrets file linked outside the repository is refused", async () => {
    const { outside } = outsideDir();
    writeFileSync(join(outside, "db.yaml"), "password: hunter2\n");
    const repo = repoWithLinks({ "environments/production/db.sops.yaml": join(outside, "db.yaml") });
    const r = await strata(
      ["secrets", "encrypt", "-i", "environments/production/db.sops.yaml", "--age", SOPS_AGE_RECIPIENT],
      { cwd: repo, env: keyEnv() },
    );
    expectRefused(r, "environments/production/db.sops.yaml");
    expect(readFileSync(join(outside, "db.yaml"), "utf8")).toBe("password: hunter2\n");
  });

  it("snapshot --out: a file linked out of the directory named is refused", async () => {
    const { victim } = outsideDir();
    const { pem } = newKey();
    const repo = gitdir(scaffoldFiles("# workflow\n"));
    const out = tempdir("strata-out-");
    symlinkSync(victim, join(out, "staging.json"));
    writeTree(out, { "signing.pem": pem });
    const r = await strata([
      "snapshot",
      "--repo",
      repo,
      "--env",
      "staging",
      "--signing-key",
      join(out, "signing.pem"),
      "--out",
      join(out, "staging.json"),
    ]);
    expectRefused(r, join(out, "staging.json"));
    expect(readFileSync(victim, "utf8")).toBe(PAYLOAD_FREE);
  });
});
