/**
 * Every byte the CLI prints goes through here, and honours NO_COLOR (chalk 5 ignores it). Data on
 * stdout, logs and progress on stderr. Human text and logs pass the text redactor; data (and JSON or
 * workflow-command reports, already scrubbed field by field) is written as rendered, since a substring
 * scrub could make valid output invalid (docs/secrets.md, "Redaction").
 */
import { Chalk, type ChalkInstance } from "chalk";
import { redact, registeredSecrets } from "../core/redact.js";
import { appendFileSync } from "node:fs";
import { escapeData, escapeProperty } from "./render/escape.js";

/**
 * The colour level of a stream: `NO_COLOR` (any non-empty value), `FORCE_COLOR=0` (or `false`) and
 * `TERM=dumb` turn colour off; any other `FORCE_COLOR` turns it on; otherwise only a terminal gets it.
 */
export function colorLevel(env: NodeJS.ProcessEnv, isTTY: boolean): 0 | 1 | 2 | 3 {
  if ("NO_COLOR" in env && env.NO_COLOR !== "") return 0;
  const force = env.FORCE_COLOR;
  if (force === "0" || force === "false") return 0;
  if (force !== undefined) return 1;
  if (env.TERM === "dumb" || !isTTY) return 0;
  return env.COLORTERM === "truecolor" ? 3 : 1;
}

export const color: ChalkInstance = new Chalk({ level: colorLevel(process.env, Boolean(process.stdout.isTTY)) });
export const errColor: ChalkInstance = new Chalk({ level: colorLevel(process.env, Boolean(process.stderr.isTTY)) });

/** Print human-readable text to stdout, scrubbed of every registered secret. */
export function print(text: string): void {
  process.stdout.write(redact(text.endsWith("\n") || text === "" ? text : text + "\n"));
}

/**
 * Print data to stdout as rendered: its sensitive leaves were replaced where it was rendered
 * (redactConfig, redactJson, the workflow-command renderers), never by scrubbing the text.
 */
export function printData(text: string): void {
  process.stdout.write(text.endsWith("\n") || text === "" ? text : text + "\n");
}

/** Print to stderr, scrubbed. */
export function log(text: string): void {
  process.stderr.write(redact(text.endsWith("\n") ? text : text + "\n"));
}

/** The `::add-mask::` commands for values: each whole value and each of its lines, however short. */
export function maskCommands(values: Iterable<string>): string[] {
  const masks = new Set<string>();
  for (const v of values) {
    if (v === "") continue;
    masks.add(v);
    // The runner masks a multi-line value line by line only if each line is registered too.
    for (const line of v.split(/\r\n|\r|\n/)) if (line !== "") masks.add(line);
  }
  return [...masks].map((m) => `::add-mask::${escapeData(m)}\n`);
}

/**
 * Print plaintext on purpose (`--show-secrets`, `secrets decrypt`). Under GitHub Actions every value is
 * first registered as a mask, on stderr (the runner reads workflow commands from both streams), so
 * stdout stays exactly the data: `> file` gets valid JSON or YAML.
 */
export function printPlaintext(text: string | Uint8Array, values: Iterable<string> = registeredSecrets()): void {
  if (process.env.GITHUB_ACTIONS === "true") process.stderr.write(maskCommands(values).join(""));
  process.stdout.write(text);
}

function isInteractive(): boolean {
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
  return {
    update: (t) => {
      spinner.text = t;
    },
    stop: () => {
      spinner.stop();
    },
  };
}

/** GitHub mode: the CLI runs as a step of GitHub Actions (`GITHUB_ACTIONS=true`). */
export function githubMode(): boolean {
  return process.env.GITHUB_ACTIONS === "true";
}

/**
 * The one writer of the job summary: appends markdown to `$GITHUB_STEP_SUMMARY` when it is set (a no-op
 * elsewhere), scrubbed of every registered secret. The summary is an output channel of the command, like
 * stdout, so it lives here rather than in src/io.
 */
export function appendStepSummary(markdown: string): void {
  const file = process.env.GITHUB_STEP_SUMMARY;
  if (!file) return;
  appendFileSync(file, redact(markdown.endsWith("\n") ? markdown : `${markdown}\n`));
}

export interface AnnotationPlace {
  file?: string | null;
  line?: number | null;
  column?: number | null;
}

/**
 * An `::error` workflow command titled with the code, located when it has a place, the hint on the next
 * line. Secrets are scrubbed from each part before escaping (after escaping a secret with `%` or a newline
 * would no longer match).
 */
export function errorAnnotation(code: string, message: string, hint: string | null, at: AnnotationPlace = {}): string {
  const props: string[] = [];
  if (at.file) props.push(`file=${escapeProperty(redact(at.file))}`);
  if (at.file && at.line) props.push(`line=${at.line}`);
  if (at.file && at.line && at.column) props.push(`col=${at.column}`);
  props.push(`title=${escapeProperty(code)}`);
  return `::error ${props.join(",")}::${escapeData(redact(hint ? `${message}\nhint: ${hint}` : message))}\n`;
}

/** Workflow commands (already escaped and scrubbed field by field) to stderr, where errors go. */
export function printAnnotations(text: string): void {
  if (text !== "") process.stderr.write(text);
}
