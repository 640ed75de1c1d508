/** The tenant's own DLQ view in action: requeue one endpoint's dead deliveries of events since a time. */
import type { Logger } from "pino";
import { eventIdsByStatusSince } from "../aws/events/read-events.ts";
import { oneRun, requeueAndSend, type RequeueDeps } from "./requeue.ts";

export type RecoverDeps = RequeueDeps;

/** Events looked at in one call; a larger backlog takes several calls with a later `since`. */
export const maxRecoverEvents = 10_000;

export async function recoverEndpoint(
  deps: RecoverDeps,
  input: { tenantId: string; endpointId: string; since: string; log: Logger },
): Promise<number> {
  const since = new Date(input.since).toISOString();
  const eventIds = await eventIdsByStatusSince(deps.store, input.tenantId, "DEAD", since, maxRecoverEvents);
  let requeued = 0;
  const run = oneRun(deps);
  for (const eventId of eventIds) {
    const ids = await requeueAndSend(run, { tenantId: input.tenantId, eventId }, input.log, [input.endpointId], ["DEAD"]);
    requeued += ids?.length ?? 0;
  }
  return requeued;
}
