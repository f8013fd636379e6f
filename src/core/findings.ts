/**
 * Findings are problems in user content, reported as data (all of them, never just the first).
 * Operational failures are {@link StrataError}s. Both carry a stable code (docs/reference.md, "Error codes and exit codes").
 */

/** The error codes (stable; in messages and JSON; listed in docs/reference.md). */
export const ERROR_CODES = [
  "yaml-syntax",
  "yaml-limit",
  "duplicate-key",
  "invalid-key",
  "invalid-name",
  "missing-repository",
  "invalid-schema",
  "unknown-environment",
  // A service the environment does not run (strata.yaml `services:`), or one the endpoint has nothing of.
  "unknown-service",
  "circular-inheritance",
  "unknown-namespace",
  "unknown-key",
  "invalid-type",
  "constraint-violation",
  "missing-required",
  "sensitive-in-plaintext",
  "duplicate-definition",
  "invalid-merge",
  "circular-reference",
  "unresolved-reference",
  "decryption-failed",
  "mac-mismatch",
  "mac-missing",
  "unknown-ref",
  "shallow-clone",
  "unauthenticated",
  "access-denied",
  "version-conflict",
  "invalid-signature",
  "digest-mismatch",
  "invalid-snapshot",
  "payload-too-large",
  "approval-required",
  "insufficient-approvals",
  "push-failed",
  "store-corrupt",
  // The endpoint has no such resource: a path no route serves, a version the environment does not have.
  "not-found",
  // Beyond the content codes: needed to classify failures of the invocation itself.
  "invalid-argument",
  "unreadable-file",
  "unreachable",
  "invalid-config",
  "internal",
  // A `.sops.yaml` file that is not a SOPS document sops would write (no metadata, no version, no MAC):
  // content, so exit 1 even when no key is at hand (`validate --skip-secrets`).
  "invalid-sops-file",
  // Hand-offs to deployment tools (docs/deploy.md): a value the chosen output format cannot carry
  // unchanged, and a `<sensitive>` placeholder that would reach a tool instead of the value.
  "unrepresentable-value",
  "sensitive-placeholder",
  // `rollback --open-revert`: the revert of the rolled-back version's commit does not apply to the default branch.
  "revert-conflict",
  // Progressive delivery (docs/rollouts.md): a push during a freeze window without the emergency path; an
  // operator action the rollout's phase does not allow (or a chain with no rollout to act on); a client that
  // reports faster than its rate allows.
  "rollout-frozen",
  "rollout-conflict",
  "rate-limited",
] as const;
export const WARNING_CODES = [
  "yaml-1.1-ambiguity",
  "secrets-skipped",
  "unset-nothing",
  "deprecated-key",
  "sops-version",
  // Two keys that become one variable name (docs/deploy.md): env, dotenv and exec refuse such a config.
  "variable-name-collision",
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];
export type WarningCode = (typeof WARNING_CODES)[number];
export type Code = ErrorCode | WarningCode;

export type Severity = "error" | "warning";

/** One problem in user content, located where the user can fix it. */
export interface Finding {
  code: Code;
  severity: Severity;
  message: string;
  /** POSIX path relative to the repository root, or null. */
  file: string | null;
  /** 1-based. */
  line: number | null;
  /** 1-based. */
  column: number | null;
  environment: string | null;
  /**
   * Every environment the problem affects, sorted (a mistake in a shared layer fails all that inherit
   * it); `environment` is the one it was found in first. Empty when `environment` is null.
   */
  environments: string[];
  key: string | null;
  hint: string | null;
}

export type FindingInit = Pick<Finding, "code" | "message"> & Partial<Omit<Finding, "code" | "message">>;

/** Where in a file: 1-based line and column. */
export interface SourcePosition {
  file: string;
  line: number;
  column: number;
}

/** A finding at a position: the message gets its `file:line:column: ` prefix here, so a location is written once. */
export function findingAt(
  code: Code,
  at: SourcePosition,
  message: string,
  extra: Omit<FindingInit, "code" | "message" | "file" | "line" | "column"> = {},
): Finding {
  return createFinding({
    ...extra,
    code,
    message: `${at.file}:${at.line}:${at.column}: ${message}`,
    file: at.file,
    line: at.line,
    column: at.column,
  });
}

export function createFinding(init: FindingInit): Finding {
  const severity = init.severity ?? ((WARNING_CODES as readonly string[]).includes(init.code) ? "warning" : "error");
  return {
    code: init.code,
    severity,
    message: init.message,
    file: init.file ?? null,
    line: init.line ?? null,
    column: init.column ?? null,
    environment: init.environment ?? null,
    environments: init.environments ?? (init.environment ? [init.environment] : []),
    key: init.key ?? null,
    hint: init.hint ?? null,
  };
}

/** The exit codes (docs/reference.md). */
export const EXIT = { ok: 0, findings: 1, usage: 2, secrets: 3, distribution: 4, internal: 70 } as const;
export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/** Which exit code each code maps to when it is an error. */
export function exitCodeFor(code: Code): ExitCode {
  switch (code) {
    case "missing-repository":
    case "unknown-environment":
    case "unknown-service":
    case "unknown-ref":
    case "shallow-clone":
    case "invalid-argument":
    case "unreadable-file":
      return EXIT.usage;
    case "decryption-failed":
    case "mac-mismatch":
    case "mac-missing":
      return EXIT.secrets;
    case "unauthenticated":
    case "access-denied":
    case "version-conflict":
    case "unreachable":
    case "invalid-signature":
    case "digest-mismatch":
    case "invalid-snapshot":
    case "payload-too-large":
    case "push-failed":
    case "store-corrupt":
    case "not-found":
    case "rollout-frozen":
    case "rollout-conflict":
    case "rate-limited":
      return EXIT.distribution;
    case "internal":
      return EXIT.internal;
    default:
      return EXIT.findings;
  }
}

/** A key that could not open an encrypted file (exit 3): the findings `validate --skip-secrets` would not have. */
export function isSecretFailure(code: Code): boolean {
  return exitCodeFor(code) === EXIT.secrets;
}

/** All findings are reported; the exit code is the first that applies in the order 70, 2, 3, 4, 1. */
const PRECEDENCE: readonly ExitCode[] = [EXIT.internal, EXIT.usage, EXIT.secrets, EXIT.distribution, EXIT.findings];
export function combineExitCodes(codes: Iterable<ExitCode>): ExitCode {
  const seen = new Set(codes);
  for (const c of PRECEDENCE) if (seen.has(c)) return c;
  return EXIT.ok;
}

/**
 * Findings are content problems: exit 1, except that content strata could not open for lack of keys
 * is exit 3. (An unknown parent in strata.yaml is content; an unknown `--env` is thrown, exit 2.)
 */
export function exitCodeForFindings(findings: readonly Finding[]): ExitCode {
  return combineExitCodes(
    findings
      .filter((f) => f.severity === "error")
      .map((f) => {
        const exit = exitCodeFor(f.code);
        return exit === EXIT.secrets || exit === EXIT.internal ? exit : EXIT.findings;
      }),
  );
}

/** An operational failure with a stable code and an actionable hint; never carries secret plaintext. */
export class StrataError extends Error {
  readonly code: Code;
  readonly hint: string | null;
  readonly exitCode: ExitCode;
  readonly finding: Partial<Finding> | undefined;
  constructor(
    code: Code,
    message: string,
    options: { hint?: string; cause?: unknown; exitCode?: ExitCode; finding?: Partial<Finding> } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "StrataError";
    this.code = code;
    this.hint = options.hint ?? null;
    this.exitCode = options.exitCode ?? exitCodeFor(code);
    this.finding = options.finding;
  }
}

/**
 * An operational failure at a position in a file: like {@link findingAt}, the message gets its
 * `file:line:column: ` prefix here and the location goes into `finding`, so a location is written once.
 */
export function errorAt(
  code: Code,
  at: SourcePosition,
  message: string,
  options: { hint?: string; cause?: unknown; exitCode?: ExitCode; finding?: Partial<Finding> } = {},
): StrataError {
  return new StrataError(code, `${at.file}:${at.line}:${at.column}: ${message}`, {
    ...options,
    finding: { ...options.finding, file: at.file, line: at.line, column: at.column },
  });
}

export function isStrataError(e: unknown): e is StrataError {
  return e instanceof StrataError;
}

/** Names in the order people count them: e2 before e10. */
const environmentCollator = new Intl.Collator("en", { numeric: true });
export function compareEnvironmentNames(a: string, b: string): number {
  return environmentCollator.compare(a, b) || (a < b ? -1 : a > b ? 1 : 0);
}

/**
 * The same problem found while checking several environments (a shared layer), once, with every
 * environment it affects; order of first appearance is kept.
 */
export function mergeFindings(findings: readonly Finding[]): Finding[] {
  const byId = new Map<string, Finding>();
  for (const f of findings) {
    const id = `${f.code}|${f.severity}|${f.file}|${f.line}|${f.column}|${f.key}|${f.message}`;
    const seen = byId.get(id);
    if (!seen) {
      byId.set(id, { ...f, environments: [...f.environments] });
      continue;
    }
    for (const env of f.environments) if (!seen.environments.includes(env)) seen.environments.push(env);
  }
  for (const f of byId.values()) f.environments.sort(compareEnvironmentNames);
  return [...byId.values()];
}

export function compareFindings(a: Finding, b: Finding): number {
  return (
    (a.file ?? "").localeCompare(b.file ?? "") ||
    (a.line ?? 0) - (b.line ?? 0) ||
    (a.column ?? 0) - (b.column ?? 0) ||
    (a.environment ?? "").localeCompare(b.environment ?? "") ||
    a.code.localeCompare(b.code)
  );
}
