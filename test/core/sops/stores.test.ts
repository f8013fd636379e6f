import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { formatForPath, stores } from "../../../src/core/sops/stores/index.js";
import { conformance } from "../../support/shared.js";

describe("stores re-emit sops 3.13 files byte for byte", () => {
  it.each([
    "sops/functional-tests/res/format.enc.yaml",
    "sops/functional-tests/res/format.enc.json",
    "sops/functional-tests/res/format.enc.env",
    "sops/functional-tests/res/format.enc.ini",
  ])("%s", (f) => {
    const text = readFileSync(conformance(f), "utf8");
    const store = stores[formatForPath(f)];
    expect(store.emitEncrypted(store.parseEncrypted(text))).toBe(text);
  });
});
