/** Wiring shared by the services' main.ts files: clients, tables and queues from the parsed config. */
import type { Config } from "./config.ts";
import { awsEndpoints } from "./config.ts";
import { createAwsClients, type AwsClients } from "./aws/clients.ts";
import type { DeliveryQueue } from "./aws/delivery-queue.ts";
import type { EventStore } from "./aws/events/store.ts";
import { resolveQueueUrl } from "./aws/provision.ts";
import { tableNames, type TableNames } from "./aws/tables.ts";

export interface Backends {
  readonly clients: AwsClients;
  readonly tables: TableNames;
  readonly store: EventStore;
  readonly queue: DeliveryQueue;
}

export async function openBackends(config: Config): Promise<Backends> {
  const clients = createAwsClients({ region: config.AWS_REGION, endpoints: awsEndpoints(config) });
  const tables = tableNames(config.TABLE_PREFIX);
  const [queueUrl, dlqUrl] = await Promise.all([
    resolveQueueUrl(clients.sqs, config.DELIVERY_QUEUE),
    resolveQueueUrl(clients.sqs, config.DEAD_LETTER_QUEUE),
  ]);
  return {
    clients,
    tables,
    store: { ddb: clients.ddb, table: tables.events, retention: { deliveredMs: config.RETENTION_DELIVERED, deadMs: config.RETENTION_DEAD } },
    queue: { sqs: clients.sqs, queueUrl, dlqUrl },
  };
}
