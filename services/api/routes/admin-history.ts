/** `GET /admin/stats/history`: the delivery figures over the last hour or day, for the console's charts. */
import { Router } from "express";
import { z } from "zod";
import type { EventStore } from "../../aws/events/store.ts";
import { deliveryHistory } from "../delivery-history.ts";
import { parseWith } from "../validate.ts";

export const historyQuery = z.object({
  window: z
    .enum(["hour", "day"])
    .default("hour")
    .meta({ description: "`hour`: 60 points a minute apart; `day`: 144 points ten minutes apart." }),
});

export function adminHistoryRoutes(deps: { store: EventStore; now: () => number }): Router {
  const router = Router();
  router.get("/stats/history", async (req, res) => {
    const q = parseWith(historyQuery, req.query);
    res.json(await deliveryHistory(deps.store, q.window, deps.now()));
  });
  return router;
}
