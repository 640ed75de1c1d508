/** The API service's entry point (`npm run start:api`, the container's `api` role). Configured only by env. */
import { parseConfig } from "../config.ts";
import { createLogger } from "../logging.ts";
import { openBackends } from "../runtime.ts";
import { onShutdown, runMain } from "../shutdown.ts";
import { checkBackends } from "../aws/readiness.ts";
import { createApp } from "./create-app.ts";

runMain(async () => {
  const config = parseConfig(process.env, "api");
  const logger = createLogger(config.LOG_LEVEL, "api");
  const b = await openBackends(config);
  const app = createApp({
    ddb: b.clients.ddb,
    tables: b.tables,
    store: b.store,
    queue: b.queue,
    adminToken: config.ADMIN_TOKEN ?? "",
    maxPayloadBytes: config.MAX_PAYLOAD_BYTES,
    allowPrivateTargets: config.ALLOW_PRIVATE_TARGETS,
    authCacheTtlMs: config.AUTH_CACHE_TTL_MS,
    rotationGraceMs: config.ROTATION_GRACE,
    requeueRate: config.DLQ_REQUEUE_RATE,
    logger,
    ready: () => checkBackends(b.clients.dynamo, b.clients.sqs, b.tables.events, b.queue.queueUrl),
  });
  const server = app.listen(config.PORT, () => {
    const address = server.address();
    logger.info({ port: typeof address === "object" && address ? address.port : config.PORT }, "listening");
  });
  // A slow client cannot hold a connection open indefinitely.
  server.headersTimeout = 10_000;
  server.requestTimeout = 30_000;
  onShutdown(
    logger,
    () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
      }).finally(() => b.clients.destroy()),
    25_000,
  );
});
