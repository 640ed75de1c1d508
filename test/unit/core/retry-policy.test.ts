import { describe, expect, it } from "vitest";
import {
  defaultSchedule,
  honourRetryAfter,
  maxAttempts,
  parseDuration,
  parseRetryAfter,
  parseSchedule,
  retryDelayMs,
  scheduleSpanMs,
} from "../../../services/core/retry-policy.ts";

describe("retry schedule", () => {
  it("defaults to 1, 2, 4, 8, 16 minutes: six attempts in all", () => {
    const schedule = parseSchedule(defaultSchedule)!;
    expect(schedule).toEqual([60_000, 120_000, 240_000, 480_000, 960_000]);
    expect(maxAttempts(schedule)).toBe(6);
  });

  it("parses units and refuses malformed lists", () => {
    expect(parseSchedule("5s,5m,30m,2h")).toEqual([5000, 300_000, 1_800_000, 7_200_000]);
    expect(parseDuration("250ms")).toBe(250);
    expect(parseDuration("1d")).toBe(86_400_000);
    for (const bad of ["", "5", "5x", "1m,,2m", "-1s", "0s", "1.5m"]) expect(parseSchedule(bad)).toBeUndefined();
  });

  it("jitters each delay within +-10% and gives none once the budget is spent", () => {
    const schedule = [60_000, 120_000];
    expect(retryDelayMs(schedule, 1, () => 0)).toBe(54_000);
    expect(retryDelayMs(schedule, 1, () => 0.5)).toBe(60_000);
    expect(retryDelayMs(schedule, 2, () => 0.999_999)).toBeCloseTo(132_000, -1);
    expect(retryDelayMs(schedule, 3, () => 0.5)).toBeUndefined();
    for (let i = 0; i < 1000; i++) {
      const d = retryDelayMs(schedule, 2, Math.random)!;
      expect(d).toBeGreaterThanOrEqual(108_000);
      expect(d).toBeLessThanOrEqual(132_000);
    }
  });

  it("lets Retry-After move a retry later, within [delay, 2x delay]", () => {
    expect(honourRetryAfter(60_000, undefined)).toBe(60_000);
    expect(honourRetryAfter(60_000, 5_000)).toBe(60_000);
    expect(honourRetryAfter(60_000, 90_000)).toBe(90_000);
    expect(honourRetryAfter(60_000, 3_600_000)).toBe(120_000);
  });

  it("bounds how long a delivery can take to die: every delay at its longest, every attempt its whole time", () => {
    const schedule = [60_000, 120_000];
    const longest = (attempts: number) =>
      honourRetryAfter(
        retryDelayMs(schedule, attempts, () => 0.999_999)!,
        Infinity,
      );
    expect(scheduleSpanMs(schedule, 5000)).toBeGreaterThanOrEqual(longest(1) + longest(2) + 3 * 5000);
    expect(scheduleSpanMs(schedule, 5000)).toBeCloseTo(2 * 1.1 * 180_000 + 15_000, -1);
  });

  it("reads Retry-After as seconds or an HTTP date", () => {
    const now = Date.parse("2026-01-01T00:00:00Z");
    expect(parseRetryAfter("120", now)).toBe(120_000);
    expect(parseRetryAfter("Thu, 01 Jan 2026 00:01:30 GMT", now)).toBe(90_000);
    expect(parseRetryAfter("soon", now)).toBeUndefined();
    expect(parseRetryAfter(undefined, now)).toBeUndefined();
  });
});
