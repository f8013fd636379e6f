/**
 * `strata typegen`: the TypeScript declaration of the repository's effective config (docs/typegen.md).
 * Reads strata.yaml and the schemas only: values, environments and secrets play no part in the types.
 */
import { basename, dirname, isAbsolute, relative, resolve, sep } from "node:path";
import { StrataError, type Finding } from "../core/findings.js";
import { shellWord } from "../core/render/shell.js";
import type { Services } from "../core/services/services.js";
import { suggestClosest } from "../core/suggest.js";
import { docsUrl } from "../core/docs.js";
import { generateTypes } from "../core/schema/typegen.js";
import type { RepoFiles } from "../core/source.js";
import { outputDirectory, readTextFile, writeFileInside } from "../io/fs/files.js";
import { loadRepository } from "./repository.js";

export interface TypegenOptions {
  files: RepoFiles;
  /** The repository root on disk, to name `out` relative to it in the header. */
  root: string;
  /** Where the file goes (relative to `cwd`); undefined: the caller prints `text`. */
  out?: string;
  cwd?: string;
  /** Compare with `out` instead of writing it (CI: are the checked-in types current?). */
  check?: boolean;
  /** Only the namespaces this service declares (strata.yaml `services:`): what its snapshot holds. */
  service?: string;
}

export interface TypegenResult {
  /** The declaration, or null when the schemas have errors (then nothing was written). */
  text: string | null;
  /** Problems in the schema files (all of them). */
  findings: Finding[];
  namespaces: string[];
  /** The file written, as given. */
  written: string | null;
  /** With `check`: whether `out` already holds exactly `text`. */
  upToDate: boolean | null;
  /** The command that regenerates `out`, as the file's header names it. */
  command: string;
  /** How many leaf key paths the declaration has. */
  keyPaths: number;
}

/**
 * The command that regenerates the file, for its header, the same whatever the working directory: run
 * from the repository root when the file is inside the repository, else from the file's directory.
 */
function typegenCommand(
  root: string,
  out: string | undefined,
  cwd: string = process.cwd(),
  service: string | undefined = undefined,
): string {
  const typegen = service === undefined ? "strata typegen" : `strata typegen --service ${shellWord(service)}`;
  if (out === undefined) return typegen;
  const file = resolve(cwd, out);
  const rel = relative(root, file);
  if (rel !== "" && !rel.startsWith("..") && !isAbsolute(rel)) return `${typegen} --out ${shellWord(toPosix(rel))}`;
  return `${typegen} --repo ${shellWord(toPosix(relative(dirname(file), root)) || ".")} --out ${shellWord(basename(file))}`;
}

function toPosix(p: string): string {
  return p.split(sep).join("/");
}

export async function runTypegen(options: TypegenOptions): Promise<TypegenResult> {
  const cwd = options.cwd ?? process.cwd();
  const command = typegenCommand(options.root, options.out, cwd, options.service);
  // No environment's layers are needed (with an empty set, values files are not even read), nor
  // compiled validators: the schemas are checked against the meta-schema, which locates what typegen
  // cannot read; strict-mode checks of keywords are `strata validate`'s.
  const repo = await loadRepository(options.files, { environments: new Set(), secrets: null, compile: false });
  const service = options.service === undefined ? null : repo.services.get(options.service);
  if (service === undefined) throw unknownService(repo.services, options.service!);
  // A service's types: its namespaces only, and its declaration's problems (a namespace without a schema).
  const ownFinding = (f: Finding): boolean =>
    (f.file !== null && f.file.startsWith("schemas/")) ||
    (service !== null && f.key !== null && f.key.startsWith(`services.${service.name}.`));
  const findings = repo.findings.filter(ownFinding);
  const namespaces = service === null ? repo.namespaces : repo.namespaces.filter((n) => service.namespaces.includes(n));
  const base = { findings, namespaces, written: null, upToDate: null, command, keyPaths: 0 };
  if (findings.some((f) => f.severity === "error")) return { ...base, text: null };
  if (repo.namespaces.length === 0) {
    throw new StrataError("invalid-argument", `no schemas in ${options.files.label}: nothing to generate types from`, {
      hint: "add schemas/<namespace>.schema.yaml, or pass --repo DIR with the configuration repository",
    });
  }
  const { text, keyPaths } = generateTypes(
    namespaces.map((ns) => {
      const s = repo.schemas.get(ns)!;
      return { name: ns, file: s.file, schema: s.schema };
    }),
    { command },
  );
  if (options.out === undefined) {
    if (options.check) throw new StrataError("invalid-argument", "--check needs --out FILE: the file to compare with");
    return { ...base, text, keyPaths };
  }
  const file = resolve(cwd, options.out);
  if (options.check) {
    let current: string | null = null;
    try {
      current = await readTextFile(file);
    } catch (cause) {
      if ((cause as NodeJS.ErrnoException).code !== "ENOENT")
        throw new StrataError(
          "unreadable-file",
          `cannot read ${options.out}: ${(cause as NodeJS.ErrnoException).code ?? "error"}`,
          { cause },
        );
    }
    return { ...base, text, keyPaths, upToDate: current === text };
  }
  // Inside the repository when it is there, else in the directory named: never through a link out of it.
  await writeFileInside(file, text, { within: outputDirectory(file, options.root), label: options.out });
  return { ...base, text, keyPaths, written: options.out };
}

function unknownService(services: Services, name: string): StrataError {
  const known = [...services.keys()];
  const near = suggestClosest(name, known);
  return new StrataError("invalid-argument", `strata.yaml declares no service "${name}"`, {
    hint:
      known.length === 0
        ? `declare it under services: in strata.yaml (${docsUrl("distribution", "services")})`
        : `${near !== null ? `did you mean "${near}"? ` : ""}services: ${known.join(", ")}`,
  });
}
