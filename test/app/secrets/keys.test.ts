// The gpg-agent a test's GNUPGHOME starts does not outlive the test file.
import { execFileSync, spawnSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { lacking } from "../../support/shared.js";
import { killGpgAgents, testGnupgHome } from "./keys.js";

const agentsFor = (home: string): string[] =>
  spawnSync("pgrep", ["-f", `gpg-agent --homedir ${home}`], { encoding: "utf8" })
    .stdout.split("\n")
    .filter(Boolean);

describe.skipIf(lacking("gpg-agent cleanup", { tool: "gpg" }, { tool: "gpgconf" }, { tool: "pgrep" }))(
  "test GNUPGHOMEs",
  () => {
    it("killGpgAgents stops the agent gpg started for the home (the file's afterAll calls it)", () => {
      const home = testGnupgHome();
      // Listing secret keys goes through the agent, which gpg starts on demand.
      execFileSync("gpg", ["--batch", "--list-secret-keys"], {
        env: { ...process.env, GNUPGHOME: home },
        stdio: "ignore",
      });
      expect(agentsFor(home)).not.toEqual([]);
      killGpgAgents();
      expect(agentsFor(home)).toEqual([]);
    });
  },
);
