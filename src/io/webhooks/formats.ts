/**
 * The shapes change events take on the wire (docs/rollouts.md, "Change events"): a CDEvents event carried
 * as a CloudEvent in HTTP binary mode, a Grafana annotation (POST /api/annotations), and a Datadog change
 * event (POST /api/v2/events, category `change`). Pure: each function maps a {@link ChangeEvent} to a
 * request body and its headers; deliver.ts sends them. Only what a ChangeEvent holds can appear (versions,
 * digests, key paths, the share, the reason of a decision): never a configuration value.
 */
import type { ChangeEvent, ChangeEventKind } from "../../core/rollout/events.js";
import { formatShare } from "../../core/rollout/units.js";

export const WEBHOOK_FORMATS = ["cdevents", "grafana", "datadog"] as const;
export type WebhookFormat = (typeof WEBHOOK_FORMATS)[number];

/** A request body and the headers that go with it; null when the format has nothing for the event. */
export type WireMessage = { body: unknown; headers: Record<string, string> } | null;

/** The CDEvents specification version these events follow (context.specversion). */
const CDEVENTS_VERSION = "0.5.1";
const CDEVENTS_TYPES = {
  deployed: "dev.cdevents.service.deployed.0.3.0",
  upgraded: "dev.cdevents.service.upgraded.0.3.0",
  rolledback: "dev.cdevents.service.rolledback.0.3.0",
} as const;

/**
 * Which CDEvents predicate an event is. The vocabulary has no predicate for a pause or a resume (the fleet
 * does not change), so those go to Grafana and Datadog only. A step is an upgrade of more instances.
 */
export function cdeventsPredicate(event: ChangeEvent): keyof typeof CDEVENTS_TYPES | null {
  const byKind: Record<ChangeEventKind, keyof typeof CDEVENTS_TYPES | null> = {
    published: event.previous === null ? "deployed" : "upgraded",
    "rollout-started": "upgraded",
    "rollout-advanced": "upgraded",
    "rollout-promoted": "upgraded",
    "rollout-rolled-back": "rolledback",
    "rollout-aborted": "rolledback",
    "rollout-paused": null,
    "rollout-resumed": null,
  };
  return byKind[event.kind];
}

/** The subject: the configuration of an environment, or of one service in it. */
function subjectId(event: ChangeEvent): string {
  return event.service === null ? `config/${event.environment}` : `config/${event.environment}/${event.service}`;
}

/** A package URL for a config version: pkg:generic/strata-config/<env>@<version>?checksum=sha256:<hex>. */
export function configPurl(event: ChangeEvent): string {
  const name = event.service === null ? event.environment : `${event.environment}%2F${event.service}`;
  return `pkg:generic/strata-config/${name}@${event.version.version}?checksum=${event.version.digest.replace(":", "%3A")}`;
}

/** What the three formats carry besides their own fields: the strata event itself, minus nothing. */
function details(event: ChangeEvent): Record<string, unknown> {
  return {
    kind: event.kind,
    environment: event.environment,
    service: event.service,
    version: event.version,
    previous: event.previous,
    rollout: event.rollout,
    keys: event.keys,
    keyCount: event.keyCount,
    actor: event.actor,
    reason: event.reason,
    source: event.source,
  };
}

export function cdevent(event: ChangeEvent, source: string): WireMessage {
  const predicate = cdeventsPredicate(event);
  if (predicate === null) return null;
  const type = CDEVENTS_TYPES[predicate];
  const body = {
    context: { specversion: CDEVENTS_VERSION, id: event.id, source, type, timestamp: event.time },
    subject: {
      id: subjectId(event),
      source,
      type: "service",
      content: { environment: { id: event.environment }, artifactId: configPurl(event) },
    },
    customData: details(event),
    customDataContentType: "application/json",
  };
  // CloudEvents HTTP binding, binary mode: the context in ce- headers, the whole CDEvent as the body.
  return {
    body,
    headers: {
      "content-type": "application/json; charset=utf-8",
      "ce-specversion": "1.0",
      "ce-id": event.id,
      "ce-source": source,
      "ce-type": type,
      "ce-subject": subjectId(event),
      "ce-time": event.time,
    },
  };
}

/** One line for people: `production v42: rolled back (…)`. */
function headline(event: ChangeEvent): string {
  const scope = event.service === null ? event.environment : `${event.environment}/${event.service}`;
  const v = `v${event.version.version}`;
  const share = event.rollout ? ` (${formatShare(event.rollout.basisPoints)})` : "";
  const text: Record<ChangeEventKind, string> = {
    published: `${scope} ${v} published`,
    "rollout-started": `${scope} ${v} rollout started${share}`,
    "rollout-advanced": `${scope} ${v} rollout advanced${share}`,
    "rollout-paused": `${scope} ${v} rollout paused${share}`,
    "rollout-resumed": `${scope} ${v} rollout resumed${share}`,
    "rollout-promoted": `${scope} ${v} promoted to every client`,
    "rollout-rolled-back": `${scope} rolled back to ${v} from v${event.previous?.version ?? "?"}`,
    "rollout-aborted": `${scope} rollout aborted: back to ${v} from v${event.previous?.version ?? "?"}`,
  };
  return `strata: ${text[event.kind]}`;
}

function summary(event: ChangeEvent, max: number): string {
  const lines = [headline(event)];
  if (event.reason) lines.push(`reason: ${event.reason}`);
  if (event.keyCount > 0)
    lines.push(
      `keys: ${event.keys.join(", ")}${event.keyCount > event.keys.length ? ` and ${event.keyCount - event.keys.length} more` : ""}`,
    );
  lines.push(`digest: ${event.version.digest}`);
  const text = lines.join("\n");
  return text.length > max ? `${text.slice(0, max - 3)}...` : text;
}

function tags(event: ChangeEvent, separator: ":"): string[] {
  const t = [
    "strata",
    `env${separator}${event.environment}`,
    `event${separator}${event.kind}`,
    `config_version${separator}${event.version.version}`,
  ];
  if (event.service !== null) t.push(`service${separator}${event.service}`);
  return t;
}

/** Grafana's annotations API: a point annotation at the event's time; `dashboardUID` pins it to a dashboard. */
export function grafanaAnnotation(event: ChangeEvent, options: { dashboardUID?: string } = {}): WireMessage {
  return {
    body: {
      ...(options.dashboardUID ? { dashboardUID: options.dashboardUID } : {}),
      time: Date.parse(event.time),
      tags: tags(event, ":"),
      text: summary(event, 4000),
    },
    headers: { "content-type": "application/json" },
  };
}

/** Datadog's Events API v2, category `change` (Change Tracking). */
export function datadogChangeEvent(event: ChangeEvent): WireMessage {
  const scope = event.service === null ? event.environment : `${event.environment}/${event.service}`;
  return {
    body: {
      data: {
        type: "event",
        attributes: {
          category: "change",
          title: headline(event).slice(0, 500),
          message: summary(event, 4000),
          aggregation_key: `strata:${scope}`.slice(0, 100),
          tags: tags(event, ":"),
          timestamp: event.time,
          attributes: {
            changed_resource: { name: `strata-config:${scope}`.slice(0, 128), type: "configuration" },
            impacted_resources: event.service === null ? [] : [{ name: event.service, type: "service" }],
            author:
              event.actor === null
                ? { name: "strata", type: "system" }
                : { name: event.actor.slice(0, 128), type: "user" },
            prev_value:
              event.previous === null ? {} : { version: event.previous.version, digest: event.previous.digest },
            new_value: { version: event.version.version, digest: event.version.digest, keys: event.keys },
            change_metadata: {
              kind: event.kind,
              rollout: event.rollout,
              reason: event.reason,
              keyCount: event.keyCount,
              source: event.source,
            },
          },
        },
      },
    },
    headers: { "content-type": "application/json" },
  };
}
