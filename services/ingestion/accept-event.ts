/**
 * Accepting an event: fan out to matching endpoints, store it (once per Idempotency-Key), then
 * enqueue its deliveries. The 201 follows the DynamoDB write; a failed SQS send is left to the sweeper.
 * A matching endpoint that is disabled gets its delivery recorded SKIPPED (no message), so nothing sent
 * while it was off is lost: recover brings it back.
 */
import type { Logger } from "pino";
import { newDelivery, skippedDelivery, summarize, type Delivery } from "../core/delivery-state.ts";
import { problems } from "../core/errors.ts";
import { eventTypeOf, matchesEventTypes } from "../core/event-type.ts";
import { matchesFilter } from "../core/payload-filter.ts";
import { idempotentEventId, newId, sha256Hex } from "../core/ids.ts";
import { retentionMsOf, type Tenant } from "../core/tenant.ts";
import type { DeliveryMessage, MessageAttributes } from "../aws/delivery-queue.ts";
import { createEvent, withdrawEvent } from "../aws/events/create-event.ts";
import { joinLane } from "../aws/events/lanes.ts";
import { maxLaneLength } from "../core/ordering.ts";
import type { EventItem, EventStore } from "../aws/events/store.ts";
import type { Metrics } from "../metrics.ts";
import { activeSpan, failed, inSpan, SpanKind, traceFields } from "../tracing/spans.ts";
import type { SchemaVerdict } from "./catalog-check.ts";

export interface AcceptDeps {
  readonly store: EventStore;
  /**
   * Sends delivery messages with these attributes (the trace context); answers the ones SQS refused
   * (enqueueDeliveries, or a batcher over it).
   */
  readonly enqueue: (
    messages: readonly DeliveryMessage[],
    attributes?: MessageAttributes,
  ) => Promise<DeliveryMessage[]>;
  readonly now: () => number;
  readonly metrics: Metrics;
  /** Stores an event whose id was minted for it (freshEventWriter); absent: each goes alone through createEvent. */
  readonly storeFresh?: ((event: EventItem, now: number) => Promise<void>) | undefined;
}

export interface AcceptInput {
  readonly tenant: Tenant;
  readonly body: Buffer;
  readonly parsed: Readonly<Record<string, unknown>>;
  readonly idempotencyKey?: string | undefined;
  /** To this endpoint only, whatever its filters (a test event); else to every endpoint whose filters match. */
  readonly endpointId?: string | undefined;
  /** Its `Ordering-Key` (core/ordering.ts): delivered to each endpoint after the key's earlier events. */
  readonly orderingKey?: string | undefined;
  /** What the catalog said of the payload (recorded on the event): the version checked, errors in `warn` mode. */
  readonly schema?: SchemaVerdict | undefined;
  readonly log: Logger;
}

export async function acceptEvent(
  deps: AcceptDeps,
  input: AcceptInput,
): Promise<{ created: boolean; eventId: string; status: string }> {
  const { tenant, body } = input;
  const now = deps.now();
  const type = eventTypeOf(input.parsed);
  const eventId = input.idempotencyKey ? idempotentEventId(tenant.tenantId, input.idempotencyKey) : newId("evt", now);
  const deliveries: Record<string, Delivery> = {};
  // Endpoints whose type filter matched and whose content filter did not: no delivery, and the event says so.
  const filteredOut: string[] = [];
  for (const [endpointId, endpoint] of Object.entries(tenant.endpoints)) {
    if (input.endpointId !== undefined) {
      if (endpointId !== input.endpointId) continue;
    } else {
      if (!matchesEventTypes(endpoint.eventTypes, type)) continue;
      if (endpoint.filter && !matchesFilter(endpoint.filter, input.parsed)) {
        filteredOut.push(endpointId);
        continue;
      }
    }
    deliveries[endpointId] = endpoint.enabled
      ? newDelivery(newId("msg", now), now)
      : skippedDelivery(newId("msg", now), now);
  }
  const bodyHash = sha256Hex(body);
  activeSpan().setAttribute("webhook.event_id", eventId);
  const event: EventItem = {
    tenantId: tenant.tenantId,
    eventId,
    type,
    body,
    bodyHash,
    createdAt: new Date(now).toISOString(),
    status: "PENDING",
    deliveries,
    version: 0,
    retentionMs: retentionMsOf(tenant),
    ...(input.schema
      ? {
          schemaVersion: input.schema.version,
          ...(input.schema.errors.length ? { schemaErrors: [...input.schema.errors] } : {}),
        }
      : {}),
    ...(filteredOut.length ? { filteredOut } : {}),
    ...(input.orderingKey === undefined ? {} : { orderingKey: input.orderingKey }),
  };
  const { storeFresh } = deps;
  const result = await inSpan("store event", { attributes: { "webhook.event_id": eventId } }, async () => {
    if (input.idempotencyKey !== undefined || !storeFresh) return createEvent(deps.store, event, now);
    await storeFresh(event, now);
    return { created: true } as const;
  });
  if (!result.created) {
    const { existing } = result;
    if (existing.bodyHash !== bodyHash) {
      throw problems.conflict("This Idempotency-Key was already used with a different body.");
    }
    // A repeat. The request that stored the event may have stopped short of its lanes and messages (its client saw
    // no 201, hence this repeat): finish them for the deliveries no worker has started. A join answers the place the
    // event already holds; a message too many is refused by the lease.
    const untouched = Object.fromEntries(
      Object.entries(existing.deliveries).filter(
        ([, d]) => d.status === "PENDING" && d.attempts === 0 && d.priorAttempts === undefined,
      ),
    );
    await dispatch(deps, { ...input, orderingKey: existing.orderingKey }, eventId, untouched, now);
    return { created: false, eventId, status: existing.status };
  }
  await dispatch(deps, input, eventId, deliveries, now);
  deps.metrics.eventsAccepted.inc();
  if (filteredOut.length) deps.metrics.filteredOut.inc(filteredOut.length);
  return { created: true, eventId, status: summarize(deliveries) };
}

/** A stored event's deliveries on their way: each ordered one joins its lane, then those not waiting get a message. */
async function dispatch(
  deps: AcceptDeps,
  input: AcceptInput,
  eventId: string,
  deliveries: Readonly<Record<string, Delivery>>,
  now: number,
): Promise<void> {
  const { tenant } = input;
  const lanes = await joinLanes(deps, input, eventId, deliveries, now);
  const hints = { tenantVersion: tenant.version, bodyBytes: input.body.byteLength };
  // An ordered delivery behind an earlier one of its key gets its message when that one lets it go; a head's says so.
  const messages = Object.entries(deliveries)
    .filter(([endpointId, d]) => d.status === "PENDING" && !lanes.waiting.has(endpointId))
    .map(([endpointId]) => ({
      tenantId: tenant.tenantId,
      eventId,
      endpointId,
      ...hints,
      orderingKey: input.orderingKey,
      ...(lanes.heads.has(endpointId) ? { head: true as const } : {}),
    }));
  const sending = {
    "messaging.system": "aws_sqs",
    "messaging.operation.type": "send",
    "messaging.batch.message_count": messages.length,
  };
  // The messages carry this span's context: each delivery's spans are its children.
  const refused = await inSpan("enqueue deliveries", { kind: SpanKind.PRODUCER, attributes: sending }, async (span) => {
    const out = await deps.enqueue(messages, traceFields());
    if (out.length > 0) failed(span, "refused");
    return out;
  });
  if (refused.length > 0) {
    input.log.warn({ event_id: eventId, failed: refused.length }, "enqueue failed; the sweeper will deliver these");
  }
}

/**
 * An ordered event joins its key's lane at each endpoint it goes to (and, where the endpoint blocks on dead, at each
 * that skipped it, so a recover sends those in order). Answers the endpoints where it waits behind an earlier event,
 * and those where it is the head.
 * A full lane takes the event back: a 429, and nothing is sent (a lane it joined lets the id go when it is the head).
 */
async function joinLanes(
  deps: AcceptDeps,
  input: AcceptInput,
  eventId: string,
  deliveries: Readonly<Record<string, Delivery>>,
  now: number,
): Promise<{ waiting: Set<string>; heads: Set<string> }> {
  const { orderingKey, tenant } = input;
  if (orderingKey === undefined) return { waiting: new Set(), heads: new Set() };
  const inLane = Object.entries(deliveries).filter(
    ([endpointId, d]) => d.status === "PENDING" || tenant.endpoints[endpointId]?.ordering === "block_on_dead",
  );
  const joined = await Promise.all(
    inLane.map(async ([endpointId]) => {
      const out = await joinLane(deps.store, { tenantId: tenant.tenantId, endpointId, orderingKey }, eventId, now);
      return { endpointId, out };
    }),
  );
  if (joined.some(({ out }) => !out.ok)) {
    await withdrawEvent(deps.store, { tenantId: tenant.tenantId, eventId });
    throw problems.tooManyRequests(60, `This ordering key's line of ${maxLaneLength} waiting events`);
  }
  const where = (head: boolean) =>
    new Set(joined.filter(({ out }) => out.ok && (out.position === 0) === head).map(({ endpointId }) => endpointId));
  return { waiting: where(false), heads: where(true) };
}
