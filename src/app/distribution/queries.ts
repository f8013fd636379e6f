import type { HistoryEntry, StatusDocument } from "../../core/protocol/index.js";
import type { EndpointClient } from "./endpoint.js";

/** `strata history --env E [--service S]`: newest first, as people read it. */
export async function readHistory(options: {
  endpoint: EndpointClient;
  environment: string;
  service?: string | undefined;
}): Promise<HistoryEntry[]> {
  return (await options.endpoint.history(options.environment, options.service ?? null)).sort(
    (a, b) => b.version - a.version,
  );
}

/** `strata status [--env E]`: current versions, their age, and which clients run which version. */
export async function readStatus(options: {
  endpoint: EndpointClient;
  environment?: string | undefined;
}): Promise<StatusDocument> {
  const status = await options.endpoint.status();
  if (options.environment === undefined) return status;
  return {
    ...status,
    environments: status.environments.filter((e) => e.environment === options.environment),
    clients: status.clients.filter((c) => c.environment === options.environment),
  };
}
