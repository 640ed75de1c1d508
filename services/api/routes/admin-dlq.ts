/** `/admin/dlq` (peek, requeue) and `/admin/stats` (queue depths): the operator's view of what died. */
import express, { Router } from "express";
import { z } from "zod";
import { queueDepth } from "../../aws/dead-letters.ts";
import { oldestDue } from "../../aws/events/read-events.ts";
import { peekDeadLetters, requeueDeadLetters, type DlqDeps } from "../dead-letter-queue.ts";
import { parseWith, requireJson } from "../validate.ts";

export const peekQuery = z.object({
  tenant_id: z.string().max(100).optional(),
  limit: z.coerce.number().int().min(1).max(100).default(20),
});

export const requeueSchema = z
  .object({
    tenant_id: z.string().max(100).optional(),
    endpoint_id: z.string().max(100).optional(),
    event_ids: z.array(z.string().max(100)).min(1).max(1000).optional(),
    max_messages: z.number().int().min(1).max(10_000),
    dry_run: z.boolean().default(false),
  })
  .strict();

export function adminDlqRoutes(deps: DlqDeps): Router {
  const router = Router();

  router.get("/dlq", async (req, res) => {
    const q = parseWith(peekQuery, req.query);
    res.json(await peekDeadLetters(deps, { tenantId: q.tenant_id, limit: q.limit }));
  });

  router.post("/dlq/requeue", requireJson, express.json({ limit: "128kb" }), async (req, res) => {
    const input = parseWith(requeueSchema, req.body);
    const started = deps.now();
    const report = await requeueDeadLetters(
      deps,
      {
        tenantId: input.tenant_id,
        endpointId: input.endpoint_id,
        eventIds: input.event_ids,
        maxMessages: input.max_messages,
        dryRun: input.dry_run,
      },
      req.log,
    );
    const body = { ...report, dry_run: input.dry_run, duration_ms: deps.now() - started };
    req.log.info(body, "dead-letter requeue");
    res.json(body);
  });

  router.get("/stats", async (_req, res) => {
    const [queue, dlq, due] = await Promise.all([
      queueDepth(deps.queue, "queue"),
      queueDepth(deps.queue, "dlq"),
      oldestDue(deps.store),
    ]);
    res.json({
      queue: { ...queue, oldest_due_at: due === undefined ? null : new Date(due).toISOString() },
      dead_letter_queue: dlq,
    });
  });

  return router;
}
