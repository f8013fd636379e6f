import { describe, expect, it } from "vitest";
import { matchCreationRule, parseSopsConfig } from "../../../src/core/sops/config.js";
import { getAtPath, jsonToTree, parseKeyPath, setAtPath, treeToJson } from "../../../src/core/sops/document.js";
import {
  flattenBranch,
  metadataToBranch,
  readMetadata,
  unflattenBranch,
  type Metadata,
} from "../../../src/core/sops/metadata.js";
import { Branch } from "../../../src/core/sops/tree.js";

describe("key paths", () => {
  it.each([
    ['["a"]["b"][0]', ["a", "b", 0]],
    ["a.b[0]", ["a", "b", 0]],
    ["a.b.0", ["a", "b", 0]],
    ['["we.ird key"]', ["we.ird key"]],
    ["a[1][2]", ["a", 1, 2]],
  ])("%s", (text, path) => expect(parseKeyPath(text)).toEqual(path));

  it.each(["", "[", '["a"', "a..b["])("rejects %j", (text) => expect(parseKeyPath(text)).toBeNull());

  it("sets and gets, creating intermediate maps like sops", () => {
    const root = jsonToTree({ a: { b: [1, 2] } }) as Branch;
    const out = setAtPath(setAtPath(root, ["a", "b", 1], jsonToTree("x")), ["n", "m"], jsonToTree(true));
    expect(treeToJson(out)).toEqual({ a: { b: [1, "x"] }, n: { m: true } });
    expect(treeToJson(getAtPath(out, ["a", "b", 1]) ?? null)).toBe("x");
    const digits = setAtPath(jsonToTree({ m: { "0": "zero", k: 1 } }) as Branch, ["m", 0], jsonToTree("new"));
    expect(treeToJson(digits)).toEqual({ m: { "0": "new", k: 1 } });
  });
});

describe(".sops.yaml creation rules", () => {
  const rules = parseSopsConfig(`creation_rules:
  - path_regex: environments/prod/.*\\.sops\\.yaml$
    shamir_threshold: 2
    encrypted_regex: ^(password|token)$
    key_groups:
      - age: [age1aaa]
      - pgp: [FP1]
      - age: [age1bbb]
        kms:
          - arn: arn:aws:kms:us-east-1:1:key/k
            context: { app: x }
  - path_regex: \\.yaml$
    age: age1ccc, age1ddd
    pgp: FP2
  - age: age1eee
`);
  it("picks the first matching rule", () => {
    expect(matchCreationRule(rules, "environments/prod/db.sops.yaml")?.shamirThreshold).toBe(2);
    expect(matchCreationRule(rules, "environments/prod/db.sops.yaml")?.groups).toHaveLength(3);
    expect(matchCreationRule(rules, "environments/prod/db.sops.yaml")?.rules.encryptedRegex).toBe("^(password|token)$");
    expect(matchCreationRule(rules, "x.yaml")?.groups).toEqual([
      { age: ["age1ccc", "age1ddd"], pgp: ["FP2"], kms: [] },
    ]);
    expect(matchCreationRule(rules, "x.json")?.groups[0]?.age).toEqual(["age1eee"]);
    expect(matchCreationRule(rules, "environments/prod/db.sops.yaml")?.groups[2]?.kms).toEqual([
      { arn: "arn:aws:kms:us-east-1:1:key/k", context: { app: "x" }, role: "", awsProfile: "" },
    ]);
  });

  it("reads Go's inline flags and refuses what is not a regex", () => {
    expect(
      matchCreationRule(parseSopsConfig("creation_rules:\n  - path_regex: (?i)SECRET\n    age: a\n"), "x.secret.yaml")
        ?.groups[0]?.age,
    ).toEqual(["a"]);
    expect(() =>
      matchCreationRule(parseSopsConfig("creation_rules:\n  - path_regex: '(unclosed'\n    age: a\n"), "x"),
    ).toThrow(/path_regex "\(unclosed" is not a regular expression/);
  });

  it("refuses two encryption rules in one creation rule", () => {
    expect(() => parseSopsConfig("creation_rules:\n  - encrypted_regex: a\n    unencrypted_suffix: b\n")).toThrow(
      /Cannot use more than one/,
    );
  });
});

describe("metadata", () => {
  const md: Metadata = {
    keyGroups: [
      [{ type: "age", recipient: "age1x", enc: "E1\nE2\n" }],
      [{ type: "pgp", fp: "FP", createdAt: "2026-01-01T00:00:00Z", enc: "P" }],
    ],
    shamirThreshold: 2,
    lastModified: "2026-01-01T00:00:00Z",
    mac: "ENC[m]",
    version: "3.13.2",
    unencryptedSuffix: "",
    encryptedSuffix: "",
    unencryptedRegex: "",
    encryptedRegex: "^x$",
    unencryptedCommentRegex: "",
    encryptedCommentRegex: "",
    macOnlyEncrypted: true,
  };

  it("writes sorted keys and key_groups, and reads them back", () => {
    const b = metadataToBranch(md);
    expect(b.items.map((i) => i.key)).toEqual([
      "encrypted_regex",
      "key_groups",
      "lastmodified",
      "mac",
      "mac_only_encrypted",
      "shamir_threshold",
      "version",
    ]);
    expect(readMetadata(b)).toEqual(md);
  });

  it("flattens for dotenv/INI and unflattens", () => {
    const flat = flattenBranch(metadataToBranch(md), "");
    expect(flat.map(([k]) => k)).toContain("key_groups__list_1__map_pgp__list_0__map_fp");
    expect(flat).toContainEqual(["shamir_threshold", "2"]);
    expect(flat).toContainEqual(["mac_only_encrypted", "true"]);
    expect(readMetadata(unflattenBranch(flat))).toEqual(md);
  });

  it("normalizes lastmodified as Go's RFC 3339 format does", () => {
    const b = metadataToBranch({ ...md, lastModified: "2026-01-01T00:00:00Z" });
    const raw = new Branch(
      b.items.map((i) => (i.key === "lastmodified" ? { key: i.key, value: "2026-01-01T00:00:00.123+00:00" } : i)),
    );
    expect(readMetadata(raw).lastModified).toBe("2026-01-01T00:00:00Z");
  });
});
