/**
 * The rollout routes (core/protocol/rollout.ts): the signed plan, the status, the operator's actions and the
 * clients' health reports. The work is the manager's (manager.ts); these read requests and write answers.
 */
import { chainLabel, MAX_REPORT_BATCH_BYTES, type RolloutActionRequest } from "../../core/protocol/index.js";
import { OPERATOR_ACTIONS, type OperatorAction } from "../../core/rollout/index.js";
import { requestChain, type ChainHandler } from "../chains.js";
import { cacheControl, type Handlers } from "../dispatch.js";
import { HttpError, readBody, sendJson } from "../http.js";
import type { EndpointParts } from "../parts.js";

function parseJson(text: string, what: string): unknown {
  if (text.trim() === "") return null;
  try {
    return JSON.parse(text) as unknown;
  } catch (e) {
    throw new HttpError(400, "invalid-argument", `${what} is not JSON: ${(e as Error).message}`);
  }
}

/** Drops the rest of a refused body so the client is not left writing into a closed connection. */
function drain(req: import("node:http").IncomingMessage, res: import("node:http").ServerResponse): void {
  if (!req.complete) {
    res.setHeader("connection", "close");
    req.resume();
  }
}

export function rolloutHandlers(
  parts: EndpointParts,
): Pick<
  Handlers,
  | "GET plan"
  | "GET rollout"
  | "POST rollout-action"
  | "POST reports"
  | "GET service-plan"
  | "GET service-rollout"
  | "POST service-rollout-action"
  | "POST service-reports"
> {
  const { rollouts } = parts;
  // An environment's route and its service twin (`…/services/{svc}/…`): the same handler on the chain.
  const plan: ChainHandler<"GET plan"> = async (ctx) => {
    const { req, res } = ctx;
    const chain = requestChain(ctx.params);
    const entry = await rollouts.current(chain.key);
    if (entry === null) throw new HttpError(404, "not-found", `${chainLabel(chain)} has had no rollout`);
    const headers = {
      etag: entry.etag,
      "cache-control": cacheControl(ctx, "no-cache"),
    };
    const inm = req.headers["if-none-match"];
    if (inm !== undefined && inm.split(",").some((t) => t.trim().replace(/^W\//, "") === entry.etag)) {
      res.writeHead(304, headers);
      return void res.end();
    }
    res.writeHead(200, { "content-type": "application/json", "content-length": entry.body.length, ...headers });
    res.end(req.method === "HEAD" ? undefined : entry.body);
  };
  const rollout: ChainHandler<"GET rollout"> = async (ctx) => {
    const chain = requestChain(ctx.params);
    sendJson(ctx.res, 200, await rollouts.status(chain), { "cache-control": cacheControl(ctx, "no-store") });
  };
  const action: ChainHandler<"POST rollout-action"> = async (ctx) => {
    const { req, res, grant } = ctx;
    const chain = requestChain(ctx.params);
    const name = ctx.params.action;
    try {
      if (!(OPERATOR_ACTIONS as readonly string[]).includes(name))
        throw new HttpError(
          404,
          "not-found",
          `no rollout action "${name.slice(0, 40)}": use ${OPERATOR_ACTIONS.join(", ")}`,
        );
      const body = parseJson(await readBody(req, 4096, "the request"), "the request") as RolloutActionRequest | null;
      if (body !== null && (typeof body !== "object" || Array.isArray(body)))
        throw new HttpError(400, "invalid-argument", 'the body is {"reason": "…"} or empty');
      const reason = body?.reason;
      if (reason !== undefined && typeof reason !== "string")
        throw new HttpError(400, "invalid-argument", "reason must be a string");
      // Without tokens (loopback only) the actor is whoever runs the server's machine.
      const actor = grant?.name ?? "local";
      const status = await rollouts.act(chain, name as OperatorAction, actor, reason);
      sendJson(res, 200, status, { "cache-control": "no-store" });
    } catch (e) {
      drain(req, res);
      throw e;
    }
  };
  const reports: ChainHandler<"POST reports"> = async (ctx) => {
    const { req, res, grant } = ctx;
    const chain = requestChain(ctx.params);
    try {
      const body = parseJson(await readBody(req, MAX_REPORT_BATCH_BYTES, "the report batch"), "the report batch");
      const client = grant?.name ?? req.socket.remoteAddress ?? "local";
      const answer = await rollouts.addReports(chain, body, client);
      sendJson(res, 202, answer);
    } catch (e) {
      drain(req, res);
      if (e instanceof HttpError && e.status === 429 && typeof e.extra.retryAfter === "number")
        res.setHeader("retry-after", String(e.extra.retryAfter));
      throw e;
    }
  };
  return {
    "GET plan": plan,
    "GET service-plan": plan,
    "GET rollout": rollout,
    "GET service-rollout": rollout,
    "POST rollout-action": action,
    "POST service-rollout-action": action,
    "POST reports": reports,
    "POST service-reports": reports,
  };
}
