/**
 * PromQL templates of Prometheus gates. A gate's query counts events of one cohort over the rollout's window;
 * strata fills in the cohort's config version (the `strata_config_version` label the SDK and the agent
 * export), the window and the environment:
 *
 *   sum(increase(http_requests_total{code=~"5..", strata_config_version="{{version}}"}[{{window}}]))
 *
 * Every value strata substitutes is drawn from a closed alphabet (digits; a Prometheus duration; environment
 * and service names, `[a-z0-9-]`), and is escaped as a PromQL string body besides, so a template cannot be
 * turned into a different query by the values it receives.
 */

export const TEMPLATE_VARIABLES = ["version", "window", "environment", "service"] as const;
export type TemplateVariable = (typeof TEMPLATE_VARIABLES)[number];

const PLACEHOLDER = /\{\{\s*([^{}]*?)\s*\}\}/g;

/** A checked template: its text and the variables it uses. */
export interface QueryTemplate {
  text: string;
  variables: TemplateVariable[];
}

/** Longer queries are a mistake (or an attack on the Prometheus server), not a gate. */
const MAX_QUERY_LENGTH = 4096;

/** Checks a template; the problems as messages (empty when it is usable). */
export function checkQueryTemplate(text: string): { template: QueryTemplate | null; problems: string[] } {
  const problems: string[] = [];
  const used = new Set<TemplateVariable>();
  if (text.trim() === "") problems.push("the query is empty");
  if (text.length > MAX_QUERY_LENGTH) problems.push(`the query is longer than ${MAX_QUERY_LENGTH} characters`);
  for (const [, name] of text.matchAll(PLACEHOLDER)) {
    if ((TEMPLATE_VARIABLES as readonly string[]).includes(name!)) used.add(name as TemplateVariable);
    else
      problems.push(
        `unknown placeholder {{${name}}}: the placeholders are ${TEMPLATE_VARIABLES.map((v) => `{{${v}}}`).join(", ")}`,
      );
  }
  // A stray `{{` or `}}` is a placeholder written wrong: PromQL itself never needs two braces in a row.
  const rest = text.replace(PLACEHOLDER, "");
  if (rest.includes("{{") || rest.includes("}}")) problems.push("a placeholder is not closed: write {{version}}");
  if (!used.has("version"))
    problems.push(
      'the query does not use {{version}}: without it, it cannot tell the candidate cohort from the control (select strata_config_version="{{version}}")',
    );
  return problems.length > 0
    ? { template: null, problems }
    : { template: { text, variables: [...used].sort() }, problems };
}

export interface TemplateValues {
  version: number;
  /** The window in milliseconds; rendered as whole seconds (`300s`), at least one second. */
  windowMs: number;
  environment: string;
  service: string | null;
}

/** The query for one cohort. */
export function renderQuery(template: QueryTemplate, values: TemplateValues): string {
  const text: Record<TemplateVariable, string> = {
    version: String(Math.trunc(values.version)),
    window: `${Math.max(1, Math.ceil(values.windowMs / 1000))}s`,
    environment: values.environment,
    service: values.service ?? "",
  };
  return template.text.replace(PLACEHOLDER, (_, name: string) => escapePromqlString(text[name as TemplateVariable]));
}

/** The body of a double-quoted PromQL string (the same escapes as Go's). */
function escapePromqlString(value: string): string {
  return value.replace(
    /[\\"\n\r\t]/g,
    (c) => ({ "\\": "\\\\", '"': '\\"', "\n": "\\n", "\r": "\\r", "\t": "\\t" })[c]!,
  );
}
