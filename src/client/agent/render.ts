/** The agent's output formats: the effective configuration as JSON, YAML or dotenv lines. */
import { envName, shellQuote } from "../../core/render-config.js";

export type OutputFormat = "json" | "yaml" | "dotenv";
export const OUTPUT_FORMATS: readonly OutputFormat[] = ["json", "yaml", "dotenv"];

function leaves(node: unknown, path: string, out: [string, unknown][]): void {
  if (typeof node === "object" && node !== null && !Array.isArray(node) && Object.keys(node).length > 0) {
    for (const [k, v] of Object.entries(node)) leaves(v, path === "" ? k : `${path}.${k}`, out);
  } else if (path !== "") out.push([path, node]);
}

/** `NAME='value'` lines (dotted paths upper-cased, `.` and `-` as `_`; lists and maps as JSON). */
export function renderDotenv(tree: unknown): string {
  const all: [string, unknown][] = [];
  leaves(tree, "", all);
  return all
    .map(
      ([path, v]) =>
        `${envName(path)}=${shellQuote(v !== null && typeof v === "object" ? JSON.stringify(v) : v === null ? "" : String(v))}\n`,
    )
    .join("");
}

export async function renderOutput(tree: unknown, format: OutputFormat): Promise<string> {
  switch (format) {
    case "json":
      return JSON.stringify(tree, null, 2) + "\n";
    case "yaml": {
      // Loaded only by agents that write YAML.
      const { stringify } = await import("yaml");
      return stringify(tree);
    }
    case "dotenv":
      return renderDotenv(tree);
  }
}

/** The format a file name implies (`.yaml`/`.yml`, `.env`), else JSON. */
export function formatForPath(path: string): OutputFormat {
  if (/\.ya?ml$/i.test(path)) return "yaml";
  if (/(^|[./])env$/i.test(path)) return "dotenv";
  return "json";
}
