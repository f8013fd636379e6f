// @module-tag e2e
// End to end: the built CLI, real age and gpg, temporary directories.
import { readFileSync, writeFileSync, copyFileSync, chmodSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { strata, type CliResult } from "../support/cli.js";
import { cleanupTempdirs, tempdir } from "../support/gitdir.js";
import { conformance, lacking } from "../support/shared.js";
import { keyEnv, PGP_FP1, SOPS_AGE_KEY, SOPS_AGE_RECIPIENT, testGnupgHome } from "../app/secrets/keys.js";

const missing = lacking("strata secrets (end to end)", { tool: "gpg" });

const PLAIN =
  "db:\n    password: hunter22-secret\n    port: 5432\n# rotate quarterly\napi_token: tok-abcdef-123456\nlist:\n    - first-item-secret\n    - second-item-secret\n";
const SECRETS = ["hunter22-secret", "tok-abcdef-123456", "first-item-secret", "second-item-secret", "rotate quarterly"];

let dir: string;
let keyFile: string;
let env: Record<string, string | undefined>;

function noSecrets(r: CliResult, where: "all" | "stderr" = "all"): void {
  const text = where === "all" ? r.stdout + r.stderr : r.stderr;
  for (const s of SECRETS) expect(text).not.toContain(s);
}

async function encryptSample(name = "s.yaml"): Promise<string> {
  writeFileSync(join(dir, name), PLAIN);
  const r = await strata(["secrets", "encrypt", "-i", name, "--age", SOPS_AGE_RECIPIENT], { cwd: dir, env });
  expect(r.exitCode).toBe(0);
  noSecrets(r);
  return readFileSync(join(dir, name), "utf8");
}

beforeAll(() => {
  dir = tempdir();
  keyFile = join(dir, "age-key.txt");
  writeFileSync(keyFile, SOPS_AGE_KEY);
  env = { ...keyEnv(), SOPS_AGE_KEY_FILE: keyFile };
});
afterAll(() => cleanupTempdirs());

describe.skipIf(missing)("strata secrets (end to end)", () => {
  it("encrypts, decrypts, prints JSON and extracts values", async () => {
    const enc = await encryptSample();
    expect(enc).toContain("sops:");
    for (const s of SECRETS) expect(enc).not.toContain(s);
    const d = await strata(["secrets", "decrypt", "s.yaml"], { cwd: dir, env });
    expect(d.exitCode).toBe(0);
    expect(d.stdout).toBe(PLAIN);
    noSecrets(d, "stderr");
    const j = await strata(["secrets", "decrypt", "s.yaml", "--format", "json"], { cwd: dir, env });
    expect(JSON.parse(j.stdout)).toEqual({
      db: { password: "hunter22-secret", port: 5432 },
      api_token: "tok-abcdef-123456",
      list: ["first-item-secret", "second-item-secret"],
    });
    expect(
      (await strata(["secrets", "decrypt", "s.yaml", "--extract", '["db"]["password"]'], { cwd: dir, env })).stdout,
    ).toBe("hunter22-secret");
    expect((await strata(["secrets", "decrypt", "s.yaml", "--extract", "list[1]"], { cwd: dir, env })).stdout).toBe(
      "second-item-secret",
    );
  });

  it("masks plaintext for GitHub Actions on stderr, leaving stdout exactly the file", async () => {
    await encryptSample("gh.yaml");
    const d = await strata(["secrets", "decrypt", "gh.yaml"], { cwd: dir, env: { ...env, GITHUB_ACTIONS: "true" } });
    expect(d.stderr).toContain("::add-mask::hunter22-secret");
    expect(d.stdout).toBe(PLAIN);
  });

  it("set changes one value and keeps every other ciphertext", async () => {
    const before = await encryptSample("set.yaml");
    const r = await strata(["secrets", "set", "set.yaml", "db.port", "6543"], { cwd: dir, env });
    expect(r.exitCode).toBe(0);
    const after = readFileSync(join(dir, "set.yaml"), "utf8");
    const encLines = (t: string): string[] =>
      t.split("\n").filter((l) => l.includes("ENC[") && !l.includes("mac:") && !l.includes("port:"));
    expect(encLines(after)).toEqual(encLines(before));
    const s = await strata(["secrets", "set", "set.yaml", '["db"]["user"]', "--value-stdin"], {
      cwd: dir,
      env,
      input: "admin-user\n",
    });
    expect(s.exitCode).toBe(0);
    const j = JSON.parse(
      (await strata(["secrets", "decrypt", "set.yaml", "--format", "json"], { cwd: dir, env })).stdout,
    ) as { db: unknown };
    expect(j.db).toEqual({ password: "hunter22-secret", port: 6543, user: "admin-user" });
  });

  it("edit with a scripted editor leaves every other ciphertext byte-identical", async () => {
    const before = await encryptSample("edit.yaml");
    const editor = join(dir, "editor.sh");
    writeFileSync(
      editor,
      `#!/bin/sh\nls -ld "$(dirname "$1")" | cut -c1-10 > "${join(dir, "mode.txt")}"\nls -l "$1" | cut -c1-10 >> "${join(dir, "mode.txt")}"\nsed -i 's/tok-abcdef-123456/tok-rotated-999999/' "$1"\necho "$1" > "${join(dir, "path.txt")}"\n`,
    );
    chmodSync(editor, 0o755);
    const r = await strata(["secrets", "edit", "edit.yaml"], { cwd: dir, env: { ...env, EDITOR: editor } });
    expect(r.exitCode).toBe(0);
    noSecrets(r);
    const after = readFileSync(join(dir, "edit.yaml"), "utf8");
    const lines = (t: string): string[] =>
      t.split("\n").filter((l) => l.includes("ENC[") && !l.includes("api_token") && !l.includes("mac:"));
    expect(lines(after)).toEqual(lines(before));
    expect(after).not.toEqual(before);
    expect(readFileSync(join(dir, "mode.txt"), "utf8")).toBe("drwx------\n-rw-------\n");
    const tmp = readFileSync(join(dir, "path.txt"), "utf8").trim();
    expect(() => readFileSync(tmp)).toThrow();
    expect(
      (await strata(["secrets", "decrypt", "edit.yaml", "--extract", "api_token"], { cwd: dir, env })).stdout,
    ).toBe("tok-rotated-999999");
  });

  it("rotate makes a new data key; the plaintext is unchanged", async () => {
    const before = await encryptSample("rot.yaml");
    const r = await strata(["secrets", "rotate", "-i", "rot.yaml"], { cwd: dir, env });
    expect(r.exitCode).toBe(0);
    const after = readFileSync(join(dir, "rot.yaml"), "utf8");
    expect(after.match(/data:[^,]+,iv:[^,]+/g)).not.toEqual(before.match(/data:[^,]+,iv:[^,]+/g));
    expect((await strata(["secrets", "decrypt", "rot.yaml"], { cwd: dir, env })).stdout).toBe(PLAIN);
  });

  it("updatekeys re-wraps the data key for the recipients .sops.yaml gives now", async () => {
    const sub = join(dir, "uk");
    await import("node:fs").then((fs) => fs.mkdirSync(sub, { recursive: true }));
    writeFileSync(
      join(sub, ".sops.yaml"),
      `creation_rules:\n  - path_regex: \\.yaml$\n    age: ${SOPS_AGE_RECIPIENT}\n`,
    );
    writeFileSync(join(sub, "u.yaml"), PLAIN);
    expect((await strata(["secrets", "encrypt", "-i", "u.yaml"], { cwd: sub, env })).exitCode).toBe(0);
    const before = readFileSync(join(sub, "u.yaml"), "utf8");
    writeFileSync(
      join(sub, ".sops.yaml"),
      `creation_rules:\n  - path_regex: \\.yaml$\n    age: ${SOPS_AGE_RECIPIENT}\n    pgp: ${PGP_FP1}\n`,
    );
    const r = await strata(["secrets", "updatekeys", "-y", "u.yaml"], {
      cwd: sub,
      env: { ...env, GNUPGHOME: testGnupgHome() },
    });
    expect(r.exitCode).toBe(0);
    const after = readFileSync(join(sub, "u.yaml"), "utf8");
    expect(after).toContain(`fp: ${PGP_FP1}`);
    const vals = (t: string): string[] => t.split("\n").filter((l) => l.includes("ENC["));
    expect(vals(after)).toEqual(vals(before));
    const viaPgp = await strata(["secrets", "decrypt", "u.yaml"], {
      cwd: sub,
      env: { ...keyEnv(), GNUPGHOME: testGnupgHome() },
    });
    expect(viaPgp.stdout).toBe(PLAIN);
  });

  it("status: 0 encrypted, 1 not, 2 unreadable", async () => {
    await encryptSample("st.yaml");
    writeFileSync(join(dir, "plain.yaml"), "a: 1\n");
    expect((await strata(["secrets", "status", "st.yaml"], { cwd: dir, env })).exitCode).toBe(0);
    expect((await strata(["secrets", "status", "plain.yaml"], { cwd: dir, env })).exitCode).toBe(1);
    expect((await strata(["secrets", "status", "missing.yaml"], { cwd: dir, env })).exitCode).toBe(2);
  });
});

describe.skipIf(missing)("refusals (exit 3, no plaintext anywhere)", () => {
  async function tampered(name: string, edit: (t: string) => string): Promise<CliResult> {
    const text = await encryptSample(`${name}.yaml`);
    const changed = edit(text);
    expect(changed).not.toBe(text);
    writeFileSync(join(dir, `${name}.yaml`), changed);
    const r = await strata(["secrets", "decrypt", `${name}.yaml`], { cwd: dir, env });
    noSecrets(r);
    expect(r.stdout).toBe("");
    expect(r.exitCode).toBe(3);
    return r;
  }

  it("a flipped ciphertext byte", async () => {
    const r = await tampered("flip", (t) =>
      t.replace(/(password: ENC\[AES256_GCM,data:)(.)/, (_m, p: string, c: string) => p + (c === "A" ? "B" : "A")),
    );
    expect(r.stderr).toMatch(/\[decryption-failed\] flip\.yaml: could not decrypt the value at db:password:/);
  });

  it("two values' ciphertexts swapped", async () => {
    const r = await tampered("swap", (t) => {
      const a = /password: (ENC\[[^\]]+\])/.exec(t)?.[1] as string;
      const b = /api_token: (ENC\[[^\]]+\])/.exec(t)?.[1] as string;
      return t.replace(a, "@@A@@").replace(b, a).replace("@@A@@", b);
    });
    expect(r.stderr).toMatch(/\[decryption-failed\]/);
  });

  it("a deleted line", async () => {
    const r = await tampered("del", (t) =>
      t
        .split("\n")
        .filter((l) => !l.includes("port:"))
        .join("\n"),
    );
    expect(r.stderr).toMatch(/\[mac-mismatch\] del\.yaml: the MAC does not match/);
  });

  it("an edited lastmodified", async () => {
    const r = await tampered("lm", (t) =>
      t.replace(/lastmodified: "(\d{4})/, (_m, y: string) => `lastmodified: "${Number(y) - 1}`),
    );
    expect(r.stderr).toMatch(/\[mac-mismatch\] lm\.yaml/);
  });

  it("a wrong key names the recipients tried", async () => {
    await encryptSample("wrong.yaml");
    const other = join(dir, "other-key.txt");
    writeFileSync(other, "AGE-SECRET-KEY-1GFPYYSJZGFPYYSJZGFPYYSJZGFPYYSJZGFPYYSJZGFPYYSJZGFPQ4EGAEX\n");
    const r = await strata(["secrets", "decrypt", "wrong.yaml"], {
      cwd: dir,
      env: { ...keyEnv(), SOPS_AGE_KEY_FILE: other },
    });
    expect(r.exitCode).toBe(3);
    expect(r.stdout).toBe("");
    expect(r.stderr).toContain(
      `[decryption-failed] wrong.yaml: no key could open the data key; tried: age ${SOPS_AGE_RECIPIENT}`,
    );
    noSecrets(r);
  });

  it("no_mac.yaml is mac-missing unless --ignore-mac", async () => {
    copyFileSync(conformance("sops/functional-tests/res/no_mac.yaml"), join(dir, "no_mac.yaml"));
    const gpgEnv = { ...keyEnv(), GNUPGHOME: testGnupgHome() };
    const r = await strata(["secrets", "decrypt", "no_mac.yaml"], { cwd: dir, env: gpgEnv });
    expect(r.exitCode).toBe(3);
    expect(r.stdout).toBe("");
    expect(r.stderr).toContain("[mac-missing] no_mac.yaml: the file has no MAC");
    expect(r.stderr).not.toContain("t00m4nys3cr3tzupdated");
    const ok = await strata(["secrets", "decrypt", "--ignore-mac", "no_mac.yaml"], { cwd: dir, env: gpgEnv });
    expect(ok.exitCode).toBe(0);
    expect(ok.stdout).toBe("myapp1: t00m4nys3cr3tzupdated\n");
  });
});

describe.skipIf(missing)("invocation problems (exit 2)", () => {
  it.each([
    [["secrets", "decrypt", "nope.yaml"], "[unreadable-file] cannot read nope.yaml: ENOENT"],
    [["secrets", "decrypt", "x.yaml", "--format", "toml"], "[invalid-argument] --format accepts only json"],
    [["secrets", "encrypt", "norecip.yaml"], "[invalid-argument] no recipients for norecip.yaml"],
    [["secrets", "decrypt", "x.yaml", "--extract", "a..b["], "[invalid-argument] cannot parse the key path"],
  ])("%j", async (args, message) => {
    writeFileSync(join(dir, "norecip.yaml"), "a: 1\n");
    await encryptSample("x.yaml");
    const r = await strata(args, { cwd: dir, env });
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toContain(message);
  });

  it("a failing editor leaves the file unchanged (and no plaintext behind)", async () => {
    const before = await encryptSample("fail-edit.yaml");
    const r = await strata(["secrets", "edit", "fail-edit.yaml"], { cwd: dir, env: { ...env, EDITOR: "false" } });
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toContain("[invalid-argument] the editor exited with code 1; fail-edit.yaml is unchanged");
    expect(readFileSync(join(dir, "fail-edit.yaml"), "utf8")).toBe(before);
    noSecrets(r);
  });

  it("an interrupted edit still removes the plaintext", async () => {
    const before = await encryptSample("int-edit.yaml");
    const editor = join(dir, "kill-editor.sh");
    // Find the strata process among the editor's ancestors through /proc (no ps needed) and stop it.
    writeFileSync(
      editor,
      [
        "#!/bin/sh",
        `echo "$1" > "${join(dir, "int-path.txt")}"`,
        "p=$PPID",
        'while [ "$p" -gt 1 ]; do',
        '  if grep -q strata.mjs "/proc/$p/cmdline" 2>/dev/null; then kill -TERM "$p"; break; fi',
        '  p=$(cut -d" " -f4 "/proc/$p/stat")',
        "done",
        "sleep 1",
        "",
      ].join("\n"),
    );
    chmodSync(editor, 0o755);
    const r = await strata(["secrets", "edit", "int-edit.yaml"], { cwd: dir, env: { ...env, EDITOR: editor } });
    expect(r.exitCode).not.toBe(0);
    const tmp = readFileSync(join(dir, "int-path.txt"), "utf8").trim();
    expect(tmp).toContain("strata-edit-");
    expect(() => readFileSync(tmp)).toThrow();
    expect(readFileSync(join(dir, "int-edit.yaml"), "utf8")).toBe(before);
  });

  it("extracting a missing key is invalid-argument", async () => {
    await encryptSample("ex.yaml");
    const r = await strata(["secrets", "decrypt", "ex.yaml", "--extract", "db.nope"], { cwd: dir, env });
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toContain('[invalid-argument] ex.yaml: no value at ["db"]["nope"]');
    expect(r.stdout).toBe("");
  });

  it("encrypting an encrypted file is refused", async () => {
    await encryptSample("twice.yaml");
    const r = await strata(["secrets", "encrypt", "twice.yaml", "--age", SOPS_AGE_RECIPIENT], { cwd: dir, env });
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toContain("[invalid-argument] twice.yaml is already encrypted");
  });
});
