// A small config repository with every feature the diff shows: inheritance, flags, arrays merged by field,
// cross-namespace interpolation, and a SOPS-shaped encrypted file (ciphertext only: no key in tests).
import type { FileTree } from "../support/gitdir.js";

export const STRATA_YAML = `version: 1
environments:
  base: { abstract: true }
  staging: { parent: base }
  production: { parent: base, production: true }
  production-eu: { parent: production }
`;

const DB_SCHEMA = `type: object
additionalProperties: false
required: [host]
properties:
  host: { type: string }
  pool:
    type: object
    additionalProperties: false
    properties:
      max: { type: integer, default: 10, x-restart-required: true, x-owner: "@acme/dba" }
  legacy_timeout: { type: integer, x-deprecated: "use pool settings" }
  password: { type: string, x-sensitive: true, x-approvers: ["@acme/security"] }
`;

const HTTP_SCHEMA = `type: object
additionalProperties: false
properties:
  url: { type: string }
  allow: { type: array, items: { type: string } }
  routes:
    type: array
    x-merge: { by: name }
    items:
      type: object
      additionalProperties: false
      required: [name]
      properties:
        name: { type: string }
        weight: { type: integer }
`;

/** A file shaped like SOPS output: values are ENC[...] strings, plus the sops metadata block. */
export function sopsFile(values: Record<string, string>): string {
  const lines = Object.entries(values).map(
    ([k, v]) => `${k}: ENC[AES256_GCM,data:${Buffer.from(v).toString("base64")},iv:aaaa,tag:bbbb,type:str]`,
  );
  return `${lines.join("\n")}
sops:
  age:
    - recipient: age1qqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqq
      enc: |
        -----BEGIN AGE ENCRYPTED FILE-----
        xx
        -----END AGE ENCRYPTED FILE-----
  lastmodified: "2026-01-01T00:00:00Z"
  mac: ENC[AES256_GCM,data:mac,iv:aaaa,tag:bbbb,type:str]
  unencrypted_suffix: _unencrypted
  version: 3.9.0
`;
}

export function baseTree(): FileTree {
  return {
    "strata.yaml": STRATA_YAML,
    "schemas/db.schema.yaml": DB_SCHEMA,
    "schemas/http.schema.yaml": HTTP_SCHEMA,
    "environments/base/db.yaml": "host: db.internal\nlegacy_timeout: 30\n",
    "environments/base/http.yaml":
      "url: https://${db.host}/api\nallow: [a]\nroutes:\n  - { name: r1, weight: 1 }\n  - { name: r2, weight: 2 }\n",
    "environments/staging/db.yaml": "host: db.staging\n",
    "environments/production/db.yaml": "pool: { max: 50 }\n",
    "environments/production/db.sops.yaml": sopsFile({ password: "prod-password-1" }),
  };
}
