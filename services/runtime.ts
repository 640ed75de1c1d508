/** Wiring shared by the services' main.ts files: clients, tables and queues from the parsed config. */
import type { AwsDestinationRules } from "./api/destination-input.ts";
import type { Config } from "./config.ts";
import { awsEndpoints, ConfigError } from "./config.ts";
import { createAwsClients, type AwsClients, type DocumentClient } from "./aws/clients.ts";
import type { ApiKeyStore } from "./aws/api-keys.ts";
import type { DeliveryQueue } from "./aws/delivery-queue.ts";
import type { EventStore } from "./aws/events/store.ts";
import { getTenant, tenantCache, type TenantStore } from "./aws/tenants.ts";
import { kmsKeyProvider } from "./aws/kms-keys.ts";
import { cachedKeys, localKeyProvider, readKeyFile, type KeyProvider } from "./aws/secret-keys.ts";
import { resolveQueueUrl, type ProvisionOptions } from "./aws/provision.ts";
import { maxAttempts, scheduleSpanMs } from "./core/retry-policy.ts";
import { retentionMsOf } from "./core/tenant.ts";
import { leaseMs } from "./core/timing.ts";
import type { DestinationSettings, WorkerSettings } from "./worker/start-worker.ts";
import { tableNames, type TableNames } from "./aws/tables.ts";

/** The three tables as stores: what the services read and write through. */
export interface Stores {
  readonly tenants: TenantStore;
  readonly apiKeys: ApiKeyStore;
  readonly events: EventStore;
}

export interface Backends {
  readonly clients: AwsClients;
  readonly tables: TableNames;
  readonly stores: Stores;
  readonly queue: DeliveryQueue;
}

export async function openBackends(config: Config): Promise<Backends> {
  const clients = createAwsClients({ region: config.AWS_REGION, endpoints: awsEndpoints(config) });
  const tables = tableNames(config.TABLE_PREFIX);
  const [queueUrl, dlqUrl, keys] = await Promise.all([
    resolveQueueUrl(clients.sqs, config.DELIVERY_QUEUE),
    resolveQueueUrl(clients.sqs, config.DEAD_LETTER_QUEUE),
    secretKeysOf(config, clients),
  ]);
  return {
    clients,
    tables,
    stores: storesOf(clients.ddb, config, keys),
    queue: { sqs: clients.sqs, queueUrl, dlqUrl },
  };
}

/** What seals endpoint signing secrets: the KMS key (a deployment) or the local key file, cached either way. */
export async function secretKeysOf(config: Config, clients: Pick<AwsClients, "kms">): Promise<KeyProvider> {
  if (config.SECRETS_KMS_KEY_ID) return cachedKeys(kmsKeyProvider(clients.kms, config.SECRETS_KMS_KEY_ID));
  if (config.SECRETS_KEY_FILE) return cachedKeys(localKeyProvider(await readKeyFile(config.SECRETS_KEY_FILE)));
  throw new ConfigError(["SECRETS_KMS_KEY_ID or SECRETS_KEY_FILE: one is required to read or write signing secrets"]);
}

/** The tables of this configuration as stores (the events one with its retention, the tenants one with its keys). */
export function storesOf(ddb: DocumentClient, config: Config, keys: KeyProvider): Stores {
  const tables = tableNames(config.TABLE_PREFIX);
  const tenants: TenantStore = { ddb, table: tables.tenants, keys };
  // Attempt records and health figures are kept for their tenant's retention as it is now, read through a cache.
  const retention = tenantCache((id) => getTenant(tenants, id), config.AUTH_CACHE_TTL_MS, 1000);
  return {
    tenants,
    apiKeys: { ddb, table: tables.apiKeys },
    events: {
      ddb,
      table: tables.events,
      retention: { deliveredMs: config.RETENTION_DELIVERED, deadMs: config.RETENTION_DEAD },
      retentionOf: async (tenantId) => {
        const t = await retention.get(tenantId);
        return t && retentionMsOf(t);
      },
      sweepGraceMs: config.SWEEP_GRACE_MS,
    },
  };
}

/** What provisioning needs, from the configuration (bootstrap, local stack, tests). */
export function provisionOptions(config: Config): ProvisionOptions {
  return {
    tablePrefix: config.TABLE_PREFIX,
    queueName: config.DELIVERY_QUEUE,
    dlqName: config.DEAD_LETTER_QUEUE,
    visibilityTimeoutS: config.VISIBILITY_TIMEOUT_S,
    maxAttempts: maxAttempts(config.RETRY_SCHEDULE),
  };
}

/** The worker's settings that come straight from the configuration. */
export function workerSettings(config: Config): WorkerSettings {
  return {
    schedule: config.RETRY_SCHEDULE,
    deliveryTimeoutMs: config.DELIVERY_TIMEOUT_MS,
    leaseMs: leaseMs(config.DELIVERY_TIMEOUT_MS),
    visibilityTimeoutS: config.VISIBILITY_TIMEOUT_S,
    concurrency: config.WORKER_CONCURRENCY,
    maxBytesInFlight: config.WORKER_MAX_BYTES_IN_FLIGHT,
    tenantMaxInFlight: config.TENANT_MAX_IN_FLIGHT,
    endpointMaxInFlight: config.ENDPOINT_MAX_IN_FLIGHT,
    breakerFailures: config.BREAKER_FAILURES,
    breakerCooldownMs: config.BREAKER_COOLDOWN,
    maxPayloadBytes: config.MAX_PAYLOAD_BYTES,
    disableAfterMs: config.ENDPOINT_DISABLE_AFTER,
    tenantCacheTtlMs: config.AUTH_CACHE_TTL_MS,
    sweepIntervalMs: config.SWEEP_INTERVAL_MS,
    sweepGraceMs: config.SWEEP_GRACE_MS,
    waitTimeSeconds: config.SQS_WAIT_TIME_S,
    figuresFlushMs: 10_000,
    destinations: destinationSettings(config),
  };
}

/** Where the worker puts AWS destinations' messages from, and what a stored target must still be at delivery. */
function destinationSettings(config: Config): DestinationSettings {
  const localRegion = config.AWS_ENDPOINT_URL_DESTINATIONS ? config.AWS_REGION : undefined;
  return {
    endpointUrl: config.AWS_ENDPOINT_URL_DESTINATIONS,
    assumeRoles: config.DESTINATION_ASSUME_ROLE,
    region: config.AWS_REGION,
    eventBridgeSource: config.EVENTBRIDGE_SOURCE,
    rules: { regions: config.DESTINATION_REGIONS, platformAccountId: config.PLATFORM_ACCOUNT_ID, localRegion },
  };
}

/** The API's settings that come straight from the configuration. */
export function apiSettings(config: Config) {
  return {
    adminToken: config.ADMIN_TOKEN ?? "",
    maxPayloadBytes: config.MAX_PAYLOAD_BYTES,
    maxJsonDepth: config.MAX_JSON_DEPTH,
    ingestRatePerS: config.INGEST_RATE_PER_S,
    ingestBurst: config.INGEST_BURST,
    tenantActionRatePerS: config.TENANT_ACTION_RATE_PER_S,
    tenantActionBurst: config.TENANT_ACTION_BURST,
    tenantReadRatePerS: config.TENANT_READ_RATE_PER_S,
    tenantReadBurst: config.TENANT_READ_BURST,
    allowPrivateTargets: config.ALLOW_PRIVATE_TARGETS,
    allowedTargetPorts: config.ALLOWED_TARGET_PORTS,
    awsDestinations: awsDestinationRules(config),
    authCacheTtlMs: config.AUTH_CACHE_TTL_MS,
    authFailureLimit: config.AUTH_FAILURE_LIMIT,
    trustProxyHops: config.TRUST_PROXY_HOPS,
    rotationGraceMs: config.ROTATION_GRACE,
    requeueRate: config.DLQ_REQUEUE_RATE,
    deliverySpanMs: scheduleSpanMs(config.RETRY_SCHEDULE, leaseMs(config.DELIVERY_TIMEOUT_MS)),
    consoleDir: config.CONSOLE_DIR,
    publicUrl: config.PUBLIC_URL,
    portalFrameAncestors: config.PORTAL_FRAME_ANCESTORS,
  };
}

/** AWS destinations as the API takes them: set up when the worker's role to trust is named. */
export function awsDestinationRules(config: Config): AwsDestinationRules | undefined {
  if (!config.DESTINATION_PRINCIPAL_ARN) return undefined;
  return {
    principalArn: config.DESTINATION_PRINCIPAL_ARN,
    regions: config.DESTINATION_REGIONS,
    rolePattern: config.DESTINATION_ROLE_PATTERN,
    platformAccountId: config.PLATFORM_ACCOUNT_ID,
    // On emulators, a queue URL on loopback is the local SQS's, in the stack's region.
    localRegion: config.AWS_ENDPOINT_URL_DESTINATIONS ? config.AWS_REGION : undefined,
    maxPayloadBytes: config.MAX_PAYLOAD_BYTES,
  };
}
