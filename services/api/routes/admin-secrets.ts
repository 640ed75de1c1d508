/**
 * `POST /admin/seal-secrets`: the sealing job for signing secrets stored before sealing, one bounded step a call
 * (a page of tenants), resumed with `next_cursor`. The bootstrap runs it to the end; an operator may run it any time.
 */
import express, { Router } from "express";
import { z } from "zod";
import { sealTenantsInClear, tenantCursorSchema, type TenantStore } from "../../aws/tenants.ts";
import { encodeCursor } from "../../aws/cursor.ts";
import { cursorOf, optionalJson, parseWith } from "../validate.ts";

export const sealSecretsSchema = z
  .object({
    limit: z
      .number()
      .int()
      .min(1)
      .max(100)
      .default(100)
      .meta({ description: "Tenants looked at in this call (at most 100)." }),
    cursor: z
      .string()
      .optional()
      .meta({ description: "`next_cursor` of the previous call, to go on where it stopped." }),
  })
  .strict();

export function adminSecretRoutes(deps: { tenants: TenantStore }): Router {
  const router = Router();
  router.post("/seal-secrets", optionalJson, express.json({ limit: "4kb" }), async (req, res) => {
    const input = parseWith(sealSecretsSchema, req.body ?? {});
    const step = await sealTenantsInClear(deps.tenants, input.limit, cursorOf(input.cursor, tenantCursorSchema));
    req.log.info({ examined: step.examined, sealed: step.sealed }, "signing secrets sealed");
    res.json({
      examined: step.examined,
      sealed: step.sealed,
      next_cursor: step.nextCursor ? encodeCursor(step.nextCursor) : null,
    });
  });
  return router;
}
