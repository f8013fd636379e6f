export { loadContentBuilder, type SnapshotContent } from "./content.js";
export { createEndpointClient, type EndpointClient } from "./endpoint.js";
export { generateKeys, loadBuildTrustedKeys, loadSigningKey, signingRepository } from "./keys.js";
export { pushEnvironment, pushEnvironments, type PushResult, type ServicePushResult } from "./push.js";
export { rollbackEnvironment } from "./rollback.js";
export { loadTrustedKeys, parseDuration, readDistributionSettings, resolveEndpointUrl } from "./settings.js";
export { buildSnapshot, verifySnapshotFile, writeSnapshotFile } from "./snapshot.js";
export { readHistory, readStatus } from "./queries.js";
export { checkWorkingTree } from "./worktree.js";
