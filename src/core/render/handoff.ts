/**
 * Hand-offs to deployment tools (docs/deploy.md): the dotenv form that docker `--env-file`, kubectl
 * `--from-env-file` and systemd `EnvironmentFile=` read alike, Kubernetes ConfigMap/Secret manifests, and
 * the environment of `strata exec`. Each refuses, with a located finding, a value its reader would
 * change; no message ever carries a value (it may be a secret).
 */
import { createFinding, type Finding } from "../findings.js";
import { shellQuote } from "./shell.js";
import type { EnvVariable } from "./variables.js";

/**
 * docker and kubectl read env files with Go's bufio.Scanner, whose longest line is 64 KiB: a longer one
 * fails the whole file ("token too long").
 */
const MAX_DOTENV_LINE_BYTES = 65_535;
/** The API server refuses a ConfigMap or Secret whose values add up to more than 1 MiB. */
export const MAX_KUBERNETES_DATA_BYTES = 1_048_576;

const encoder = new TextEncoder();

function hasLoneSurrogate(s: string): boolean {
  return /[\uD800-\uDFFF]/u.test(s);
}

function controlCharacter(s: string, allowTab: boolean): string | null {
  for (const ch of s) {
    const c = ch.codePointAt(0)!;
    if ((c < 0x20 && !(allowTab && c === 0x09)) || c === 0x7f)
      return `U+${c.toString(16).toUpperCase().padStart(4, "0")}`;
  }
  return null;
}

/**
 * Why a value cannot be a dotenv line's value that all three readers take verbatim, or null when it can.
 * docker/kubectl: the value is every byte after the first `=` (no quotes, no escapes, trailing
 * whitespace kept), one line. systemd: unquoted values lose leading and trailing whitespace, a leading
 * `'` or `"` starts a quoted value, a backslash escapes the next character (it disappears), and a value
 * with a control character other than tab is dropped by some versions.
 */
export function dotenvProblem(name: string, text: string): string | null {
  if (hasLoneSurrogate(text)) return "text that is not valid Unicode (it cannot be written as UTF-8)";
  if (/[\n\r]/.test(text)) return "a line break (env files hold one line per variable)";
  const cc = controlCharacter(text, true);
  if (cc) return `a control character (${cc})`;
  if (/^[ \t]|[ \t]$/.test(text))
    return "leading or trailing whitespace (systemd strips it, docker and kubectl keep it)";
  if (/^['"]/.test(text))
    return "a leading quote (systemd reads it as quoting and removes it, docker and kubectl keep it)";
  if (text.includes("\\"))
    return "a backslash (systemd reads it as an escape and removes it, docker and kubectl keep it)";
  if (encoder.encode(`${name}=${text}`).length > MAX_DOTENV_LINE_BYTES)
    return `a line longer than ${MAX_DOTENV_LINE_BYTES} bytes (docker and kubectl stop reading the file there)`;
  return null;
}

/** Why a value cannot be an environment variable of a process, or null. */
export function environmentProblem(text: string): string | null {
  if (hasLoneSurrogate(text)) return "text that is not valid Unicode";
  if (text.includes("\0")) return "a NUL character (environment variables end at NUL)";
  return null;
}

/**
 * A finding located at the layer that set the value (when known); the message names the key and the
 * variable, never the value.
 */
export function unrepresentableFinding(v: EnvVariable, why: string, target: string, hint: string): Finding {
  const o = v.leaf.origin;
  return createFinding({
    code: "unrepresentable-value",
    message: `${v.leaf.path} (${v.name}) has ${why}: ${target} cannot carry it unchanged`,
    ...(o ? { file: o.file, line: o.line, column: o.column, environment: o.environment } : {}),
    key: v.leaf.path,
    hint,
  });
}

const DOTENV_HINT = "change the value, use --format json or yaml, or pass it with `strata exec`";

/** `NAME=value` lines, or the findings for the values that cannot be written that way. */
export function renderDotenv(variables: readonly EnvVariable[]): { text: string; findings: Finding[] } {
  const findings: Finding[] = [];
  const lines: string[] = [];
  for (const v of variables) {
    const why = dotenvProblem(v.name, v.text);
    if (why)
      findings.push(
        unrepresentableFinding(
          v,
          why,
          "docker --env-file, kubectl --from-env-file and systemd EnvironmentFile=",
          DOTENV_HINT,
        ),
      );
    else lines.push(`${v.name}=${v.text}\n`);
  }
  return { text: findings.length ? "" : lines.join(""), findings };
}

/**
 * `NAME='value'` lines for a POSIX shell (`. ./app.env`, `eval`): single-quoted words carry any text; a
 * value no environment can hold (NUL, text that is not Unicode) is refused as for `strata exec`.
 */
export function renderShellLines(variables: readonly EnvVariable[]): { text: string; findings: Finding[] } {
  const findings: Finding[] = [];
  const lines: string[] = [];
  for (const v of variables) {
    const why = environmentProblem(v.text);
    if (why) findings.push(unrepresentableFinding(v, why, "an environment variable", "change the value"));
    else lines.push(`${v.name}=${shellQuote(v.text)}\n`);
  }
  return { text: findings.length ? "" : lines.join(""), findings };
}

/** Kubernetes names (apimachinery's validation): a DNS-1123 subdomain, at most 253 characters. */
export function isDns1123Subdomain(s: string): boolean {
  return s.length <= 253 && /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/.test(s);
}

/** Namespaces are DNS-1123 labels: at most 63 characters, no dots. */
export function isDns1123Label(s: string): boolean {
  return s.length <= 63 && /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(s);
}

/** ConfigMap and Secret data keys: `[-._a-zA-Z0-9]+`, at most 253 characters, not `.` or `..` or starting with `..`. */
export function isConfigMapKey(s: string): boolean {
  return s.length > 0 && s.length <= 253 && /^[-._a-zA-Z0-9]+$/.test(s) && s !== "." && !s.startsWith("..");
}

export interface ManifestOptions {
  kind: "ConfigMap" | "Secret";
  name: string;
  namespace: string | null;
}

/**
 * A ConfigMap (values as strings in `data`) or an Opaque Secret (values base64 in `data`, as the API
 * takes them) of the given variables; the caller chooses which (non-sensitive / sensitive).
 */
export function renderManifest(
  variables: readonly EnvVariable[],
  options: ManifestOptions,
): { manifest: Record<string, unknown>; findings: Finding[] } {
  const findings: Finding[] = [];
  const data: Record<string, string> = {};
  let size = 0;
  const hint = "rename the key, or use --format json or yaml";
  for (const v of variables) {
    if (!isConfigMapKey(v.name)) {
      findings.push(
        unrepresentableFinding(
          v,
          "a name Kubernetes refuses as a data key (allowed: [-._a-zA-Z0-9]+)",
          `a ${options.kind}`,
          hint,
        ),
      );
      continue;
    }
    if (hasLoneSurrogate(v.text)) {
      findings.push(
        unrepresentableFinding(v, "text that is not valid Unicode", `a ${options.kind}`, "change the value"),
      );
      continue;
    }
    const bytes = encoder.encode(v.text);
    size += bytes.length;
    data[v.name] = options.kind === "Secret" ? Buffer.from(bytes).toString("base64") : v.text;
  }
  if (size > MAX_KUBERNETES_DATA_BYTES) {
    findings.push(
      createFinding({
        code: "unrepresentable-value",
        message: `the ${options.kind}'s values add up to ${size} bytes; Kubernetes takes at most ${MAX_KUBERNETES_DATA_BYTES}`,
        hint: "split the config with --key, or mount it from a file",
      }),
    );
  }
  const metadata: Record<string, string> = { name: options.name };
  if (options.namespace) metadata.namespace = options.namespace;
  const manifest: Record<string, unknown> = { apiVersion: "v1", kind: options.kind, metadata };
  if (options.kind === "Secret") manifest.type = "Opaque";
  manifest.data = data;
  return { manifest, findings };
}
