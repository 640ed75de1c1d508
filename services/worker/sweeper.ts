/**
 * The sweeper: re-enqueues unsettled deliveries overdue by more than a grace period and not leased,
 * so an accepted event is delivered even if its SQS send failed, the queue was purged or a message lost.
 */
import type { Logger } from "pino";
import { enqueueDeliveries, type DeliveryQueue } from "../aws/delivery-queue.ts";
import { claimOverdue } from "../aws/events/delivery-ops.ts";
import { findOverdueEvents } from "../aws/events/read-events.ts";
import type { EventStore } from "../aws/events/store.ts";
import { dueShards } from "../aws/tables.ts";
import { queueDepth, type QueueDepth } from "../aws/dead-letters.ts";
import type { Metrics } from "../metrics.ts";
import { inSpan, SpanKind, traceFields } from "../tracing/spans.ts";

export interface SweeperDeps {
  readonly store: EventStore;
  readonly queue: DeliveryQueue;
  readonly graceMs: number;
  readonly log: Logger;
  readonly metrics: Metrics;
  readonly now?: () => number;
  /** Events looked at per shard per sweep. @default 100 */
  readonly batch?: number;
  /** Keeps the depths read, for the console's charts. */
  readonly recordDepth?: (depth: { queue: QueueDepth; dlq: QueueDepth }) => Promise<void>;
}

/** One pass over every shard; answers how many deliveries were re-enqueued. */
export async function sweepOnce(deps: SweeperDeps): Promise<number> {
  const now = deps.now ?? Date.now;
  let requeued = 0;
  let oldestDue = Infinity;
  for (let shard = 0; shard < dueShards; shard++) {
    const found = await findOverdueEvents(deps.store, String(shard), now() - deps.graceMs, deps.batch ?? 100);
    oldestDue = Math.min(oldestDue, found[0]?.dueAt ?? Infinity);
    for (const { tenantId, eventId } of found) {
      const key = { tenantId, eventId };
      const endpointIds = await claimOverdue(deps.store, key, now());
      if (endpointIds.length === 0) continue;
      // A trace of its own (a sweep is not part of the event's story); the re-sent deliveries join it.
      const ids = {
        "webhook.tenant_id": key.tenantId,
        "webhook.event_id": key.eventId,
        "messaging.batch.message_count": endpointIds.length,
      };
      const failed = await inSpan("sweeper requeue", { kind: SpanKind.PRODUCER, attributes: ids }, () => {
        const trace = traceFields();
        return enqueueDeliveries(
          deps.queue,
          endpointIds.map((endpointId) => ({ ...key, endpointId })),
          "queue",
          () => trace,
        );
      });
      const sent = endpointIds.length - failed.length;
      requeued += sent;
      deps.metrics.sweeperRequeued.inc(sent);
      deps.log.info(
        { tenant_id: key.tenantId, event_id: key.eventId, count: endpointIds.length },
        "overdue deliveries re-enqueued",
      );
    }
  }
  // How late the most overdue delivery is: nacked and parked ones are due later, so this grows only when
  // deliveries wait with nobody working on them (a stuck or overwhelmed platform): what the alarm watches.
  deps.metrics.oldestOverdueSeconds.set(oldestDue === Infinity ? 0 : Math.max(0, (now() - oldestDue) / 1000));
  // Queue depths as last seen, for /metrics (a sweep is the worker's periodic look at the world).
  const depths = { queue: await queueDepth(deps.queue, "queue"), dlq: await queueDepth(deps.queue, "dlq") };
  for (const which of ["queue", "dlq"] as const) {
    for (const state of ["visible", "in_flight", "delayed"] as const)
      deps.metrics.queueMessages.set({ queue: which, state }, depths[which][state]);
  }
  await deps.recordDepth?.(depths);
  return requeued;
}

export interface Sweeper {
  stop(): Promise<void>;
}

export function startSweeper(deps: SweeperDeps, intervalMs: number): Sweeper {
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<unknown> = Promise.resolve();
  const tick = () => {
    running = sweepOnce(deps)
      .catch((err: unknown) => deps.log.warn({ err }, "sweep failed, will try again"))
      .finally(() => {
        if (!stopped) timer = setTimeout(tick, intervalMs);
      });
  };
  timer = setTimeout(tick, intervalMs);
  return {
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await running;
    },
  };
}
