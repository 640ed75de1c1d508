/**
 * Endpoint management, mounted three times: `/v1/endpoints` (the key's tenant), `/admin/tenants/{tenantId}/endpoints`
 * (any tenant) and `/admin/operational-endpoints` (the system tenant's). Secrets appear only when created or rotated.
 */
import express, { Router, type Request, type RequestHandler } from "express";
import { problems } from "../../core/errors.ts";
import { isId, newSigningSecret } from "../../core/ids.ts";
import {
  addEndpoint,
  removeEndpoint,
  rotateEndpointSecret,
  updateEndpoint,
  type TenantStore,
} from "../../aws/tenants.ts";
import { endpointSchemas } from "../endpoint-requests.ts";
import { patchedDestination, type AwsDestinationRules } from "../destination-input.ts";
import { liveTenant, newEndpoint } from "../tenant-records.ts";
import { cursorOf, noBody, optionalJson, parseWith, requireJson } from "../validate.ts";
import { orderingKeySchema } from "../../core/ordering.ts";
import { orderingKeysOf, orderingKeysQuerySchema, skipOrderingKey } from "../ordering-keys.ts";
import { matchesEventTypes } from "../../core/event-type.ts";
import { matchesFilter } from "../../core/payload-filter.ts";
import { getEventType } from "../../aws/event-catalog.ts";
import { recentPayloads } from "../../aws/events/recent-payloads.ts";
import { endpointView } from "../views.ts";
import { recoverCursorSchema, recoverEndpoint, type RecoverDeps } from "../recover-endpoint.ts";
import type { Notify } from "../../ingestion/operational-events.ts";
import { acceptEvent, type AcceptDeps } from "../../ingestion/accept-event.ts";
import { endpointStats } from "../endpoint-stats.ts";

export interface EndpointRoutesDeps extends RecoverDeps, AcceptDeps {
  readonly tenants: TenantStore;
  readonly allowPrivateTargets: boolean;
  /** Ports a public endpoint may use. */
  readonly allowedTargetPorts: readonly number[];
  /** AWS destinations as this platform takes them (absent: refused). */
  readonly awsDestinations?: AwsDestinationRules | undefined;
  readonly rotationGraceMs: number;
  readonly now: () => number;
  /** The tenant a request acts for: the key's, or the one named in an admin path. */
  readonly tenantIdOf: (req: Request) => string;
  /** The tenant's rate limit on actions (endpoint writes, rotation, recover); a pass-through for operators. */
  readonly actionLimit: RequestHandler;
  /** Emits an operational event (an endpoint re-enabled); never throws. */
  readonly notify: Notify;
}

/** How many of the newest events a filter is tried against. */
export const maxFilterTestEvents = 20;

export function endpointRoutes(deps: EndpointRoutesDeps): Router {
  const router = Router({ mergeParams: true });
  const json = [requireJson, express.json({ limit: "64kb" })];
  const {
    create: createSchema,
    update: updateSchema,
    rotate: rotateSchema,
    recover: recoverSchema,
    test: testSchema,
    filterTest: filterTestSchema,
  } = endpointSchemas(deps.allowPrivateTargets, deps.allowedTargetPorts, deps.awsDestinations);

  /** The tenant, unless missing or deleted (404 either way: invariant 4). */
  const tenantOf = (req: Request) => liveTenant(deps.tenants, deps.tenantIdOf(req));
  /** The endpoint named in the path, of a live tenant (404 otherwise). */
  const endpointOf = async (req: Request) => {
    const tenant = await tenantOf(req);
    const endpointId = String(req.params.endpointId);
    const endpoint = isId("ep", endpointId) ? tenant.endpoints[endpointId] : undefined;
    if (!endpoint) throw problems.notFound(`Endpoint ${endpointId}`);
    return { tenant, tenantId: tenant.tenantId, endpointId, endpoint };
  };
  const found = <T>(value: T | undefined, endpointId: string): T => {
    if (value === undefined) throw problems.notFound(`Endpoint ${endpointId}`);
    return value;
  };

  router.get("/", async (req, res) => {
    const tenant = await tenantOf(req);
    res.json({ data: Object.entries(tenant.endpoints).map(([id, e]) => endpointView(id, e)), next_cursor: null });
  });

  router.post("/", deps.actionLimit, ...json, async (req, res) => {
    const input = parseWith(createSchema, req.body);
    const tenant = await tenantOf(req);
    const now = deps.now();
    const { endpointId, endpoint, secret } = newEndpoint(input, now);
    await addEndpoint(deps.tenants, tenant.tenantId, endpointId, endpoint);
    res.status(201).json({ ...endpointView(endpointId, endpoint, deps.awsDestinations), secret });
  });

  router.get("/:endpointId", async (req, res) => {
    const { endpointId, endpoint } = await endpointOf(req);
    res.json(endpointView(endpointId, endpoint, deps.awsDestinations));
  });

  router.patch("/:endpointId", deps.actionLimit, ...json, async (req, res) => {
    const input = parseWith(updateSchema, req.body);
    const ids = await endpointOf(req);
    const {
      type,
      target,
      role_arn,
      url,
      description,
      event_types: eventTypes,
      filter,
      max_in_flight: maxInFlight,
      rate_limit: rateLimit,
      send_traceparent: sendTraceparent,
      ordering,
      enabled,
    } = input;
    const destination = patchedDestination(ids.endpoint, { type, target, role_arn, url }, deps.awsDestinations);
    const patch = { url, destination, description, eventTypes, filter, maxInFlight, rateLimit, sendTraceparent };
    const changed = found(
      await updateEndpoint(deps.tenants, ids, { ...patch, ordering, enabled }, deps.now()),
      ids.endpointId,
    );
    // Announced by whoever's write turned it back on, once.
    if (!changed.was.enabled && changed.is.enabled)
      await deps.notify({ type: "endpoint.enabled", data: { tenant_id: ids.tenantId, endpoint_id: ids.endpointId } });
    res.json(endpointView(ids.endpointId, changed.is));
  });

  router.delete("/:endpointId", deps.actionLimit, async (req, res) => {
    const ids = await endpointOf(req);
    if (!(await removeEndpoint(deps.tenants, ids))) throw problems.notFound(`Endpoint ${ids.endpointId}`);
    res.status(204).end();
  });

  router.post(
    "/:endpointId/rotate-secret",
    deps.actionLimit,
    optionalJson,
    express.json({ limit: "4kb" }),
    async (req, res) => {
      const input = parseWith(rotateSchema, req.body ?? {});
      const graceMs = input.grace_period ?? deps.rotationGraceMs;
      const secret = newSigningSecret();
      const now = deps.now();
      const ids = await endpointOf(req);
      const endpoint = await rotateEndpointSecret(deps.tenants, ids, secret, now, graceMs);
      res.status(201).json({
        ...endpointView(ids.endpointId, found(endpoint, ids.endpointId)),
        secret,
        previous_secrets_expire_at: new Date(now + graceMs).toISOString(),
      });
    },
  );

  router.get("/:endpointId/stats", async (req, res) => {
    const { tenantId, endpointId } = await endpointOf(req);
    res.json(await endpointStats(deps.store, { tenantId, endpointId }, deps.now()));
  });

  /**
   * A test event to this endpoint only, whatever its filters: `webhook.test`, or one of a catalog type's examples
   * (`{event_type, example}`). The portal shows its attempt in place.
   */
  router.post("/:endpointId/test", deps.actionLimit, optionalJson, express.json({ limit: "4kb" }), async (req, res) => {
    const input = parseWith(testSchema, req.body ?? {});
    const { tenant, endpointId } = await endpointOf(req);
    let event: Record<string, unknown> = {
      type: "webhook.test",
      occurred_at: new Date(deps.now()).toISOString(),
      data: { endpoint_id: endpointId },
    };
    if (input.event_type !== undefined) {
      const type = await getEventType(deps.store, tenant.tenantId, input.event_type);
      if (!type) throw problems.notFound(`Event type ${input.event_type}`);
      const example = (JSON.parse(type.examplesJson) as Record<string, unknown>[])[input.example];
      if (!example)
        throw problems.invalid([{ path: "example", message: `${input.event_type} has no example ${input.example}` }]);
      event = example;
    }
    const out = await acceptEvent(deps, {
      tenant,
      body: Buffer.from(JSON.stringify(event)),
      parsed: event,
      endpointId,
      log: req.log,
    });
    res.status(202).json({ event_id: out.eventId });
  });

  /** What a filter would do: the tenant's newest events (at most 20), and whether each would be delivered. */
  router.post("/test-filter", ...json, async (req, res) => {
    const input = parseWith(filterTestSchema, req.body);
    const tenant = await tenantOf(req);
    const recent = await recentPayloads(deps.store, tenant.tenantId, maxFilterTestEvents);
    res.json({
      data: recent.map((e) => ({
        event_id: e.eventId,
        type: e.type ?? null,
        created_at: e.createdAt,
        matches:
          matchesEventTypes(input.event_types, e.type) &&
          matchesFilter(input.filter, JSON.parse(Buffer.from(e.body).toString("utf8")) as unknown),
      })),
    });
  });

  router.get("/:endpointId/ordering-keys", async (req, res) => {
    const q = parseWith(orderingKeysQuerySchema, req.query);
    const { tenantId, endpointId } = await endpointOf(req);
    res.json(await orderingKeysOf({ store: deps.store, tenantId, endpointId }, q));
  });

  router.post("/:endpointId/ordering-keys/:orderingKey/skip", deps.actionLimit, ...noBody, async (req, res) => {
    const orderingKey = parseWith(orderingKeySchema, req.params.orderingKey);
    const { tenantId, endpointId, endpoint } = await endpointOf(req);
    const where = {
      store: deps.store,
      queue: deps.queue,
      tenantId,
      endpointId,
      mode: endpoint.ordering ?? "release_on_dead",
    };
    res.json(await skipOrderingKey(where, orderingKey, deps.now()));
  });

  router.post("/:endpointId/recover", deps.actionLimit, ...json, async (req, res) => {
    const input = parseWith(recoverSchema, req.body);
    const after = cursorOf(input.cursor, recoverCursorSchema);
    const { tenantId, endpointId, endpoint } = await endpointOf(req);
    const { since, until, limit, dry_run: dryRun } = input;
    // The worker skips a disabled endpoint's deliveries: requeued now, they would only be skipped again.
    if (!endpoint.enabled && !dryRun) throw problems.conflict("The endpoint is disabled: enable it, then recover.");
    const report = await recoverEndpoint(deps, {
      tenantId,
      endpointId,
      since,
      until,
      limit,
      after,
      dryRun,
      log: req.log,
    });
    res.status(202).json({
      endpoint_id: endpointId,
      dry_run: dryRun,
      examined: report.examined,
      ...(dryRun ? { would_requeue: report.requeued } : { requeued: report.requeued }),
      next_cursor: report.nextCursor,
    });
  });

  return router;
}
