/**
 * The JSON Schema of strata.yaml, shipped with strata. `strata init` writes it beside the repository's
 * strata.yaml so editors validate it through `# yaml-language-server: $schema=`.
 */
import { MAX_NAME_LENGTH, NAME } from "../names.js";

const glob = { type: "string", minLength: 1 } as const;
const name = { type: "string", pattern: NAME.source, maxLength: MAX_NAME_LENGTH } as const;
const ageRecipient = { type: "string", pattern: "^age1[0-9a-z]+$" } as const;

// The rollouts section (docs/rollouts.md). core/rollout/policy.ts reads it and reports every problem
// with its own located messages (so parseSettings leaves this section's schema errors to it); this schema
// says the same for editors, and test/core/rollout/policy-schema.test.ts keeps the two in agreement.
const duration = {
  type: "string",
  pattern: "^([0-9]{1,9}(ms|s|m|h|d))+$",
  description: 'A duration: "30s", "5m", "1h30m" (each unit once, largest first)',
} as const;
const share = {
  type: ["string", "number"],
  pattern: "^[0-9]{1,3}([.][0-9]{1,2})?%$",
  exclusiveMinimum: 0,
  exclusiveMaximum: 100,
  description: 'A share of clients: "5%", "0.25%" or a number of percent',
} as const;
const gate = {
  type: "object",
  additionalProperties: false,
  required: ["metric", "max_increase"],
  properties: {
    name: { ...name, description: "Unique in the policy (default: the metric)" },
    metric: {
      enum: ["error-rate", "latency", "prometheus"],
      description:
        "error-rate and latency come from SDK and agent reports; prometheus is a ratio of two PromQL counts (bad / total)",
    },
    max_increase: {
      type: "string",
      pattern: "^([0-9]{1,3}([.][0-9]{1,2})?%|[0-9]{1,9}([.][0-9]{1,3})?(ms|s))$",
      description:
        'The largest tolerated increase of the candidate over the control: percentage points for rates ("0.5%"), a duration for latency ("25ms")',
    },
    min_samples: {
      type: "integer",
      minimum: 1,
      maximum: 1e12,
      description: "Samples each cohort needs before the gate decides anything (default 1000)",
    },
    bad: {
      type: "string",
      minLength: 1,
      description: "prometheus: PromQL counting a cohort's bad events; use {{version}} and {{window}}",
    },
    total: {
      type: "string",
      minLength: 1,
      description: "prometheus: PromQL counting all of a cohort's events; use {{version}} and {{window}}",
    },
  },
  if: { properties: { metric: { const: "prometheus" } } },
  then: { required: ["bad", "total"], properties: { bad: {}, total: {} } },
  else: {
    not: {
      anyOf: [
        { required: ["bad"], properties: { bad: {} } },
        { required: ["total"], properties: { total: {} } },
      ],
    },
  },
} as const;
const timeOfDay = { type: "string", pattern: "^(([01][0-9]|2[0-3]):[0-5][0-9]|24:00)$" } as const;
const instant = {
  type: "string",
  pattern: "^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}(:[0-9]{2}([.][0-9]+)?)?(Z|[+-][0-9]{2}:[0-9]{2})$",
} as const;
const freezeWindow = {
  oneOf: [
    {
      type: "object",
      description: "A one-off freeze between two times (RFC 3339, with an offset)",
      additionalProperties: false,
      required: ["from", "until"],
      properties: { from: instant, until: instant, reason: { type: "string", maxLength: 200 } },
    },
    {
      type: "object",
      description: "A weekly freeze in wall-clock time (until at or before from ends on the next day)",
      additionalProperties: false,
      required: ["days", "from", "until"],
      properties: {
        days: {
          type: "array",
          minItems: 1,
          uniqueItems: true,
          items: { enum: ["mon", "tue", "wed", "thu", "fri", "sat", "sun"] },
        },
        from: timeOfDay,
        until: timeOfDay,
        timezone: { type: "string", minLength: 1, description: "An IANA time zone (default UTC)" },
        reason: { type: "string", maxLength: 200 },
      },
    },
  ],
} as const;
// Each branch names its property (ajv's strict mode wants every required property defined beside it).
const strategyOf = (kind: string) => ({ required: [kind], properties: { [kind]: {} } });
const rolloutPolicy = {
  oneOf: [
    { const: "all-at-once", description: "Every client at once (also the default)" },
    {
      type: "object",
      additionalProperties: false,
      oneOf: [strategyOf("all-at-once"), strategyOf("linear"), strategyOf("exponential"), strategyOf("canary")],
      properties: {
        "all-at-once": { const: true },
        linear: {
          type: "object",
          additionalProperties: false,
          required: ["step", "every"],
          properties: { step: share, every: duration },
          description: "step more of the clients every period, then everyone",
        },
        exponential: {
          type: "object",
          additionalProperties: false,
          required: ["start", "factor", "every"],
          properties: { start: share, factor: { type: "number", exclusiveMinimum: 1, maximum: 100 }, every: duration },
          description: "start, then start × factor, … every period, then everyone",
        },
        canary: {
          type: "object",
          additionalProperties: false,
          required: ["percent", "bake"],
          properties: { percent: share, bake: duration },
          description: "percent of the clients for the bake time, then everyone",
        },
        gates: { type: "array", maxItems: 20, items: gate },
        freeze: { type: "array", maxItems: 100, items: freezeWindow },
        confidence: {
          ...share,
          description: 'Confidence of every statistical decision (default "99%", from 80% to 99.99%)',
        },
      },
    },
  ],
} as const;
const rolloutsSchema = {
  type: ["object", "null"],
  additionalProperties: false,
  description: "Progressive delivery: rollout keys and per-environment policies (inherited by child environments)",
  properties: {
    trusted_keys: {
      type: ["array", "null"],
      description: "Public keys that may sign rollout plans (never the publishing keys of signing.trusted_keys)",
      items: { type: "string", pattern: "^ed25519:[A-Za-z0-9+/]{43}=$" },
    },
    environments: { type: ["object", "null"], propertyNames: name, additionalProperties: rolloutPolicy },
    services: {
      type: ["object", "null"],
      description:
        "A service's own policy per environment (inherited by child environments), over its environment's: each service chain follows its environment's policy otherwise",
      propertyNames: name,
      additionalProperties: { type: "object", propertyNames: name, additionalProperties: rolloutPolicy },
    },
  },
} as const;

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
          additionalProperties: { type: "array", items: ageRecipient },
        },
      },
    },
    services: {
      type: "object",
      description:
        "Services and the configuration each receives: a snapshot per environment and service holding only its namespaces, its secrets encrypted to its recipients (and runtime.recipients, the break-glass keys)",
      propertyNames: name,
      additionalProperties: {
        type: "object",
        additionalProperties: false,
        required: ["namespaces"],
        properties: {
          namespaces: {
            type: "array",
            minItems: 1,
            uniqueItems: true,
            items: name,
            description: "The namespaces the service reads (each must have a schema; a namespace may be shared)",
          },
          recipients: {
            description:
              "age recipients of the service's runtime identities: a list for every environment, or per environment (inherited)",
            oneOf: [
              { type: "array", items: ageRecipient },
              { type: "object", propertyNames: name, additionalProperties: { type: "array", items: ageRecipient } },
            ],
          },
          environments: {
            type: "array",
            minItems: 1,
            uniqueItems: true,
            items: name,
            description: "The environments that run it, with their descendants (default: every environment)",
          },
          description: { type: "string" },
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
    rollouts: rolloutsSchema,
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
                  services: { type: ["array", "string", "null"], items: glob, minLength: 1 },
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
