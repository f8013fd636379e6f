// @module-tag slow
// fast-check: random documents survive encrypt -> decrypt in every store, and each store's plaintext
// writer reads back what it wrote.
import fc from "fast-check";
import { generateIdentity, identityToRecipient } from "age-encryption";
import { beforeAll, describe, expect, it } from "vitest";
import { encryptBranchesFor } from "../../../src/app/secrets/encrypt.js";
import { openSopsText } from "../../../src/app/secrets/open.js";
import { DEFAULT_RULES } from "../../../src/app/secrets/recipients.js";
import { jsonToTree, treeToJson } from "../../../src/core/sops/document.js";
import type { JsonObject, JsonValue } from "../../../src/core/json.js";
import { stores, type SopsFormat } from "../../../src/core/sops/stores/index.js";
import type { Branch } from "../../../src/core/sops/tree.js";
import { keyEnv } from "./keys.js";

let identity: string;
let recipient: string;
beforeAll(async () => {
  identity = await generateIdentity();
  recipient = await identityToRecipient(identity);
});

const text = fc.oneof(
  fc.string({ unit: "grapheme", maxLength: 20 }),
  fc.constantFrom(
    "",
    " lead",
    "trail ",
    "a: b",
    "#x",
    "- x",
    "true",
    "123",
    "1.5",
    "null",
    "y",
    "multi\nline\n",
    "tab\there",
    'quote"s',
    "it's",
    "2026-01-01",
    "ünïcødé",
    "😀",
  ),
);
const leaf: fc.Arbitrary<JsonValue> = fc.oneof(
  text,
  fc.integer({ min: -1_000_000_000, max: 1_000_000_000 }),
  fc.double({ noNaN: true, noDefaultInfinity: true }).filter((d) => !Object.is(d, -0) && !Number.isInteger(d)),
  fc.boolean(),
  fc.constant(null),
);
const key = fc.stringMatching(/^[a-z_][a-z0-9_-]{0,8}$/).filter((k) => k !== "sops");
const { tree } = fc.letrec((tie) => ({
  tree: fc.dictionary(key, tie("value"), { maxKeys: 5 }) as fc.Arbitrary<JsonValue>,
  value: fc.oneof(
    { depthSize: "small" },
    leaf,
    leaf,
    tie("tree"),
    fc.array(fc.oneof(leaf, tie("tree")), { maxLength: 4 }),
  ) as fc.Arbitrary<JsonValue>,
}));

const generators: Record<SopsFormat, fc.Arbitrary<JsonObject>> = {
  yaml: tree as fc.Arbitrary<JsonObject>,
  json: fc.dictionary(fc.oneof(key, fc.constantFrom("10", "2", "0", "-1", "a b", "ключ")), tree, {
    maxKeys: 4,
  }) as fc.Arbitrary<JsonObject>,
  dotenv: fc.dictionary(
    fc.stringMatching(/^[A-Z_][A-Z0-9_]{0,8}$/).filter((k) => !k.toLowerCase().startsWith("sops_")),
    fc.string({ maxLength: 20 }).filter((s) => !s.includes("\\n") && !s.includes("\n")),
    { maxKeys: 6 },
  ),
  ini: fc.dictionary(
    fc.stringMatching(/^[a-z][a-z0-9_]{0,6}$/).filter((k) => k !== "sops"),
    fc.dictionary(fc.stringMatching(/^[a-z][a-z0-9_]{0,6}$/), fc.stringMatching(/^[a-zA-Z0-9 #;=:.,!?-]{0,16}$/), {
      maxKeys: 4,
    }),
    { maxKeys: 3 },
  ),
  binary: fc.record({ data: fc.string({ unit: "grapheme", maxLength: 60 }) }),
};

describe.each(Object.keys(generators) as SopsFormat[])("%s", (format) => {
  it("encrypt -> decrypt round trips", async () => {
    await fc.assert(
      fc.asyncProperty(generators[format], async (doc) => {
        const text = await encryptBranchesFor(
          [jsonToTree(doc) as Branch],
          format,
          {
            groups: [{ age: [recipient], pgp: [], kms: [] }],
            shamirThreshold: 0,
            rules: DEFAULT_RULES,
            source: "property",
          },
          keyEnv(),
          "p",
        );
        const opened = await openSopsText(text, format, { file: "p", env: keyEnv({ SOPS_AGE_KEY: identity }) });
        expect(treeToJson(opened.plain[0] as Branch)).toEqual(doc);
      }),
      { numRuns: 25 },
    );
  });

  it("the plaintext writer reads back what it wrote", () => {
    fc.assert(
      fc.property(generators[format], (doc) => {
        const store = stores[format];
        const text = store.emitPlain([jsonToTree(doc) as Branch]);
        expect(treeToJson(store.parsePlain(text)[0] as Branch)).toEqual(doc);
      }),
      { numRuns: 150 },
    );
  });
});
