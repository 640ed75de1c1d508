/** `/admin/tenants`: onboarding, listing, disabling and (soft) deleting tenants, and their API keys. */
import type { AwsDestinationRules } from "../destination-input.ts";
import express, { Router, type Request } from "express";
import { z } from "zod";
import { problems } from "../../core/errors.ts";
import { newId } from "../../core/ids.ts";
import { isSystemTenant } from "../../core/system-tenant.ts";
import { defaultRetentionDays, retentionDaysOf, type Endpoint, type Tenant } from "../../core/tenant.ts";
import { issueApiKey, listApiKeys, revokeApiKey, type ApiKeyStore } from "../../aws/api-keys.ts";
import {
  createTenant,
  listTenants,
  softDeleteTenant,
  tenantCursorSchema,
  updateTenant,
  type TenantStore,
} from "../../aws/tenants.ts";
import { endpointInputSchema, liveTenant, newEndpoint } from "../tenant-records.ts";
import { cursorOf, noBody, parseWith, requireJson } from "../validate.ts";
import { apiKeyView, retentionNotice, tenantView } from "../views.ts";

export interface AdminTenantDeps {
  readonly tenants: TenantStore;
  readonly apiKeys: ApiKeyStore;
  readonly allowPrivateTargets: boolean;
  readonly allowedTargetPorts: readonly number[];
  readonly awsDestinations?: AwsDestinationRules | undefined;
  readonly now: () => number;
}

export const pageQuery = z.object({
  limit: z.coerce.number().int().min(1).max(100).default(20),
  cursor: z.string().optional().meta({ description: "`next_cursor` of the previous page (400 for any other)." }),
});
const retentionDays = z.number().int().min(1).max(365).meta({
  description:
    "Days the tenant's events, attempt records and figures are kept (1–365). A change applies to data written from then on.",
});

export const tenantPatchSchema = z
  .object({
    name: z.string().trim().min(1).max(200).optional(),
    status: z.enum(["active", "disabled"]).optional(),
    retention_days: retentionDays.optional(),
  })
  .strict();

export const tenantCreateSchema = (
  allowPrivate: boolean,
  allowedPorts?: readonly number[],
  aws?: AwsDestinationRules,
) =>
  z.strictObject({
    name: z.string().trim().min(1).max(200),
    endpoints: z
      .array(endpointInputSchema(allowPrivate, allowedPorts, aws))
      .max(50)
      .default([]),
    retention_days: retentionDays.default(defaultRetentionDays),
  });

export function adminTenantRoutes(deps: AdminTenantDeps): Router {
  const router = Router();
  const json = [requireJson, express.json({ limit: "64kb" })];
  const createSchema = tenantCreateSchema(deps.allowPrivateTargets, deps.allowedTargetPorts, deps.awsDestinations);

  const tenantOf = (req: Request) => liveTenant(deps.tenants, String(req.params.tenantId));

  const issueKey = async (tenantId: string, now: number) => {
    const { record, apiKey } = await issueApiKey(deps.apiKeys, tenantId, now);
    return { ...apiKeyView(record), api_key: apiKey };
  };

  router.post("/", ...json, async (req, res) => {
    const input = parseWith(createSchema, req.body);
    const now = deps.now();
    const secrets = new Map<string, string>();
    const endpoints: Record<string, Endpoint> = {};
    for (const e of input.endpoints) {
      const { endpointId, endpoint, secret } = newEndpoint(e, now);
      secrets.set(endpointId, secret);
      endpoints[endpointId] = endpoint;
    }
    const tenant: Tenant = {
      tenantId: newId("ten", now),
      name: input.name,
      status: "active",
      createdAt: now,
      endpoints,
      retentionDays: input.retention_days,
      version: 0,
    };
    await createTenant(deps.tenants, tenant);
    const key = await issueKey(tenant.tenantId, now);
    const view = tenantView(tenant);
    // Invariant 5: the key and the secrets appear in this response and never again.
    res.status(201).json({
      ...view,
      api_key: key.api_key,
      endpoints: view.endpoints.map((e) => ({ ...e, secret: secrets.get(e.endpoint_id) })),
    });
  });

  router.get("/", async (req, res) => {
    const q = parseWith(pageQuery, req.query);
    const page = await listTenants(deps.tenants, q.limit, cursorOf(q.cursor, tenantCursorSchema));
    // The system tenant (operational webhooks) is the platform's own, not a customer: listed nowhere.
    res.json({
      data: page.items.filter((t) => t.status !== "deleted" && !isSystemTenant(t.tenantId)).map(tenantView),
      next_cursor: page.nextCursor,
    });
  });

  router.get("/:tenantId", async (req, res) => {
    res.json(tenantView(await tenantOf(req)));
  });

  /** Disable/enable and rename. A disabled tenant's key answers 401; its deliveries are held, not dropped. */
  router.patch("/:tenantId", ...json, async (req, res) => {
    const input = parseWith(tenantPatchSchema, req.body);
    const tenant = await tenantOf(req);
    const stored = await updateTenant(deps.tenants, tenant.tenantId, {
      name: input.name,
      status: input.status,
      retentionDays: input.retention_days,
    });
    if (!stored) throw problems.notFound(`Tenant ${tenant.tenantId}`);
    const changed = input.retention_days !== undefined && retentionDaysOf(tenant) !== input.retention_days;
    res.json({ ...tenantView(stored), ...(changed ? { notice: retentionNotice } : {}) });
  });

  /** Soft delete: the tenant stays (events keep their owner) but its keys stop working and nothing is delivered. */
  router.delete("/:tenantId", async (req, res) => {
    const tenant = await tenantOf(req);
    await softDeleteTenant(deps.tenants, tenant.tenantId);
    res.status(204).end();
  });

  router.post("/:tenantId/api-keys", ...noBody, async (req, res) => {
    const tenant = await tenantOf(req);
    res.status(201).json(await issueKey(tenant.tenantId, deps.now()));
  });

  router.get("/:tenantId/api-keys", async (req, res) => {
    const tenant = await tenantOf(req);
    const keys = await listApiKeys(deps.apiKeys, tenant.tenantId);
    res.json({ data: keys.sort((a, b) => a.createdAt - b.createdAt).map(apiKeyView), next_cursor: null });
  });

  router.delete("/:tenantId/api-keys/:keyId", async (req, res) => {
    const tenant = await tenantOf(req);
    const { keyId } = req.params;
    const revoked = await revokeApiKey(deps.apiKeys, tenant.tenantId, keyId, deps.now());
    if (!revoked) throw problems.notFound(`API key ${keyId}`);
    res.status(204).end();
  });

  return router;
}
