/** `GET /v1/audit` (the tenant's own log, the portal's too) and `GET /admin/audit` (every tenant's, or one's). */
import { Router, type Request } from "express";
import { z } from "zod";
import { isId } from "../../core/ids.ts";
import { auditCursorSchema, auditPage } from "../../aws/audit-log.ts";
import type { EventStore } from "../../aws/events/store.ts";
import { cursorOf, parseWith } from "../validate.ts";
import { auditEntryView } from "../views.ts";
import { pageQuery } from "./admin-tenants.ts";

export const adminAuditQuery = pageQuery.extend({
  tenant_id: z
    .string()
    .refine((s) => isId("ten", s), "a tenant id")
    .optional()
    .meta({ description: "Only this tenant's entries." }),
});

/** `scope` answers the tenant whose log a request reads, or undefined for the operators' whole log. */
export function auditRoutes(deps: {
  store: EventStore;
  query: z.ZodType<{ limit: number; cursor?: string | undefined; tenant_id?: string | undefined }>;
  scope: (req: Request, q: { tenant_id?: string | undefined }) => string | undefined;
}): Router {
  const router = Router();
  router.get("/", async (req, res) => {
    const q = parseWith(deps.query, req.query);
    const page = await auditPage(deps.store, deps.scope(req, q), q.limit, cursorOf(q.cursor, auditCursorSchema));
    res.json({ data: page.items.map(auditEntryView), next_cursor: page.nextCursor });
  });
  return router;
}
