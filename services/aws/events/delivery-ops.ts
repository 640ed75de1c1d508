/** The business actions on a delivery, each one guarded read-modify-write (see change-deliveries.ts). */
import { UpdateCommand } from "@aws-sdk/lib-dynamodb";
import {
  earlyToleranceMs,
  isSettled,
  abandon,
  park,
  skip,
  applyOutcome,
  exhaust,
  requeue,
  sameDelivery,
  takeLease as decideLease,
  type AttemptOutcome,
  type Delivery,
  type DeliveryStatus,
  type LeaseDecision,
  type LeaseInput,
  type OutcomeDecision,
  type OutcomeInput,
  type ParkDecision,
} from "../../core/delivery-state.ts";
import { batchWrite } from "../batch-write.ts";
import { createBatcher } from "../batcher.ts";
import { isConditionFailure } from "../errors.ts";
import { changeDeliveries, overdue, type DeliveriesState } from "./change-deliveries.ts";
import { getEventForDelivery } from "./read-events.ts";
import {
  attemptSk,
  boundedAttempt,
  eventItemSchema,
  tenantKeepMs,
  type AttemptItem,
  type EventItem,
  type EventKey,
  type EventStore,
} from "./store.ts";

export interface DeliveryKey extends EventKey {
  readonly endpointId: string;
}

type Missing = { readonly ok: false; readonly reason: "missing" };
const missing: Missing = { ok: false, reason: "missing" };

export type Lease =
  | { readonly ok: true; readonly delivery: Delivery; readonly event: EventItem }
  | Exclude<LeaseDecision, { ok: true } | { reason: "exhausted" | "settled" }>
  /**
   * Settled already: as stored, with its event's ordering key, when this call read it (a worker that settled it may
   * have died before passing its lane's turn on: the caller passes it).
   */
  | {
      readonly ok: false;
      readonly reason: "settled";
      readonly delivery?: Delivery | undefined;
      readonly orderingKey?: string | undefined;
    }
  /** This call settled it DEAD (its budget was spent by a worker that died): as stored now. */
  | { readonly ok: false; readonly reason: "exhausted"; readonly delivery: Delivery }
  /**
   * The event has an ordering key and the caller neither took its turn in the lane first nor may trust its message's
   * word that it is the head (see LeaseTurn).
   */
  | { readonly ok: false; readonly reason: "ordered"; readonly orderingKey: string | undefined }
  | Missing;

/**
 * An ordered delivery's turn, as its lease knows it: `taken`, read from the lane just before; `head`, its message
 * says it was the lane's head when sent. A head stays the head until its delivery lets the lane go, which only a
 * settled (or missing) delivery does, and settled is for good unless requeued (a requeued one may have left and
 * rejoined at the end). So the word of a message is enough while the delivery is unsettled and was never requeued
 * (it has no `priorAttempts`); otherwise the lease is refused as `ordered` and the turn is taken from the lane.
 */
export type LeaseTurn = "taken" | "head";

/**
 * Invariant 2: the conditional write that makes this worker the only one allowed to POST now, and the read of
 * the event it POSTs, in one UpdateItem that returns the item as it is after the lease. The condition is
 * core's takeLease rule written as an expression; only when it fails is the item read, to learn why.
 * The sweeper's due time is left as it was: the lease can only move this delivery's due time later, so the
 * stored one stays at or before the true one (the sweeper may look early, never late). `after`: the event an
 * ordered delivery waited for last, kept for its timeline.
 */
export async function takeLease(
  store: EventStore,
  key: DeliveryKey,
  input: LeaseInput & { readonly turn?: LeaseTurn | undefined; readonly after?: string | undefined },
): Promise<Lease> {
  const waited = input.after === undefined ? "" : ", #d.#e.waitedFor = :after";
  // Written per turn, without a clause that cannot fail: dynalite parses each parenthesis at a cost (a nested OR
  // tripled its CPU per lease). Only an ordered event's messages say `head`.
  const turn = {
    none: " AND attribute_not_exists(orderingKey)",
    taken: "",
    head: " AND attribute_not_exists(#d.#e.priorAttempts)",
  }[input.turn ?? "none"];
  try {
    const { Attributes } = await store.ddb.send(
      new UpdateCommand({
        TableName: store.table,
        Key: { tenantId: key.tenantId, sk: key.eventId },
        UpdateExpression: `SET #d.#e.attempts = #d.#e.attempts + :one, #d.#e.leaseId = :lid, #d.#e.leaseUntil = :until, #v = #v + :one${waited} REMOVE #d.#e.parked, #d.#e.behind`,
        ConditionExpression: `#d.#e.#s IN (:pending, :failed) AND (attribute_not_exists(#d.#e.leaseUntil) OR #d.#e.leaseUntil <= :now) AND (#d.#e.nextAttemptAt <= :due OR attribute_exists(#d.#e.behind)) AND #d.#e.attempts < :max${turn}`,
        ExpressionAttributeNames: { "#d": "deliveries", "#e": key.endpointId, "#s": "status", "#v": "version" },
        ExpressionAttributeValues: {
          ":one": 1,
          ":lid": input.leaseId,
          ":until": input.now + input.leaseMs,
          ":now": input.now,
          ":due": input.now + earlyToleranceMs,
          ":max": input.maxAttempts,
          ":pending": "PENDING",
          ":failed": "FAILED",
          ...(input.after === undefined ? {} : { ":after": input.after }),
        },
        ReturnValues: "ALL_NEW",
      }),
    );
    const event = eventItemSchema.parse(Attributes);
    return { ok: true, event, delivery: event.deliveries[key.endpointId]! };
  } catch (err) {
    if (!isConditionFailure(err)) throw err;
  }
  const event = await getEventForDelivery(store, key);
  const d = event?.deliveries[key.endpointId];
  if (!event || !d) return missing;
  // Ours: a try whose answer was lost took it, and the SDK's next try was refused by that very lease.
  if (d.leaseId === input.leaseId && !isSettled(d.status)) return { ok: true, event, delivery: d };
  const trusted = input.turn === "taken" || (input.turn === "head" && d.priorAttempts === undefined);
  if ((event.orderingKey !== undefined || input.turn === "head") && !trusted && !isSettled(d.status))
    return { ok: false, reason: "ordered", orderingKey: event.orderingKey };
  const decision = decideLease(d, input);
  if (!decision.ok && decision.reason === "settled")
    return { ok: false, reason: "settled", delivery: d, orderingKey: event.orderingKey };
  // Free now (a lease ran out between the write and the read): the next receipt takes it.
  if (decision.ok) return { ok: false, reason: "leased", retryAt: input.now };
  if (decision.reason !== "exhausted") return decision;
  // A worker died during the last allowed attempt: settle it now rather than POST beyond the budget. Only the copy
  // whose write settles it says so (it dead-letters and announces it); any other finds it settled.
  const out = await changeDeliveries(
    store,
    key,
    input.now,
    (state) => {
      const current = state.deliveries[key.endpointId];
      const dead = current && !isSettled(current.status) ? exhaust(current, input.now) : undefined;
      return { changes: dead && { [key.endpointId]: dead }, result: dead };
    },
    event,
  );
  return out.found && out.result
    ? { ok: false, reason: "exhausted", delivery: out.result }
    : { ok: false, reason: "settled" };
}

/** Invariant 3: the outcome moves the delivery forward only (a late failure cannot undo a success). */
export async function recordOutcome(
  store: EventStore,
  key: DeliveryKey,
  outcome: AttemptOutcome,
  input: OutcomeInput,
  known?: DeliveriesState,
): Promise<OutcomeDecision | Missing> {
  // What this call wrote, if a try of it did: a try whose answer was lost still changed the item, and the next one,
  // refused by the version it moved, must find the delivery exactly as written and take the decision as its own
  // (else a delivered one reads as settled by someone else, its turn never passed, a dead one never dead-lettered).
  let written: Extract<OutcomeDecision, { ok: true }> | undefined;
  const out = await changeDeliveries<OutcomeDecision | Missing>(
    store,
    key,
    input.now,
    (state) => {
      const d = state.deliveries[key.endpointId];
      if (!d) return { result: missing };
      if (written && sameDelivery(d, written.delivery)) return { result: written };
      const decision = applyOutcome(d, outcome, input);
      if (!decision.ok) return { result: decision };
      written = decision;
      return { changes: { [key.endpointId]: decision.delivery }, result: decision };
    },
    known,
  );
  return out.found ? out.result : missing;
}

export interface Requeued {
  /** The endpoints whose deliveries were put back to PENDING. */
  readonly requeued: string[];
  /** The endpoints whose deliveries were not settled: each already has its message on the queue (or the sweeper's). */
  readonly queued: string[];
  /** The event's ordering key, if it has one. */
  readonly orderingKey?: string | undefined;
}

/**
 * Puts FAILED or DEAD deliveries (or only those in `from`) back to PENDING with a fresh budget; answers the
 * endpoints requeued and those already waiting, or undefined when the event does not exist.
 */
export async function requeueDeliveries(
  store: EventStore,
  key: EventKey,
  now: number,
  endpointIds?: readonly string[],
  from?: readonly DeliveryStatus[],
): Promise<Requeued | undefined> {
  const out = await changeDeliveries<Requeued>(store, key, now, (state) => {
    // An erased payload is never sent again: its deliveries stay as they are.
    if (state.erasedAt !== undefined) return { result: { requeued: [], queued: [] } };
    const named = Object.entries(state.deliveries).filter(([id]) => !endpointIds || endpointIds.includes(id));
    const changes = Object.fromEntries(
      named
        .filter(([, d]) => !from || from.includes(d.status))
        .flatMap(([id, d]) => {
          const next = requeue(d, now);
          return next ? [[id, next] as const] : [];
        }),
    );
    const queued = named.filter(([id, d]) => !(id in changes) && !isSettled(d.status)).map(([id]) => id);
    return { changes, result: { requeued: Object.keys(changes), queued, orderingKey: state.orderingKey } };
  });
  return out.found ? out.result : undefined;
}

/**
 * The sweeper's claim on overdue deliveries (lost, or parked and due): their due time moves to now and they are no
 * longer parked, so the next sweep leaves them alone for a grace period while the re-sent message is worked.
 * Answers the endpoints to re-send.
 */
export async function claimOverdue(store: EventStore, key: EventKey, now: number): Promise<string[]> {
  const out = await changeDeliveries(store, key, now, (state) => {
    const ids = overdue(state, now, store.sweepGraceMs);
    const changes = Object.fromEntries(
      ids.map((id) => [id, { ...state.deliveries[id]!, nextAttemptAt: now, parked: undefined }]),
    );
    return { changes, result: ids };
  });
  return out.found ? out.result : [];
}

/**
 * The attempt log's writer: attempt records of concurrent deliveries go out in BatchWriteItem calls of up to 25
 * (a record is only ever written once, so it needs no condition). What a receiver answered is stored within its byte
 * budget (boundedAttempt). Resolves once the record is stored.
 */
export function attemptLog(store: EventStore, waitMs = 5): (tenantId: string, attempt: AttemptItem) => Promise<void> {
  const write = createBatcher<{ tenantId: string; attempt: AttemptItem }>(
    async (items) => {
      // Each record is kept for its tenant's retention: one lookup per tenant in the batch.
      const tenants = [...new Set(items.map((i) => i.tenantId))];
      const keep = new Map(await Promise.all(tenants.map(async (id) => [id, await tenantKeepMs(store, id)] as const)));
      const requests = items.map(({ tenantId, attempt }) => ({
        PutRequest: {
          Item: {
            tenantId,
            sk: attemptSk(attempt.eventId, attempt.endpointId, attempt.attempt),
            ...boundedAttempt(attempt),
            ttl: Math.floor((attempt.at + keep.get(tenantId)!) / 1000),
          },
        },
      }));
      await batchWrite(store.ddb, store.table, requests);
      return items.map(() => true);
    },
    25,
    waitMs,
  );
  return async (tenantId, attempt) => {
    await write({ tenantId, attempt });
  };
}

/** Settles a delivery as DEAD without an attempt: its tenant or endpoint no longer exists. False when there is no such delivery. */
export async function abandonDelivery(
  store: EventStore,
  key: DeliveryKey,
  now: number,
  reason: string,
): Promise<boolean> {
  const out = await changeDeliveries(store, key, now, (state) => {
    const d = state.deliveries[key.endpointId];
    const next = d && abandon(d, now, reason);
    return { changes: next ? { [key.endpointId]: next } : undefined, result: d !== undefined };
  });
  return out.found && out.result;
}

export type ParkAnswer = "parked" | Extract<ParkDecision, { ok: false }>["reason"] | "missing";

/**
 * Parks a delivery until `until` (see core's park): afterwards no message exists for it and the sweeper sends one
 * when it is due. Answers `parked`, or why not: in every case the message that asked may go.
 */
export async function parkDelivery(
  store: EventStore,
  key: DeliveryKey,
  now: number,
  until: number,
  behind?: string,
): Promise<ParkAnswer> {
  const out = await changeDeliveries(store, key, now, (state) => {
    const d = state.deliveries[key.endpointId];
    if (!d) return { result: "missing" as const };
    const decision = park(d, now, until, behind);
    return decision.ok
      ? { changes: { [key.endpointId]: decision.delivery }, result: "parked" as const }
      : { result: decision.reason };
  });
  return out.found ? out.result : "missing";
}

/**
 * Skips a delivery whose endpoint or tenant is disabled (see core's skip): answers it as stored and its event's
 * ordering key, or undefined when nothing was changed.
 */
export async function skipDelivery(
  store: EventStore,
  key: DeliveryKey,
  now: number,
): Promise<{ delivery: Delivery; orderingKey?: string | undefined } | undefined> {
  const out = await changeDeliveries(store, key, now, (state) => {
    const d = state.deliveries[key.endpointId];
    const next = d && skip(d, now);
    return {
      changes: next ? { [key.endpointId]: next } : undefined,
      result: next && { delivery: next, orderingKey: state.orderingKey },
    };
  });
  return out.found ? out.result : undefined;
}
