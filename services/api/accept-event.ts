/**
 * Accepting an event: fan out to matching endpoints, store it (once per Idempotency-Key), then
 * enqueue its deliveries. The 201 follows the DynamoDB write; a failed SQS send is left to the sweeper.
 */
import type { Logger } from "pino";
import { newDelivery, type Delivery } from "../core/delivery-state.ts";
import { problems } from "../core/errors.ts";
import { eventTypeOf, matchesEventTypes } from "../core/event-type.ts";
import { idempotentEventId, newId, sha256Hex } from "../core/ids.ts";
import type { Tenant } from "../core/tenant.ts";
import type { DeliveryMessage } from "../aws/delivery-queue.ts";
import { createEvent } from "../aws/events/create-event.ts";
import type { EventStore } from "../aws/events/store.ts";
import type { Metrics } from "../metrics.ts";

export interface AcceptDeps {
  readonly store: EventStore;
  /** Sends delivery messages; answers the ones SQS refused (enqueueDeliveries, or a batcher over it). */
  readonly enqueue: (messages: readonly DeliveryMessage[]) => Promise<DeliveryMessage[]>;
  readonly now: () => number;
  readonly metrics: Metrics;
}

export interface AcceptInput {
  readonly tenant: Tenant;
  readonly body: Buffer;
  readonly parsed: Readonly<Record<string, unknown>>;
  readonly idempotencyKey?: string | undefined;
  readonly log: Logger;
}

export async function acceptEvent(deps: AcceptDeps, input: AcceptInput): Promise<{ created: boolean; eventId: string; status: string }> {
  const { tenant, body } = input;
  const now = deps.now();
  const type = eventTypeOf(input.parsed);
  const eventId = input.idempotencyKey ? idempotentEventId(tenant.tenantId, input.idempotencyKey) : newId("evt", now);
  const deliveries: Record<string, Delivery> = {};
  for (const [endpointId, endpoint] of Object.entries(tenant.endpoints)) {
    if (endpoint.enabled && matchesEventTypes(endpoint.eventTypes, type)) deliveries[endpointId] = newDelivery(newId("msg", now), now);
  }
  const bodyHash = sha256Hex(body);
  const result = await createEvent(
    deps.store,
    {
      tenantId: tenant.tenantId,
      eventId,
      type,
      body,
      bodyHash,
      createdAt: new Date(now).toISOString(),
      status: "PENDING",
      deliveries,
      version: 0,
    },
    now,
  );
  if (!result.created) {
    if (result.existing.bodyHash !== bodyHash) {
      throw problems.conflict("This Idempotency-Key was already used with a different body.");
    }
    return { created: false, eventId, status: result.existing.status };
  }
  deps.metrics.eventsAccepted.inc();
  const hints = { tenantVersion: tenant.version, bodyBytes: body.byteLength };
  const failed = await deps.enqueue(Object.keys(deliveries).map((endpointId) => ({ tenantId: tenant.tenantId, eventId, endpointId, ...hints })));
  if (failed.length > 0) {
    input.log.warn({ event_id: eventId, failed: failed.length }, "enqueue failed; the sweeper will deliver these");
  }
  return { created: true, eventId, status: Object.keys(deliveries).length > 0 ? "PENDING" : "DELIVERED" };
}
