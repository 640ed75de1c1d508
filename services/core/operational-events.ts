/**
 * Operational events: what the platform tells operators about itself (an endpoint disabled or re-enabled, a
 * delivery exhausted or recovered, a tenant erased), as ordinary events of a reserved system tenant, so they are signed, retried,
 * logged and dead-lettered like any other. One guard: nothing about the system tenant's own deliveries is emitted.
 */
import { z } from "zod";
import { isSystemTenant } from "./system-tenant.ts";

const occurredAt = z.iso.datetime();
/** What every operational event carries beside its type and data: when, and how many notices it stands for. */
const envelope = {
  occurred_at: occurredAt,
  count: z
    .number()
    .int()
    .min(1)
    .meta({
      description:
        "How many notices of this type about this endpoint the event stands for: 1, or those gathered since " +
        "`first_occurred_at` (one event per endpoint and type per window, the data being the last one's).",
    }),
  first_occurred_at: occurredAt.meta({ description: "When the first of them happened (`occurred_at` when one)." }),
};
const about = { tenant_id: z.string(), endpoint_id: z.string() };
const lastStatusCode = z
  .number()
  .int()
  .nullable()
  .meta({ description: "The last attempt's HTTP status; null when there was no answer." });

/** The body of each operational event: `{type, occurred_at, count, first_occurred_at, data}`. */
export const operationalEventSchemas = {
  "endpoint.disabled": z
    .strictObject({
      type: z.literal("endpoint.disabled"),
      ...envelope,
      data: z.strictObject({
        ...about,
        reason: z
          .string()
          .meta({ description: "It answered 410 Gone, or every delivery failed for ENDPOINT_DISABLE_AFTER." }),
        last_status_code: lastStatusCode,
      }),
    })
    .meta({ id: "EndpointDisabledEvent", description: "A worker disabled an endpoint." }),
  "endpoint.enabled": z
    .strictObject({ type: z.literal("endpoint.enabled"), ...envelope, data: z.strictObject(about) })
    .meta({
      id: "EndpointEnabledEvent",
      description: "A disabled endpoint was enabled again (by its tenant, the portal or an operator).",
    }),
  "delivery.exhausted": z
    .strictObject({
      type: z.literal("delivery.exhausted"),
      ...envelope,
      data: z.strictObject({
        ...about,
        event_id: z.string(),
        attempts: z.number().int(),
        last_status_code: lastStatusCode,
        last_error: z.string().nullable(),
      }),
    })
    .meta({
      id: "DeliveryExhaustedEvent",
      description: "A delivery died (its attempts are spent, or it answered 410) and went to the DLQ.",
    }),
  "delivery.recovered": z
    .strictObject({
      type: z.literal("delivery.recovered"),
      ...envelope,
      data: z.strictObject({ ...about, event_id: z.string(), recovered_from: z.enum(["DEAD", "SKIPPED"]) }),
    })
    .meta({
      id: "DeliveryRecoveredEvent",
      description: "A delivery requeued from DEAD or SKIPPED (retry, recover, DLQ requeue) was delivered.",
    }),
  "tenant.erased": z
    .strictObject({
      type: z.literal("tenant.erased"),
      ...envelope,
      data: z.strictObject({
        tenant_id: z.string(),
        started_at: occurredAt,
        removed: z.record(z.string(), z.number().int()).meta({ description: "What was removed, by kind: counts." }),
      }),
    })
    .meta({
      id: "TenantErasedEvent",
      description: "An operator's erasure of a tenant finished: everything of it is gone; this is the report.",
    }),
} as const;

export type OperationalEventType = keyof typeof operationalEventSchemas;
export const operationalEventTypes = Object.keys(operationalEventSchemas) as OperationalEventType[];

export type OperationalEvent = {
  [K in OperationalEventType]: z.infer<(typeof operationalEventSchemas)[K]>;
}[OperationalEventType];
/** What an emitter says: the event without its time and count. */
export type OperationalNotice = {
  [K in OperationalEventType]: Omit<
    z.infer<(typeof operationalEventSchemas)[K]>,
    "occurred_at" | "count" | "first_occurred_at"
  >;
}[OperationalEventType];

/** Notices gathered into one event: how many, and when the first happened (epoch ms). */
export interface Gathered {
  readonly count: number;
  readonly since: number;
}

/**
 * The event to emit for a notice (or for `gathered` notices of its kind about its endpoint, this one the last), or
 * undefined when the notice is about the system tenant's own endpoints or deliveries: a failure to deliver an
 * operational event never emits another one (no loop, no storm).
 */
export function operationalEvent(
  notice: OperationalNotice,
  now: number,
  gathered: Gathered = { count: 1, since: now },
): OperationalEvent | undefined {
  if (isSystemTenant(notice.data.tenant_id)) return undefined;
  return {
    ...notice,
    occurred_at: new Date(now).toISOString(),
    count: gathered.count,
    first_occurred_at: new Date(gathered.since).toISOString(),
  };
}

/** The notices one event may stand for: one kind, about one endpoint of one tenant. */
export const noticeKey = (n: OperationalNotice): string =>
  `${n.type} ${n.data.tenant_id} ${"endpoint_id" in n.data ? n.data.endpoint_id : ""}`;
