/** Turning parsed files into layers: SOPS metadata checks, decrypted values over their positions. */
import { findingAt, type Finding } from "../findings.js";
import { checkSopsVersion } from "../sops/metadata.js";
import type { LEntry, LMap, LNode } from "../yaml/nodes.js";

/** A SOPS YAML file parsed as YAML: its data without the `sops` metadata. */
export function stripSopsMetadata(node: LNode): { data: LMap; hadMetadata: boolean; metadata: LEntry | null } | null {
  if (node.kind !== "map") return null;
  const entries = new Map(node.entries);
  const metadata = entries.get("sops") ?? null;
  const hadMetadata = entries.delete("sops");
  return { data: { ...node, entries }, hadMetadata, metadata };
}

/**
 * What can be checked in a SOPS file's metadata without a key, located: the `version` (refused when
 * missing, a warning for another major version) and, when `requireMac`, that there is a MAC at all. (With
 * a key, the opener checks the MAC itself: `mac-missing`/`mac-mismatch`.)
 */
export function checkSopsMetadata(entry: LEntry, file: string, environment: string, requireMac: boolean): Finding[] {
  const out: Finding[] = [];
  const md = entry.value;
  const at = entry.keyPos;
  if (md.kind !== "map") {
    return [
      findingAt("invalid-sops-file", { file, line: at.line, column: at.column }, `the sops metadata is not a map`, {
        environment,
      }),
    ];
  }
  const version = md.entries.get("version");
  const text = version?.value.kind === "scalar" && version.value.value !== null ? String(version.value.value) : "";
  const v = checkSopsVersion(text);
  if (v) {
    const pos = version ? version.value.pos : at;
    out.push(
      findingAt(
        v.severity === "error" ? "invalid-sops-file" : "sops-version",
        { file, line: pos.line, column: pos.column },
        v.message,
        {
          environment,
          hint:
            v.severity === "error"
              ? "restore the file from git, or re-create it with `strata secrets encrypt` or sops"
              : "upgrade strata, or re-encrypt the file with sops 3",
        },
      ),
    );
  }
  const mac = md.entries.get("mac");
  if (requireMac && (mac?.value.kind !== "scalar" || mac.value.value === null || String(mac.value.value) === "")) {
    const pos = mac ? mac.value.pos : at;
    out.push(
      findingAt(
        "invalid-sops-file",
        { file, line: pos.line, column: pos.column },
        `the file has no MAC, so its integrity cannot be checked`,
        { environment, hint: "re-encrypt it (strata secrets rotate --in-place), or restore it from git" },
      ),
    );
  }
  return out;
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
      if (plain === null || typeof plain === "string" || typeof plain === "number" || typeof plain === "boolean")
        return { ...node, value: plain };
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
