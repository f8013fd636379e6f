/** `strata init`: scaffold a configuration repository (SPEC §1) that validates as written. */
import { existsSync } from "node:fs";
import { mkdir, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { StrataError } from "../core/findings.js";
import { strataYamlSchema } from "../core/settings/strata-yaml-schema.js";

export const SETTINGS_SCHEMA_PATH = ".strata/strata.schema.json";

export function scaffoldFiles(workflow: string): Record<string, string> {
  return {
    "strata.yaml": `# yaml-language-server: $schema=${SETTINGS_SCHEMA_PATH}
version: 1
environments:
  base:       { abstract: true, description: Shared defaults }
  staging:    { parent: base, description: Pre-production }
  production: { parent: base, production: true, description: Serves customers }
# runtime:
#   recipients:            # age recipients of the services that read snapshots
#     production: [age1...]
# signing:
#   trusted_keys: []       # strata keys generate prints one
# distribution:
#   endpoint: http://127.0.0.1:7070
approvals:
  rules:
    - name: production
      when: { environments: ["production*"] }
      require: 1
      from: ["@your-org/sre"]
`,
    [SETTINGS_SCHEMA_PATH]: JSON.stringify(strataYamlSchema, null, 2) + "\n",
    "schemas/app.schema.yaml": `$schema: https://json-schema.org/draft/2020-12/schema
title: app
description: Settings of the app service
type: object
additionalProperties: false
required: [name]
properties:
  name:
    type: string
    description: Service name, as it appears in logs
  log_level:
    type: string
    enum: [debug, info, warn, error]
    default: info
  replicas:
    type: integer
    minimum: 1
    maximum: 100
    default: 1
    x-restart-required: true
  base_url:
    type: string
    format: uri
    description: Public URL of the service
  api_token:
    type: string
    x-sensitive: true
    description: "Token for the upstream API. A secret: after adding your age key to .sops.yaml, set it with
      strata secrets set environments/production/app.sops.yaml api_token VALUE"
`,
    "environments/base/app.yaml": `name: app
base_url: https://app.internal.example.com
`,
    "environments/staging/app.yaml": `log_level: debug
base_url: https://staging.app.example.com
`,
    "environments/production/app.yaml": `replicas: 3
base_url: https://app.example.com
`,
    ".sops.yaml": `# SOPS creation rules: which keys encrypt which files (used by strata secrets and by sops).
# Before the first secret: create an age key (age-keygen -o ~/.config/sops/age/keys.txt prints its public
# key) and list the public key under age: (several: comma-separated). Then
#   strata secrets set environments/production/app.sops.yaml api_token VALUE
# creates the file encrypted for it.
creation_rules:
  - path_regex: environments/.*\\.sops\\.yaml$
    age: []
`,
    ".github/workflows/strata.yml": workflow,
    ".gitignore": "*.dec.yaml\n.strata-cache/\n",
  };
}

export async function initRepository(dir: string, workflow: string): Promise<string[]> {
  const files = scaffoldFiles(workflow);
  // Check everything first, so init never half-writes over an existing repository.
  const existing = Object.keys(files).filter((p) => existsSync(join(dir, p)));
  if (existsSync(join(dir, "strata.yaml")) || existing.length) {
    throw new StrataError("invalid-argument", `${dir} already has ${existing.join(", ") || "strata.yaml"}; init writes only into a new repository`, { hint: "run it in an empty directory, or remove those files" });
  }
  for (const [path, content] of Object.entries(files)) {
    const full = join(dir, path);
    await mkdir(dirname(full), { recursive: true });
    await writeFile(full, content, { flag: "wx" });
  }
  return Object.keys(files);
}
