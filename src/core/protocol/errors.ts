/** The body of every error answer of the endpoint: `{ "error": { "code", "message", … } }`. */
import type { HttpErrorCode } from "./codes.js";
import type { VersionRef } from "./snapshot.js";

export interface ErrorDocument {
  error: {
    code: HttpErrorCode;
    message: string;
    /** `409 version-conflict`: what the environment is at now (null: nothing published). */
    current?: VersionRef | null;
    /** `404 unknown-service`: the services of the environment the endpoint has versions of. */
    services?: string[];
  };
}
