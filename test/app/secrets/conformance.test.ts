import { readdirSync, readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { openSopsText } from "../../../src/app/secrets/open.js";
import { treeToJson } from "../../../src/core/sops/document.js";
import { formatForPath } from "../../../src/core/sops/stores/index.js";
import { Branch, Comment, type TreeValue } from "../../../src/core/sops/tree.js";
import { conformance, lacking } from "../../support/shared.js";
import { keyEnv, SOPS_AGE_KEY, testGnupgHome } from "./keys.js";

const missing = lacking("the conformance corpus", { tool: "gpg" });

interface Expected {
  fixture: string;
  key_type: string;
  format: string;
  mac: string;
  documents: unknown[];
  decrypted_comments: string[];
}

const expectedFiles = missing ? [] : readdirSync(conformance("expected")).filter((f) => f.endsWith(".json"));
const cases = expectedFiles.map((f) => JSON.parse(readFileSync(conformance(`expected/${f}`), "utf8")) as Expected);

function comments(v: TreeValue, out: string[] = []): string[] {
  if (v instanceof Branch)
    for (const i of v.items) {
      if (i.key instanceof Comment) out.push(i.key.value);
      else comments(i.value, out);
    }
  else if (Array.isArray(v))
    for (const x of v) {
      if (x instanceof Comment) out.push(x.value);
      else comments(x, out);
    }
  return out;
}

function envFor(c: Expected): NodeJS.ProcessEnv {
  return c.key_type === "age" ? keyEnv({ SOPS_AGE_KEY }) : keyEnv({ GNUPGHOME: testGnupgHome() });
}

describe.skipIf(missing)("the conformance corpus decrypts to its documents", () => {
  it("has all 18 fixtures", () => expect(cases).toHaveLength(18));

  it.each(cases.map((c) => [c.fixture, c] as const))("%s", async (_name, c) => {
    const text = readFileSync(conformance(c.fixture), "utf8");
    const opened = await openSopsText(text, formatForPath(c.fixture), {
      file: c.fixture,
      env: envFor(c),
      ignoreMac: c.mac !== "OK",
    });
    expect(opened.plain.map((b) => treeToJson(b))).toEqual(c.documents);
    const decrypted = opened.plain.flatMap((b) => comments(b)).filter((x) => !x.startsWith("ENC["));
    if (c.decrypted_comments.length > 0) expect(decrypted).toEqual(c.decrypted_comments);
  });

  it("refuses no_mac.yaml without --ignore-mac", async () => {
    const f = "sops/functional-tests/res/no_mac.yaml";
    await expect(
      openSopsText(readFileSync(conformance(f), "utf8"), "yaml", {
        file: f,
        env: keyEnv({ GNUPGHOME: testGnupgHome() }),
      }),
    ).rejects.toMatchObject({
      code: "mac-missing",
      exitCode: 3,
      message: expect.stringContaining("no_mac.yaml: the file has no MAC"),
    });
  });
});
