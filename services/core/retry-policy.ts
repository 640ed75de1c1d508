/** The retry schedule: parsing it, jittered backoff, and how far a Retry-After header may move it. */
import { z } from "zod";

const units: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** `500ms`, `5s`, `1m`, `2h`, `1d` to milliseconds; undefined when malformed. */
export function parseDuration(text: string): number | undefined {
  const match = /^(\d+)(ms|s|m|h|d)$/.exec(text.trim());
  if (!match?.[1] || !match[2]) return undefined;
  return Number(match[1]) * (units[match[2]] ?? Number.NaN);
}

/** A string such as `30m` or `24h`, parsed to milliseconds (config and request bodies alike). */
export const durationSchema = (example: string) =>
  z.string().transform((s, ctx) => parseDuration(s) ?? (ctx.addIssue(`a duration such as ${example}`), z.NEVER));

/** `1m,2m,4m` to delays in ms; undefined when any entry is malformed or the list is empty. */
export function parseSchedule(text: string): number[] | undefined {
  const delays = text.split(",").map(parseDuration);
  return delays.length > 0 && delays.every((d) => d !== undefined && d > 0) ? (delays as number[]) : undefined;
}

export const defaultSchedule = "1m,2m,4m,8m,16m";

/** Attempts a delivery gets: the first one at once, then one per schedule entry. */
export function maxAttempts(schedule: readonly number[]): number {
  return schedule.length + 1;
}

export const jitterFraction = 0.1;

/**
 * The delay before the next attempt after `attemptsMade` attempts, jittered by up to +-10%
 * so that a burst of failures does not come back as a burst; undefined when the budget is spent.
 */
export function retryDelayMs(
  schedule: readonly number[],
  attemptsMade: number,
  random: () => number,
): number | undefined {
  const base = schedule[attemptsMade - 1];
  if (base === undefined) return undefined;
  return Math.round(base * (1 + (random() * 2 - 1) * jitterFraction));
}

/**
 * How long after its event's acceptance a delivery can die, by its schedule alone: every delay at its jittered
 * longest and doubled by a Retry-After, every attempt taking `attemptMs`. Holds (a disabled endpoint or tenant, an
 * open circuit) and requeues come on top of it.
 */
export function scheduleSpanMs(schedule: readonly number[], attemptMs: number): number {
  const delays = schedule.reduce((a, b) => a + b, 0) * 2 * (1 + jitterFraction);
  return Math.ceil(delays + maxAttempts(schedule) * attemptMs);
}

/** Retry-After may push a retry later, but never earlier than scheduled nor past twice the delay. */
export function honourRetryAfter(delayMs: number, retryAfterMs: number | undefined): number {
  if (retryAfterMs === undefined) return delayMs;
  return Math.min(Math.max(retryAfterMs, delayMs), 2 * delayMs);
}

/** Retry-After as delta-seconds or an HTTP date, in ms from `now`; undefined when absent or malformed. */
export function parseRetryAfter(value: string | undefined, now: number): number | undefined {
  if (!value) return undefined;
  if (/^\d+$/.test(value.trim())) return Number(value.trim()) * 1000;
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}
