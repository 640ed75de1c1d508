/**
 * Taking and passing a turn in a lane (core/ordering.ts, lanes.ts): before its lease an ordered delivery checks it is
 * its lane's head, letting go any head whose delivery releases the lane; after it settles, it leaves the lane and
 * names the new head to wake. Only conditional writes move a lane, so any number of workers, duplicate messages and
 * the sweeper's copies can run these at once: the head leaves once, and only the head is ever leased.
 */
import { deliverySchema, isSettled, type Delivery } from "../../core/delivery-state.ts";
import { lookAgainAt, releasesLane, type OrderingMode } from "../../core/ordering.ts";
import { UpdateCommand } from "@aws-sdk/lib-dynamodb";
import type { DeliveryMessage } from "../delivery-queue.ts";
import { isConditionFailure } from "../errors.ts";
import type { DeliveryKey } from "./delivery-ops.ts";
import { joinLane, leaveLane, readLane, type Lane, type LaneKey } from "./lanes.ts";
import { deliveryOf } from "./read-events.ts";
import type { EventStore } from "./store.ts";

export interface Ordered {
  readonly orderingKey: string;
  readonly mode: OrderingMode;
}

export interface TurnTiming {
  /** A waiter looks again at the soonest this long after (should its wake be lost). */
  readonly minWaitMs: number;
  /** A waiter behind a head that blocks (dead or skipped) looks again after this long. */
  readonly blockedWaitMs: number;
}

export type Turn =
  | { readonly ok: true }
  /** Wait behind `behind` (the head; empty when the lane is full) until it wakes it, or `until` at the latest. */
  | { readonly ok: false; readonly behind: string; readonly until: number };

/** Releasing heads let go in one call at most: a lane of many released heads goes on at the next look. */
const maxSteps = 20;

const laneKey = (key: DeliveryKey, o: Ordered): LaneKey => ({ ...key, orderingKey: o.orderingKey });
const headOf = (store: EventStore, key: DeliveryKey, eventId: string) =>
  deliveryOf(store, { tenantId: key.tenantId, eventId, endpointId: key.endpointId }, true);

/**
 * Whether the delivery is its lane's head (joining the lane if it is unsettled and not in it: a lost acceptance
 * write); a settled one is let through to its lease, which answers so.
 */
export async function takeTurn(
  store: EventStore,
  key: DeliveryKey,
  o: Ordered,
  now: number,
  timing: TurnTiming,
): Promise<Turn> {
  const lk = laneKey(key, o);
  for (let step = 0; step < maxSteps; step++) {
    const lane = await readLane(store, lk);
    if (!lane?.waiting.includes(key.eventId)) {
      // A late copy of a settled delivery's message must not put it back in line (the lease then says settled).
      const mine = await headOf(store, key, key.eventId);
      if (!mine || isSettled(mine.status)) return { ok: true };
      const joined = await joinLane(store, lk, key.eventId, now);
      if (!joined.ok) return { ok: false, behind: "", until: now + timing.minWaitMs };
      if (joined.position === 0) return { ok: true };
      continue;
    }
    const head = lane.waiting[0]!;
    if (head === key.eventId) return { ok: true };
    const d = await headOf(store, key, head);
    if (!releasesLane(d, o.mode)) {
      return { ok: false, behind: head, until: lookAgainAt(d!, now, timing.minWaitMs, timing.blockedWaitMs) };
    }
    await leaveLane(store, lk, head, now);
  }
  return { ok: false, behind: "", until: now + timing.minWaitMs };
}

/** The event to wake as its lane's new head, and the event it waited for (its lease records it). */
export interface Wake {
  readonly eventId: string;
  readonly after: string;
}

/** The message that wakes a lane's new head. */
export const wakeMessage = (
  at: { readonly tenantId: string; readonly endpointId: string },
  orderingKey: string,
  w: Wake,
): DeliveryMessage => ({
  tenantId: at.tenantId,
  eventId: w.eventId,
  endpointId: at.endpointId,
  orderingKey,
  head: true,
  after: w.after,
});

/**
 * After the delivery settled as `settled` (undefined: its event or delivery is gone): when that lets the lane go, it
 * leaves it, and so does every head after it that also lets it go; answers the head to wake, if any.
 */
export async function passTurn(
  store: EventStore,
  key: DeliveryKey,
  o: Ordered,
  settled: Delivery | undefined,
  now: number,
): Promise<Wake | undefined> {
  if (!releasesLane(settled, o.mode)) return undefined;
  const lk = laneKey(key, o);
  const left = await leaveLane(store, lk, key.eventId, now);
  // It left: the new head is woken unread. Its message says it was the head, which its lease trusts only while it
  // was never requeued (takeLease); one that lets the lane go passes the turn on when its message finds it so.
  if (left) return left.waiting[0] === undefined ? undefined : { eventId: left.waiting[0], after: key.eventId };
  // Not the head (any more): when it has left, the head may still wait for the wake of a worker that died after
  // letting it go; waking it again costs a duplicate message at most.
  const after = await readLane(store, lk);
  return after?.waiting.includes(key.eventId) ? undefined : nextHead(store, key, o, after, now);
}

async function nextHead(
  store: EventStore,
  key: DeliveryKey,
  o: Ordered,
  after: Lane | undefined,
  now: number,
): Promise<Wake | undefined> {
  let lane = after;
  let left = key.eventId;
  for (let step = 0; lane && step < maxSteps; step++) {
    const head = lane.waiting[0];
    if (head === undefined) return undefined;
    const d = await markWaited(store, { ...key, eventId: head }, left);
    if (!releasesLane(d, o.mode))
      return d!.status !== "PENDING" || (d!.leaseUntil ?? 0) > now ? undefined : { eventId: head, after: left };
    lane = await leaveLane(store, laneKey(key, o), head, now);
    left = head;
  }
  return undefined;
}

/**
 * Records on a lane's new head the event it waited for (shown in its timeline; the first one recorded stays) and
 * answers its delivery as it is after that: the read its caller needs, in the same call (undefined: no such delivery).
 */
async function markWaited(store: EventStore, key: DeliveryKey, predecessor: string): Promise<Delivery | undefined> {
  try {
    const { Attributes } = await store.ddb.send(
      new UpdateCommand({
        TableName: store.table,
        Key: { tenantId: key.tenantId, sk: key.eventId },
        // The version moves on, so a read-modify-write that read before this one decides again.
        UpdateExpression: "SET #d.#e.waitedFor = if_not_exists(#d.#e.waitedFor, :p), #v = #v + :one",
        ConditionExpression: "attribute_exists(#d.#e)",
        ExpressionAttributeNames: { "#d": "deliveries", "#e": key.endpointId, "#v": "version" },
        ExpressionAttributeValues: { ":p": predecessor, ":one": 1 },
        ReturnValues: "ALL_NEW",
      }),
    );
    const d: unknown = (Attributes?.deliveries as Record<string, unknown> | undefined)?.[key.endpointId];
    return d === undefined ? undefined : deliverySchema.parse(d);
  } catch (err) {
    if (isConditionFailure(err)) return undefined;
    throw err;
  }
}

/**
 * Lets a lane's head go by hand when it blocks (dead or skipped, or its event is gone): answers the event skipped
 * and the one to wake, if any.
 */
export async function skipHead(
  store: EventStore,
  key: Omit<DeliveryKey, "eventId">,
  o: Ordered,
  now: number,
): Promise<{ skipped: string; wake?: Wake | undefined } | "not-blocked" | "empty"> {
  const lk = { ...key, orderingKey: o.orderingKey };
  const head = (await readLane(store, lk))?.waiting[0];
  if (head === undefined) return "empty";
  const at = { ...key, eventId: head };
  const d = await headOf(store, at, head);
  if (d && d.status !== "DEAD" && d.status !== "SKIPPED") return "not-blocked";
  const after = await leaveLane(store, lk, head, now);
  return { skipped: head, wake: await nextHead(store, at, o, after, now) };
}
