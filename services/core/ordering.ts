/**
 * Ordered delivery per key (docs/ARCHITECTURE.md, "Ordering"): events of one tenant that share an ordering key reach
 * each endpoint one after another, in acceptance order. Each (tenant, endpoint, key) has a lane: the ids of the
 * events whose delivery to that endpoint has not let the next one go yet, oldest first. Only the lane's head may
 * take a lease. What lets the head go is decided here; storage applies it under conditional writes.
 */
import { z } from "zod";
import { isSettled, type Delivery } from "./delivery-state.ts";

/** The `Ordering-Key` header: 1–128 printable ASCII characters. */
export const orderingKeySchema = z.string().regex(/^[\x20-\x7e]{1,128}$/, "1 to 128 printable ASCII characters");

export const orderingModes = ["release_on_dead", "block_on_dead"] as const;
export type OrderingMode = (typeof orderingModes)[number];

/** Events waiting in one lane at most: acceptance answers 429 beyond it (the lane is one item, ≤ 400 KB). */
export const maxLaneLength = 1000;

/**
 * Whether the lane's head lets the next event go: delivered; dead or skipped unless the endpoint blocks on dead; or
 * gone (its event expired or was removed, or has no delivery to this endpoint).
 */
export function releasesLane(head: Delivery | undefined, mode: OrderingMode): boolean {
  if (!head) return true;
  if (head.status === "DELIVERED") return true;
  return isSettled(head.status) && mode === "release_on_dead";
}

/** Why a lane's head holds the next: it is on its way, waiting for a retry, or settled unsent and blocking. */
export function holdReason(head: Delivery): "in_flight" | "retrying" | "dead" | "skipped" {
  if (head.status === "DEAD") return "dead";
  if (head.status === "SKIPPED") return "skipped";
  return head.status === "FAILED" ? "retrying" : "in_flight";
}

/** How long a waiter's park lasts should no one wake it (aws/events/ordering.ts, lookAgainAt). */
export const turnTiming = { minWaitMs: 30_000, blockedWaitMs: 15 * 60_000 } as const;

/**
 * When a delivery waiting behind `head` should look again should no one wake it (the waker died between its write
 * and its message): when the head's lease or retry is due, at least `minMs` from now; a blocking head wakes its
 * lane when requeued or skipped, so its waiters look again only after `blockedMs`.
 */
export function lookAgainAt(head: Delivery, now: number, minMs: number, blockedMs: number): number {
  if (isSettled(head.status)) return now + blockedMs;
  return Math.max(now + minMs, head.leaseUntil ?? 0, head.nextAttemptAt);
}
