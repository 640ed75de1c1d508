/**
 * Stored records to the API's snake_case JSON, and the zod schemas of every response body: the
 * OpenAPI document is generated from them and each view is typed by its schema, so the two cannot drift.
 * Secrets never pass through here.
 */
import { endpointTypes } from "../core/destination.ts";
import { destinationView, type AwsDestinationRules } from "./destination-input.ts";
import { z } from "zod";
import type { AuditEntry } from "../core/audit.ts";
import { retentionDaysOf, tenantStatuses, type Endpoint, type Tenant } from "../core/tenant.ts";
import { maxExcerptJsonBytes, type AttemptItem, type EventItem } from "../aws/events/store.ts";
import { recentAttempts, type AttemptPage, type EventSummary } from "../aws/events/read-events.ts";
import { deliveryStatuses, eventStatuses, isSettled, totalAttempts, type Delivery } from "../core/delivery-state.ts";
import type { DeadLetter } from "../aws/dead-letters.ts";
import type { DeliveryMessage } from "../aws/delivery-queue.ts";
import type { ApiKeyRecord } from "../aws/api-keys.ts";
import type { Lane } from "../aws/events/lanes.ts";
import { orderingModes } from "../core/ordering.ts";
import { validationModes, type EventTypeRecord, type EventTypeVersion } from "../core/event-catalog.ts";

const iso = (ms: number | undefined) => (ms === undefined ? undefined : new Date(ms).toISOString());
const timestamp = z.iso.datetime();
export const page = <T extends z.ZodType>(item: T) =>
  z.strictObject({
    data: z.array(item),
    next_cursor: z.string().nullable().meta({ description: "Pass as `cursor` for the next page; null on the last." }),
  });

export const problemSchema = z
  .strictObject({
    type: z.string(),
    title: z.string(),
    status: z.number().int(),
    detail: z.string(),
    errors: z
      .array(
        z.strictObject({
          path: z.string(),
          pointer: z.string().optional().meta({
            description: "Where within the field's JSON document (a filter, a schema, the payload): RFC 6901.",
          }),
          message: z.string(),
        }),
      )
      .optional(),
  })
  .meta({ id: "Problem", description: "RFC 9457 problem details (`application/problem+json`)." });

export const endpointViewSchema = z
  .strictObject({
    endpoint_id: z.string(),
    type: z.enum(endpointTypes).meta({ description: "http, or the AWS service it delivers into." }),
    url: z.string().meta({ description: "Where it delivers: the URL, or an AWS destination's target." }),
    target: z.string().optional().meta({ description: "An AWS destination's queue URL, or topic, bus or stream ARN." }),
    role_arn: z.string().optional().meta({ description: "The customer's role the platform assumes to deliver." }),
    external_id: z.string().optional().meta({
      description:
        "What the role's trust policy requires as sts:ExternalId: this endpoint's own, made by the platform.",
    }),
    trust_policy: z.record(z.string(), z.unknown()).optional().meta({
      description: "The role's trust policy to paste (on creation and GET of one endpoint).",
    }),
    permissions_policy: z.record(z.string(), z.unknown()).optional().meta({
      description: "What the role must be allowed: the one action on the target (on creation and GET of one endpoint).",
    }),
    description: z.string().optional(),
    event_types: z
      .array(z.string())
      .meta({ description: "Filters such as `order.paid`, `order.*`, `*`; empty = every event." }),
    filter: z
      .record(z.string(), z.unknown())
      .nullable()
      .meta({ description: "The filter on the payload's content (null: none); both it and `event_types` must match." }),
    enabled: z.boolean(),
    disabled_reason: z.string().optional(),
    disabled_at: timestamp.optional().meta({
      description: "Since when it is disabled: a recover after re-enabling starts there (or at `failing_since`).",
    }),
    failing_since: timestamp.optional(),
    max_in_flight: z
      .number()
      .int()
      .optional()
      .meta({ description: "Per-worker in-flight cap set for this endpoint (else the worker's default)." }),
    rate_limit: z.number().optional().meta({ description: "Deliveries per second at most, across all workers." }),
    send_traceparent: z
      .boolean()
      .meta({ description: "Deliveries carry a W3C `traceparent` header (when the platform traces)." }),
    ordering: z.enum(orderingModes).meta({
      description: "For events with an `Ordering-Key`: what a dead or skipped delivery does to the key's next event.",
    }),
    circuit: z
      .strictObject({
        state: z.enum(["closed", "open"]),
        since: timestamp,
        reason: z.string().optional(),
        next_probe_at: timestamp.optional().meta({
          description: "Open: when one delivery goes as a probe; the others are deferred without spending attempts.",
        }),
        in_flight_limit: z
          .number()
          .int()
          .optional()
          .meta({ description: "The in-flight limit a worker last cut it to after failures (grows back on success)." }),
      })
      .meta({ description: "The circuit breaker as the workers last recorded it." }),
    created_at: timestamp,
  })
  .meta({ id: "Endpoint" });
const secret = z.string().meta({ description: "The signing secret (`whsec_…`). Shown in this response only." });
export const endpointWithSecretSchema = endpointViewSchema.extend({ secret }).meta({ id: "EndpointWithSecret" });
export const rotatedEndpointSchema = endpointWithSecretSchema
  .extend({ previous_secrets_expire_at: timestamp })
  .meta({ id: "RotatedEndpoint" });
export const endpointPageSchema = page(endpointViewSchema).meta({ id: "EndpointPage" });

/** `aws`: the platform's AWS destination rules, to show the policies a customer pastes (one endpoint's answers). */
export function endpointView(
  endpointId: string,
  e: Endpoint,
  aws?: AwsDestinationRules,
): z.input<typeof endpointViewSchema> {
  return {
    endpoint_id: endpointId,
    ...destinationView(e.destination, aws),
    url: e.url,
    description: e.description,
    event_types: e.eventTypes,
    filter: e.filter ?? null,
    enabled: e.enabled,
    disabled_reason: e.disabledReason,
    disabled_at: iso(e.disabledAt),
    failing_since: iso(e.failingSince),
    max_in_flight: e.maxInFlight,
    rate_limit: e.rateLimit,
    send_traceparent: e.sendTraceparent ?? true,
    ordering: e.ordering ?? "release_on_dead",
    circuit: {
      state: e.circuit?.state ?? "closed",
      since: new Date(e.circuit?.since ?? e.createdAt).toISOString(),
      reason: e.circuit?.reason,
      next_probe_at: e.circuit?.state === "open" ? iso(e.circuit.retryAt) : undefined,
      in_flight_limit: e.inFlightLimit,
    },
    created_at: new Date(e.createdAt).toISOString(),
  };
}

export const apiKeyViewSchema = z
  .strictObject({
    key_id: z.string(),
    prefix: z.string().meta({ description: "The key's first characters, to recognise it." }),
    created_at: timestamp,
    last_used_day: z.string().nullable(),
    revoked_at: timestamp.nullable(),
  })
  .meta({ id: "ApiKey" });
const apiKey = z.string().meta({ description: "The API key (`whk_…`). Shown in this response only." });
export const apiKeyCreatedSchema = apiKeyViewSchema.extend({ api_key: apiKey }).meta({ id: "ApiKeyCreated" });
export const apiKeyPageSchema = page(apiKeyViewSchema).meta({ id: "ApiKeyPage" });

/** A key as listed: its id and display prefix only; the key itself exists nowhere after creation. */
export function apiKeyView(k: ApiKeyRecord): z.input<typeof apiKeyViewSchema> {
  return {
    key_id: k.keyId,
    prefix: k.displayPrefix,
    created_at: new Date(k.createdAt).toISOString(),
    last_used_day: k.lastUsedDay ?? null,
    revoked_at: iso(k.revokedAt) ?? null,
  };
}

export const tenantViewSchema = z
  .strictObject({
    tenant_id: z.string(),
    name: z.string(),
    status: z.enum(tenantStatuses),
    created_at: timestamp,
    endpoints: z.array(endpointViewSchema),
    retention_days: z.number().int().meta({ description: "Days its events, attempt records and figures are kept." }),
  })
  .meta({ id: "Tenant" });
export const retentionNotice =
  "retention_days applies to data written from now on; data already stored keeps the expiry it was written with.";
export const tenantUpdatedSchema = tenantViewSchema
  .extend({
    notice: z
      .string()
      .optional()
      .meta({ description: "Present when retention_days changed: what the change applies to." }),
  })
  .meta({ id: "TenantUpdated" });
/** Whose credential this is: what the portal's header names, so a link to another tenant's portal is recognisable. */
export const tenantIdentitySchema = z
  .strictObject({ tenant_id: z.string(), name: z.string(), retention_days: z.number().int() })
  .meta({ id: "TenantIdentity" });
export const tenantIdentityView = (t: Tenant): z.input<typeof tenantIdentitySchema> => ({
  tenant_id: t.tenantId,
  name: t.name,
  retention_days: retentionDaysOf(t),
});
export const tenantCreatedSchema = tenantViewSchema
  .extend({ api_key: apiKey, endpoints: z.array(endpointWithSecretSchema) })
  .meta({ id: "TenantCreated" });
export const tenantPageSchema = page(tenantViewSchema).meta({ id: "TenantPage" });

export function tenantView(t: Tenant): z.input<typeof tenantViewSchema> {
  return {
    tenant_id: t.tenantId,
    name: t.name,
    status: t.status,
    created_at: new Date(t.createdAt).toISOString(),
    endpoints: Object.entries(t.endpoints).map(([id, e]) => endpointView(id, e)),
    retention_days: retentionDaysOf(t),
  };
}

export const eventAcceptedSchema = z.strictObject({ event_id: z.string(), status: z.enum(eventStatuses) }).meta({
  id: "EventAccepted",
  description: "201 when stored now; 200 when the Idempotency-Key was seen before (the first event's id).",
});
export const eventSummaryViewSchema = z
  .strictObject({
    event_id: z.string(),
    type: z.string().nullable(),
    status: z.enum(eventStatuses),
    created_at: timestamp,
  })
  .meta({ id: "EventSummary" });
export const eventPageSchema = page(eventSummaryViewSchema).meta({ id: "EventPage" });

const attemptViewSchema = z.strictObject({
  attempt: z.number().int(),
  at: timestamp,
  status_code: z.number().int().nullable(),
  duration_ms: z.number(),
  error: z.string().nullable(),
  response_excerpt: z
    .string()
    .nullable()
    .meta({
      description: `The start of the receiver's answer: at most ${maxExcerptJsonBytes} bytes as JSON (a control byte counts six).`,
    }),
});
export const attemptPageSchema = page(attemptViewSchema).meta({
  id: "AttemptPage",
  description: "A delivery's attempts, newest first.",
});

export function attemptView(a: AttemptItem): z.input<typeof attemptViewSchema> {
  return {
    attempt: a.attempt,
    at: new Date(a.at).toISOString(),
    status_code: a.statusCode ?? null,
    duration_ms: a.durationMs,
    error: a.error ?? null,
    response_excerpt: a.responseExcerpt ?? null,
  };
}
const deliveryViewSchema = z.strictObject({
  endpoint_id: z.string(),
  webhook_id: z.string().meta({ description: "The `webhook-id` header: the same on every attempt." }),
  status: z.enum(deliveryStatuses),
  attempts: z.number().int(),
  next_attempt_at: timestamp.optional(),
  last_status_code: z.number().int().optional(),
  last_error: z.string().optional(),
  delivered_at: timestamp.optional(),
  dead_at: timestamp.optional(),
  skipped_at: timestamp.optional().meta({
    description:
      "SKIPPED: the endpoint was disabled when the event came; nothing was sent (recover or retry sends it).",
  }),
  attempt_log: z
    .array(attemptViewSchema)
    .meta({ description: `The newest ${recentAttempts} attempts at most, in attempt order.` }),
  earlier_attempts_cursor: z.string().nullable().meta({
    description:
      "Null when `attempt_log` holds every attempt; else pass as `cursor` to GET …/deliveries/{endpointId}/attempts for the earlier ones.",
  }),
  ordering: z
    .strictObject({
      position: z.number().int().nullable().meta({
        description:
          "Its place in its key's line at this endpoint: 0 is the head (its turn); null once it left the line.",
      }),
      waiting_for: z
        .string()
        .nullable()
        .meta({ description: "The event at the head of the line, while it waits for it." }),
      waited_for: z.string().nullable().meta({ description: "The event it last waited for before its turn came." }),
    })
    .optional()
    .meta({ description: "Present for an event with an `Ordering-Key`." }),
});
const payloadErrorSchema = z.strictObject({
  pointer: z.string().meta({ description: "Where in the payload (RFC 6901)." }),
  message: z.string(),
});
export const eventViewSchema = eventSummaryViewSchema
  .extend({
    payload: z.unknown().meta({ description: "The body as received; null once erased." }),
    payload_erased_at: timestamp
      .nullable()
      .meta({ description: "When the payload (and every response excerpt) was erased on request; null if never." }),
    schema: z
      .strictObject({
        version: z.number().int().meta({ description: "The version of its type's schema it was checked against." }),
        valid: z.boolean(),
        errors: z.array(payloadErrorSchema).meta({
          description: "Where it does not conform (at most 10): accepted because its type's schema only warns.",
        }),
      })
      .nullable()
      .meta({ description: "What the event catalog said of the payload; null when its type has no schema." }),
    filtered_endpoints: z.array(z.string()).meta({
      description:
        "Endpoints whose event types matched but whose content filter did not: no delivery was made for them.",
    }),
    ordering_key: z
      .string()
      .nullable()
      .meta({ description: "Its `Ordering-Key`: delivered to each endpoint after the key's earlier events." }),
    deliveries: z.array(deliveryViewSchema),
  })
  .meta({ id: "Event" });

export function eventSummaryView(e: EventSummary | EventItem): z.input<typeof eventSummaryViewSchema> {
  return { event_id: e.eventId, type: e.type ?? null, status: e.status, created_at: e.createdAt };
}

export function eventView(
  event: EventItem,
  attempts: Readonly<Record<string, AttemptPage>>,
  lanes: Readonly<Record<string, Lane | undefined>> = {},
): z.input<typeof eventViewSchema> {
  return {
    ...eventSummaryView(event),
    payload: event.erasedAt === undefined ? (JSON.parse(Buffer.from(event.body).toString("utf8")) as unknown) : null,
    payload_erased_at: iso(event.erasedAt) ?? null,
    schema:
      event.schemaVersion === undefined
        ? null
        : {
            version: event.schemaVersion,
            valid: !event.schemaErrors?.length,
            errors: event.schemaErrors ?? [],
          },
    filtered_endpoints: event.filteredOut ?? [],
    ordering_key: event.orderingKey ?? null,
    deliveries: Object.entries(event.deliveries).map(([endpointId, d]) => ({
      endpoint_id: endpointId,
      webhook_id: d.webhookId,
      status: d.status,
      attempts: totalAttempts(d),
      next_attempt_at: isSettled(d.status) ? undefined : iso(d.nextAttemptAt),
      last_status_code: d.lastStatusCode,
      last_error: d.lastError,
      delivered_at: iso(d.deliveredAt),
      dead_at: iso(d.deadAt),
      skipped_at: iso(d.skippedAt),
      attempt_log: (attempts[endpointId]?.items ?? []).map(attemptView).reverse(),
      earlier_attempts_cursor: attempts[endpointId]?.nextCursor ?? null,
      ordering: event.orderingKey === undefined ? undefined : placeInLane(event.eventId, d, lanes[endpointId]),
    })),
  };
}

export const payloadErasedSchema = z
  .strictObject({
    event_id: z.string(),
    payload_erased_at: timestamp,
    cancelled: z.array(z.string()).meta({
      description: "Endpoints whose pending deliveries were cancelled (settled DEAD, `last_error` says why).",
    }),
    excerpts_removed: z.number().int().meta({ description: "Attempt records whose response excerpt was removed." }),
  })
  .meta({ id: "PayloadErased" });

export const requeuedSchema = z
  .strictObject({
    event_id: z.string(),
    requeued: z.array(z.string()).meta({
      description:
        "Endpoints whose dead or skipped deliveries were requeued (a fresh attempt budget, the same webhook-id).",
    }),
    already_queued: z
      .array(z.string())
      .meta({ description: "Endpoints whose deliveries are still waiting for their next attempt: left as they are." }),
  })
  .meta({ id: "EventRequeued" });
export const recoveredSchema = z
  .strictObject({
    endpoint_id: z.string(),
    dry_run: z.boolean(),
    examined: z.number().int().meta({ description: "Dead or skipped events looked at in this call." }),
    requeued: z
      .number()
      .int()
      .optional()
      .meta({ description: "This endpoint's deliveries among them that died or were skipped in the range, requeued." }),
    would_requeue: z.number().int().optional().meta({ description: "In a dry run: how many would be requeued." }),
    next_cursor: z.string().nullable().meta({ description: "Pass as `cursor` to go on; null when the range is done." }),
  })
  .meta({ id: "EndpointRecovered" });

const healthSchema = z.strictObject({
  attempts: z.number().int(),
  delivered: z.number().int(),
  failed: z.number().int(),
  success_rate: z.number().nullable().meta({ description: "delivered / attempts; null without attempts." }),
  latency_p50_ms: z
    .number()
    .nullable()
    .meta({ description: "Median duration of an attempt (interpolated from buckets); null without attempts." }),
  latency_p95_ms: z.number().nullable(),
});
export const endpointStatsSchema = z
  .strictObject({
    endpoint_id: z.string(),
    last_hour: healthSchema,
    last_day: healthSchema,
    hours: z
      .array(
        z.strictObject({
          at: timestamp.meta({ description: "The hour's start." }),
          delivered: z.number().int(),
          failed: z.number().int(),
        }),
      )
      .meta({
        description: "Attempts per hour over the last 24 hours, oldest first; the last is the current hour so far.",
      }),
  })
  .meta({ id: "EndpointStats", description: "Recorded by the workers every 10 s, per ten minutes; kept two days." });

export const portalSessionViewSchema = z
  .strictObject({
    url: z.string().meta({
      description:
        "The portal, for this tenant only; the token is in the fragment (`#token=…`), so it never reaches a server log.",
    }),
    expires_at: timestamp,
    read_only: z.boolean(),
  })
  .meta({ id: "PortalSession" });

export const testEventSchema = z
  .strictObject({
    event_id: z.string().meta({ description: "The `webhook.test` event: GET it to see its delivery's attempts." }),
  })
  .meta({ id: "TestEventSent" });

const depthSchema = z.strictObject({
  visible: z.number().int(),
  in_flight: z.number().int(),
  delayed: z.number().int(),
});
export const statsSchema = z
  .strictObject({
    queue: depthSchema.extend({
      oldest_due_at: timestamp.nullable().meta({ description: "The earliest due time of an unsettled delivery." }),
    }),
    dead_letter_queue: depthSchema,
  })
  .meta({ id: "Stats" });

const depthSchemaNullable = depthSchema
  .nullable()
  .meta({ description: "The deepest reading in the step; null when no sweeper read it." });
export const statsHistorySchema = z
  .strictObject({
    window: z.enum(["hour", "day"]),
    step_seconds: z.number().int(),
    points: z.array(
      z.strictObject({
        at: timestamp.meta({ description: "The step's start." }),
        delivered: z.number().int().meta({ description: "Attempts that delivered." }),
        failed: z.number().int().meta({ description: "Attempts that failed (a retry follows, or the delivery died)." }),
        dead: z.number().int().meta({ description: "Deliveries that died." }),
        first_attempt_p50_s: z.number().nullable().meta({
          description: "Median time from acceptance to a delivery's first attempt; null without first attempts.",
        }),
        first_attempt_p95_s: z.number().nullable(),
        queue: depthSchemaNullable,
        dlq: z.number().int().nullable().meta({ description: "Messages in the DLQ (deepest reading in the step)." }),
      }),
    ),
  })
  .meta({
    id: "StatsHistory",
    description: "Per-step figures recorded by the workers (every 10 s) and their sweepers (queue depths).",
  });

const deadLetterViewSchema = z.strictObject({
  message_id: z.string(),
  tenant_id: z.string().nullable(),
  event_id: z.string().nullable(),
  endpoint_id: z.string().nullable(),
  dead_lettered_at: timestamp,
  delivery: z
    .strictObject({
      status: z.enum(deliveryStatuses),
      webhook_id: z.string(),
      attempts: z.number().int(),
      last_status_code: z.number().int().nullable(),
      last_error: z.string().nullable(),
      dead_at: timestamp.nullable(),
    })
    .nullable(),
});

export const deadLetterPageSchema = z
  .strictObject({
    count: z.number().int().meta({ description: "Approximate number of messages in the DLQ." }),
    data: z.array(deadLetterViewSchema),
  })
  .meta({ id: "DeadLetterPage" });

/** One DLQ message as the peek shows it: what it names (null for a message that is not ours) and that delivery now. */
export function deadLetterView(
  m: DeadLetter,
  ref: DeliveryMessage | undefined,
  d: Delivery | undefined,
): z.input<typeof deadLetterViewSchema> {
  return {
    message_id: m.messageId,
    tenant_id: ref?.tenantId ?? null,
    event_id: ref?.eventId ?? null,
    endpoint_id: ref?.endpointId ?? null,
    dead_lettered_at: new Date(m.sentAt).toISOString(),
    delivery: d
      ? {
          status: d.status,
          webhook_id: d.webhookId,
          attempts: totalAttempts(d),
          last_status_code: d.lastStatusCode ?? null,
          last_error: d.lastError ?? null,
          dead_at: iso(d.deadAt) ?? null,
        }
      : null,
  };
}

export const sealReportSchema = z
  .strictObject({
    examined: z.number().int().meta({ description: "Tenants looked at in this call." }),
    sealed: z.number().int().meta({ description: "Of those, tenants that had a secret in clear, now sealed." }),
    next_cursor: z
      .string()
      .nullable()
      .meta({ description: "Pass as `cursor` to go on; null when every tenant is done." }),
  })
  .meta({ id: "SealReport" });

export const requeueReportSchema = z
  .strictObject({
    moved: z
      .number()
      .int()
      .meta({ description: "Dead deliveries put back on the queue (or that would be, in a dry run)." }),
    skipped: z.number().int().meta({ description: "Messages not matching the filter, left in the DLQ." }),
    failed: z.number().int().meta({ description: "Messages that could not be moved this time, left in the DLQ." }),
    stale: z.number().int().meta({ description: "DLQ copies of deliveries no longer dead, removed." }),
    complete: z.boolean().meta({
      description:
        "False when the run stopped at its time limit (20 s), maybe with matching messages left: send the same request again to go on.",
    }),
    dry_run: z.boolean(),
    duration_ms: z.number(),
  })
  .meta({ id: "RequeueReport" });

export const eventTypeViewSchema = z
  .strictObject({
    name: z.string(),
    description: z.string().optional(),
    schema: z
      .unknown()
      .meta({ description: "The JSON Schema (draft 2020-12) payloads of this type are checked against; null: none." }),
    version: z
      .number()
      .int()
      .meta({ description: "The schema's version: how many times it changed (0: never had one)." }),
    examples: z.array(z.unknown()),
    deprecated: z.boolean(),
    validation: z.enum(validationModes).meta({
      description:
        "`enforce`: a payload that does not conform is refused (422); `warn`: accepted and marked on the event.",
    }),
    created_at: timestamp,
    updated_at: timestamp,
  })
  .meta({ id: "EventType" });
export const eventTypePageSchema = page(eventTypeViewSchema).meta({ id: "EventTypePage" });

export function eventTypeView(t: EventTypeRecord): z.input<typeof eventTypeViewSchema> {
  return {
    name: t.name,
    description: t.description,
    schema: t.schemaJson === undefined ? null : (JSON.parse(t.schemaJson) as unknown),
    version: t.version,
    examples: JSON.parse(t.examplesJson) as unknown[],
    deprecated: t.deprecated,
    validation: t.validation,
    created_at: new Date(t.definedAt).toISOString(),
    updated_at: new Date(t.changedAt).toISOString(),
  };
}

export const eventTypeVersionViewSchema = z
  .strictObject({
    version: z.number().int(),
    schema: z.unknown().meta({ description: "The schema of this version; null: the type had none." }),
    created_at: timestamp,
  })
  .meta({ id: "EventTypeVersion" });
export const eventTypeVersionPageSchema = page(eventTypeVersionViewSchema).meta({ id: "EventTypeVersionPage" });

export function eventTypeVersionView(v: EventTypeVersion): z.input<typeof eventTypeVersionViewSchema> {
  return {
    version: v.version,
    schema: v.schemaJson === undefined ? null : (JSON.parse(v.schemaJson) as unknown),
    created_at: new Date(v.definedAt).toISOString(),
  };
}

export const catalogSettingsViewSchema = z
  .strictObject({
    catalog_required: z
      .boolean()
      .meta({ description: "Events whose type is not in the catalog (or that have none) are refused with a 422." }),
    revision: z.number().int().meta({ description: "Moved on by every change to the catalog." }),
  })
  .meta({ id: "CatalogSettings" });

export const filterTestSchema = z
  .strictObject({
    data: z.array(
      z.strictObject({
        event_id: z.string(),
        type: z.string().nullable(),
        created_at: timestamp,
        matches: z.boolean().meta({ description: "Both the event types and the filter match: it would be delivered." }),
      }),
    ),
  })
  .meta({
    id: "FilterTest",
    description: "The tenant's newest events (at most 20) and whether each would be delivered.",
  });

export const auditEntryViewSchema = z
  .strictObject({
    audit_id: z.string(),
    at: timestamp,
    actor: z.strictObject({
      kind: z.enum(["admin", "api_key", "portal_session"]),
      key_id: z.string().nullable().meta({ description: "The API key's id when the actor is a key." }),
    }),
    action: z
      .string()
      .meta({ description: "The method and route, ids as `{name}`: `PATCH /v1/endpoints/{endpoint_id}`." }),
    tenant_id: z.string().nullable().meta({ description: "The tenant acted on; null for the platform's own actions." }),
    targets: z.record(z.string(), z.string()).meta({ description: "The ids the action named or created." }),
    address: z.string().meta({ description: "The client's address, as the load balancer saw it." }),
    status_code: z.number().int(),
  })
  .meta({ id: "AuditEntry" });
export const auditPageSchema = page(auditEntryViewSchema).meta({ id: "AuditPage" });

export function auditEntryView(e: AuditEntry): z.input<typeof auditEntryViewSchema> {
  return {
    audit_id: e.auditId,
    at: new Date(e.at).toISOString(),
    actor: { kind: e.actor.kind, key_id: e.actor.kind === "api_key" ? e.actor.keyId : null },
    action: e.action,
    tenant_id: e.subjectTenantId ?? null,
    targets: e.targets,
    address: e.address,
    status_code: e.statusCode,
  };
}

function placeInLane(eventId: string, d: Delivery, lane: Lane | undefined) {
  const at = lane?.waiting.indexOf(eventId) ?? -1;
  return {
    position: at < 0 ? null : at,
    waiting_for: at > 0 ? lane!.waiting[0]! : null,
    waited_for: d.waitedFor ?? null,
  };
}
