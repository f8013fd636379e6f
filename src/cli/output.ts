/**
 * Every byte the CLI prints goes through here, so that it passes the redactor (docs/secrets.md) and honours
 * NO_COLOR (chalk 5 ignores it). Data on stdout, logs and progress on stderr.
 */
import { Chalk, type ChalkInstance } from "chalk";
import { redact, registeredSecrets } from "../core/redact.js";

function colorLevel(stream: NodeJS.WriteStream): 0 | 1 | 2 | 3 {
  if ("NO_COLOR" in process.env && process.env.NO_COLOR !== "") return 0;
  if (process.env.FORCE_COLOR !== undefined && process.env.FORCE_COLOR !== "0") return 1;
  if (!stream.isTTY) return 0;
  return process.env.COLORTERM === "truecolor" ? 3 : 1;
}

export const color: ChalkInstance = new Chalk({ level: colorLevel(process.stdout) });
export const errColor: ChalkInstance = new Chalk({ level: colorLevel(process.stderr) });

/** Print to stdout, scrubbed of every registered secret. */
export function print(text: string): void {
  process.stdout.write(redact(text.endsWith("\n") || text === "" ? text : text + "\n"));
}

/** Print to stderr, scrubbed. */
export function log(text: string): void {
  process.stderr.write(redact(text.endsWith("\n") ? text : text + "\n"));
}

/**
 * Print plaintext on purpose (`--show-secrets`, `secrets decrypt`). Under GitHub Actions the values are
 * first registered as masks (docs/secrets.md), so the runner hides them in its logs.
 */
export function printPlaintext(text: string | Uint8Array, values: readonly string[] = registeredSecrets()): void {
  if (process.env.GITHUB_ACTIONS === "true") {
    for (const v of values) for (const line of v.split(/\r?\n/)) if (line.trim() !== "") process.stdout.write(`::add-mask::${line}\n`);
  }
  process.stdout.write(text);
}

export function isInteractive(): boolean {
  return Boolean(process.stderr.isTTY) && process.env.CI !== "true" && process.env.GITHUB_ACTIONS !== "true";
}

/**
 * Whether a spinner may draw on stderr: an interactive terminal that reports its width (a pseudo-terminal
 * of width 0 sends ora into an endless erase loop).
 */
function canSpin(): boolean {
  return isInteractive() && (process.stderr.columns ?? 0) > 0;
}

/**
 * A spinner on stderr while `work` runs, only on an interactive terminal (never in CI or pipes, where it
 * would only add noise to logs). ora is loaded only then.
 */
export async function withSpinner<T>(text: string, work: () => Promise<T>): Promise<T> {
  if (!canSpin()) return work();
  const { default: ora } = await import("ora");
  const spinner = ora({ text, stream: process.stderr, color: "cyan", isEnabled: true }).start();
  try {
    return await work();
  } finally {
    spinner.stop();
  }
}

export interface Progress {
  update(text: string): void;
  stop(): void;
}

/**
 * A spinner on stderr whose text can change (`validating 3/29: production`), only on an interactive
 * terminal; elsewhere (pipes, CI logs, GitHub Actions) both methods do nothing and ora is never loaded.
 */
export async function startProgress(text: string): Promise<Progress> {
  if (!canSpin()) return { update: () => {}, stop: () => {} };
  const { default: ora } = await import("ora");
  const spinner = ora({ text, stream: process.stderr, color: "cyan", isEnabled: true, discardStdin: false }).start();
  return { update: (t) => { spinner.text = t; }, stop: () => { spinner.stop(); } };
}
