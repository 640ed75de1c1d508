/** The worker service's entry point (`npm run start:worker`, the container's `worker` role). Configured only by env. */
// First: tracing starts before the modules below load (instrument.ts says why).
import "./instrument.ts";
import { parseConfig } from "../config.ts";
import { createMetrics } from "../metrics.ts";
import { createLogger } from "../logging.ts";
import { openBackends, workerSettings } from "../runtime.ts";
import { onShutdown, runMain } from "../shutdown.ts";
import { workerShutdownDeadlineMs } from "../core/timing.ts";
import { createGuardedClient } from "../outbound/guarded-client.ts";
import { startCloudWatchMetrics } from "./cloudwatch-metrics.ts";
import { createMetricsServer } from "./metrics-server.ts";
import { startWorker } from "./start-worker.ts";

runMain(async () => {
  const config = parseConfig(process.env, "worker");
  const log = createLogger(config.LOG_LEVEL, "worker");
  const b = await openBackends(config);
  const metrics = createMetrics("worker");
  const client = createGuardedClient({
    allowPrivate: config.ALLOW_PRIVATE_TARGETS,
    allowedPorts: config.ALLOWED_TARGET_PORTS,
    timeoutMs: config.DELIVERY_TIMEOUT_MS,
    userAgent: "webhook-delivery-platform/0.1 (+https://www.standardwebhooks.com)",
  });
  const worker = startWorker({
    store: b.stores.events,
    queue: b.queue,
    tenants: b.stores.tenants,
    client,
    settings: workerSettings(config),
    log,
    metrics,
  });
  const cloudwatch = config.CLOUDWATCH_EMF
    ? startCloudWatchMetrics({ metrics, inFlight: () => worker.inFlight(), deployment: config.TABLE_PREFIX })
    : undefined;
  let stopping = false;
  const metricsServer = createMetricsServer(metrics.registry, () => !stopping && worker.healthy()).listen(
    config.METRICS_PORT,
  );
  log.info({ concurrency: config.WORKER_CONCURRENCY, schedule_ms: config.RETRY_SCHEDULE }, "worker started");
  onShutdown(
    log,
    async () => {
      stopping = true;
      await worker.stop();
      await cloudwatch?.stop();
      metricsServer.close();
      client.close();
      b.clients.destroy();
    },
    workerShutdownDeadlineMs(config.DELIVERY_TIMEOUT_MS),
  );
});
