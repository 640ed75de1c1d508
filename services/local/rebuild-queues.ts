/**
 * The local stack's queues, rebuilt from DynamoDB at start. The SQS emulator runs in memory (its on-disk
 * mode never hands back a message made visible again), and DynamoDB is the source of truth anyway: every
 * unsettled delivery gets a message on the delivery queue (the worker nacks those not yet due) but a parked one,
 * which has none on purpose (the sweeper sends it when it is due), and every
 * dead delivery that could still be requeued gets one on the DLQ. A skipped delivery never had a message: it
 * waits for a recover, in DynamoDB only.
 */
import { isSettled } from "../core/delivery-state.ts";
import type { Tenant } from "../core/tenant.ts";
import { enqueueDeliveries, type DeliveryMessage, type DeliveryQueue } from "../aws/delivery-queue.ts";
import { scanOpenEvents } from "../aws/events/read-events.ts";
import type { EventStore } from "../aws/events/store.ts";

export interface Rebuilt {
  readonly pending: number;
  readonly dead: number;
}

export async function rebuildQueues(
  store: EventStore,
  queue: DeliveryQueue,
  getTenant: (tenantId: string) => Promise<Tenant | undefined>,
): Promise<Rebuilt> {
  const tenants = new Map<string, Promise<Tenant | undefined>>();
  const pending: DeliveryMessage[] = [];
  const dead: DeliveryMessage[] = [];
  for await (const event of scanOpenEvents(store)) {
    if (!tenants.has(event.tenantId)) tenants.set(event.tenantId, getTenant(event.tenantId));
    const tenant = await tenants.get(event.tenantId);
    for (const [endpointId, d] of Object.entries(event.deliveries)) {
      const message = { tenantId: event.tenantId, eventId: event.eventId, endpointId };
      if (!isSettled(d.status)) {
        if (!d.parked) pending.push(message);
      }
      // A delivery settled because its tenant or endpoint was deleted never was in the DLQ: nothing to requeue.
      else if (d.status === "DEAD" && tenant && tenant.status !== "deleted" && tenant.endpoints[endpointId])
        dead.push(message);
    }
  }
  const refused = [...(await enqueueDeliveries(queue, pending)), ...(await enqueueDeliveries(queue, dead, "dlq"))];
  if (refused.length > 0) throw new Error(`rebuilding the local queues: SQS refused ${refused.length} messages`);
  return { pending: pending.length, dead: dead.length };
}
