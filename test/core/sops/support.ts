import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";

/** The shared conformance corpus, beside the repository (CI clones shared/ next to it). */
export const conformanceRoot = (() => {
  for (const rel of ["../../../../shared/conformance/sops/", "../../../../../shared/conformance/sops/"]) {
    const p = fileURLToPath(new URL(rel, import.meta.url));
    if (existsSync(p)) return p;
  }
  return "/work/shared/conformance/sops/";
})();

export function conformance(path: string): string {
  return conformanceRoot + path;
}
