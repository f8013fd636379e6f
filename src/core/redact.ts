/**
 * The one redactor every printer, logger and error path goes through (renovate's `sanitize`).
 * Every decrypted value is registered here the moment it exists; output is scrubbed of all of them.
 */
const secrets = new Set<string>();
let pattern: RegExp | null = null;

/** Minimum length for substring scrubbing: shorter values would mangle ordinary output ("1", "on"). */
const MIN_SCRUB_LENGTH = 4;

export function registerSecret(value: unknown): void {
  if (value === null || value === undefined) return;
  const text = typeof value === "string" ? value : JSON.stringify(value);
  if (text === undefined || text.length < MIN_SCRUB_LENGTH) return;
  if (secrets.has(text)) return;
  secrets.add(text);
  // Also the JSON-escaped form, as it would appear inside JSON output.
  const escaped = JSON.stringify(text).slice(1, -1);
  if (escaped !== text) secrets.add(escaped);
  pattern = null;
}

export function registeredSecretCount(): number {
  return secrets.size;
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

export const REDACTED = "<redacted>";

export function redact(text: string): string {
  if (secrets.size === 0) return text;
  if (pattern === null) {
    const sorted = [...secrets].sort((a, b) => b.length - a.length).map(escapeRegExp);
    pattern = new RegExp(sorted.join("|"), "g");
  }
  return text.replace(pattern, REDACTED);
}

/** The plaintext secrets registered so far, for GitHub Actions' `::add-mask::` (docs/secrets.md). */
export function registeredSecrets(): string[] {
  return [...secrets];
}
