/** The API service's entry point (`npm run start:api`, the container's `api` role). Configured only by env. */
import { createServer } from "node:http";
import { parseConfig } from "../config.ts";
import { createLogger } from "../logging.ts";
import { createMetrics } from "../metrics.ts";
import { apiSettings, openBackends } from "../runtime.ts";
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
    ...apiSettings(config),
    logger,
    metrics: createMetrics("api"),
    ready: () => checkBackends(b.clients.dynamo, b.clients.sqs, b.tables.events, b.queue.queueUrl),
  });
  // Slow clients are cut off: headers within HEADERS_TIMEOUT_MS, the whole request within REQUEST_TIMEOUT_MS,
  // checked every second rather than Node's default 30 s.
  const server = createServer(
    { headersTimeout: config.HEADERS_TIMEOUT_MS, requestTimeout: config.REQUEST_TIMEOUT_MS, connectionsCheckingInterval: 1000 },
    app,
  );
  server.listen(config.PORT, () => {
    const address = server.address();
    logger.info({ port: typeof address === "object" && address ? address.port : config.PORT }, "listening");
  });
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
