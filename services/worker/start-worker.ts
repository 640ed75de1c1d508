/** The worker assembled: delivery consumers plus the sweeper, stopped together. */
import type { Logger } from "pino";
import type { DeliveryQueue } from "../aws/delivery-queue.ts";
import { startConsumers } from "./consumer.ts";
import { deliver, type DeliverDeps } from "./deliver.ts";
import { startSweeper } from "./sweeper.ts";

export interface WorkerOptions extends DeliverDeps {
  readonly queue: DeliveryQueue;
  readonly concurrency: number;
  /** Messages per SQS receive (RECEIVE_BATCH_SIZE). */
  readonly receiveBatchSize: number;
  readonly visibilityTimeoutS: number;
  readonly deliveryTimeoutMs: number;
  readonly sweepIntervalMs: number;
  readonly sweepGraceMs: number;
  /** Long-poll length; tests shorten it so stop() returns quickly. @default 20 */
  readonly waitTimeSeconds?: number;
  readonly log: Logger;
}

export interface Worker {
  stop(): Promise<void>;
}

export function startWorker(opts: WorkerOptions): Worker {
  const consumers = startConsumers({
    sqs: opts.queue.sqs,
    queueUrl: opts.queue.queueUrl,
    concurrency: opts.concurrency,
    batchSize: opts.receiveBatchSize,
    visibilityTimeoutS: opts.visibilityTimeoutS,
    // In-flight POSTs are bounded by the delivery timeout; give them that plus time to record.
    drainMs: opts.deliveryTimeoutMs + 10_000,
    waitTimeSeconds: opts.waitTimeSeconds,
    log: opts.log,
    handle: (msg) => deliver(opts, msg),
  });
  const sweeper = startSweeper(
    { store: opts.store, queue: opts.queue, graceMs: opts.sweepGraceMs, log: opts.log, metrics: opts.metrics, now: opts.now },
    opts.sweepIntervalMs,
  );
  return {
    async stop() {
      await Promise.all([consumers.stop(), sweeper.stop()]);
    },
  };
}
