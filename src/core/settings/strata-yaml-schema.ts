/**
 * The JSON Schema of strata.yaml, shipped with strata. `strata init` writes it beside the repository's
 * strata.yaml so editors validate it through `# yaml-language-server: $schema=`.
 */
import { MAX_NAME_LENGTH, NAME } from "../names.js";

const glob = { type: "string", minLength: 1 } as const;
const name = { type: "string", pattern: NAME.source, maxLength: MAX_NAME_LENGTH } as const;

export const strataYamlSchema = {
  $schema: "https://json-schema.org/draft/2020-12/schema",
  $id: "https://strata.dev/schemas/strata.yaml.json",
  title: "strata.yaml",
  description: "Settings of a strata configuration repository",
  type: "object",
  additionalProperties: false,
  required: ["version", "environments"],
  properties: {
    version: { const: 1, description: "Format version of this file" },
    environments: {
      type: "object",
      description: "Environments and their inheritance",
      minProperties: 1,
      propertyNames: name,
      additionalProperties: {
        type: "object",
        additionalProperties: false,
        properties: {
          parent: {
            ...name,
            description:
              "The environment this one inherits from (at most 64 levels of inheritance, itself included; no cycles)",
          },
          description: { type: "string" },
          abstract: { type: "boolean", description: "A layer only, never a push target" },
          production: { type: "boolean", description: "Inherited by children unless they set false" },
          approval_required: { type: "boolean", description: "Default: true when production" },
          metadata: { type: "object" },
        },
      },
    },
    runtime: {
      type: "object",
      additionalProperties: false,
      properties: {
        recipients: {
          type: "object",
          description: "age recipients of the services that read snapshots, per environment (inherited)",
          propertyNames: name,
          additionalProperties: { type: "array", items: { type: "string", pattern: "^age1[0-9a-z]+$" } },
        },
      },
    },
    signing: {
      type: "object",
      additionalProperties: false,
      properties: {
        trusted_keys: { type: "array", items: { type: "string", pattern: "^ed25519:[A-Za-z0-9+/]{43}=$" } },
      },
    },
    distribution: {
      type: "object",
      additionalProperties: false,
      properties: {
        endpoint: { type: "string", pattern: "^https?://" },
        expires_after: {
          type: "string",
          pattern: "^[0-9]+(s|m|h|d)$",
          description: "How long a snapshot stays fresh (default 7d)",
        },
      },
    },
    // Nulls and single strings are accepted where the approvals rules accept them (an empty `approvals:`,
    // `keys: "db.**"`, `from: "@acme/sre"`); `require` defaults to 1 and `from` to any reviewer.
    approvals: {
      type: ["object", "null"],
      additionalProperties: false,
      properties: {
        dismiss_stale: {
          type: "boolean",
          description: "Approvals of an older head commit do not count (default true)",
        },
        rules: {
          type: ["array", "null"],
          items: {
            type: "object",
            additionalProperties: false,
            required: ["name"],
            properties: {
              name: { type: "string", minLength: 1 },
              when: {
                type: ["object", "null"],
                additionalProperties: false,
                properties: {
                  environments: { type: ["array", "string", "null"], items: glob, minLength: 1 },
                  keys: { type: ["array", "string", "null"], items: glob, minLength: 1 },
                  sensitive: { type: ["boolean", "null"] },
                },
              },
              require: { type: "integer", minimum: 0 },
              from: { type: ["array", "string"], items: { type: "string", minLength: 1 } },
            },
          },
        },
        emergency: {
          type: ["object", "null"],
          additionalProperties: false,
          required: ["label"],
          properties: { label: { type: "string", minLength: 1 }, require: { type: "integer", minimum: 0 } },
        },
      },
    },
  },
} as const;
