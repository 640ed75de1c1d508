/**
 * An ordered delivery in the worker (core/ordering.ts): before its lease it takes its turn in its lane, or is parked
 * behind the lane's head (which wakes it); once settled, it passes the turn on.
 */
import type { Logger } from "pino";
import type { Delivery } from "../core/delivery-state.ts";
import type { Endpoint } from "../core/tenant.ts";
import type { DeliveryKey } from "../aws/events/delivery-ops.ts";
import type { Ordered } from "../aws/events/ordering.ts";
import type { DeliverDeps } from "./deliver-deps.ts";
import type { Disposition } from "./scheduler.ts";

export const ordered = (endpoint: Endpoint, orderingKey: string): Ordered => ({
  orderingKey,
  mode: endpoint.ordering ?? "release_on_dead",
});

/** Undefined when it is the delivery's turn; else it was parked behind its lane's head and its message may go. */
export async function waitTurn(
  deps: DeliverDeps,
  key: DeliveryKey,
  endpoint: Endpoint,
  orderingKey: string,
  log: Logger,
): Promise<Disposition | undefined> {
  const turn = await deps.ops.takeTurn(key, ordered(endpoint, orderingKey), deps.now());
  if (turn.ok) return undefined;
  deps.metrics.deliveriesDeferred.inc({ reason: "ordering" });
  log.debug({ behind: turn.behind }, "waiting for an earlier event of its ordering key");
  await deps.ops.park(key, deps.now(), turn.until, turn.behind || undefined);
  return { kind: "ack" };
}

/** After the delivery settled (`settled`, as stored; undefined: it is gone): its lane goes on, when it has one. */
export async function passTurn(
  deps: DeliverDeps,
  key: DeliveryKey,
  endpoint: Endpoint,
  orderingKey: string | undefined,
  settled: Delivery | undefined,
): Promise<void> {
  if (orderingKey === undefined) return;
  await deps.ops.passTurn(key, ordered(endpoint, orderingKey), settled, deps.now());
}
