// A small valid configuration repository for tests, with overrides per test.
import { gitdir, type FileTree } from "./gitdir.js";

export const BASE_REPO: FileTree = {
  "strata.yaml": `version: 1
environments:
  base: { abstract: true }
  staging: { parent: base }
  production: { parent: base, production: true }
`,
  "schemas/app.schema.yaml": `type: object
additionalProperties: false
required: [name]
properties:
  name: { type: string }
  replicas: { type: integer, minimum: 1, maximum: 10, default: 1 }
  mode: { type: string, enum: [fast, safe], default: safe }
  url: { type: string }
  password: { type: string, x-sensitive: true }
  old: { type: integer, x-deprecated: "use replicas" }
  pool: { type: object, additionalProperties: false, properties: { max: { type: integer, default: 5 } } }
`,
  "environments/base/app.yaml": "name: checkout\n",
  "environments/production/app.yaml": "replicas: 3\n",
};

export function fixtureRepo(
  overrides: Record<string, string | Uint8Array | null> = {},
  options: { git?: boolean } = {},
): string {
  const files: FileTree = { ...BASE_REPO };
  for (const [k, v] of Object.entries(overrides)) {
    if (v === null) delete files[k];
    else files[k] = v;
  }
  return gitdir(files, options.git ? { commit: "initial" } : {});
}
