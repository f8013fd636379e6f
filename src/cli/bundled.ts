/**
 * What the single-file bundle (scripts/bundle.mjs, used by the GitHub Action) carries inside itself: it
 * ships without package.json and templates/, so esbuild's `define` replaces STRATA_BUNDLE with their
 * contents. Under tsc (dist/, the npm package) the identifier is never defined and both are read from
 * the package's files.
 */
declare const STRATA_BUNDLE: { version: string; workflowTemplate: string } | undefined;

export const bundled: { version: string; workflowTemplate: string } | null =
  typeof STRATA_BUNDLE === "undefined" ? null : STRATA_BUNDLE;
