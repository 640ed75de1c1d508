/**
 * The package's public helper for receivers written in TypeScript:
 * `import { verifyWebhook } from "webhook-delivery-platform/verify"`.
 */
export { verifyWebhook, type VerifyOptions, type VerifyResult } from "./core/signing.ts";
