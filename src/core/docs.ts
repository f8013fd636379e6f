/**
 * Links to the manual. docs/ is not in the npm package, so help text and hints that send the reader to a
 * page link to it in the repository at the tag of the running version: the page describes the strata the
 * reader has, not whatever main says today.
 */
import { VERSION } from "./version.js";

export const DOCS_PAGES = [
  "dashboard",
  "deploy",
  "diff",
  "distribution",
  "editors",
  "github",
  "openfeature",
  "performance",
  "reference",
  "rollouts",
  "runtime",
  "secrets",
  "typegen",
] as const;
export type DocsPage = (typeof DOCS_PAGES)[number];

const REPOSITORY = "https://github.com/strata-config/strata";

/** `https://github.com/strata-config/strata/blob/v<version>/docs/<page>.md[#anchor]`. */
export function docsUrl(page: DocsPage, anchor?: string): string {
  return `${REPOSITORY}/blob/v${VERSION}/docs/${page}.md${anchor ? `#${anchor}` : ""}`;
}
