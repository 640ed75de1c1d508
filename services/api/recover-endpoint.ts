/**
 * The tenant's own DLQ view in action: requeue one endpoint's deliveries that died or were skipped (while it was
 * disabled) in a time range, as a bounded job per call (at most `maxRecoverEvents` events looked at, at the DLQ
 * requeue's rate) that the caller continues with the cursor it answers.
 */
import type { Logger } from "pino";
import { z } from "zod";
import { unsentSince } from "../core/delivery-state.ts";
import { encodeCursor } from "../aws/cursor.ts";
import { deliveryOf, eventCursorSchema, eventsByStatus } from "../aws/events/read-events.ts";
import { oneRun, requeueAndSend, type RequeueDeps } from "./requeue.ts";

export interface RecoverDeps extends RequeueDeps {
  /** Deliveries requeued per second at most (DLQ_REQUEUE_RATE). */
  readonly requeueRate: number;
  /** How long after its event a delivery can die by the retry schedule (core's scheduleSpanMs). */
  readonly deliverySpanMs: number;
}

/** Events looked at in one call: a larger backlog takes several calls, each continuing from the last one's cursor. */
export const maxRecoverEvents = 100;

/** The event statuses whose events may hold a delivery to recover, walked in this order. */
const recoverable = ["DEAD", "SKIPPED"] as const;

/** Where a recover goes on: which status's events, and after which of them. */
export const recoverCursorSchema = z.object({ status: z.enum(recoverable), after: eventCursorSchema.optional() });
type RecoverCursor = z.infer<typeof recoverCursorSchema>;

export interface RecoverInput {
  readonly tenantId: string;
  readonly endpointId: string;
  /** ISO times, inclusive: when the delivery died or was skipped. */
  readonly since: string;
  readonly until?: string | undefined;
  readonly limit: number;
  readonly after?: RecoverCursor | undefined;
  /** Count what would be requeued, change nothing. */
  readonly dryRun: boolean;
  readonly log: Logger;
}

export interface RecoverReport {
  /** Dead or skipped events looked at. */
  readonly examined: number;
  /** This endpoint's deliveries among them that died or were skipped in the range: requeued, or that would be in a dry run. */
  readonly requeued: number;
  readonly nextCursor: string | null;
}

/**
 * Candidates come from the by-status index (dead events, then skipped ones) created from `since` less the retry
 * schedule's span: a delivery dies after its event was created, and within that span unless something held it
 * (a disabled endpoint, an open circuit) or it was requeued; those outside are for the DLQ requeue. An event still
 * PENDING for another endpoint is found once it settles.
 */
export async function recoverEndpoint(deps: RecoverDeps, input: RecoverInput): Promise<RecoverReport> {
  const { tenantId, endpointId } = input;
  const since = Date.parse(input.since);
  const until = input.until === undefined ? Infinity : Date.parse(input.until);
  const created = {
    since: new Date(since - deps.deliverySpanMs).toISOString(),
    until: input.until && new Date(until).toISOString(),
  };
  const found: { eventId: string; createdAt: string }[] = [];
  let at: RecoverCursor | undefined = input.after ?? { status: recoverable[0] };
  while (at && found.length < input.limit) {
    const page = await eventsByStatus(deps.store, tenantId, at.status, {
      ...created,
      limit: input.limit - found.length,
      after: at.after,
    });
    found.push(...page.events);
    const following: RecoverCursor["status"] | undefined = recoverable[recoverable.indexOf(at.status) + 1];
    at = page.next ? { status: at.status, after: page.next } : following && { status: following };
  }

  // Requeued in acceptance order, dead and skipped alike: deliveries with an ordering key join their lane so.
  const eventIds = found
    .sort((a, b) => a.createdAt.localeCompare(b.createdAt) || a.eventId.localeCompare(b.eventId))
    .map((e) => e.eventId);
  const run = oneRun(deps);
  const started = deps.now();
  let requeued = 0;
  for (const eventId of eventIds) {
    const d = await deliveryOf(deps.store, { tenantId, eventId, endpointId });
    const unsent = d && unsentSince(d);
    if (unsent === undefined || unsent < since || unsent > until) continue;
    if (input.dryRun) {
      requeued++;
      continue;
    }
    // Paced like the DLQ requeue: a large recovery is spread over time rather than sent as one burst.
    const due = started + (requeued * 1000) / deps.requeueRate;
    if (due > deps.now()) await new Promise((r) => setTimeout(r, due - deps.now()));
    requeued +=
      (await requeueAndSend(run, { tenantId, eventId }, input.log, [endpointId], ["DEAD", "SKIPPED"]))?.requeued
        .length ?? 0;
  }
  return { examined: eventIds.length, requeued, nextCursor: at ? encodeCursor(at) : null };
}
