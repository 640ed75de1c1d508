/**
 * Starts the backends once for the whole run; each test file provisions its own tables and queues in them.
 * TEST_BACKEND picks the backends: `dynalite` (default: dynalite + fauxqs in process), `ddb-local` (AWS's
 * DynamoDB Local jar + fauxqs) or `localstack` (both in LocalStack, started by testcontainers: needs Docker).
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
  if (!["dynalite", "ddb-local", "localstack"].includes(backend)) throw new Error(`TEST_BACKEND=${backend}: use dynalite, ddb-local or localstack`);
  if (backend === "localstack") return startLocalstack(project);
  const emulators = await startEmulators({ dynamoPort: 0, sqsPort: 0 });
  const ddbLocal = backend === "ddb-local" ? await startDynamoDbLocal() : undefined;
  project.provide("dynamoEndpoint", ddbLocal?.endpoint ?? emulators.dynamoEndpoint);
  project.provide("sqsEndpoint", emulators.sqsEndpoint);
  return async () => {
    await ddbLocal?.stop();
    await emulators.stop();
  };
}

async function startLocalstack(project: TestProject) {
  try {
    const { LocalstackContainer } = await import("@testcontainers/localstack");
    const container = await new LocalstackContainer("localstack/localstack:4.4").withEnvironment({ SERVICES: "sqs,dynamodb" }).start();
    project.provide("dynamoEndpoint", container.getConnectionUri());
    project.provide("sqsEndpoint", container.getConnectionUri());
    return async () => {
      await container.stop();
    };
  } catch (err) {
    // One clear line, not a stack trace: the usual cause is a machine without a Docker engine.
    process.stderr.write(`TEST_BACKEND=localstack needs a running Docker engine: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  }
}
