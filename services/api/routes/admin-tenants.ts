/** `/admin/tenants`: onboarding a tenant with its endpoints and first API key (secrets shown once). */
import express, { Router } from "express";
import { z } from "zod";
import { endpointUrlProblem } from "../../core/endpoint-url.ts";
import { problems } from "../../core/errors.ts";
import { isId, newApiKey, newId, newSigningSecret } from "../../core/ids.ts";
import type { Endpoint, Tenant } from "../../core/tenant.ts";
import { putApiKey } from "../../aws/api-keys.ts";
import { createTenant, getTenant } from "../../aws/tenants.ts";
import type { DocumentClient } from "../../aws/clients.ts";
import type { TableNames } from "../../aws/tables.ts";
import { parseWith, requireJson } from "../validate.ts";
import { tenantView } from "../views.ts";

export interface AdminTenantDeps {
  readonly ddb: DocumentClient;
  readonly tables: TableNames;
  readonly allowPrivateTargets: boolean;
  readonly now: () => number;
}

const eventTypeSchema = z.string().regex(/^(\*|[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*(\.\*)?)$/, "a type such as order.paid, order.* or *");

export function endpointInputSchema(allowPrivate: boolean) {
  return z.object({
    url: z
      .string()
      .max(2048)
      .superRefine((u, ctx) => {
        const problem = endpointUrlProblem(u, allowPrivate);
        if (problem) ctx.addIssue(problem);
      }),
    description: z.string().max(500).optional(),
    event_types: z.array(eventTypeSchema).max(100).optional(),
  });
}

export function adminTenantRoutes(deps: AdminTenantDeps): Router {
  const router = Router();
  const createSchema = z.object({
    name: z.string().trim().min(1).max(200),
    endpoints: z.array(endpointInputSchema(deps.allowPrivateTargets)).max(50).default([]),
  });

  router.post("/", requireJson, express.json({ limit: "64kb" }), async (req, res) => {
    const input = parseWith(createSchema, req.body);
    const now = deps.now();
    const secrets = new Map<string, string>();
    const endpoints: Record<string, Endpoint> = {};
    for (const e of input.endpoints) {
      const endpointId = newId("ep", now);
      const secret = newSigningSecret();
      secrets.set(endpointId, secret);
      endpoints[endpointId] = {
        url: e.url,
        description: e.description,
        eventTypes: e.event_types ?? [],
        secrets: [{ secret, createdAt: now }],
        enabled: true,
        createdAt: now,
      };
    }
    const tenant: Tenant = { tenantId: newId("ten", now), name: input.name, status: "active", createdAt: now, endpoints };
    const key = newApiKey();
    await createTenant(deps.ddb, deps.tables.tenants, tenant);
    await putApiKey(deps.ddb, deps.tables.apiKeys, {
      keyHash: key.keyHash,
      keyId: key.keyId,
      tenantId: tenant.tenantId,
      displayPrefix: key.displayPrefix,
      createdAt: now,
    });
    const view = tenantView(tenant);
    // Invariant 5: the key and the secrets appear in this response and never again.
    res.status(201).json({
      ...view,
      api_key: key.apiKey,
      endpoints: view.endpoints.map((e) => ({ ...e, secret: secrets.get(e.endpoint_id) })),
    });
  });

  router.get("/:tenantId", async (req, res) => {
    const { tenantId } = req.params;
    const tenant = isId("ten", tenantId) ? await getTenant(deps.ddb, deps.tables.tenants, tenantId) : undefined;
    if (!tenant || tenant.status === "deleted") throw problems.notFound(`Tenant ${tenantId}`);
    res.json(tenantView(tenant));
  });

  return router;
}
