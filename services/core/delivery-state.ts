/**
 * The delivery state machine: PENDING -> DELIVERED, or FAILED (waiting to retry) ... -> DEAD; SKIPPED for an endpoint
 * that was disabled when the event came or when the delivery came up; and DEAD/FAILED/SKIPPED -> PENDING on an
 * explicit requeue. An unsettled delivery may be parked (no message; the sweeper sends one when it is due). Pure:
 * storage applies these under a version guard.
 */
import { z } from "zod";
import { retryDelayMs, honourRetryAfter } from "./retry-policy.ts";

export const deliveryStatuses = ["PENDING", "FAILED", "DELIVERED", "DEAD", "SKIPPED"] as const;
export type DeliveryStatus = (typeof deliveryStatuses)[number];

export const eventStatuses = ["PENDING", "DELIVERED", "DEAD", "SKIPPED"] as const;
export type EventStatus = (typeof eventStatuses)[number];

/** A delivery as stored in its event's `deliveries` map (the one definition: its type is inferred from it). */
export const deliverySchema = z.object({
  status: z.enum(deliveryStatuses),
  /** Same for every attempt and every requeue: receivers dedupe on it. */
  webhookId: z.string(),
  /** Attempts started since the last requeue: the budget (counted when the lease is taken, so a crash mid-POST still spends one). */
  attempts: z.number(),
  /** Attempts made before the last requeue, so the attempt log keeps numbering on instead of overwriting. */
  priorAttempts: z.number().optional(),
  /** Epoch ms when the next attempt is due. */
  nextAttemptAt: z.number(),
  leaseId: z.string().optional(),
  /** Epoch ms; while in the future, only the lease holder may POST. */
  leaseUntil: z.number().optional(),
  lastStatusCode: z.number().optional(),
  lastError: z.string().optional(),
  deliveredAt: z.number().optional(),
  deadAt: z.number().optional(),
  /** Epoch ms: recorded for an endpoint that was disabled when the event came or the delivery came up. */
  skippedAt: z.number().optional(),
  /** Parked: no message exists for it; the sweeper sends one at `nextAttemptAt` (a long deferral). */
  parked: z.boolean().optional(),
  /** Ordered (core/ordering.ts): parked behind this event, its lane's head; it may be leased early once it is the head. */
  behind: z.string().optional(),
  /** Ordered: the event it last waited for (kept for the timeline). */
  waitedFor: z.string().optional(),
  /** What the last explicit requeue brought it back from: its success is then a recovery (an operational event). */
  recoveredFrom: z.enum(["DEAD", "SKIPPED"]).optional(),
});
export type Delivery = Readonly<z.infer<typeof deliverySchema>>;

/** The same stored state: every field with a value equal, a field set to undefined counting as absent (as stored). */
export function sameDelivery(a: Delivery, b: Delivery): boolean {
  const defined = (d: Delivery) => Object.entries(d as Record<string, unknown>).filter(([, v]) => v !== undefined);
  const other = new Map(defined(b));
  const mine = defined(a);
  return mine.length === other.size && mine.every(([k, v]) => other.get(k) === v);
}

/** Nothing more happens to a settled delivery unless someone requeues it. */
export function isSettled(status: DeliveryStatus): boolean {
  return status === "DELIVERED" || status === "DEAD" || status === "SKIPPED";
}

export function newDelivery(webhookId: string, now: number): Delivery {
  return { status: "PENDING", webhookId, attempts: 0, nextAttemptAt: now };
}

/**
 * A delivery for an endpoint that is disabled when its event comes: recorded, so it can be recovered once the
 * endpoint is back, but sent nowhere (no message, no attempt spent). Its webhook-id is minted now, like any other.
 */
export function skippedDelivery(webhookId: string, now: number): Delivery {
  return { status: "SKIPPED", webhookId, attempts: 0, nextAttemptAt: now, skippedAt: now };
}

/** A message may arrive a little before its delivery is due (jittered visibility); this much is on time. */
export const earlyToleranceMs = 1000;

export type LeaseDecision =
  | { readonly ok: true; readonly delivery: Delivery }
  | { readonly ok: false; readonly reason: "settled" }
  | { readonly ok: false; readonly reason: "leased" | "not-due"; readonly retryAt: number }
  | { readonly ok: false; readonly reason: "exhausted" };

export interface LeaseInput {
  readonly now: number;
  readonly leaseId: string;
  readonly leaseMs: number;
  readonly maxAttempts: number;
}

/** Invariant 2: at most one POST in flight per delivery, and none once it is settled. */
export function takeLease(d: Delivery, input: LeaseInput): LeaseDecision {
  const { now } = input;
  if (isSettled(d.status)) return { ok: false, reason: "settled" };
  if (d.leaseUntil !== undefined && d.leaseUntil > now) return { ok: false, reason: "leased", retryAt: d.leaseUntil };
  // Parked behind its lane's head, it is due as soon as it is the head (the worker checked its turn before).
  if (d.behind === undefined && d.nextAttemptAt > now + earlyToleranceMs)
    return { ok: false, reason: "not-due", retryAt: d.nextAttemptAt };
  // A worker died during the last allowed attempt: its budget is spent without another POST.
  if (d.attempts >= input.maxAttempts) return { ok: false, reason: "exhausted" };
  return {
    ok: true,
    delivery: {
      ...d,
      attempts: d.attempts + 1,
      leaseId: input.leaseId,
      leaseUntil: now + input.leaseMs,
      parked: undefined,
      behind: undefined,
    },
  };
}

export type AttemptOutcome =
  | { readonly kind: "delivered"; readonly statusCode: number }
  | {
      readonly kind: "failed";
      readonly statusCode?: number | undefined;
      readonly error: string;
      /** From a Retry-After header on 429/503. */
      readonly retryAfterMs?: number | undefined;
      /** No retry: the target said it is gone for good (410), or this message can never go (too large). */
      readonly permanent?: boolean | undefined;
      /**
       * The target is gone or refuses us for good (a 410, a missing AWS target, a role that refuses us): permanent,
       * and the endpoint is disabled.
       */
      readonly gone?: boolean | undefined;
    };

export type OutcomeDecision =
  | { readonly ok: true; readonly delivery: Delivery; readonly next: "delivered" | "dead" }
  | { readonly ok: true; readonly delivery: Delivery; readonly next: "retry"; readonly delayMs: number }
  | { readonly ok: false; readonly reason: "settled" | "lease-lost" };

export interface OutcomeInput {
  readonly now: number;
  readonly leaseId: string;
  readonly schedule: readonly number[];
  readonly random: () => number;
}

/**
 * Invariant 3: status never moves backwards. A success always settles an unsettled delivery (even
 * if its lease ran out, the receiver got it); a failure counts only from the current lease holder.
 */
export function applyOutcome(d: Delivery, outcome: AttemptOutcome, input: OutcomeInput): OutcomeDecision {
  const { now } = input;
  if (isSettled(d.status)) return { ok: false, reason: "settled" };
  const released = { ...d, leaseId: undefined, leaseUntil: undefined, lastStatusCode: outcome.statusCode };
  if (outcome.kind === "delivered") {
    return {
      ok: true,
      next: "delivered",
      delivery: { ...released, status: "DELIVERED", lastError: undefined, deliveredAt: now },
    };
  }
  if (d.leaseId !== input.leaseId) return { ok: false, reason: "lease-lost" };
  const base = outcome.permanent ? undefined : retryDelayMs(input.schedule, d.attempts, input.random);
  if (base === undefined) {
    return { ok: true, next: "dead", delivery: { ...released, status: "DEAD", lastError: outcome.error, deadAt: now } };
  }
  const delayMs = honourRetryAfter(base, outcome.retryAfterMs);
  return {
    ok: true,
    next: "retry",
    delayMs,
    delivery: { ...released, status: "FAILED", lastError: outcome.error, nextAttemptAt: now + delayMs },
  };
}

/** Settles a delivery whose budget was spent by a worker that died mid-attempt. */
export function exhaust(d: Delivery, now: number): Delivery {
  return dead(d, now, d.lastError ?? "attempt budget spent");
}

const dead = (d: Delivery, now: number, lastError: string): Delivery => ({
  ...d,
  status: "DEAD",
  leaseId: undefined,
  leaseUntil: undefined,
  parked: undefined,
  behind: undefined,
  lastError,
  deadAt: now,
});

/** All attempts ever started: the number of the latest in the attempt log. */
export function totalAttempts(d: Delivery): number {
  return (d.priorAttempts ?? 0) + d.attempts;
}

/** An explicit requeue (retry, recover, DLQ requeue): a fresh attempt budget, the same webhook-id. */
export function requeue(d: Delivery, now: number): Delivery | undefined {
  if (d.status !== "FAILED" && d.status !== "DEAD" && d.status !== "SKIPPED") return undefined;
  const fresh = { status: "PENDING", attempts: 0, priorAttempts: totalAttempts(d), nextAttemptAt: now } as const;
  const recoveredFrom = d.status === "FAILED" ? d.recoveredFrom : d.status;
  return {
    ...d,
    ...fresh,
    leaseId: undefined,
    leaseUntil: undefined,
    deadAt: undefined,
    skippedAt: undefined,
    parked: undefined,
    recoveredFrom,
  };
}

/**
 * An event is PENDING until every delivery is settled; then DEAD if any died, else SKIPPED if any was skipped (so
 * recover finds it by status), else DELIVERED.
 */
export function summarize(deliveries: Readonly<Record<string, Delivery>>): EventStatus {
  const all = Object.values(deliveries);
  if (all.some((d) => !isSettled(d.status))) return "PENDING";
  if (all.some((d) => d.status === "DEAD")) return "DEAD";
  return all.some((d) => d.status === "SKIPPED") ? "SKIPPED" : "DELIVERED";
}

/** When a settled delivery ended up needing a recover: when it died or was skipped (undefined otherwise). */
export function unsentSince(d: Delivery): number | undefined {
  if (d.status === "DEAD") return d.deadAt;
  return d.status === "SKIPPED" ? d.skippedAt : undefined;
}

/**
 * When the sweeper should send a message for an unsettled delivery (feeds its index): a parked one when it is due,
 * for it has no message; any other once it is overdue by the sweeper's grace, for its message should exist.
 * Indexed as this less the grace, so the index keeps saying when a delivery is due.
 */
function sweepDueAt(d: Delivery, graceMs: number): number {
  return d.parked ? d.nextAttemptAt - graceMs : Math.max(d.nextAttemptAt, d.leaseUntil ?? 0);
}

/** The sweeper's index value: when the earliest unsettled delivery is due; undefined once all settled. */
export function nextDue(deliveries: Readonly<Record<string, Delivery>>, graceMs: number): number | undefined {
  const due = Object.values(deliveries)
    .filter((d) => !isSettled(d.status))
    .map((d) => sweepDueAt(d, graceMs));
  return due.length > 0 ? Math.min(...due) : undefined;
}

/** Unsettled, not leased, and past when the sweeper should send it a message (lost on the way, or parked and due). */
export function isOverdue(d: Delivery, now: number, graceMs: number): boolean {
  return !isSettled(d.status) && (d.leaseUntil ?? 0) < now && sweepDueAt(d, graceMs) <= now - graceMs;
}

/** Settles a delivery that can never be sent (its tenant or endpoint is gone). */
export function abandon(d: Delivery, now: number, reason: string): Delivery | undefined {
  return isSettled(d.status) ? undefined : dead(d, now, reason);
}

/**
 * Settles a delivery whose endpoint or tenant is disabled when it comes up, as one for a new event is: recorded
 * SKIPPED so a recover sends it, instead of coming back again and again while nobody can receive it. Not while
 * another worker holds its lease (that one decides).
 */
export function skip(d: Delivery, now: number): Delivery | undefined {
  if (isSettled(d.status) || (d.leaseUntil ?? 0) > now) return undefined;
  const unleased = { leaseId: undefined, leaseUntil: undefined, parked: undefined, behind: undefined };
  return { ...d, ...unleased, status: "SKIPPED", skippedAt: now };
}

export type ParkDecision =
  | { readonly ok: true; readonly delivery: Delivery }
  /** Settled, or leased by another worker (which decides), or already deferred by another copy of its message. */
  | { readonly ok: false; readonly reason: "settled" | "leased" | "surplus" };

/**
 * A deferral long enough to let its message go: the due time is written and the sweeper sends a new message then,
 * so a delivery that must wait long costs one write now and one receive then, not a receive every few minutes.
 * `behind`: it waits for its lane's head (core/ordering.ts), which wakes it sooner when it lets it go.
 */
export function park(d: Delivery, now: number, until: number, behind?: string): ParkDecision {
  if (isSettled(d.status)) return { ok: false, reason: "settled" };
  if ((d.leaseUntil ?? 0) > now) return { ok: false, reason: "leased" };
  if (d.nextAttemptAt > now + earlyToleranceMs) return { ok: false, reason: "surplus" };
  const waiting = behind === undefined ? {} : { behind, waitedFor: behind };
  return { ok: true, delivery: { ...d, nextAttemptAt: until, parked: true, ...waiting } };
}
