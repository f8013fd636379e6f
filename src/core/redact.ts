/**
 * The last-resort redactor for text (renovate's `sanitize`): error messages, logs, human-readable reports.
 * Every decrypted value is registered here the moment it exists.
 *
 * Data output (resolve, secrets decrypt, snapshots) never goes through the text redactor: its sensitive
 * leaves are replaced structurally where they are rendered (render-config.ts), and a substring scrub
 * would corrupt it (a secret `true` would turn every `"enabled": true` into invalid JSON, and reveal the
 * secret doing so). JSON reports are scrubbed string by string with {@link redactJson}, which keeps them
 * valid.
 */
const secrets = new Set<string>();
/** Every registered value whatever its length, for GitHub Actions' `::add-mask::`. */
const maskable = new Set<string>();
let pattern: RegExp | null = null;

/** Minimum length for substring scrubbing: shorter values would mangle ordinary text ("1", "on"). */
const MIN_SCRUB_LENGTH = 4;

export function registerSecret(value: unknown): void {
  if (value === null || value === undefined) return;
  const text = typeof value === "string" ? value : JSON.stringify(value);
  if (text === undefined || text === "") return;
  maskable.add(text);
  if (text.length < MIN_SCRUB_LENGTH) return;
  if (secrets.has(text)) return;
  secrets.add(text);
  // Also the JSON-escaped form, as it would appear inside JSON text.
  const escaped = JSON.stringify(text).slice(1, -1);
  if (escaped !== text) secrets.add(escaped);
  pattern = null;
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

export const REDACTED = "<redacted>";

/** Text with every registered secret (4 characters or more) replaced. For messages and logs only. */
export function redact(text: string): string {
  if (secrets.size === 0) return text;
  if (pattern === null) {
    const sorted = [...secrets].sort((a, b) => b.length - a.length).map(escapeRegExp);
    pattern = new RegExp(sorted.join("|"), "g");
  }
  return text.replace(pattern, REDACTED);
}

/**
 * A JSON value with every string (keys too) scrubbed: the document stays valid JSON whatever the
 * secrets are, since only the contents of strings change.
 */
export function redactJson(value: unknown): unknown {
  if (secrets.size === 0 || value === undefined) return value;
  const walk = (v: unknown): unknown => {
    if (typeof v === "string") return redact(v);
    if (Array.isArray(v)) return v.map(walk);
    if (v !== null && typeof v === "object") {
      const out: Record<string, unknown> = {};
      for (const [k, x] of Object.entries(v as Record<string, unknown>)) out[redact(k)] = walk(x);
      return out;
    }
    return v;
  };
  // Through JSON first, so toJSON methods and dropped members are as JSON.stringify would have them.
  return walk(JSON.parse(JSON.stringify(value)));
}

/** Every plaintext value registered so far, whatever its length, for `::add-mask::`. */
export function registeredSecrets(): string[] {
  return [...maskable];
}
