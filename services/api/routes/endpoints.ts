/**
 * Endpoint management, mounted twice: `/v1/endpoints` (the key's tenant) and
 * `/admin/tenants/{tenantId}/endpoints` (any tenant). Secrets appear only when created or rotated.
 */
import express, { Router, type Request } from "express";
import { z } from "zod";
import { durationSchema } from "../../core/retry-policy.ts";
import { problems } from "../../core/errors.ts";
import { isId, newSigningSecret } from "../../core/ids.ts";
import { rotateSecret, type Endpoint } from "../../core/tenant.ts";
import type { DocumentClient } from "../../aws/clients.ts";
import type { TableNames } from "../../aws/tables.ts";
import { changeTenant } from "../../aws/tenants.ts";
import { endpointInputSchema, liveTenant, newEndpoint } from "../tenant-records.ts";
import { optionalJson, parseWith, requireJson } from "../validate.ts";
import { endpointView } from "../views.ts";
import { recoverEndpoint, type RecoverDeps } from "../recover-endpoint.ts";

export interface EndpointRoutesDeps extends RecoverDeps {
  readonly ddb: DocumentClient;
  readonly tables: TableNames;
  readonly allowPrivateTargets: boolean;
  readonly rotationGraceMs: number;
  readonly now: () => number;
  /** The tenant a request acts for: the key's, or the one named in an admin path. */
  readonly tenantIdOf: (req: Request) => string;
}

const maxEndpoints = 50;

/** The request bodies (the URL check depends on whether private targets are allowed). */
export function endpointSchemas(allowPrivate: boolean) {
  const create = endpointInputSchema(allowPrivate);
  return {
    create,
    update: create
      .partial()
      .extend({
        enabled: z.boolean().optional(),
        // null clears an override: the worker's default applies again.
        max_in_flight: create.shape.max_in_flight.unwrap().nullable().optional(),
        rate_limit: create.shape.rate_limit.unwrap().nullable().optional(),
      })
      .strict(),
    rotate: z.object({ grace_period: durationSchema("30m or 24h").optional().meta({ description: "How long the old secret keeps signing, e.g. 24h." }) }).strict(),
    recover: z.object({ since: z.iso.datetime({ offset: true }).meta({ description: "Requeue failed deliveries of events created since." }) }).strict(),
  };
}

export function endpointRoutes(deps: EndpointRoutesDeps): Router {
  const router = Router({ mergeParams: true });
  const json = [requireJson, express.json({ limit: "64kb" })];
  const { create: createSchema, update: updateSchema, rotate: rotateSchema, recover: recoverSchema } = endpointSchemas(deps.allowPrivateTargets);

  /** The tenant, unless missing or deleted (404 either way: invariant 4). */
  const tenantOf = (req: Request) => liveTenant(deps.ddb, deps.tables.tenants, deps.tenantIdOf(req));
  const endpointIdOf = (req: Request): string => {
    const id = String(req.params.endpointId);
    if (!isId("ep", id)) throw problems.notFound(`Endpoint ${id}`);
    return id;
  };
  /** Applies `change` to one endpoint of the request's tenant under the tenant's version guard. */
  const changeEndpoint = async (req: Request, change: (e: Endpoint) => Endpoint | null) => {
    const tenant = await tenantOf(req);
    const endpointId = endpointIdOf(req);
    if (!tenant.endpoints[endpointId]) throw problems.notFound(`Endpoint ${endpointId}`);
    const stored = await changeTenant(deps.ddb, deps.tables.tenants, tenant.tenantId, (t) => {
      const current = t.endpoints[endpointId];
      if (!current) throw problems.notFound(`Endpoint ${endpointId}`);
      const next = change(current);
      const others = Object.entries(t.endpoints).filter(([id]) => id !== endpointId);
      return { ...t, endpoints: Object.fromEntries(next ? [...others, [endpointId, next]] : others) };
    });
    return { endpointId, endpoint: stored?.endpoints[endpointId] };
  };

  router.get("/", async (req, res) => {
    const tenant = await tenantOf(req);
    res.json({ data: Object.entries(tenant.endpoints).map(([id, e]) => endpointView(id, e)), next_cursor: null });
  });

  router.post("/", ...json, async (req, res) => {
    const input = parseWith(createSchema, req.body);
    const tenant = await tenantOf(req);
    const now = deps.now();
    const { endpointId, endpoint, secret } = newEndpoint(input, now);
    await changeTenant(deps.ddb, deps.tables.tenants, tenant.tenantId, (t) => {
      if (Object.keys(t.endpoints).length >= maxEndpoints) throw problems.conflict(`A tenant has at most ${maxEndpoints} endpoints.`);
      return { ...t, endpoints: { ...t.endpoints, [endpointId]: endpoint } };
    });
    res.status(201).json({ ...endpointView(endpointId, endpoint), secret });
  });

  router.get("/:endpointId", async (req, res) => {
    const tenant = await tenantOf(req);
    const endpointId = endpointIdOf(req);
    const endpoint = tenant.endpoints[endpointId];
    if (!endpoint) throw problems.notFound(`Endpoint ${endpointId}`);
    res.json(endpointView(endpointId, endpoint));
  });

  router.patch("/:endpointId", ...json, async (req, res) => {
    const input = parseWith(updateSchema, req.body);
    const { endpointId, endpoint } = await changeEndpoint(req, (e) => ({
      ...e,
      url: input.url ?? e.url,
      description: input.description ?? e.description,
      eventTypes: input.event_types ?? e.eventTypes,
      maxInFlight: input.max_in_flight === undefined ? e.maxInFlight : (input.max_in_flight ?? undefined),
      rateLimit: input.rate_limit === undefined ? e.rateLimit : (input.rate_limit ?? undefined),
      sendTraceparent: input.send_traceparent ?? e.sendTraceparent,
      // Re-enabling starts afresh: the reason and the failure run are forgotten.
      ...(input.enabled === undefined
        ? {}
        : { enabled: input.enabled, disabledReason: input.enabled ? undefined : "disabled by request", failingSince: undefined }),
    }));
    res.json(endpointView(endpointId, endpoint!));
  });

  router.delete("/:endpointId", async (req, res) => {
    await changeEndpoint(req, () => null);
    res.status(204).end();
  });

  router.post("/:endpointId/rotate-secret", optionalJson, express.json({ limit: "4kb" }), async (req, res) => {
    const input = parseWith(rotateSchema, req.body ?? {});
    const graceMs = input.grace_period ?? deps.rotationGraceMs;
    const secret = newSigningSecret();
    const now = deps.now();
    const { endpointId, endpoint } = await changeEndpoint(req, (e) => rotateSecret(e, secret, now, graceMs));
    res.status(201).json({
      ...endpointView(endpointId, endpoint!),
      secret,
      previous_secrets_expire_at: new Date(now + graceMs).toISOString(),
    });
  });

  router.post("/:endpointId/recover", ...json, async (req, res) => {
    const input = parseWith(recoverSchema, req.body);
    const tenant = await tenantOf(req);
    const endpointId = endpointIdOf(req);
    if (!tenant.endpoints[endpointId]) throw problems.notFound(`Endpoint ${endpointId}`);
    const requeued = await recoverEndpoint(deps, { tenantId: tenant.tenantId, endpointId, since: input.since, log: req.log });
    res.status(202).json({ endpoint_id: endpointId, requeued });
  });

  return router;
}
