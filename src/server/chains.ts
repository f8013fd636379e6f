/**
 * The version chain a request names (routes.ts `chainOf`) and the answer when a service's chain does not exist:
 * the endpoint knows a service of an environment once `strata push` has published it (strata.yaml
 * `services:` declares it), so a service with nothing published is a 404 naming the ones it has.
 */
import { chainKey, type Chain } from "../core/protocol/index.js";
import type { SnapshotStore } from "../io/stores/index.js";
import type { RequestContext } from "./dispatch.js";
import { HttpError } from "./http.js";
import { chainOf, type RouteKey, type RouteParams } from "./routes.js";

/** The handler of an environment's route that also serves its service twin (`…/services/{svc}/…`). */
export type ChainHandler<K extends RouteKey> = (
  ctx: RequestContext<RouteParams<K> & { readonly svc?: string }>,
) => Promise<void> | void;

/** The chain of a route's parameters and its store key. */
export function requestChain(params: { readonly env: string; readonly svc?: string }): Chain & { key: string } {
  const chain = chainOf(params);
  return { ...chain, key: chainKey(chain) };
}

/**
 * `404`: nothing is published on this chain. For a service, `unknown-service` with the services the
 * environment has (the SDK reads an empty list as "this environment declares no services"); for an
 * environment, `unknown-environment`.
 */
export async function nothingPublished(store: SnapshotStore, chain: Chain): Promise<HttpError> {
  if (chain.service === null)
    return new HttpError(404, "unknown-environment", `nothing is published for ${chain.environment}`);
  const services = await store.services(chain.environment);
  const known =
    services.length === 0
      ? `${chain.environment} has no services published (strata.yaml declares none for it, or strata push has not run since)`
      : `the services of ${chain.environment}: ${services.join(", ")}`;
  return new HttpError(
    404,
    "unknown-service",
    `${chain.environment} has no service "${chain.service}" (${known}); a service is declared in strata.yaml \`services:\` and published by strata push`,
    { services },
  );
}
