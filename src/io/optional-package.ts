/**
 * Optional packages: AWS KMS (`@aws-sdk/client-kms`) and etcd (`etcd3`) are heavy and most installs use
 * neither, so package.json lists them as optional peer dependencies (npm does not install those) and
 * strata imports them only when a file has KMS keys or the store is etcd. When one is missing, the
 * user gets a message naming the package and how to install it, not a module-resolution stack trace.
 */
import { StrataError } from "../core/findings.js";

/**
 * Thrown when an optional package is not installed: an invocation problem (exit 2) whose message names
 * the package and the command that installs it.
 */
export class MissingPackageError extends StrataError {
  constructor(
    readonly packageName: string,
    readonly feature: string,
    cause: unknown,
  ) {
    super(
      "invalid-argument",
      `${feature} needs the optional package ${packageName}, which is not installed: run \`npm install -g ${packageName}\``,
      {
        hint: `install it where strata-config is installed: \`npm install -g ${packageName}\` for a global strata, \`npm install ${packageName}\` in a project that depends on strata-config`,
        cause,
      },
    );
    this.name = "MissingPackageError";
  }
}

/** True when `error` says that `packageName` itself (not one of its own dependencies) cannot be found. */
export function isMissingPackage(error: unknown, packageName: string): boolean {
  const e = error as { code?: unknown; message?: unknown } | null;
  if (e === null || typeof e !== "object") return false;
  if (e.code !== "ERR_MODULE_NOT_FOUND" && e.code !== "MODULE_NOT_FOUND") return false;
  const message = typeof e.message === "string" ? e.message : "";
  return message.includes(`'${packageName}'`) || message.includes(`"${packageName}"`);
}

/**
 * Runs `load` (a literal `import("pkg")`, so bundlers see the specifier) and turns "package not found"
 * into a MissingPackageError.
 */
export async function importOptional<T>(packageName: string, feature: string, load: () => Promise<T>): Promise<T> {
  try {
    return await load();
  } catch (error) {
    if (isMissingPackage(error, packageName)) throw new MissingPackageError(packageName, feature, error);
    throw error;
  }
}
