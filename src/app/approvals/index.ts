export * from "./evaluate-pull-request.js";
export { checkApprovals, type ApprovalsReport, type CheckApprovalsOptions } from "./check-approvals.js";
export * from "./comment.js";
export * from "./publish-gate.js";
export * from "./connect.js";
export * from "./diff-seam.js";
