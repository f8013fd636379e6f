/**
 * The output formats of an effective config (docs/deploy.md): one table, one renderer per format, shared by
 * `strata resolve`, `strata exec` (its variables) and `strata agent`. `dotenv` is what docker `--env-file`,
 * kubectl `--from-env-file` and systemd `EnvironmentFile=` read; `env` is the shell-sourceable form. Both,
 * like the manifests and exec, name variables the same way and refuse two keys of one name.
 */
import type { Finding } from "../findings.js";
import type { JsonValue } from "../json.js";
import { renderDotenv, renderManifest, renderShellLines, type ManifestOptions } from "./handoff.js";
import { collisionFindings, envVariables, leavesOfTree, type ConfigLeaf, type EnvVariable } from "./variables.js";

export type OutputFormat = "yaml" | "json" | "env" | "dotenv" | "configmap" | "secret";

export interface Rendered {
  /** Empty when findings refuse the output. */
  text: string;
  findings: Finding[];
}

interface TreeFormat {
  /** The config (or the value at `--key`) as a document. */
  input: "tree";
  description: string;
  render(value: JsonValue): Promise<string>;
}

interface VariablesFormat {
  /** One line per variable. */
  input: "variables";
  description: string;
  render(variables: readonly EnvVariable[]): Rendered;
}

interface ManifestFormat {
  /** A Kubernetes manifest of the variables. */
  input: "manifest";
  kind: ManifestOptions["kind"];
  description: string;
  render(variables: readonly EnvVariable[], options: Omit<ManifestOptions, "kind">): Promise<Rendered>;
}

type FormatSpec = TreeFormat | VariablesFormat | ManifestFormat;

const yaml = async (value: unknown): Promise<string> => (await import("./yaml.js")).renderYaml(value as JsonValue);

function manifest(kind: ManifestOptions["kind"], description: string): ManifestFormat {
  return {
    input: "manifest",
    kind,
    description,
    async render(variables, options) {
      const { manifest, findings } = renderManifest(variables, { ...options, kind });
      return { text: findings.length ? "" : await yaml(manifest), findings };
    },
  };
}

export const OUTPUT_FORMATS = {
  yaml: {
    input: "tree",
    description: "YAML that YAML 1.1 and 1.2 readers (helm, kubectl, PyYAML) read as the same values",
    render: yaml,
  },
  json: { input: "tree", description: "JSON", render: async (value) => JSON.stringify(value, null, 2) + "\n" },
  env: {
    input: "variables",
    description: "NAME='value' lines for a POSIX shell (`. ./app.env`, eval)",
    render: renderShellLines,
  },
  dotenv: {
    input: "variables",
    description: "NAME=value lines, read verbatim by docker --env-file, kubectl --from-env-file and systemd",
    render: renderDotenv,
  },
  configmap: manifest("ConfigMap", "a Kubernetes ConfigMap of the non-sensitive values"),
  secret: manifest("Secret", "a Kubernetes Secret of the sensitive values"),
} as const satisfies Record<OutputFormat, FormatSpec>;

export const OUTPUT_FORMAT_NAMES = Object.keys(OUTPUT_FORMATS) as OutputFormat[];

/** The leaves as variables, or (two keys of one name) the findings that refuse every variable format. */
export function toVariables(leaves: Iterable<ConfigLeaf>): { variables: EnvVariable[]; findings: Finding[] } {
  const { variables, collisions } = envVariables(leaves);
  return { variables, findings: collisionFindings(collisions) };
}

/** The formats a file of `strata agent` can have. */
export type FileFormat = "json" | "yaml" | "env" | "dotenv";

/**
 * A config tree (namespace -> value, as a snapshot holds it) as one file: what `strata agent` writes. The
 * text, or the findings that refuse it (two keys of one name, a value the format cannot carry).
 */
export async function renderConfigFile(format: FileFormat, tree: Record<string, JsonValue>): Promise<Rendered> {
  const spec = OUTPUT_FORMATS[format];
  if (spec.input === "tree") return { text: await spec.render(tree), findings: [] };
  const { variables, findings } = toVariables(leavesOfTree(tree));
  return findings.length > 0 ? { text: "", findings } : spec.render(variables);
}
