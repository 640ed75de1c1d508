/**
 * `@webhook-delivery-platform/client`: a typed client of the platform's API (generated from its OpenAPI document, in
 * src/generated) with a thin hand-written layer, and `verifyWebhook` for receivers.
 */
export { createPlatformClient, type PlatformClientOptions } from "./platform-client.ts";
export { PlatformApi } from "./generated/sdk.gen.ts";
export type * from "./generated/types.gen.ts";
export { ProblemError, isProblem } from "./problem.ts";
export { paginate, type Page } from "./paginate.ts";
export type { RetryOptions } from "./retry.ts";
// The platform's own signature code, compiled into this package: one source for signing and verifying.
export { verifyWebhook, type VerifyOptions, type VerifyResult } from "../../../services/core/signing.ts";
