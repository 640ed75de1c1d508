/** An endpoint's ordering keys with events waiting (why they wait), and letting a blocked key's head go by hand. */
import { z } from "zod";
import { problems } from "../core/errors.ts";
import { holdReason, orderingKeySchema, type OrderingMode } from "../core/ordering.ts";
import { enqueueDeliveries, type DeliveryQueue } from "../aws/delivery-queue.ts";
import { endpointLanes } from "../aws/events/lanes.ts";
import { skipHead, wakeMessage } from "../aws/events/ordering.ts";
import { deliveryOf } from "../aws/events/read-events.ts";
import type { EventStore } from "../aws/events/store.ts";
import { page } from "./views.ts";

export const orderingKeysQuerySchema = z.strictObject({
  limit: z.coerce.number().int().min(1).max(100).default(20),
  cursor: orderingKeySchema.optional().meta({ description: "`next_cursor` of the previous page." }),
});

export const orderingKeyViewSchema = z
  .strictObject({
    ordering_key: z.string(),
    waiting: z.number().int().meta({ description: "Events in its line at this endpoint, the head included." }),
    head_event_id: z.string(),
    reason: z.enum(["in_flight", "retrying", "dead", "skipped", "gone"]).meta({
      description:
        "Why the head holds the others: on its way (in_flight), waiting for a retry (retrying), or dead or skipped with the endpoint blocking on dead (unblock with a retry, a recover or …/skip); gone: its event no longer exists (it lets the next go at the next look).",
    }),
    since: z.string().meta({ description: "Since when the head has been the head." }),
  })
  .meta({ id: "OrderingKey" });

export const orderingKeyPageSchema = page(orderingKeyViewSchema).meta({ id: "OrderingKeyPage" });

export const orderingKeySkippedSchema = z
  .strictObject({
    ordering_key: z.string(),
    skipped_event_id: z
      .string()
      .meta({ description: "The head let go: its delivery stays as it was (dead or skipped)." }),
    next_event_id: z
      .string()
      .nullable()
      .meta({ description: "The event now at the head, sent now when it was waiting for its turn; else null." }),
  })
  .meta({ id: "OrderingKeySkipped" });

interface Where {
  readonly store: EventStore;
  readonly tenantId: string;
  readonly endpointId: string;
}

/** A page of the endpoint's keys with events waiting, in key order. */
export async function orderingKeysOf(w: Where, q: z.infer<typeof orderingKeysQuerySchema>) {
  const page = await endpointLanes(w.store, w.tenantId, w.endpointId, q.limit, q.cursor);
  const data = await Promise.all(
    page.lanes
      .filter((lane) => lane.waiting.length > 0)
      .map(async (lane): Promise<z.input<typeof orderingKeyViewSchema>> => {
        const head = lane.waiting[0]!;
        const d = await deliveryOf(w.store, { tenantId: w.tenantId, eventId: head, endpointId: w.endpointId });
        return {
          ordering_key: lane.orderingKey,
          waiting: lane.waiting.length,
          head_event_id: head,
          reason: d ? holdReason(d) : "gone",
          since: new Date(lane.since).toISOString(),
        };
      }),
  );
  return { data, next_cursor: page.next ?? null };
}

/** Lets the key's head go when it is dead or skipped (or gone); a 409 while it is on its way or retrying. */
export async function skipOrderingKey(
  w: Where & { readonly queue: DeliveryQueue; readonly mode: OrderingMode },
  orderingKey: string,
  now: number,
) {
  const out = await skipHead(
    w.store,
    { tenantId: w.tenantId, endpointId: w.endpointId },
    { orderingKey, mode: w.mode },
    now,
  );
  if (out === "empty") throw problems.notFound(`Ordering key ${JSON.stringify(orderingKey)} with events waiting`);
  if (out === "not-blocked")
    throw problems.conflict(
      "The key's head is on its way or waiting for a retry: only a dead or skipped head is skipped.",
    );
  if (out.wake) await enqueueDeliveries(w.queue, [wakeMessage(w, orderingKey, out.wake)]);
  const view: z.input<typeof orderingKeySkippedSchema> = {
    ordering_key: orderingKey,
    skipped_event_id: out.skipped,
    next_event_id: out.wake?.eventId ?? null,
  };
  return view;
}
