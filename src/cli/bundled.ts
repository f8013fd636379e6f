import { readFileSync } from "node:fs";

/**
 * What the single-file bundle (scripts/bundle.mjs, used by the GitHub Action) carries inside itself: it
 * ships without package.json and templates/, so esbuild's `define` replaces STRATA_BUNDLE with their
 * contents. Under tsc (dist/, the npm package) the identifier is never defined and both are read from
 * the package's files.
 */
declare const STRATA_BUNDLE: { version: string; workflowTemplate: string } | undefined;

export const bundled: { version: string; workflowTemplate: string } | null =
  typeof STRATA_BUNDLE === "undefined" ? null : STRATA_BUNDLE;

/** strata's version: the bundle's own, else package.json's. */
export function packageVersion(): string {
  if (bundled) return bundled.version;
  const pkg = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as { version: string };
  return pkg.version;
}
