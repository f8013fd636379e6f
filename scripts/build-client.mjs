#!/usr/bin/env node
// Builds the SDK package (packages/client, published as @strata-config/client) from src/: tsc compiles
// src/client/index.ts and exactly the modules it imports into packages/client/dist/ (a fresh one), and only
// the declarations its entry reaches stay. `npm run build` and the package's prepack both run this.
import { spawnSync } from "node:child_process";
import { rmSync } from "node:fs";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";
import { pruneDeclarations } from "./prune-declarations.mjs";

const pkg = fileURLToPath(new URL("../packages/client/", import.meta.url));
rmSync(`${pkg}dist`, { recursive: true, force: true });
const tsc = createRequire(import.meta.url).resolve("typescript/bin/tsc");
const r = spawnSync(process.execPath, [tsc, "-p", `${pkg}tsconfig.json`], { stdio: "inherit" });
if (r.status !== 0) {
  process.stderr.write("the SDK package (packages/client) does not compile\n");
  process.exit(r.status ?? 1);
}
pruneDeclarations(`${pkg}dist`, ["client/index.d.ts"]);
