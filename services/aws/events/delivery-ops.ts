/** The business actions on a delivery, each one guarded read-modify-write (see change-deliveries.ts). */
import { PutCommand } from "@aws-sdk/lib-dynamodb";
import {
  isSettled,
  abandon,
  applyOutcome,
  exhaust,
  requeue,
  takeLease as decideLease,
  type AttemptOutcome,
  type DeliveryStatus,
  type LeaseDecision,
  type LeaseInput,
  type OutcomeDecision,
  type OutcomeInput,
} from "../../core/delivery-state.ts";
import { changeDeliveries, overdue, type DeliveriesState } from "./change-deliveries.ts";
import { attemptSk, type AttemptItem, type EventKey, type EventStore } from "./store.ts";

export interface DeliveryKey extends EventKey {
  readonly endpointId: string;
}

type Missing = { readonly ok: false; readonly reason: "missing" };
const missing: Missing = { ok: false, reason: "missing" };

/** Invariant 2: the conditional write that makes this worker the only one allowed to POST now. */
export async function takeLease(store: EventStore, key: DeliveryKey, input: LeaseInput, known?: DeliveriesState): Promise<LeaseDecision | Missing> {
  const out = await changeDeliveries<LeaseDecision | Missing>(store, key, input.now, (state) => {
    const d = state.deliveries[key.endpointId];
    if (!d) return { result: missing };
    const decision = decideLease(d, input);
    if (decision.ok) return { changes: { [key.endpointId]: decision.delivery }, result: decision };
    // A worker died during the last allowed attempt: settle it now rather than POST beyond the budget.
    if (decision.reason === "exhausted") return { changes: { [key.endpointId]: exhaust(d, input.now) }, result: decision };
    return { result: decision };
  }, known);
  return out.found ? out.result : missing;
}

/** Invariant 3: the outcome moves the delivery forward only (a late failure cannot undo a success). */
export async function recordOutcome(
  store: EventStore,
  key: DeliveryKey,
  outcome: AttemptOutcome,
  input: OutcomeInput,
  known?: DeliveriesState,
): Promise<OutcomeDecision | Missing> {
  const out = await changeDeliveries<OutcomeDecision | Missing>(store, key, input.now, (state) => {
    const d = state.deliveries[key.endpointId];
    if (!d) return { result: missing };
    const decision = applyOutcome(d, outcome, input);
    return decision.ok ? { changes: { [key.endpointId]: decision.delivery }, result: decision } : { result: decision };
  }, known);
  return out.found ? out.result : missing;
}

/**
 * Puts FAILED or DEAD deliveries (or only those in `from`) back to PENDING with a fresh budget;
 * answers the endpoints requeued, or undefined when the event does not exist.
 */
export async function requeueDeliveries(
  store: EventStore,
  key: EventKey,
  now: number,
  endpointIds?: readonly string[],
  from?: readonly DeliveryStatus[],
): Promise<string[] | undefined> {
  const out = await changeDeliveries(store, key, now, (state) => {
    const changes = Object.fromEntries(
      Object.entries(state.deliveries)
        .filter(([id, d]) => (!endpointIds || endpointIds.includes(id)) && (!from || from.includes(d.status)))
        .flatMap(([id, d]) => {
          const next = requeue(d, now);
          return next ? [[id, next] as const] : [];
        }),
    );
    return { changes, result: Object.keys(changes) };
  });
  return out.found ? out.result : undefined;
}

/**
 * The sweeper's claim on overdue deliveries: their due time moves to now, so the next sweep leaves
 * them alone for a grace period while the re-sent message is worked. Answers the endpoints to re-send.
 */
export async function claimOverdue(store: EventStore, key: EventKey, now: number, graceMs: number): Promise<string[]> {
  const out = await changeDeliveries(store, key, now, (state) => {
    const ids = overdue(state, now - graceMs, now);
    const changes = Object.fromEntries(ids.map((id) => [id, { ...state.deliveries[id]!, nextAttemptAt: now }]));
    return { changes, result: ids };
  });
  return out.found ? out.result : [];
}

export async function recordAttempt(store: EventStore, tenantId: string, attempt: AttemptItem): Promise<void> {
  await store.ddb.send(
    new PutCommand({
      TableName: store.table,
      Item: {
        tenantId,
        sk: attemptSk(attempt.eventId, attempt.endpointId, attempt.attempt),
        ...attempt,
        ttl: Math.floor((attempt.at + store.retention.deliveredMs) / 1000),
      },
    }),
  );
}

/** Settles a delivery as DEAD without an attempt: its tenant or endpoint no longer exists. */
export async function abandonDelivery(store: EventStore, key: DeliveryKey, now: number, reason: string): Promise<void> {
  await changeDeliveries(store, key, now, (state) => {
    const d = state.deliveries[key.endpointId];
    const next = d && abandon(d, now, reason);
    return { changes: next ? { [key.endpointId]: next } : undefined, result: undefined };
  });
}

/**
 * Moves an unsettled, unleased delivery's due time to `until` (a held delivery of a disabled endpoint):
 * the sweeper then leaves it alone instead of adding a copy of its message every grace period.
 */
export async function postponeDelivery(store: EventStore, key: DeliveryKey, now: number, until: number, known?: DeliveriesState): Promise<void> {
  await changeDeliveries(
    store,
    key,
    now,
    (state) => {
      const d = state.deliveries[key.endpointId];
      const free = d && !isSettled(d.status) && (d.leaseUntil ?? 0) <= now;
      return { changes: free ? { [key.endpointId]: { ...d, nextAttemptAt: until } } : undefined, result: undefined };
    },
    known,
  );
}
