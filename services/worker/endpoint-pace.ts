/**
 * An endpoint's pace on this task: its mode, its in-flight limit (halved on a failure, grown by one per success:
 * AIMD), its run of failures, a pause asked for with Retry-After, its smoothed latency; and how one answer moves
 * them on, with the one change to write on the endpoint as stored, if any. Pure: the endpoint gate keeps these.
 */
import type { HealthSignal } from "../core/attempt-outcome.ts";
import { adjustLimit, type ConcurrencyLimit, type PacingChange } from "../core/endpoint-pacing.ts";

/**
 * steady: at its cap, no failure since its last success (its deliveries may wait for a slot); cut: failing, or
 * growing back after failures; paused: the receiver asked for time, nothing starts until `pausedUntil`.
 */
export type Mode = "steady" | "cut" | "paused";

export interface State {
  mode: Mode;
  limit: ConcurrencyLimit;
  cap: number;
  failures: number;
  pausedUntil: number;
  latencyMs: number;
  /** The limit as last reported (written on the endpoint), so only changes are written. */
  reported: number | undefined;
}

export interface Answer {
  readonly latencyMs: number;
  readonly retryAfterMs?: number | undefined;
  /** This delivery went as its circuit's probe. */
  readonly probe: boolean;
  /** Why it failed, for the circuit's reason. */
  readonly why: string;
}

const maxPauseMs = 10 * 60_000;

export const newState = (cap: number): State => ({
  mode: "steady",
  limit: { limit: cap, cutAt: -Infinity },
  cap,
  failures: 0,
  pausedUntil: 0,
  latencyMs: 1000,
  reported: undefined,
});

/** A transition: `to` only from the modes named, or the bookkeeping is wrong. */
function enter(s: State, to: Mode, from: readonly Mode[]): void {
  if (!from.includes(s.mode)) throw new Error(`endpoint pace: no transition from ${s.mode} to ${to}`);
  s.mode = to;
}

const settledMode = (s: State): Mode => (s.failures === 0 && s.limit.limit >= s.cap ? "steady" : "cut");

/** The time between two deliveries at the endpoint's pace: its latency over its limit. */
export const spacing = (s: State) => s.latencyMs / Math.max(1, Math.min(s.limit.limit, s.cap));

/** The state as of `now` with the endpoint's cap now: a pause ends by itself. */
export function current(s: State, cap: number, now: number): State {
  s.cap = cap;
  if (s.mode === "paused" && s.pausedUntil <= now) enter(s, settledMode(s), ["paused"]);
  return s;
}

/** An attempt's answer moves the state on; answers what to write on the endpoint, if anything. */
export function afterAnswer(
  s: State,
  signal: HealthSignal,
  answer: Answer,
  now: number,
  o: { readonly breakerFailures: number; readonly breakerCooldownMs: number },
): PacingChange | undefined {
  s.latencyMs = 0.8 * s.latencyMs + 0.2 * answer.latencyMs;
  if (signal !== "neutral") {
    s.limit = adjustLimit(s.limit, s.cap, signal === "healthy", now);
    s.failures = signal === "healthy" ? 0 : s.failures + 1;
    if (s.mode !== "paused") enter(s, settledMode(s), ["steady", "cut"]);
  }
  if (answer.retryAfterMs !== undefined) {
    s.pausedUntil = Math.max(s.pausedUntil, now + Math.min(maxPauseMs, answer.retryAfterMs));
    enter(s, "paused", ["steady", "cut", "paused"]);
  }
  if (answer.probe && signal !== "neutral") {
    // The probe's answer decides the circuit; a good one starts the endpoint again from a limit of one.
    if (signal === "healthy") {
      s.limit = { limit: 1, cutAt: now };
      if (s.mode !== "paused") enter(s, settledMode(s), ["steady", "cut"]);
    }
    return { kind: "probe-result", ok: signal === "healthy", reason: `a probe failed: ${answer.why}` };
  }
  if (s.failures >= o.breakerFailures) {
    return { kind: "trip", reason: `failed repeatedly, last: ${answer.why}`, cooldownMs: o.breakerCooldownMs };
  }
  // Reported when first cut and when back at the cap; the steps in between stay on the task.
  const limit = s.limit.limit >= s.cap ? undefined : s.limit.limit;
  if (limit === s.reported || (limit !== undefined && s.reported !== undefined)) return undefined;
  s.reported = limit;
  return { kind: "limit", limit };
}
