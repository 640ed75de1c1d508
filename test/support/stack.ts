/**
 * One file's stack: its own tables and queues in the shared emulators, the API app (driven by
 * supertest), an in-process worker, and the real AWS SDK throughout. Configured through parseConfig.
 */
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Express } from "express";
import { pino, type Logger } from "pino";
import supertest from "supertest";
import { inject } from "vitest";
import { createAwsClients, type AwsClients } from "../../services/aws/clients.ts";
import type { DeliveryQueue } from "../../services/aws/delivery-queue.ts";
import type { EventStore } from "../../services/aws/events/store.ts";
import { provisionAll } from "../../services/aws/provision.ts";
import { tableNames, type TableNames } from "../../services/aws/tables.ts";
import { createApp } from "../../services/api/create-app.ts";
import { parseConfig, type Config } from "../../services/config.ts";
import { ensureKeyFile } from "../../services/aws/secret-keys.ts";
import {
  apiSettings,
  provisionOptions,
  secretKeysOf,
  storesOf,
  workerSettings,
  type Stores,
} from "../../services/runtime.ts";
import { localCredentials } from "../../services/local/local-stack.ts";
import { createGuardedClient } from "../../services/outbound/guarded-client.ts";
import { startWorker, type Worker } from "../../services/worker/start-worker.ts";
import { createMetrics, type Metrics } from "../../services/metrics.ts";

export interface Stack {
  readonly config: Config;
  /** The environment the stack was configured from: hand it to a service started as a process. */
  readonly env: Record<string, string>;
  readonly http: ReturnType<typeof supertest>;
  /** The API app itself, for a test that must listen on a port (a browser) or inspect its routes. */
  readonly app: Express;
  readonly adminToken: string;
  readonly clients: AwsClients;
  readonly tables: TableNames;
  readonly stores: Stores;
  /** The event store (stores.events). */
  readonly store: EventStore;
  readonly queue: DeliveryQueue;
  /** The in-process workers' metrics (one registry for all of them). */
  readonly workerMetrics: Metrics;
  /**
   * Starts an in-process worker (one per call); all are stopped by close(). Overrides bypass the config's
   * checks on purpose, to build the situations they prevent (a delivery slower than the visibility timeout).
   */
  startWorker(overrides?: {
    allowPrivate?: boolean;
    visibilityTimeoutS?: number;
    deliveryTimeoutMs?: number;
    tenantCacheTtlMs?: number;
  }): Worker;
  createTenant(endpoints: { url: string; event_types?: string[] }[]): Promise<CreatedTenant>;
  close(): Promise<void>;
}

export interface CreatedTenant {
  readonly tenantId: string;
  readonly apiKey: string;
  readonly endpoints: { endpointId: string; secret: string; url: string }[];
}

export const logger = pino({ level: process.env.TEST_LOG_LEVEL ?? "silent" });

export async function startStack(
  env: Record<string, string> = {},
  opts: { logger?: Logger; requeueBudgetMs?: number } = {},
): Promise<Stack> {
  const log = opts.logger ?? logger;
  const id = randomBytes(4).toString("hex");
  const adminToken = randomBytes(24).toString("base64url");
  // The stack's own key for sealing signing secrets, as npm start makes one; services started as processes read it too.
  const keyDir = mkdtempSync(join(tmpdir(), "webhooks-key-"));
  await ensureKeyFile(join(keyDir, "secrets.key"));
  const fullEnv: Record<string, string> = {
    SECRETS_KEY_FILE: join(keyDir, "secrets.key"),
    ADMIN_TOKEN: adminToken,
    TABLE_PREFIX: `t${id}`,
    DELIVERY_QUEUE: `q${id}`,
    DEAD_LETTER_QUEUE: `q${id}-dlq`,
    AWS_ENDPOINT_URL_DYNAMODB: inject("dynamoEndpoint"),
    AWS_ENDPOINT_URL_SQS: inject("sqsEndpoint"),
    ALLOW_PRIVATE_TARGETS: "true",
    DELIVERY_TIMEOUT_MS: "2000",
    VISIBILITY_TIMEOUT_S: "10",
    AUTH_CACHE_TTL_MS: "0",
    SWEEP_INTERVAL_MS: "200",
    // Tests poll event reads far faster than a tenant should (hundreds at once); the read limit's own test sets it.
    TENANT_READ_RATE_PER_S: "100000",
    TENANT_READ_BURST: "100000",
    ...env,
  };
  const config = parseConfig(fullEnv, "api");
  const clients = createAwsClients({
    region: config.AWS_REGION,
    endpoints: { dynamodb: config.AWS_ENDPOINT_URL_DYNAMODB, sqs: config.AWS_ENDPOINT_URL_SQS },
    credentials: localCredentials,
  });
  const urls = await provisionAll(clients.dynamo, clients.sqs, provisionOptions(config));
  const tables = tableNames(config.TABLE_PREFIX);
  const stores = storesOf(clients.ddb, config, await secretKeysOf(config, clients));
  const store = stores.events;
  const queue: DeliveryQueue = { sqs: clients.sqs, ...urls };
  const app = createApp({
    tenants: stores.tenants,
    apiKeys: stores.apiKeys,
    store,
    queue,
    ...apiSettings(config),
    ...(opts.requeueBudgetMs === undefined ? {} : { requeueBudgetMs: opts.requeueBudgetMs }),
    logger: log,
    metrics: createMetrics("api"),
    ready: async () => {},
  });
  const http = supertest(app);
  const workers: Worker[] = [];
  const workerMetrics = createMetrics("worker");
  const guarded: { close(): void }[] = [];

  return {
    config,
    env: fullEnv,
    http,
    app,
    adminToken,
    clients,
    tables,
    stores,
    store,
    queue,
    workerMetrics,
    startWorker(overrides = {}) {
      const client = createGuardedClient({
        allowPrivate: overrides.allowPrivate ?? config.ALLOW_PRIVATE_TARGETS,
        allowedPorts: config.ALLOWED_TARGET_PORTS,
        timeoutMs: overrides.deliveryTimeoutMs ?? config.DELIVERY_TIMEOUT_MS,
        userAgent: "webhook-delivery-platform-test",
      });
      guarded.push(client);
      const deliveryTimeoutMs = overrides.deliveryTimeoutMs ?? config.DELIVERY_TIMEOUT_MS;
      const worker = startWorker({
        store,
        queue,
        tenants: stores.tenants,
        client,
        credentials: localCredentials,
        settings: {
          ...workerSettings(config),
          deliveryTimeoutMs,
          leaseMs: deliveryTimeoutMs + 3000,
          visibilityTimeoutS: overrides.visibilityTimeoutS ?? config.VISIBILITY_TIMEOUT_S,
          tenantCacheTtlMs: overrides.tenantCacheTtlMs ?? 0,
          waitTimeSeconds: 1,
          figuresFlushMs: 200,
        },
        log,
        metrics: workerMetrics,
      });
      workers.push(worker);
      return worker;
    },
    async createTenant(endpoints) {
      const res = await http
        .post("/admin/tenants")
        .set("authorization", `Bearer ${adminToken}`)
        .send({ name: `tenant ${id}`, endpoints });
      if (res.status !== 201) throw new Error(`tenant creation failed: ${res.status} ${res.text}`);
      const body = res.body as {
        tenant_id: string;
        api_key: string;
        endpoints: { endpoint_id: string; secret: string; url: string }[];
      };
      return {
        tenantId: body.tenant_id,
        apiKey: body.api_key,
        endpoints: body.endpoints.map((e) => ({ endpointId: e.endpoint_id, secret: e.secret, url: e.url })),
      };
    },
    async close() {
      await Promise.all(workers.map((w) => w.stop()));
      for (const g of guarded) g.close();
      clients.destroy();
      rmSync(keyDir, { recursive: true, force: true });
    },
  };
}
