/**
 * What a CDK app imports to run the webhook platform inside its own stacks (README, "The platform in your own CDK
 * app"); everything else under infra/ may change without notice.
 */
export { WebhookPlatform, deploymentTagKey, type WebhookPlatformProps } from "./lib/webhook-platform.ts";
export type { Storage, EventsTableCapacity } from "./lib/storage.ts";
export type { TaskSize } from "./lib/task-size.ts";
