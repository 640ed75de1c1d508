/** The tenant's own DLQ view in action: requeue one endpoint's dead deliveries of events since a time. */
import type { Logger } from "pino";
import { enqueueDeliveries, type DeliveryQueue } from "../aws/delivery-queue.ts";
import { requeueDeliveries } from "../aws/events/delivery-ops.ts";
import { eventIdsByStatusSince } from "../aws/events/read-events.ts";
import type { EventStore } from "../aws/events/store.ts";

export interface RecoverDeps {
  readonly store: EventStore;
  readonly queue: DeliveryQueue;
  readonly now: () => number;
}

/** Events looked at in one call; a larger backlog takes several calls with a later `since`. */
export const maxRecoverEvents = 10_000;

export async function recoverEndpoint(
  deps: RecoverDeps,
  input: { tenantId: string; endpointId: string; since: string; log: Logger },
): Promise<number> {
  const since = new Date(input.since).toISOString();
  const eventIds = await eventIdsByStatusSince(deps.store, input.tenantId, "DEAD", since, maxRecoverEvents);
  let requeued = 0;
  for (const eventId of eventIds) {
    const key = { tenantId: input.tenantId, eventId };
    const ids = await requeueDeliveries(deps.store, key, deps.now(), [input.endpointId], ["DEAD"]);
    if (!ids?.length) continue;
    const failed = await enqueueDeliveries(deps.queue, ids.map((endpointId) => ({ ...key, endpointId })));
    if (failed.length) input.log.warn({ event_id: eventId }, "enqueue failed; the sweeper will deliver it");
    requeued += ids.length;
  }
  return requeued;
}
