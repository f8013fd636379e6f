/** PGP key source through the `gpg` binary and GNUPGHOME, as sops does (SOPS_GPG_EXEC overrides the binary). */
// execa loads on first use: an age or KMS file never needs it.
const loadExeca = async (): Promise<typeof import("execa").execa> => (await import("execa")).execa;

function gpgBinary(env: NodeJS.ProcessEnv): string {
  return env.SOPS_GPG_EXEC || "gpg";
}

function firstLine(s: string): string {
  return (
    s
      .split("\n")
      .map((l) => l.trim())
      .find((l) => l.startsWith("gpg:") && /fail|error|no secret|not found|skipped/i.test(l)) ??
    s.split("\n")[0]?.trim() ??
    ""
  );
}

export async function decryptPgpDataKey(enc: string, env: NodeJS.ProcessEnv): Promise<Uint8Array> {
  const execa = await loadExeca();
  const r = await execa(gpgBinary(env), ["--batch", "--quiet", "--no-tty", "--decrypt"], {
    // The data key is binary: execa strips a final newline even from buffers unless told not to, and a
    // key ending in 0x0a (1 in 256) would lose a byte.
    input: enc,
    env,
    extendEnv: false,
    encoding: "buffer",
    stripFinalNewline: false,
    reject: false,
    timeout: 60_000,
  });
  if (r.exitCode !== 0 || r.stdout === undefined) {
    const err = Buffer.from(r.stderr ?? new Uint8Array()).toString("utf8");
    throw new Error(
      r.failed && r.exitCode === undefined
        ? `gpg could not run: ${r.shortMessage}`
        : firstLine(err) || `gpg exited with ${r.exitCode}`,
    );
  }
  return new Uint8Array(r.stdout);
}

export async function encryptPgpDataKey(
  dataKey: Uint8Array,
  fingerprint: string,
  env: NodeJS.ProcessEnv,
): Promise<string> {
  const execa = await loadExeca();
  const r = await execa(
    gpgBinary(env),
    [
      "--batch",
      "--quiet",
      "--no-tty",
      "--yes",
      "--armor",
      "--trust-model",
      "always",
      "--no-encrypt-to",
      "--encrypt",
      "--recipient",
      fingerprint,
    ],
    {
      input: Buffer.from(dataKey),
      env,
      extendEnv: false,
      encoding: "utf8",
      reject: false,
      timeout: 60_000,
    },
  );
  if (r.exitCode !== 0) throw new Error(firstLine(String(r.stderr)) || `gpg exited with ${r.exitCode}`);
  // sops stores the armor without its final newline.
  return String(r.stdout).replace(/\n+$/, "");
}
