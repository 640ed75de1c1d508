/**
 * The tenant's own DLQ view in action: requeue one endpoint's dead deliveries of events created in a time range,
 * as a bounded job per call (at most `maxRecoverEvents` events looked at, at the DLQ requeue's rate) that the
 * caller continues with the cursor it answers.
 */
import type { Logger } from "pino";
import type { z } from "zod";
import { deliveryOf, eventIdsByStatus, type eventCursorSchema } from "../aws/events/read-events.ts";
import { oneRun, requeueAndSend, type RequeueDeps } from "./requeue.ts";

export interface RecoverDeps extends RequeueDeps {
  /** Deliveries requeued per second at most (DLQ_REQUEUE_RATE). */
  readonly requeueRate: number;
}

/** Events looked at in one call: a larger backlog takes several calls, each continuing from the last one's cursor. */
export const maxRecoverEvents = 100;

export interface RecoverInput {
  readonly tenantId: string;
  readonly endpointId: string;
  /** ISO times of event creation, inclusive. */
  readonly since: string;
  readonly until?: string | undefined;
  readonly limit: number;
  readonly after?: z.infer<typeof eventCursorSchema> | undefined;
  /** Count what would be requeued, change nothing. */
  readonly dryRun: boolean;
  readonly log: Logger;
}

export interface RecoverReport {
  /** Dead events looked at. */
  readonly examined: number;
  /** This endpoint's dead deliveries among them: requeued, or that would be in a dry run. */
  readonly requeued: number;
  readonly nextCursor: string | null;
}

export async function recoverEndpoint(deps: RecoverDeps, input: RecoverInput): Promise<RecoverReport> {
  const { tenantId, endpointId } = input;
  const range = { since: new Date(input.since).toISOString(), until: input.until && new Date(input.until).toISOString(), limit: input.limit, after: input.after };
  const page = await eventIdsByStatus(deps.store, tenantId, "DEAD", range);
  const run = oneRun(deps);
  const started = deps.now();
  let requeued = 0;
  for (const eventId of page.eventIds) {
    if (input.dryRun) {
      if ((await deliveryOf(deps.store, { tenantId, eventId, endpointId }))?.status === "DEAD") requeued++;
      continue;
    }
    // Paced like the DLQ requeue: a large recovery is spread over time rather than sent as one burst.
    const due = started + (requeued * 1000) / deps.requeueRate;
    if (due > deps.now()) await new Promise((r) => setTimeout(r, due - deps.now()));
    requeued += (await requeueAndSend(run, { tenantId, eventId }, input.log, [endpointId], ["DEAD"]))?.requeued.length ?? 0;
  }
  return { examined: page.eventIds.length, requeued, nextCursor: page.nextCursor };
}
