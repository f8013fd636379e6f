// Snapshot secrets in canonical key order: what canonical JSON serves is the order the MAC was computed in.
import { Decrypter, armor, generateIdentity, identityToRecipient } from "age-encryption";
import { beforeAll, describe, expect, it } from "vitest";
import { encryptDocument } from "../../../src/app/secrets/encrypt-document.js";
import { openSopsText } from "../../../src/app/secrets/open.js";
import type { JsonObject } from "../../../src/core/json.js";
import {
  canonicalJson,
  createSnapshotSecretsTree,
  openSnapshotSecrets,
  validateSnapshotShape,
  type AgeDataKeyUnwrapper,
} from "../../../src/core/snapshot/index.js";
import { jsonToTree, treeToJson } from "../../../src/core/sops/document.js";
import type { Branch } from "../../../src/core/sops/tree.js";

// Integer-like keys (JSON.parse and Object.keys move them first), a key after "sops", objects in arrays,
// non-ASCII keys (UTF-16 order), and every scalar type.
const DOC: JsonObject = {
  zeta: { token: "zeta-secret-1" },
  "10": { b: "ten-b", a: "ten-a" },
  "2": "two-secret",
  é: "e-acute-secret",
  list: [{ y: "y-secret", x: "x-secret" }, "plain-in-list"],
  numbers: { int: 5432, float: 1.5, big: 1e21, yes: true, no: false },
  alpha: "alpha-secret",
};

let identity: string;
let recipient: string;
beforeAll(async () => {
  identity = await generateIdentity();
  recipient = await identityToRecipient(identity);
});
const unwrap: AgeDataKeyUnwrapper = async ({ enc }) => {
  const d = new Decrypter();
  d.addIdentity(identity);
  return d.decrypt(armor.decode(enc));
};
const env = { HOME: "/nonexistent" };

/** The `secrets` member as a client gets it: the canonical bytes, parsed with JSON.parse. */
async function publish(tree: Branch): Promise<{ parsed: JsonObject; bytes: string }> {
  const secrets = JSON.parse(await encryptDocument(tree, { format: "json", age: [recipient], env })) as JsonObject;
  const bytes = canonicalJson(secrets);
  return { parsed: JSON.parse(bytes) as JsonObject, bytes };
}

describe("snapshot secrets", () => {
  it("built in canonical order, open from the served bytes with the MAC checked (core reader and the SOPS JSON store)", async () => {
    const { parsed, bytes } = await publish(createSnapshotSecretsTree(DOC));
    const opened = await openSnapshotSecrets(parsed, unwrap);
    expect(opened.values).toEqual(DOC);
    expect(opened.plaintexts).toEqual(expect.arrayContaining(["zeta-secret-1", "two-secret", "5432", "1.5", "true"]));
    // A standard, order-preserving SOPS reader over the same bytes.
    const viaStore = await openSopsText(bytes, "json", {
      file: "secrets.json",
      env: { ...env, SOPS_AGE_KEY: identity },
    });
    expect(treeToJson(viaStore.plain[0]!)).toEqual(DOC);
    expect(bytes).not.toContain("zeta-secret-1");
  });

  it("a tree in another order (the build before the fix) fails its MAC once published", async () => {
    const { parsed, bytes } = await publish(jsonToTree(DOC) as Branch);
    await expect(openSnapshotSecrets(parsed, unwrap, "production v3's secrets")).rejects.toMatchObject({
      code: "mac-mismatch",
      message: expect.stringContaining("production v3's secrets fail their SOPS MAC"),
    });
    await expect(
      openSopsText(bytes, "json", { file: "s.json", env: { ...env, SOPS_AGE_KEY: identity } }),
    ).rejects.toMatchObject({ code: "mac-mismatch" });
  });

  it("publishes sensitive empty strings and nulls, which SOPS leaves unencrypted (they hold no secret)", async () => {
    const doc = { app: { empty: "", none: null, token: "t-secret" } };
    const { parsed } = await publish(createSnapshotSecretsTree(doc));
    expect(parsed.app).toMatchObject({ empty: "", none: null });
    const shape = (secrets: JsonObject) => validateSnapshotShape({ secrets }).filter((p) => p.startsWith("secrets"));
    expect(shape(parsed)).toEqual([]);
    expect((await openSnapshotSecrets(parsed, unwrap)).values).toEqual(doc);
    // Anything else in clear is still refused.
    expect(shape({ ...parsed, app: { ...(parsed.app as JsonObject), token: "t-secret" } })).toEqual([
      "secrets.app.token is not SOPS ciphertext: plaintext secrets are never published",
    ]);
    expect(shape({ ...parsed, app: { n: 5 } })).toEqual([
      "secrets.app.n is not SOPS ciphertext: plaintext secrets are never published",
    ]);
  });

  it("reports a missing MAC, a foreign identity, altered ciphertext and a document without metadata", async () => {
    const { parsed } = await publish(createSnapshotSecretsTree({ a: "a-secret", b: "b-secret" }));
    const sops = parsed.sops as JsonObject;
    await expect(openSnapshotSecrets({ ...parsed, sops: { ...sops, mac: "" } }, unwrap)).rejects.toMatchObject({
      code: "mac-missing",
    });
    await expect(openSnapshotSecrets(parsed, async () => null)).rejects.toMatchObject({
      code: "decryption-failed",
      message: expect.stringContaining(`not a recipient (recipients: ${recipient})`),
    });
    await expect(
      openSnapshotSecrets(parsed, () => Promise.reject(new Error("no identity matched"))),
    ).rejects.toMatchObject({ code: "decryption-failed" });
    await expect(openSnapshotSecrets({ ...parsed, a: parsed.b! }, unwrap)).rejects.toMatchObject({
      code: "decryption-failed",
      message: expect.stringContaining("a:"),
    });
    await expect(openSnapshotSecrets({ a: "x" }, unwrap)).rejects.toMatchObject({ code: "invalid-snapshot" });
    let deep: JsonObject = { v: "x" };
    for (let i = 0; i < 600; i++) deep = { d: deep };
    await expect(openSnapshotSecrets({ ...deep, sops }, unwrap)).rejects.toMatchObject({ code: "invalid-snapshot" });
  });
});
