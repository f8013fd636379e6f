// An example Node service that reads its configuration through the SDK (README: "Use it in a service").
// In your own service: `npm install strata-config`; here the package resolves itself from this repository.
import { createServer } from "node:http";
import { createClient } from "strata-config/client";

const env = process.env;
const config = await createClient({
  endpoint: env.STRATA_ENDPOINT ?? "http://127.0.0.1:7070",
  environment: env.STRATA_ENV ?? "staging",
  token: env.STRATA_TOKEN,
  service: "checkout",
  // The public keys that sign your snapshots: `signing.trusted_keys` of the configuration repository.
  trustedKeys: (env.STRATA_TRUSTED_KEYS ?? "").split(",").filter(Boolean),
  // The age identity of runtime.recipients opens the snapshot's secrets; default SOPS_AGE_KEY(_FILE).
  identity: env.STRATA_AGE_IDENTITY,
  // Last-known-good: used when the endpoint is down at start.
  cacheFile: env.STRATA_CACHE_FILE,
});

// A refused snapshot (bad signature, replay, wrong environment, …) never reaches get(): we keep serving.
config.on("error", (e) => console.error(`strata: kept v${config.version}: ${e.code}: ${e.message}`));
config.on("stale", ({ version }) =>
  console.error(`strata: v${version} is past its expiry; is the pipeline refreshing it?`),
);
// One callback per changed leaf; sensitive values come as values, so never log `before`/`after` blindly.
config.watch("database.pool.*", ({ key, before, after, version }) =>
  console.log(`v${version}: ${key} ${before} -> ${after}`),
);

const server = createServer((req, res) => {
  // get() is an in-memory lookup: call it per request, never cache the value yourself.
  const body = {
    version: config.version,
    host: config.get("database.host"),
    poolMax: config.get("database.pool.max"),
    hasPassword: typeof config.get("database.password", null) === "string",
    timeoutMs: config.get("http.timeout_ms", 5000),
  };
  res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(body) + "\n");
});
server.listen(Number(env.PORT ?? 8080), "127.0.0.1", () =>
  console.log(`listening on http://127.0.0.1:${server.address().port} with v${config.version}`),
);

const stop = () => {
  server.close();
  // close() ends the client's stream, timers and sockets: the process then exits by itself.
  void config.close();
};
process.once("SIGTERM", stop);
process.once("SIGINT", stop);
