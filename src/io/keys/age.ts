/**
 * age key source, found as sops finds identities: SOPS_AGE_KEY, SOPS_AGE_KEY_FILE, SOPS_AGE_KEY_CMD, then
 * the user config `sops/age/keys.txt`. X25519 and hybrid post-quantum identities (age-encryption, loaded
 * only when Node's crypto cannot open the data key itself: core/sops/age-x25519.ts).
 */
import { readFile } from "node:fs/promises";
import { homedir } from "node:os";
import { join } from "node:path";
import { openAgeX25519 } from "../../core/sops/age-x25519.js";

export interface AgeIdentitySource {
  /** Where it came from, for messages (never the key). */
  origin: string;
  identities: string[];
}

function parseIdentities(text: string): string[] {
  return text
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l !== "" && !l.startsWith("#") && l.toUpperCase().startsWith("AGE-SECRET-KEY-"));
}

/** The user config directory of Go's `os.UserConfigDir`, with sops' XDG_CONFIG_HOME override. */
export function ageKeysFilePath(env: NodeJS.ProcessEnv, platform: NodeJS.Platform = process.platform): string {
  const home = env.HOME ?? homedir();
  if (env.XDG_CONFIG_HOME) return join(env.XDG_CONFIG_HOME, "sops", "age", "keys.txt");
  if (platform === "darwin") return join(home, "Library", "Application Support", "sops", "age", "keys.txt");
  if (platform === "win32") return join(env.AppData ?? env.APPDATA ?? home, "sops", "age", "keys.txt");
  return join(home, ".config", "sops", "age", "keys.txt");
}

async function readOptional(path: string): Promise<string | null> {
  try {
    return await readFile(path, "utf8");
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return null;
    throw e;
  }
}

/** Every age identity the environment offers, in sops' order. */
export async function readAgeIdentities(env: NodeJS.ProcessEnv): Promise<AgeIdentitySource[]> {
  const out: AgeIdentitySource[] = [];
  if (env.SOPS_AGE_KEY) out.push({ origin: "SOPS_AGE_KEY", identities: parseIdentities(env.SOPS_AGE_KEY) });
  if (env.SOPS_AGE_KEY_FILE) {
    const text = await readOptional(env.SOPS_AGE_KEY_FILE);
    if (text === null) throw new Error(`SOPS_AGE_KEY_FILE names ${env.SOPS_AGE_KEY_FILE}, which does not exist`);
    out.push({ origin: `SOPS_AGE_KEY_FILE (${env.SOPS_AGE_KEY_FILE})`, identities: parseIdentities(text) });
  }
  if (env.SOPS_AGE_KEY_CMD) {
    // execa loads only for a key command: opening a file with a key from the environment never needs it.
    const { execa } = await import("execa");
    const r = await execa(env.SOPS_AGE_KEY_CMD, { shell: true, env, extendEnv: false, reject: false, stdin: "ignore" });
    if (r.exitCode !== 0) throw new Error(`SOPS_AGE_KEY_CMD failed with exit code ${r.exitCode}`);
    out.push({ origin: "SOPS_AGE_KEY_CMD", identities: parseIdentities(String(r.stdout)) });
  }
  const file = ageKeysFilePath(env);
  const text = await readOptional(file);
  if (text !== null) out.push({ origin: file, identities: parseIdentities(text) });
  return out;
}

/** Opens an age-wrapped data key (armored, as sops stores it). */
export async function decryptAgeDataKey(enc: string, identities: readonly string[]): Promise<Uint8Array> {
  if (identities.length === 0)
    throw new Error("no age identity found (SOPS_AGE_KEY, SOPS_AGE_KEY_FILE, SOPS_AGE_KEY_CMD or sops/age/keys.txt)");
  const native = openAgeX25519(enc, identities);
  if (native !== null) return native;
  const { armor, Decrypter } = await import("age-encryption");
  const d = new Decrypter();
  for (const id of identities) d.addIdentity(id);
  try {
    // Given bytes, age-encryption reads its output through `new Response(stream)`, which loads Node's
    // fetch implementation (undici: a tenth of a second of start-up); given a stream it returns one.
    return await readAllBytes(await d.decrypt(streamOf(armor.decode(enc))));
  } catch (cause) {
    throw new Error("no age identity matches this recipient", { cause });
  }
}

function streamOf(bytes: Uint8Array): ReadableStream<Uint8Array> {
  return new ReadableStream({
    start(c) {
      c.enqueue(bytes);
      c.close();
    },
  });
}

async function readAllBytes(stream: ReadableStream<Uint8Array>): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  const reader = stream.getReader();
  for (let r = await reader.read(); !r.done; r = await reader.read()) chunks.push(r.value);
  return chunks.length === 1 ? chunks[0]! : new Uint8Array(Buffer.concat(chunks));
}

/** Wraps a data key for one age recipient (`age1…` or `age1pq1…`), armored like sops. */
export async function encryptAgeDataKey(dataKey: Uint8Array, recipient: string): Promise<string> {
  const { armor, Encrypter } = await import("age-encryption");
  const e = new Encrypter();
  e.addRecipient(recipient);
  return armor.encode(await e.encrypt(dataKey));
}
