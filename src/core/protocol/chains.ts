/**
 * Version chains. An environment's snapshots form one chain and each service it runs has its own
 * (docs/distribution.md, "Services"): own versions, own history, own watchers. A chain's key names it below
 * the route table, in the stores (file: `envs/<key>/…`; etcd: `<prefix>/head/<key>`, …) and in the
 * endpoint's per-chain cache, and its base path names it on the wire. This module is the one home of both.
 */
import { isValidName } from "../names.js";

export interface Chain {
  environment: string;
  /** Null: the environment's own chain (the whole configuration). */
  service: string | null;
}

/** `production` or `production/services/checkout`: a store key, and the tail of the chain's base path. */
export function chainKey(chain: Chain): string {
  return chain.service === null ? chain.environment : `${chain.environment}/services/${chain.service}`;
}

/** The chain a store key names, or null when it names none (a name that breaks the rule, a stray key). */
export function parseChainKey(key: string): Chain | null {
  const parts = key.split("/");
  if (parts.length === 1 && isValidName(parts[0]!)) return { environment: parts[0]!, service: null };
  if (parts.length === 3 && parts[1] === "services" && isValidName(parts[0]!) && isValidName(parts[2]!))
    return { environment: parts[0]!, service: parts[2]! };
  return null;
}

/** `production` or `production/checkout`: how messages, logs and scopes name a chain. */
export function chainLabel(chain: Chain): string {
  return chain.service === null ? chain.environment : `${chain.environment}/${chain.service}`;
}

/** `/v1/environments/{env}` or `/v1/environments/{env}/services/{svc}`: the chain's resources live below it. */
export function chainPath(chain: Chain): string {
  const env = `/v1/environments/${encodeURIComponent(chain.environment)}`;
  return chain.service === null ? env : `${env}/services/${encodeURIComponent(chain.service)}`;
}
