import { readFile } from "node:fs/promises";
import { bundled } from "./bundled.js";

/** The GitHub workflow for config repositories, shipped in templates/ (also used by `strata init`). */
export async function loadWorkflowTemplate(): Promise<string> {
  if (bundled) return bundled.workflowTemplate;
  return readFile(new URL("../../templates/strata-workflow.yml", import.meta.url), "utf8");
}
