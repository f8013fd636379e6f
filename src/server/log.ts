import { redactJson } from "../core/redact.js";

export type LogFn = (level: "info" | "warn" | "error" | "debug", msg: string, fields?: Record<string, unknown>) => void;

const LEVELS = { debug: 10, info: 20, warn: 30, error: 40 } as const;

/**
 * Structured logs: one JSON object a line, scrubbed string by string (a text scrub could turn `true` or a
 * number into invalid JSON), to stderr unless told otherwise.
 */
export function createJsonLogger(options: { level?: keyof typeof LEVELS; write?: (line: string) => void } = {}): LogFn {
  const min = LEVELS[options.level ?? "info"];
  const write = options.write ?? ((line: string) => void process.stderr.write(line));
  return (level, msg, fields = {}) => {
    if (LEVELS[level] < min) return;
    write(JSON.stringify(redactJson({ time: new Date().toISOString(), level, msg, ...fields })) + "\n");
  };
}
