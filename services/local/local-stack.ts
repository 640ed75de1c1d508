/** The local stack's backends: emulators on fixed ports, tables and queues, and the env the services get. */
import { randomBytes } from "node:crypto";
import type { Config } from "../config.ts";
import { createAwsClients } from "../aws/clients.ts";
import { provisionAll } from "../aws/provision.ts";
import { provisionOptions } from "../runtime.ts";
import { startEmulators, type Emulators } from "./emulators.ts";

/** Emulators accept any credentials; these keep the SDK's default chain from looking elsewhere. */
export const localCredentials = { accessKeyId: "local", secretAccessKey: "local" };

export interface LocalBackends {
  readonly emulators: Emulators;
  /** Environment for a service process pointed at the emulators. */
  readonly env: Record<string, string>;
}

export async function startLocalBackends(config: Config): Promise<LocalBackends> {
  const emulators = await startEmulators({
    dataDir: config.LOCAL_DATA_DIR,
    dynamoPort: config.LOCAL_DYNAMODB_PORT,
    sqsPort: config.LOCAL_SQS_PORT,
  });
  const clients = createAwsClients({
    region: config.AWS_REGION,
    endpoints: { dynamodb: emulators.dynamoEndpoint, sqs: emulators.sqsEndpoint },
    credentials: localCredentials,
  });
  try {
    await provisionAll(clients.dynamo, clients.sqs, provisionOptions(config));
  } finally {
    clients.destroy();
  }
  return {
    emulators,
    env: {
      AWS_REGION: config.AWS_REGION,
      AWS_ACCESS_KEY_ID: localCredentials.accessKeyId,
      AWS_SECRET_ACCESS_KEY: localCredentials.secretAccessKey,
      AWS_ENDPOINT_URL_DYNAMODB: emulators.dynamoEndpoint,
      AWS_ENDPOINT_URL_SQS: emulators.sqsEndpoint,
      TABLE_PREFIX: config.TABLE_PREFIX,
      DELIVERY_QUEUE: config.DELIVERY_QUEUE,
      DEAD_LETTER_QUEUE: config.DEAD_LETTER_QUEUE,
      // Loopback receivers are the point of a local stack; production keeps this false.
      ALLOW_PRIVATE_TARGETS: "true",
      // Short polls so Ctrl-C stops the worker in a couple of seconds.
      SQS_WAIT_TIME_S: "2",
      ADMIN_TOKEN: config.ADMIN_TOKEN ?? randomBytes(24).toString("base64url"),
    },
  };
}
