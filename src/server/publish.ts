/**
 * `PUT /v1/environments/{env}/snapshot` (and `…/services/{svc}/snapshot`, a service's chain): publishing is
 * compare-and-swap. The snapshot is checked before the store sees it (well-formed, for this environment and
 * service, its digest, a trusted signature, the next version of the chain); the store writes it only if the
 * chain is still at `If-Match`.
 */
import { StrataError } from "../core/findings.js";
import type { Head, PublishAction } from "../io/stores/index.js";
import { chainLabel, type PublishedDocument } from "../core/protocol/index.js";
import { encodeSnapshot, parseSnapshot, validateSuccessor, verifySnapshot } from "../core/snapshot/index.js";
import { requestChain, type ChainHandler } from "./chains.js";
import type { Handlers } from "./dispatch.js";
import { HttpError, parseEtags, readBody, sendJson } from "./http.js";
import type { EndpointParts } from "./parts.js";

function conflict(environment: string, expected: number, current: Head | null): HttpError {
  return new HttpError(
    409,
    "version-conflict",
    `${environment} is at version ${current?.version ?? 0}, not ${expected}: re-read and rebuild`,
    { current: current === null ? null : { version: current.version, digest: current.digest } },
  );
}

export function publishHandlers(parts: EndpointParts): Pick<Handlers, "PUT snapshot" | "PUT service-snapshot"> {
  const { cache, store, metrics, log } = parts;
  const put: ChainHandler<"PUT snapshot"> = async ({ req, res, params, grant }) => {
    const chain = requestChain(params);
    const { environment, service, key } = chain;
    try {
      const ifMatch = req.headers["if-match"];
      if (ifMatch === undefined)
        throw new HttpError(
          428,
          "version-conflict",
          'If-Match is required: the version the snapshot was built on ("0" for the first)',
        );
      const expectedList = parseEtags(ifMatch);
      if (expectedList === null || expectedList.length !== 1 || expectedList[0]! < 0)
        throw new HttpError(400, "invalid-snapshot", `If-Match must be one version, e.g. "7"`);
      const expected = expectedList[0]!;
      const snapshot = parseSnapshot(await readBody(req, parts.maxBodyBytes, "the snapshot"));
      if (snapshot.environment !== environment)
        throw new StrataError(
          "invalid-snapshot",
          `the snapshot is for environment "${snapshot.environment}", not "${environment}"`,
        );
      const { actualDigest, text } = encodeSnapshot(snapshot);
      verifySnapshot(snapshot, parts.trustedKeys, actualDigest);
      const current = await cache.current(key);
      if ((current?.head.version ?? 0) !== expected) throw conflict(chainLabel(chain), expected, current?.head ?? null);
      validateSuccessor(snapshot, environment, current?.head ?? null, service);
      const action: PublishAction =
        snapshot.rollbackOf !== null
          ? "rollback"
          : current !== null && current.head.contentDigest === snapshot.contentDigest
            ? "refresh"
            : "publish";
      const local = {
        digest: snapshot.digest,
        text,
        createdAt: snapshot.createdAt,
        expiresAt: snapshot.expiresAt,
      };
      // Under a rollout policy the plan naming this version is stored first (rollouts/manager.ts), so no
      // server announces the version before its plan; a freeze refuses the push here.
      const ticket =
        action === "publish"
          ? await parts.rollouts.beforePublish({
              chain,
              snapshot,
              previous:
                current === null
                  ? null
                  : { version: current.head.version, digest: current.head.digest, text: current.body },
              actor: grant?.name ?? null,
            })
          : null;
      let outcome;
      try {
        outcome = await cache.publishing(key, snapshot.version, local, () =>
          store.publish({ snapshot, text, expected, action, actor: grant?.name ?? null }),
        );
      } catch (e) {
        await ticket?.lost();
        throw e;
      }
      if (!outcome.ok) {
        await ticket?.lost();
        throw conflict(chainLabel(chain), expected, outcome.current);
      }
      ticket?.published();
      metrics.published.inc({ environment, action });
      log("info", "published", {
        environment,
        ...(service === null ? {} : { service }),
        version: snapshot.version,
        digest: snapshot.digest,
        action,
        token: grant?.name ?? null,
        commit: snapshot.source.commit,
        pullRequest: snapshot.source.pullRequest,
        emergency: snapshot.source.emergency,
      });
      const body: PublishedDocument = {
        environment,
        ...(service === null ? {} : { service }),
        version: snapshot.version,
        digest: snapshot.digest,
        action,
      };
      sendJson(res, 201, body, { etag: `"${snapshot.version}"` });
    } catch (e) {
      // Do not leave the client writing into a closed connection: read (and drop) the rest of the body.
      if (!req.complete) {
        res.setHeader("connection", "close");
        req.resume();
      }
      throw e;
    }
  };
  return { "PUT snapshot": put, "PUT service-snapshot": put };
}
