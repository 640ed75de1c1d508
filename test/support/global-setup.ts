/**
 * Starts the backends once for the whole run; each test file provisions its own tables and queues in them.
 * TEST_BACKEND picks the backends:
 * - `dynalite` (default): the local stack's emulators exactly as `npm start` runs them (dynalite keeping its
 *   data on disk, fauxqs in memory), in this process;
 * - `ddb-local`: AWS's DynamoDB Local jar + fauxqs;
 * - `moto`: Python moto's server for both (an emulator written independently of the other two);
 * - `localstack`: both in LocalStack, started by testcontainers (needs Docker).
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { TestProject } from "vitest/node";
import { startEmulators } from "../../services/local/emulators.ts";
import { startDynamoDbLocal, startMoto } from "./external-emulators.ts";

declare module "vitest" {
  export interface ProvidedContext {
    dynamoEndpoint: string;
    sqsEndpoint: string;
    backend: string;
  }
}

const backends = ["dynalite", "ddb-local", "moto", "localstack"];

export default async function setup(project: TestProject) {
  const backend = process.env.TEST_BACKEND ?? "dynalite";
  if (!backends.includes(backend)) throw new Error(`TEST_BACKEND=${backend}: use one of ${backends.join(", ")}`);
  project.provide("backend", backend);
  if (backend === "localstack") return startLocalstack(project);
  if (backend === "moto") {
    const moto = await startMoto();
    project.provide("dynamoEndpoint", moto.endpoint);
    project.provide("sqsEndpoint", moto.endpoint);
    return () => moto.stop();
  }
  const dataDir = mkdtempSync(join(tmpdir(), "webhooks-test-"));
  const emulators = await startEmulators({ dataDir, dynamoPort: 0, sqsPort: 0 });
  const ddbLocal = backend === "ddb-local" ? await startDynamoDbLocal() : undefined;
  project.provide("dynamoEndpoint", ddbLocal?.endpoint ?? emulators.dynamoEndpoint);
  project.provide("sqsEndpoint", emulators.sqsEndpoint);
  return async () => {
    await ddbLocal?.stop();
    await emulators.stop();
    rmSync(dataDir, { recursive: true, force: true });
  };
}

async function startLocalstack(project: TestProject) {
  try {
    const { LocalstackContainer } = await import("@testcontainers/localstack");
    const container = await new LocalstackContainer("localstack/localstack:4.4")
      .withEnvironment({ SERVICES: "sqs,dynamodb" })
      .start();
    project.provide("dynamoEndpoint", container.getConnectionUri());
    project.provide("sqsEndpoint", container.getConnectionUri());
    return async () => {
      await container.stop();
    };
  } catch (err) {
    // One clear line, not a stack trace: the usual cause is a machine without a Docker engine.
    process.stderr.write(
      `TEST_BACKEND=localstack needs a running Docker engine: ${err instanceof Error ? err.message : String(err)}\n`,
    );
    process.exit(1);
  }
}
