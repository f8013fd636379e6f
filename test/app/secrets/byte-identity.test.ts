import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { openSopsText } from "../../../src/app/secrets/open.js";
import { sealSopsText } from "../../../src/app/secrets/seal.js";
import { formatForPath } from "../../../src/core/sops/stores/index.js";
import { conformance, lacking } from "../../support/shared.js";
import { keyEnv, testGnupgHome } from "./keys.js";

const missing = lacking("byte identity with sops", { tool: "gpg" });

describe.skipIf(missing)(
  "byte identity with sops 3.13: decrypt, re-encrypt with the same key, IVs and metadata",
  () => {
    it.each([
      "sops/functional-tests/res/format.enc.yaml",
      "sops/functional-tests/res/format.enc.json",
      "sops/functional-tests/res/format.enc.env",
      "sops/functional-tests/res/format.enc.ini",
    ])("%s", async (f) => {
      const text = readFileSync(conformance(f), "utf8");
      const format = formatForPath(f);
      const opened = await openSopsText(text, format, { file: f, env: keyEnv({ GNUPGHOME: testGnupgHome() }) });
      const again = sealSopsText(opened.plain, format, opened.metadata, opened.dataKey, {
        file: f,
        ivCache: opened.ivCache,
        keepLastModified: true,
      });
      expect(again).toBe(text);
    });

    it('format-2.enc.ini comes back without its """ values', async () => {
      const f = "sops/functional-tests/res/format-2.enc.ini";
      const text = readFileSync(conformance(f), "utf8");
      const opened = await openSopsText(text, "ini", { file: f, env: keyEnv({ GNUPGHOME: testGnupgHome() }) });
      const again = sealSopsText(opened.plain, "ini", opened.metadata, opened.dataKey, {
        file: f,
        ivCache: opened.ivCache,
        keepLastModified: true,
      });
      expect(again).not.toContain('"""');
      expect(again.replace(/\\n/g, "\n")).toBe(text.replaceAll('"""', ""));
    });
  },
);
