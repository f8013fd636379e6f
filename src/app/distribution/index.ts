export { loadContentBuilder, type ContentBuilder, type SnapshotContent } from "./content.js";
export { buildNextSnapshot, type BuildOptions, type CallerSource } from "./build.js";
export {
  createEndpointClient,
  type ClientStatus,
  type EndpointClient,
  type EnvironmentFailure,
  type EnvironmentStatus,
  type PublishReply,
  type StatusDocument,
} from "./endpoint.js";
export { generateKeys, loadBuildTrustedKeys, loadSigningKey, signingRepository } from "./keys.js";
export { pushEnvironment, pushEnvironments, type PushOptions, type PushResult, type PushStatus } from "./push.js";
export { rollbackEnvironment, type RollbackOptions } from "./rollback.js";
export {
  loadTrustedKeys,
  parseDuration,
  readDistributionSettings,
  resolveEndpointUrl,
  type DistributionSettings,
} from "./settings.js";
export { buildSnapshot, verifySnapshotFile, type VerifyReport } from "./snapshot.js";
export { readHistory, readStatus } from "./queries.js";
export { checkWorkingTree } from "./worktree.js";
