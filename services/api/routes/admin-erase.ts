/**
 * `POST /admin/tenants/{id}/erase` with `{"confirm": "<tenant id>"}`: erases the tenant and everything of it, a bounded
 * step per call (202 with the progress while it runs; POST again to go on), 200 with the report when done, and an
 * operational event `tenant.erased` carrying it. Afterwards the tenant is unknown (404).
 */
import express, { Router } from "express";
import { z } from "zod";
import { problems } from "../../core/errors.ts";
import { isId } from "../../core/ids.ts";
import { isSystemTenant } from "../../core/system-tenant.ts";
import { eraseStep, startErase, type EraseJob, type EraseStores } from "../../aws/erase-tenant.ts";
import type { Notify } from "../../ingestion/operational-events.ts";
import { parseWith, requireJson } from "../validate.ts";

export const eraseSchema = z.strictObject({
  confirm: z.string().meta({ description: "The tenant's id again: erasure cannot be undone." }),
  limit: z
    .number()
    .int()
    .min(1)
    .max(5000)
    .default(1000)
    .meta({ description: "Items removed in this step at most; POST again to go on." }),
});

export const eraseViewSchema = z
  .strictObject({
    tenant_id: z.string(),
    status: z.enum(["running", "done"]),
    phase: z.string().meta({ description: "What it is removing now: api-keys, events, audit, dead-letters, tenant." }),
    started_at: z.iso.datetime(),
    finished_at: z.iso.datetime().nullable(),
    removed: z.record(z.string(), z.number().int()).meta({ description: "Removed so far, by kind." }),
  })
  .meta({ id: "TenantErasure" });

const view = (tenantId: string, job: EraseJob): z.input<typeof eraseViewSchema> => ({
  tenant_id: tenantId,
  status: job.phase === "done" ? "done" : "running",
  phase: job.phase,
  started_at: new Date(job.startedAt).toISOString(),
  finished_at: job.finishedAt === undefined ? null : new Date(job.finishedAt).toISOString(),
  removed: job.removed,
});

export function adminEraseRoutes(deps: EraseStores & { notify: Notify; now: () => number }): Router {
  const router = Router({ mergeParams: true });
  router.post("/", requireJson, express.json({ limit: "4kb" }), async (req, res) => {
    const tenantId = String((req.params as { tenantId?: string }).tenantId);
    const input = parseWith(eraseSchema, req.body);
    if (!isId("ten", tenantId) || isSystemTenant(tenantId)) throw problems.notFound(`Tenant ${tenantId}`);
    if (input.confirm !== tenantId)
      throw problems.invalid(
        [{ path: "confirm", message: "must be the tenant's id" }],
        "Confirm with the tenant's id.",
      );
    if (!(await startErase(deps, tenantId, deps.now()))) throw problems.notFound(`Tenant ${tenantId}`);
    const job = await eraseStep(deps, tenantId, input.limit, deps.now());
    req.log.info({ erased_tenant: tenantId, phase: job.phase }, "tenant erasure step");
    if (job.phase === "done") {
      await deps.notify({
        type: "tenant.erased",
        data: { tenant_id: tenantId, started_at: new Date(job.startedAt).toISOString(), removed: job.removed },
      });
      res.status(200).json(view(tenantId, job));
      return;
    }
    res.status(202).json(view(tenantId, job));
  });
  return router;
}
