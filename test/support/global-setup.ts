/**
 * Starts the backends once for the whole run; each test file provisions its own tables and queues in them.
 * TEST_BACKEND picks DynamoDB: `dynalite` (default, in process) or `ddb-local` (AWS's DynamoDB Local jar).
 * SQS is always fauxqs.
 */
import type { TestProject } from "vitest/node";
import { startEmulators } from "../../services/local/emulators.ts";
import { startDynamoDbLocal } from "./dynamodb-local.ts";

declare module "vitest" {
  export interface ProvidedContext {
    dynamoEndpoint: string;
    sqsEndpoint: string;
  }
}

export default async function setup(project: TestProject) {
  const backend = process.env.TEST_BACKEND ?? "dynalite";
  if (!["dynalite", "ddb-local"].includes(backend)) throw new Error(`TEST_BACKEND=${backend}: use dynalite or ddb-local`);
  const emulators = await startEmulators({ dynamoPort: 0, sqsPort: 0 });
  const ddbLocal = backend === "ddb-local" ? await startDynamoDbLocal() : undefined;
  project.provide("dynamoEndpoint", ddbLocal?.endpoint ?? emulators.dynamoEndpoint);
  project.provide("sqsEndpoint", emulators.sqsEndpoint);
  return async () => {
    await ddbLocal?.stop();
    await emulators.stop();
  };
}
