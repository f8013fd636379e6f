/** Config file paths (docs/reference.md, the repository) and turning parsed files into layers. */
import { createFinding, type Finding } from "../findings.js";
import { isValidName } from "../names.js";
import type { LMap, LNode } from "../yaml/nodes.js";

export type ConfigFile =
  | { kind: "schema"; namespace: string; path: string }
  | { kind: "values"; environment: string; namespace: string; path: string; encrypted: boolean };

/** Classifies a repository path; null for files strata does not read; a finding for misnamed ones. */
export function classifyPath(path: string): ConfigFile | Finding | null {
  let m = /^schemas\/([^/]+)\.schema\.(yaml|json)$/.exec(path);
  if (m) {
    const ns = m[1]!;
    if (!isValidName(ns)) return createFinding({ code: "invalid-name", message: `${path}:1:1: invalid namespace name "${ns}"`, file: path, line: 1, column: 1, hint: "namespace names match ^[a-z0-9][a-z0-9-]*$" });
    return { kind: "schema", namespace: ns, path };
  }
  m = /^environments\/([^/]+)\/([^/]+?)(\.sops)?\.(yaml|yml)$/.exec(path);
  if (m) {
    const [, env, ns, sops, ext] = m as unknown as [string, string, string, string | undefined, string];
    if (ext === "yml") return createFinding({ code: "invalid-name", message: `${path}:1:1: values files end in .yaml`, file: path, line: 1, column: 1, hint: `rename it to ${path.replace(/\.yml$/, ".yaml")}` });
    if (!isValidName(env)) return createFinding({ code: "invalid-name", message: `${path}:1:1: invalid environment name "${env}"`, file: path, line: 1, column: 1, environment: env, hint: "environment names match ^[a-z0-9][a-z0-9-]*$" });
    if (!isValidName(ns)) return createFinding({ code: "invalid-name", message: `${path}:1:1: invalid namespace name "${ns}"`, file: path, line: 1, column: 1, environment: env, hint: "namespace names match ^[a-z0-9][a-z0-9-]*$" });
    return { kind: "values", environment: env, namespace: ns, path, encrypted: sops !== undefined };
  }
  if (/^environments\/[^/]+\/[^/]+\.(json|toml)$/.test(path)) {
    return createFinding({ code: "invalid-name", message: `${path}:1:1: values files are YAML (<namespace>.yaml or <namespace>.sops.yaml)`, file: path, line: 1, column: 1 });
  }
  return null;
}

/** A SOPS YAML file parsed as YAML: its data without the `sops` metadata. */
export function stripSopsMetadata(node: LNode): { data: LMap; hadMetadata: boolean } | null {
  if (node.kind !== "map") return null;
  const entries = new Map(node.entries);
  const hadMetadata = entries.delete("sops");
  return { data: { ...node, entries }, hadMetadata };
}

/**
 * Puts decrypted values into the parsed ciphertext tree, keeping every position. The two trees have the
 * same shape (sops encrypts leaves only); a mismatch means the file is not what the engine decrypted.
 */
export function overlayPlaintext(node: LNode, plain: unknown): LNode | null {
  switch (node.kind) {
    case "unset":
      return node;
    case "scalar":
      if (plain === null || typeof plain === "string" || typeof plain === "number" || typeof plain === "boolean") return { ...node, value: plain };
      return null;
    case "seq": {
      if (!Array.isArray(plain) || plain.length !== node.items.length) return null;
      const items: LNode[] = [];
      for (let i = 0; i < node.items.length; i++) {
        const o = overlayPlaintext(node.items[i]!, plain[i]);
        if (!o) return null;
        items.push(o);
      }
      return { ...node, items };
    }
    case "map": {
      if (plain === null || typeof plain !== "object" || Array.isArray(plain)) return null;
      const entries = new Map<string, LMap["entries"] extends Map<string, infer E> ? E : never>();
      for (const [k, e] of node.entries) {
        if (!Object.hasOwn(plain, k)) return null;
        const o = overlayPlaintext(e.value, (plain as Record<string, unknown>)[k]);
        if (!o) return null;
        entries.set(k, { ...e, value: o });
      }
      return { ...node, entries };
    }
  }
}
