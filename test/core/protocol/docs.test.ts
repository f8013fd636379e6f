// The protocol module is the only place the wire documents and codes are declared; the docs describe them.
// This test reads the tables of docs/distribution.md, docs/runtime.md, docs/reference.md and
// docs/dashboard.md and fails when one of them drifts from src/core/protocol (as test/server/routes.test.ts
// does for the routes).
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { exitCodeFor, type Code } from "../../../src/core/findings.js";
import {
  AUDIT_DOCUMENT_FIELDS,
  AUDITED_ENVIRONMENT_FIELDS,
  CHAIN_AUDIT_DOCUMENT_FIELDS,
  CLIENT_HEADER_FIELDS,
  CLIENT_RECORD_FIELDS,
  ENVIRONMENT_FAILURE_FIELDS,
  SERVICE_FAILURE_FIELDS,
  SERVICE_STATUS_FIELDS,
  ENVIRONMENT_ROW_FIELDS,
  ENVIRONMENT_STATUS_FIELDS,
  ENVIRONMENTS_DOCUMENT_FIELDS,
  EventStreamParser,
  HISTORY_DOCUMENT_FIELDS,
  HISTORY_ENTRY_FIELDS,
  HTTP_ERRORS,
  PUBLISHED_DOCUMENT_FIELDS,
  REJECTION_CODE_ALIASES,
  REJECTION_CODES,
  ROLLOUT_AUDIT_ENTRY_FIELDS,
  SESSION_DOCUMENT_FIELDS,
  SNAPSHOT_EVENT_DATA_FIELDS,
  SNAPSHOT_FIELDS,
  SNAPSHOT_SOURCE_FIELDS,
  SHARED_CLIENTS_FIELDS,
  STATUS_DOCUMENT_FIELDS,
  STREAM_EVENTS,
} from "../../../src/core/protocol/index.js";

function doc(file: string): string {
  return readFileSync(new URL(`../../../docs/${file}`, import.meta.url), "utf8");
}

/** The text under a heading (`## X` or `### X`) up to the next heading of the same or a higher level. */
function section(file: string, heading: string): string {
  const text = doc(file);
  const level = heading.indexOf(" ");
  const start = text.indexOf(`\n${heading}\n`);
  expect(start, `${file} has "${heading}"`).toBeGreaterThanOrEqual(0);
  const rest = text.slice(start + heading.length + 2);
  const next = rest.search(new RegExp(`^#{1,${level}} `, "m"));
  return next < 0 ? rest : rest.slice(0, next);
}

/** The rows of the first table in a text, as cells (pipes escaped as `\|` stay in their cell). */
function tableRows(text: string): string[][] {
  const lines = text.split("\n").filter((l) => l.startsWith("|"));
  return lines.slice(2).map((l) =>
    l
      .slice(1, -1)
      .split(/(?<!\\)\|/)
      .map((c) => c.trim().replaceAll("\\|", "|")),
  );
}

const codesIn = (cell: string): string[] => [...cell.matchAll(/`([a-z][a-z0-9-]*)`/g)].map((m) => m[1]!);

/** A document's shape as the docs write it: `{ a, b: [{ c, d? }], e: { f } \| null }`. */
type Shape = { fields: Map<string, Shape | null> } | { list: Shape } | { union: Shape[] } | null;

function parseShape(text: string): Shape {
  const tokens = text.match(/"[^"]*"|[A-Za-z_][\w-]*\??|[{}[\]:,|]|…/g) ?? [];
  let i = 0;
  const value = (): Shape => {
    const alternatives: Shape[] = [];
    do {
      const t = tokens[i++];
      if (t === "{") {
        const fields = new Map<string, Shape | null>();
        while (tokens[i] !== "}") {
          const name = tokens[i++]!.replace(/^"|"$/g, "");
          let shape: Shape = null;
          if (tokens[i] === ":") {
            i++;
            shape = value();
          }
          fields.set(name, shape);
          if (tokens[i] === ",") i++;
        }
        i++;
        alternatives.push({ fields });
      } else if (t === "[") {
        const item = value();
        expect(tokens[i++]).toBe("]");
        alternatives.push({ list: item });
      } else alternatives.push(null);
    } while (tokens[i] === "|" && ++i);
    return alternatives.length === 1 ? alternatives[0]! : { union: alternatives };
  };
  return value();
}

function fieldsOf(shape: Shape): string[] {
  expect(shape !== null && "fields" in shape, JSON.stringify(shape)).toBe(true);
  // `name?`: a member only some answers have (a service's chain's `service`); the name is the protocol's.
  return [...(shape as { fields: Map<string, Shape> }).fields.keys()].map((f) => f.replace(/\?$/, ""));
}
function member(shape: Shape, name: string): Shape {
  const fields = (shape as { fields: Map<string, Shape> }).fields;
  const bare = name.replace(/\?$/, "");
  return fields.get(bare) ?? fields.get(`${bare}?`) ?? null;
}
function itemOf(shape: Shape): Shape {
  expect(shape !== null && "list" in shape).toBe(true);
  return (shape as { list: Shape }).list;
}
const sorted = (xs: readonly string[]): string[] => [...xs].sort();

/** The first code span of a table cell that is a `{ … }` document. */
function shapeInCell(cell: string): Shape {
  const span = [...cell.matchAll(/`(\{[^`]*\})`/g)][0]?.[1];
  expect(span, cell.slice(0, 80)).toBeDefined();
  return parseShape(span!);
}

function apiRow(path: string): string {
  const row = tableRows(section("distribution.md", "## HTTP API")).find((r) => r[0] === `\`${path}\``);
  expect(row, path).toBeDefined();
  return row![1]!;
}

describe("docs/runtime.md", () => {
  it("lists exactly the rejection codes, in the order the checks run", () => {
    const rows = tableRows(section("runtime.md", "## Verification"));
    expect(rows.map((r) => codesIn(r[0]!)[0])).toEqual([...REJECTION_CODES]);
  });
});

describe("docs/distribution.md", () => {
  it("documents the Strata-Client header's fields and every reason code, and the old spelling it reads", () => {
    const rows = tableRows(section("distribution.md", "### The `Strata-Client` header"));
    expect(rows.map((r) => codesIn(r[0]!)[0])).toEqual([...CLIENT_HEADER_FIELDS]);
    const reason = rows.find((r) => r[0] === "`reason`")![1]!;
    const cut = reason.indexOf("(");
    expect(codesIn(reason.slice(0, cut))).toEqual([...REJECTION_CODES]);
    for (const alias of Object.keys(REJECTION_CODE_ALIASES)) expect(codesIn(reason.slice(cut))).toContain(alias);
  });

  it("has the endpoint's error codes with their statuses", () => {
    const rows = tableRows(section("distribution.md", "### Errors"));
    expect(rows.map((r) => [codesIn(r[0]!)[0], Number(r[1])])).toEqual(Object.entries(HTTP_ERRORS));
  });

  it("shows the event-stream frame and its data's members", () => {
    const text = section("distribution.md", "### The event stream");
    const frame = /\n\n((?: {4}.*\n)+)/.exec(text)![1]!.replace(/^ {4}/gm, "");
    const [event] = new EventStreamParser().push(frame + "\n");
    expect(event).toMatchObject({ event: "snapshot", id: "7" });
    expect(Object.keys(JSON.parse(event!.data) as object)).toEqual([...SNAPSHOT_EVENT_DATA_FIELDS]);
    expect(tableRows(text).map((r) => codesIn(r[0]!)[0])).toEqual([...SNAPSHOT_EVENT_DATA_FIELDS]);
  });

  it("shows each answer's document with the protocol's fields", () => {
    expect(fieldsOf(shapeInCell(apiRow("PUT /v1/environments/{env}/snapshot")))).toEqual([
      ...PUBLISHED_DOCUMENT_FIELDS,
    ]);
    const history = shapeInCell(apiRow("GET /v1/environments/{env}/history"));
    expect(fieldsOf(history)).toEqual([...HISTORY_DOCUMENT_FIELDS]);
    expect(fieldsOf(itemOf(member(history, "versions"))).map((f) => f.replace(/\?$/, ""))).toEqual([
      ...HISTORY_ENTRY_FIELDS,
    ]);
    const status = shapeInCell(apiRow("GET /v1/status"));
    expect(fieldsOf(status)).toEqual([...STATUS_DOCUMENT_FIELDS]);
    const environments = itemOf(member(status, "environments")) as { union: Shape[] };
    expect(environments.union.map(fieldsOf)).toEqual([[...ENVIRONMENT_STATUS_FIELDS], [...ENVIRONMENT_FAILURE_FIELDS]]);
    const services = itemOf(member(environments.union[0]!, "services")) as { union: Shape[] };
    expect(services.union.map(fieldsOf)).toEqual([[...SERVICE_STATUS_FIELDS], [...SERVICE_FAILURE_FIELDS]]);
    expect(fieldsOf(itemOf(member(status, "clients")))).toEqual([...CLIENT_RECORD_FIELDS]);
    expect(fieldsOf(shapeInCell(apiRow("GET /v1/audit")))).toEqual([...AUDIT_DOCUMENT_FIELDS]);
  });
});

describe("docs/distribution.md, the fleet", () => {
  it("shows the frames of GET /v1/events, one of each kind, without ids", () => {
    const text = section("distribution.md", "### One stream for everything the token may read");
    const frames = /\n\n((?: {4}.*\n|\n)+)/.exec(text)![1]!.replace(/^ {4}/gm, "");
    const events = new EventStreamParser().push(frames.trimEnd() + "\n\n");
    expect(events.map((e) => e.event)).toEqual([...STREAM_EVENTS]);
    expect(events.every((e) => e.id === null)).toBe(true);
    // Environments only: `service` is a service chain's stream's; no snapshot inside (the SDK's streams carry it).
    expect(Object.keys(JSON.parse(events[0]!.data) as object)).toEqual(
      SNAPSHOT_EVENT_DATA_FIELDS.filter((f) => f !== "service" && f !== "snapshot"),
    );
  });

  it("shows the fleet document the servers of a store share with the protocol's fields", () => {
    const text = section("distribution.md", "### Several servers: one fleet");
    const span = [...text.matchAll(/`(\{[^`]*\})`/g)][0]![1]!;
    expect(fieldsOf(parseShape(span))).toEqual([...SHARED_CLIENTS_FIELDS]);
  });
});

describe("docs/rollouts.md, the audit", () => {
  it("shows a rollout audit entry with the protocol's fields (a rollback: no holds)", () => {
    const text = section("rollouts.md", "### The audit");
    const json = /```json\n([\s\S]*?)```/.exec(text)![1]!;
    expect(Object.keys(JSON.parse(json) as object)).toEqual(ROLLOUT_AUDIT_ENTRY_FIELDS.filter((f) => f !== "holds"));
  });
});

describe("docs/dashboard.md", () => {
  it("shows the dashboard API's documents with the protocol's fields", () => {
    const rows = tableRows(section("dashboard.md", "## Routes"));
    const cell = (path: string): string => rows.find((r) => r[0] === `\`${path}\``)![2]!;
    expect(fieldsOf(shapeInCell(cell("GET /ui/api/session")))).toEqual([...SESSION_DOCUMENT_FIELDS]);
    const environments = shapeInCell(cell("GET /ui/api/environments"));
    expect(fieldsOf(environments)).toEqual([...ENVIRONMENTS_DOCUMENT_FIELDS]);
    expect(fieldsOf(itemOf(member(environments, "environments")))).toEqual([...ENVIRONMENT_ROW_FIELDS]);
    const audit = shapeInCell(cell("GET /ui/api/audit"));
    expect(fieldsOf(audit)).toEqual([...CHAIN_AUDIT_DOCUMENT_FIELDS]);
    expect(fieldsOf(itemOf(member(audit, "environments")))).toEqual([...AUDITED_ENVIRONMENT_FIELDS]);
  });
});

describe("docs/reference.md", () => {
  it("gives every error code of the endpoint with the exit code the CLI maps it to", () => {
    const rows = tableRows(section("reference.md", "## Error codes and exit codes").split("\nAll findings")[1]!);
    for (const code of Object.keys(HTTP_ERRORS)) {
      const row = rows.find((r) => codesIn(r[0]!).includes(code));
      expect(row, code).toBeDefined();
      expect(row![1], code).toContain(String(exitCodeFor(code as Code)));
    }
  });

  it("shows a snapshot with exactly the protocol's members", () => {
    const json = /```json\n([\s\S]*?)```/.exec(section("reference.md", "## Snapshots"))![1]!;
    const example = JSON.parse(json) as Record<string, unknown>;
    expect(sorted(Object.keys(example))).toEqual(sorted(SNAPSHOT_FIELDS));
    // The optional members (`dirty`, `dirtyDigest`) are described in docs/distribution.md.
    const source = Object.keys(example.source as object);
    for (const k of source) expect(SNAPSHOT_SOURCE_FIELDS as readonly string[]).toContain(k);
    expect(SNAPSHOT_SOURCE_FIELDS.filter((f) => !source.includes(f))).toEqual(["dirty", "dirtyDigest"]);
  });
});
