/**
 * Events: ingest (`POST /v1/events`, the key's tenant), and reading and retrying, mounted twice like
 * endpoints: `/v1/events` (the key's tenant) and `/admin/tenants/{tenantId}/events` (any tenant).
 */
import express, { Router, type Request, type RequestHandler } from "express";
import { z } from "zod";
import { eventStatuses } from "../../core/delivery-state.ts";
import { problems } from "../../core/errors.ts";
import { isId } from "../../core/ids.ts";
import {
  attemptCursorSchema,
  attemptLogPage,
  deliveryOf,
  eventCursorSchema,
  getEventWithAttempts,
  listEvents,
} from "../../aws/events/read-events.ts";
import { readLane } from "../../aws/events/lanes.ts";
import { erasePayload } from "../../aws/events/erase-payload.ts";
import { acceptEvent, type AcceptDeps } from "../../ingestion/accept-event.ts";
import { nonConforming, type CatalogChecker } from "../../ingestion/catalog-check.ts";
import type { CatalogHead } from "../../core/event-catalog.ts";
import { eventTypeOf } from "../../core/event-type.ts";
import { orderingKeySchema } from "../../core/ordering.ts";
import { requeueAndSend, type RequeueDeps } from "../requeue.ts";
import { requireTenant } from "../middleware/authenticate.ts";
import { tenantRateLimit } from "../middleware/rate-limit.ts";
import { cursorOf, jsonObjectOf, noBody, parseWith, requireJson } from "../validate.ts";
import { attemptView, eventSummaryView, eventView } from "../views.ts";

export interface IngestDeps extends AcceptDeps {
  readonly maxPayloadBytes: number;
  readonly maxJsonDepth: number;
  readonly ingestRatePerS: number;
  readonly ingestBurst: number;
  readonly catalog: CatalogChecker;
}

export interface EventReadDeps extends RequeueDeps {
  /** The tenant a request acts for: the key's, or the one named in an admin path. */
  readonly tenantIdOf: (req: Request) => string;
  /** The tenant's rate limit on actions (retry); a pass-through for operators. */
  readonly actionLimit: RequestHandler;
}

export const idempotencyKeySchema = z
  .string()
  .regex(/^[\x21-\x7e]{1,255}$/, "1 to 255 printable ASCII characters")
  .optional();

/** Headers of an ingest beside the body, each named in a 422 as sent. */
export const orderingHeaderSchema = z.object({ "Ordering-Key": orderingKeySchema.optional() });

export const listQuerySchema = z.object({
  status: z.enum(eventStatuses).optional(),
  type: z.string().min(1).max(200).optional().meta({
    description: "Only events of this exact type; a page may then hold fewer than `limit` (follow `next_cursor`).",
  }),
  limit: z.coerce.number().int().min(1).max(100).default(20),
  cursor: z.string().optional().meta({ description: "`next_cursor` of the previous page (400 for any other)." }),
});

export const attemptsQuerySchema = z.object({
  limit: z.coerce.number().int().min(1).max(100).default(20),
  cursor: z.string().optional().meta({
    description: "`next_cursor` of the previous page, or an event's `earlier_attempts_cursor` (400 for any other).",
  }),
});

export function ingestRoutes(deps: IngestDeps): Router {
  const router = Router();

  const limit = tenantRateLimit({ ratePerS: deps.ingestRatePerS, burst: deps.ingestBurst, now: deps.now });
  // The catalog's head is read while the body arrives (one consistent read per event: see catalog-check.ts).
  const readHead: RequestHandler = (req, res, next) => {
    const head = deps.catalog.head(requireTenant(req).tenantId);
    head.catch(() => undefined);
    (res.locals as { catalogHead?: Promise<CatalogHead> }).catalogHead = head;
    next();
  };
  router.post(
    "/",
    limit,
    requireJson,
    readHead,
    express.raw({ type: () => true, limit: deps.maxPayloadBytes }),
    async (req, res) => {
      const tenant = requireTenant(req);
      const idempotencyKey = parseWith(idempotencyKeySchema, req.headers["idempotency-key"]);
      const orderingKey = parseWith(orderingHeaderSchema, { "Ordering-Key": req.headers["ordering-key"] })[
        "Ordering-Key"
      ];
      const body = req.body as unknown;
      const parsed = jsonObjectOf(body, deps.maxJsonDepth);
      const type = eventTypeOf(parsed);
      const head = await (res.locals as { catalogHead: Promise<CatalogHead> }).catalogHead;
      const schema = await deps.catalog.check(tenant.tenantId, head, type, parsed, req.log);
      if (schema?.errors.length) {
        deps.metrics.schemaInvalid.inc({ mode: schema.mode });
        if (schema.mode === "enforce") throw nonConforming(type ?? "", schema);
      }
      const out = await acceptEvent(deps, {
        tenant,
        body: body as Buffer,
        parsed,
        idempotencyKey,
        orderingKey,
        schema,
        log: req.log,
      });
      res.status(out.created ? 201 : 200).json({ event_id: out.eventId, status: out.status });
    },
  );
  return router;
}

export function eventReadRoutes(deps: EventReadDeps): Router {
  const router = Router({ mergeParams: true });

  router.get("/", async (req, res) => {
    const q = parseWith(listQuerySchema, req.query);
    const after = cursorOf(q.cursor, eventCursorSchema);
    const page = await listEvents(deps.store, deps.tenantIdOf(req), {
      status: q.status,
      type: q.type,
      limit: q.limit,
      after,
    });
    res.json({ data: page.items.map(eventSummaryView), next_cursor: page.nextCursor });
  });

  router.get("/:eventId", async (req, res) => {
    const tenantId = deps.tenantIdOf(req);
    const eventId = req.params.eventId;
    // Invariant 4: reads are keyed by the authenticated tenant, so another tenant's id is simply absent.
    const found = isId("evt", eventId) ? await getEventWithAttempts(deps.store, { tenantId, eventId }) : undefined;
    if (!found) throw problems.notFound(`Event ${eventId}`);
    const { orderingKey } = found.event;
    const lanes =
      orderingKey === undefined
        ? {}
        : Object.fromEntries(
            await Promise.all(
              Object.keys(found.event.deliveries).map(
                async (endpointId) =>
                  [endpointId, await readLane(deps.store, { tenantId, endpointId, orderingKey })] as const,
              ),
            ),
          );
    res.json(eventView(found.event, found.attempts, lanes));
  });

  /** A delivery's attempt log a page at a time, newest first: an event read carries only the newest. */
  router.get("/:eventId/deliveries/:endpointId/attempts", async (req, res) => {
    const q = parseWith(attemptsQuerySchema, req.query);
    const after = cursorOf(q.cursor, attemptCursorSchema);
    const key = { tenantId: deps.tenantIdOf(req), eventId: req.params.eventId, endpointId: req.params.endpointId };
    const known =
      isId("evt", key.eventId) && isId("ep", key.endpointId) && (await deliveryOf(deps.store, key)) !== undefined;
    if (!known) throw problems.notFound(`Delivery of event ${key.eventId} to ${key.endpointId}`);
    const page = await attemptLogPage(deps.store, key, { limit: q.limit, before: after?.before });
    res.json({ data: page.items.map(attemptView), next_cursor: page.nextCursor });
  });

  /**
   * Only DEAD and SKIPPED deliveries get a new message: a PENDING or FAILED one already has its message on the queue
   * (waiting for its next attempt, or found by the sweeper if lost), and a second one would only add a duplicate.
   * Those are left as they are and listed as already queued.
   */
  router.post("/:eventId/retry", deps.actionLimit, ...noBody, async (req, res) => {
    const eventId = String(req.params.eventId);
    const key = { tenantId: deps.tenantIdOf(req), eventId };
    const out = isId("evt", eventId)
      ? await requeueAndSend(deps, key, req.log, undefined, ["DEAD", "SKIPPED"])
      : undefined;
    if (!out) throw problems.notFound(`Event ${eventId}`);
    res.status(202).json({ event_id: eventId, requeued: out.requeued, already_queued: out.queued });
  });

  /**
   * Erasure on request: the payload and every response excerpt go, pending deliveries are cancelled (recorded on each
   * delivery), ids and times stay. Repeating it answers the first erasure's time.
   */
  router.delete("/:eventId/payload", deps.actionLimit, async (req, res) => {
    const eventId = String(req.params.eventId);
    const key = { tenantId: deps.tenantIdOf(req), eventId };
    const out = isId("evt", eventId) ? await erasePayload(deps.store, key, deps.now()) : undefined;
    if (!out) throw problems.notFound(`Event ${eventId}`);
    req.log.info({ event_id: eventId, cancelled: out.cancelled.length }, "payload erased");
    res.json({
      event_id: eventId,
      payload_erased_at: new Date(out.erasedAt).toISOString(),
      cancelled: out.cancelled,
      excerpts_removed: out.excerptsRemoved,
    });
  });

  return router;
}
