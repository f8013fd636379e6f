// Which paths of the client's tree are sensitive (client.isSensitive, LeafChange.sensitive): exactly those the
// snapshot's decrypted `secrets` reach, down to the tree's leaves (an array a secret was spliced into is
// sensitive as a whole), with every map above them; nothing else.
import { describe, expect, it } from "vitest";
import { buildTree, diffTrees, mergeSecrets } from "../../src/client/tree.js";
import type { JsonObject } from "../../src/core/json.js";

function tree(config: JsonObject, secrets: JsonObject | null) {
  return buildTree(mergeSecrets(config, secrets), secrets);
}

describe("sensitive paths", () => {
  it("a secret leaf and the maps above it; its siblings are not", () => {
    const t = tree(
      { database: { host: "db", pool: { max: 10 } }, http: { port: 80 } },
      { database: { password: "p", tls: { key: "k" } } },
    );
    expect([...t.sensitive].sort()).toEqual(["database", "database.password", "database.tls", "database.tls.key"]);
    expect(t.sensitive.has("database.host")).toBe(false);
    expect(t.sensitive.has("database.pool")).toBe(false);
    expect(t.sensitive.has("http")).toBe(false);
  });

  it("an array with a secret spliced in is sensitive as a whole, nothing below it is indexed", () => {
    const t = tree({ app: { tokens: ["public-a", "public-b"] } }, { app: { tokens: { "1": "secret" } } });
    expect(t.index.get("app.tokens")).toEqual(["public-a", "secret", "public-b"]);
    expect([...t.sensitive].sort()).toEqual(["app", "app.tokens"]);
  });

  it("a map that is sensitive as a whole: every path below it", () => {
    const t = tree({ app: { name: "x" } }, { app: { credentials: { user: "u", pass: "p" } } });
    expect([...t.sensitive].sort()).toEqual(["app", "app.credentials", "app.credentials.pass", "app.credentials.user"]);
  });

  it("no secrets, nothing sensitive", () => {
    expect(tree({ app: { name: "x" } }, null).sensitive.size).toBe(0);
  });

  it("a change says whether the value was sensitive before or after", () => {
    const before = tree({ app: { name: "x", mode: "a" } }, { app: { token: "t1", old: "o" } });
    const after = tree({ app: { name: "y", mode: "a" } }, { app: { token: "t2" } });
    expect(diffTrees(before, after).map(({ key, sensitive }) => ({ key, sensitive }))).toEqual([
      { key: "app.name", sensitive: false },
      { key: "app.old", sensitive: true },
      { key: "app.token", sensitive: true },
    ]);
  });
});
