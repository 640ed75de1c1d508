/**
 * The local stack's backends: emulators on fixed ports, tables and queues (the queues rebuilt from DynamoDB),
 * and the env the services get.
 */
import { randomBytes } from "node:crypto";
import type { Config } from "../config.ts";
import { createAwsClients } from "../aws/clients.ts";
import { join } from "node:path";
import { provisionAll } from "../aws/provision.ts";
import { ensureKeyFile } from "../aws/secret-keys.ts";
import { getTenant } from "../aws/tenants.ts";
import { provisionOptions, secretKeysOf, storesOf } from "../runtime.ts";
import { startEmulators, type Emulators } from "./emulators.ts";
import { rebuildQueues, type Rebuilt } from "./rebuild-queues.ts";

/** Emulators accept any credentials; these keep the SDK's default chain from looking elsewhere. */
export const localCredentials = { accessKeyId: "local", secretAccessKey: "local" };

export interface LocalBackends {
  readonly emulators: Emulators;
  /** Environment for a service process pointed at the emulators (on top of the user's own). */
  readonly env: Record<string, string>;
  /** What the queues were rebuilt with from DynamoDB. */
  readonly rebuilt: Rebuilt;
}

/**
 * `userEnv` is the environment the user started us with: a setting given there wins over the local stack's
 * defaults (ALLOW_PRIVATE_TARGETS=false keeps the outbound guard on locally too). Only where the backends
 * are is not the user's to choose here.
 */
export async function startLocalBackends(
  config: Config,
  userEnv: Readonly<Record<string, string | undefined>>,
): Promise<LocalBackends> {
  const emulators = await startEmulators({
    dataDir: config.LOCAL_DATA_DIR,
    dynamoPort: config.LOCAL_DYNAMODB_PORT,
    sqsPort: config.LOCAL_SQS_PORT,
    host: config.LOCAL_BIND_ADDRESS,
  });
  const clients = createAwsClients({
    region: config.AWS_REGION,
    endpoints: { dynamodb: emulators.dynamoEndpoint, sqs: emulators.sqsEndpoint },
    credentials: localCredentials,
  });
  // Signing secrets are sealed with a key kept beside the data (made on the first start), unless the user names one.
  const keyFile = config.SECRETS_KEY_FILE ?? join(config.LOCAL_DATA_DIR, "secrets.key");
  let rebuilt: Rebuilt;
  try {
    await ensureKeyFile(keyFile);
    const urls = await provisionAll(clients.dynamo, clients.sqs, provisionOptions(config));
    const stores = storesOf(clients.ddb, config, await secretKeysOf({ ...config, SECRETS_KEY_FILE: keyFile }, clients));
    rebuilt = await rebuildQueues(stores.events, { sqs: clients.sqs, ...urls }, (id) => getTenant(stores.tenants, id));
  } catch (err) {
    await emulators.stop();
    throw err;
  } finally {
    clients.destroy();
  }
  const defaults: Record<string, string> = {
    // Loopback receivers are the point of a local stack; production keeps this false.
    ALLOW_PRIVATE_TARGETS: "true",
    // Short polls so Ctrl-C stops the worker in a couple of seconds.
    SQS_WAIT_TIME_S: "2",
    // AWS destinations into the emulator's own queues and topics (it has no STS: the worker calls them as itself).
    AWS_ENDPOINT_URL_DESTINATIONS: emulators.sqsEndpoint,
    DESTINATION_ASSUME_ROLE: "false",
    DESTINATION_PRINCIPAL_ARN: "arn:aws:iam::000000000000:role/webhooks-worker",
  };
  return {
    emulators,
    rebuilt,
    env: {
      ...Object.fromEntries(Object.entries(defaults).filter(([name]) => userEnv[name] === undefined)),
      AWS_REGION: config.AWS_REGION,
      AWS_ACCESS_KEY_ID: localCredentials.accessKeyId,
      AWS_SECRET_ACCESS_KEY: localCredentials.secretAccessKey,
      AWS_ENDPOINT_URL_DYNAMODB: emulators.dynamoEndpoint,
      AWS_ENDPOINT_URL_SQS: emulators.sqsEndpoint,
      TABLE_PREFIX: config.TABLE_PREFIX,
      DELIVERY_QUEUE: config.DELIVERY_QUEUE,
      DEAD_LETTER_QUEUE: config.DEAD_LETTER_QUEUE,
      ADMIN_TOKEN: config.ADMIN_TOKEN ?? randomBytes(24).toString("base64url"),
      SECRETS_KEY_FILE: keyFile,
    },
  };
}
