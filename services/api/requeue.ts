/**
 * An explicit requeue, whoever asks (event retry, endpoint recover, DLQ requeue): the deliveries go back to
 * PENDING with a fresh budget first, then their messages are sent. A failed send is left to the sweeper.
 */
import type { Logger } from "pino";
import type { DeliveryStatus } from "../core/delivery-state.ts";
import { enqueueDeliveries, type DeliveryQueue } from "../aws/delivery-queue.ts";
import { requeueDeliveries, type Requeued } from "../aws/events/delivery-ops.ts";
import { joinLane } from "../aws/events/lanes.ts";
import type { EventKey, EventStore } from "../aws/events/store.ts";
import { traceFields } from "../tracing/spans.ts";

export interface RequeueDeps {
  readonly store: EventStore;
  readonly queue: DeliveryQueue;
  readonly now: () => number;
  /**
   * The tenant's version as stored now (a consistent read). The messages carry it, so a worker whose cached
   * tenant is older reads it afresh: a requeue after an endpoint change uses the changed endpoint.
   */
  readonly tenantVersion: (tenantId: string) => Promise<number | undefined>;
}

/** The same deps, reading each tenant's version once: for one requeue of many deliveries. */
export function oneRun<D extends RequeueDeps>(deps: D): D {
  const seen = new Map<string, Promise<number | undefined>>();
  return {
    ...deps,
    tenantVersion: (tenantId) => {
      if (!seen.has(tenantId)) seen.set(tenantId, deps.tenantVersion(tenantId));
      return seen.get(tenantId)!;
    },
  };
}

/**
 * The endpoints requeued (FAILED or DEAD, or only those `from`) and those already waiting, or undefined when the
 * event does not exist.
 */
export async function requeueAndSend(
  deps: RequeueDeps,
  key: EventKey,
  log: Logger,
  endpointIds?: readonly string[],
  from?: readonly DeliveryStatus[],
): Promise<Requeued | undefined> {
  const out = await requeueDeliveries(deps.store, key, deps.now(), endpointIds, from);
  if (!out?.requeued.length) return out;
  const { orderingKey } = out;
  // Ordered: back in its key's lane (where it still is, or at its end, so a run of requeues keeps its order); only a
  // head gets its message now, the others when the one before them lets them go.
  const heads: string[] = [];
  for (const endpointId of out.requeued) {
    const joined =
      orderingKey === undefined
        ? undefined
        : await joinLane(deps.store, { tenantId: key.tenantId, endpointId, orderingKey }, key.eventId, deps.now());
    if (!joined || (joined.ok && joined.position === 0)) heads.push(endpointId);
  }
  const tenantVersion = await deps.tenantVersion(key.tenantId);
  // The messages carry the active span's context (a DLQ requeue's): the deliveries that follow join it.
  const trace = traceFields();
  const failed = await enqueueDeliveries(
    deps.queue,
    heads.map((endpointId) => ({ ...key, endpointId, tenantVersion, orderingKey })),
    "queue",
    () => trace,
  );
  if (failed.length > 0)
    log.warn({ event_id: key.eventId, failed: failed.length }, "enqueue failed; the sweeper will deliver these");
  return out;
}
