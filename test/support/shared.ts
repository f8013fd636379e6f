// The shared/ folder beside the checkout (CI clones the repository with it next door).
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";

export const sharedDir = fileURLToPath(new URL("../../../shared", import.meta.url));
export const generatorPath = `${sharedDir}/bench/gen-config-repo.mjs`;
export const hasShared = existsSync(generatorPath);
