// @module-tag e2e
// `strata serve` says where it listens (its URL, the one line on stdout) and, when it cannot listen, what
// to do about it: another --listen address, or port 0 for any free one.
import { spawn } from "node:child_process";
import { createServer, type Server } from "node:net";
import { afterAll, describe, expect, it } from "vitest";
import { cliPath, strata } from "../support/cli.js";
import { killOnExit } from "../support/daemons.js";
import { cleanupTempdirs, tempdir } from "../support/gitdir.js";
import { newKey } from "../support/snapshots.js";
import { writeFileSync } from "node:fs";
import { join } from "node:path";

afterAll(cleanupTempdirs);

function keysFile(): string {
  const file = join(tempdir(), "trusted.txt");
  writeFileSync(file, `${newKey().key.publicKey.text}\n`);
  return file;
}

describe("strata serve --listen", () => {
  it("on a busy port: exit 2, and the hint names --listen", async () => {
    const busy: Server = createServer();
    await new Promise<void>((resolve) => busy.listen(0, "127.0.0.1", resolve));
    const port = (busy.address() as { port: number }).port;
    try {
      const r = await strata([
        "serve",
        "--store",
        `file:${tempdir()}`,
        "--trusted-keys",
        keysFile(),
        "--listen",
        `127.0.0.1:${port}`,
      ]);
      expect(r.exitCode).toBe(2);
      expect(r.stderr).toContain(`cannot listen on 127.0.0.1:${port}: EADDRINUSE`);
      expect(r.stderr).toMatch(/hint: .*--listen HOST:PORT.*--listen 127\.0\.0\.1:0/);
      expect(r.stdout).toBe("");
    } finally {
      busy.close();
    }
  });

  it("on port 0: prints the URL it listens on as the one line of stdout, once it accepts connections", async () => {
    const child = spawn(
      process.execPath,
      [cliPath, "serve", "--store", `file:${tempdir()}`, "--trusted-keys", keysFile(), "--listen", "127.0.0.1:0"],
      { stdio: ["ignore", "pipe", "ignore"], env: { ...process.env, NO_COLOR: "1" } },
    );
    killOnExit(child);
    try {
      const line = await new Promise<string>((resolve, reject) => {
        let out = "";
        child.stdout!.on("data", (d: Buffer) => {
          out += d.toString();
          if (out.includes("\n")) resolve(out);
        });
        child.once("exit", (code) => reject(new Error(`serve exited ${code}`)));
      });
      expect(line).toMatch(/^http:\/\/127\.0\.0\.1:\d+\n$/);
      const health = await fetch(`${line.trim()}/healthz`);
      expect(health.status).toBe(200);
    } finally {
      child.kill("SIGTERM");
    }
  });
});
