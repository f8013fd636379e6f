#!/usr/bin/env node
// `npm run lint`'s package check: packs strata-config and @strata-config/client as `npm publish` would
// (each prepack builds), then lints the tarballs with publint (package.json fields, exports, files) and
// @arethetypeswrong/cli (every export's types resolve, under node10, node16 CJS and ESM, and bundlers).
// Both read the tarball only: no network. One rule is off: `cjs-resolves-to-esm`, attw's warning that
// `require()` of these ES modules needs Node 22.12+, which is exactly what `engines` requires (and what
// test/package/install.test.ts runs: require() and a nodenext CommonJS consumer on Node 22 and 24).
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
const out = mkdtempSync(join(tmpdir(), "strata-check-package-"));

function run(command, args, options = {}) {
  const r = spawnSync(command, args, { cwd: root, encoding: "utf8", ...options });
  if (r.status !== 0) {
    process.stderr.write(`${r.stdout ?? ""}${r.stderr ?? ""}`);
    throw new Error(`${[command, ...args].join(" ")} exited ${r.status ?? r.signal}`);
  }
  return r.stdout;
}

function pack(args) {
  const stdout = run("npm", ["pack", "--json", "--pack-destination", out, ...args], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  // The JSON report follows whatever the prepack scripts printed.
  const info = JSON.parse(stdout.slice(stdout.search(/^\[/m)));
  return join(out, info[0].filename);
}

try {
  const tarballs = [pack([]), pack(["--workspace", "@strata-config/client"])];
  const bin = (name) => join(root, "node_modules", ".bin", name);
  for (const tarball of tarballs) {
    process.stdout.write(run(bin("publint"), ["run", "--strict", tarball]));
    process.stdout.write(
      run(bin("attw"), [tarball, "--format", "table-flipped", "--ignore-rules", "cjs-resolves-to-esm"]),
    );
  }
} catch (error) {
  process.stderr.write(`${error.message}\n`);
  process.exitCode = 1;
} finally {
  rmSync(out, { recursive: true, force: true });
}
