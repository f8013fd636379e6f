// dist/ is not committed and nothing builds it at install time (package.json has no `prepare`: a global
// install from git or a tarball must not need tsc). `npm start` calls this first: it runs the build when dist/
// is missing or older than any source or tsconfig file, so `npm ci && npm start` works on a fresh clone.
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));

function newestMtime(dir) {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(p) : statSync(p).mtimeMs);
  }
  return newest;
}

/** True when dist/ needs a build: missing (the CLI, the dashboard or the SDK package), or older than src/, ui/ or a tsconfig. */
export function isDistStale() {
  const stamps = [
    join(root, "dist", "cli", "main.js"),
    join(root, "dist", "ui", "index.html"),
    // The SDK package, which `strata-config/client` re-exports (the examples and benchmarks import it).
    join(root, "packages", "client", "dist", "client", "index.js"),
  ];
  if (!stamps.every((f) => existsSync(f))) return true;
  const built = Math.min(...stamps.map((f) => statSync(f).mtimeMs));
  const configs = readdirSync(root)
    .filter((f) => /^tsconfig.*\.json$/.test(f))
    .map((f) => statSync(join(root, f)).mtimeMs);
  const sources = ["src", "ui"].filter((d) => existsSync(join(root, d))).map((d) => newestMtime(join(root, d)));
  return Math.max(...sources, ...configs) > built;
}

export function ensureBuilt() {
  if (!isDistStale()) return;
  process.stderr.write("dist/ is missing or older than src/: npm run build\n");
  // `npm run build`, not tsc directly: the build script is the one place that says what a build is.
  const r = spawnSync("npm", ["run", "--silent", "build"], { cwd: root, stdio: ["ignore", "inherit", "inherit"] });
  if (r.status !== 0) throw new Error(`npm run build exited ${r.status ?? r.signal}`);
}
