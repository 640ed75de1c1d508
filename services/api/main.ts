/** The API service's entry point (`npm run start:api`, the container's `api` role). Configured only by env. */
// First: tracing starts before the modules below load (instrument.ts says why).
import "./instrument.ts";
import { parseConfig } from "../config.ts";
import { createLogger } from "../logging.ts";
import { createMetrics } from "../metrics.ts";
import { apiSettings, openBackends } from "../runtime.ts";
import { onShutdown, runMain } from "../shutdown.ts";
import { checkBackends } from "../aws/readiness.ts";
import { apiShutdownDeadlineMs } from "../core/timing.ts";
import { createApp } from "./create-app.ts";
import { closeGracefully, createHttpServer } from "./http-server.ts";

runMain(async () => {
  const config = parseConfig(process.env, "api");
  const logger = createLogger(config.LOG_LEVEL, "api");
  const b = await openBackends(config);
  const app = createApp({
    tenants: b.stores.tenants,
    apiKeys: b.stores.apiKeys,
    store: b.stores.events,
    queue: b.queue,
    ...apiSettings(config),
    logger,
    metrics: createMetrics("api"),
    ready: () => checkBackends(b.clients.dynamo, b.clients.sqs, b.tables.events, b.queue.queueUrl),
  });
  const server = createHttpServer(app, {
    headersTimeoutMs: config.HEADERS_TIMEOUT_MS,
    requestTimeoutMs: config.REQUEST_TIMEOUT_MS,
  });
  server.listen(config.PORT, () => {
    const address = server.address();
    logger.info({ port: typeof address === "object" && address ? address.port : config.PORT }, "listening");
  });
  onShutdown(
    logger,
    () =>
      closeGracefully(server)
        .then(() => app.flushNotices())
        .finally(() => b.clients.destroy()),
    apiShutdownDeadlineMs,
  );
});
