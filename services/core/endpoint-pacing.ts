/**
 * How hard an endpoint may be pushed: a concurrency limit that halves on failure and grows back on success
 * (AIMD), a circuit breaker that stops calling an endpoint that keeps failing and lets one probe through
 * at a time, and a rate limit by the generic cell rate algorithm (a token bucket kept as one timestamp).
 */
import { z } from "zod";

// ---- Circuit breaker -------------------------------------------------------------------------------

export const circuitSchema = z.object({
  state: z.enum(["closed", "open"]),
  /** Epoch ms it entered this state. */
  since: z.number(),
  /** Why it opened (the failures seen), or what closed it. */
  reason: z.string().optional(),
  /** Open: when the next probe may go. */
  retryAt: z.number().optional(),
  /** Open: the wait before the next probe; doubles on each failed probe. */
  cooldownMs: z.number().optional(),
  /** Open: a probe is in flight until then (one worker holds it). */
  probeUntil: z.number().optional(),
});
export type Circuit = z.infer<typeof circuitSchema>;

export const maxCooldownMs = 10 * 60_000;

export function openCircuit(now: number, reason: string, cooldownMs: number): Circuit {
  return { state: "open", since: now, reason, retryAt: now + cooldownMs, cooldownMs };
}

export type CircuitGate =
  | { readonly kind: "closed" }
  /** Wait: no attempt before `until`. */
  | { readonly kind: "wait"; readonly until: number }
  /** Open and due: one delivery may go as the probe, once it has claimed it. */
  | { readonly kind: "probe" };

export function circuitGate(c: Circuit | undefined, now: number): CircuitGate {
  if (!c || c.state === "closed") return { kind: "closed" };
  const retryAt = c.retryAt ?? now;
  if (retryAt > now) return { kind: "wait", until: retryAt };
  // A probe in flight: its answer usually comes long before its claim lapses, so look again after a cooldown.
  if ((c.probeUntil ?? 0) > now) return { kind: "wait", until: Math.min(c.probeUntil!, now + (c.cooldownMs ?? 1000)) };
  return { kind: "probe" };
}

/** The circuit with a probe claimed until `until`; undefined when no probe may go now (closed, waiting, or taken). */
export function claimProbe(c: Circuit | undefined, now: number, until: number): Circuit | undefined {
  return circuitGate(c, now).kind === "probe" ? { ...c!, probeUntil: until } : undefined;
}

/** A probe's answer: a success closes the circuit; a failure opens it again for twice as long. */
export function afterProbe(c: Circuit, ok: boolean, now: number, reason: string): Circuit {
  if (ok) return { state: "closed", since: now, reason: "a probe succeeded" };
  return openCircuit(now, reason, Math.min(maxCooldownMs, 2 * (c.cooldownMs ?? 1000)));
}

/**
 * What an attempt's answer changes in an endpoint's stored pacing, decided by the worker's endpoint gate: the
 * circuit opened by a run of failures, a probe's result, or the in-flight limit it was cut to (or back at its cap).
 */
export type PacingChange =
  | { readonly kind: "trip"; readonly reason: string; readonly cooldownMs: number }
  | { readonly kind: "probe-result"; readonly ok: boolean; readonly reason: string }
  | { readonly kind: "limit"; readonly limit: number | undefined };

interface Paced {
  readonly circuit?: Circuit | undefined;
  /** The in-flight limit a worker last cut the endpoint to after failures (absent: its cap). */
  readonly inFlightLimit?: number | undefined;
}

/**
 * The change applied to the endpoint as stored now (another task may have moved its circuit meanwhile): a trip
 * or a limit only while the circuit is not open, a probe's result only while it is. Undefined: nothing to write.
 */
export function applyPacingChange<E extends Paced>(e: E, change: PacingChange, now: number): E | undefined {
  const open = e.circuit?.state === "open";
  switch (change.kind) {
    case "trip":
      return open ? undefined : { ...e, circuit: openCircuit(now, change.reason, change.cooldownMs) };
    case "probe-result":
      return open ? { ...e, circuit: afterProbe(e.circuit, change.ok, now, change.reason) } : undefined;
    case "limit":
      return open || e.inFlightLimit === change.limit ? undefined : { ...e, inFlightLimit: change.limit };
  }
}

// ---- Concurrency limit (additive increase, multiplicative decrease) ---------------------------------

export interface ConcurrencyLimit {
  /** Deliveries in flight allowed now, 1 .. max. */
  readonly limit: number;
  /** Epoch ms of the last cut: one burst of failures cuts once. */
  readonly cutAt: number;
}

/** Failures close together are one signal: at most one halving per this long. */
export const cutIntervalMs = 1000;

export function adjustLimit(l: ConcurrencyLimit, max: number, ok: boolean, now: number): ConcurrencyLimit {
  if (ok) return l.limit >= max ? l : { ...l, limit: Math.min(max, l.limit + 1) };
  if (now - l.cutAt < cutIntervalMs) return l;
  return { limit: Math.max(1, Math.floor(Math.min(l.limit, max) / 2)), cutAt: now };
}

// ---- Rate limit (GCRA) -----------------------------------------------------------------------------

export interface RateShape {
  /** Milliseconds between deliveries at the sustained rate. */
  readonly intervalMs: number;
  /** How far ahead of now the schedule may run: a burst of one second's worth. */
  readonly toleranceMs: number;
}

export function rateShape(perSecond: number): RateShape {
  const intervalMs = 1000 / perSecond;
  return { intervalMs, toleranceMs: Math.max(0, Math.ceil(perSecond) - 1) * intervalMs };
}

/** Allowed: the delivery may start at `at` (now, or a reserved moment soon); refused: ask again at `retryAt`. */
export type RateDecision =
  { readonly ok: true; readonly tat: number; readonly at: number } | { readonly ok: false; readonly retryAt: number };

/**
 * One delivery against the endpoint's theoretical arrival time `tat` (when the schedule is next free). It may go
 * while the schedule runs no more than the tolerance ahead of now; a slot up to `horizonMs` later may be
 * reserved instead (the caller waits for it), so deliveries leave exactly on the schedule. Either way the
 * schedule moves one interval on.
 */
export function decideRateTurn(tat: number | undefined, now: number, shape: RateShape, horizonMs = 0): RateDecision {
  const start = Math.max(tat ?? now, now);
  const at = Math.max(now, start - shape.toleranceMs);
  if (at - now > horizonMs) return { ok: false, retryAt: at - horizonMs };
  return { ok: true, tat: start + shape.intervalMs, at };
}
