import { describe, expect, it } from "vitest";
import {
  attemptBucketsMs,
  bucketOf,
  latencyBucketsS,
  minuteOf,
  quantileOf,
} from "../../../services/core/delivery-figures.ts";

const empty = () => latencyBucketsS.map(() => 0).concat(0);

describe("delivery figures", () => {
  it("puts a latency in the first bucket whose bound holds it, past the last in the open one", () => {
    expect(bucketOf(0)).toBe(0);
    expect(bucketOf(0.1)).toBe(0);
    expect(bucketOf(0.11)).toBe(1);
    expect(bucketOf(30)).toBe(latencyBucketsS.indexOf(30));
    expect(bucketOf(86_400)).toBe(latencyBucketsS.length);
  });

  it("cuts time into minutes", () => {
    expect(minuteOf(Date.parse("2026-11-29T17:05:59.999Z"))).toBe(Date.parse("2026-11-29T17:05:00Z"));
  });

  it("interpolates quantiles within a bucket as histogram_quantile does", () => {
    const counts = empty();
    counts[bucketOf(0.2)] = 50; // (0.1, 0.25]
    counts[bucketOf(0.4)] = 50; // (0.25, 0.5]
    expect(quantileOf(counts, 0.5)).toBeCloseTo(0.25);
    expect(quantileOf(counts, 0.25)).toBeCloseTo(0.175);
    expect(quantileOf(counts, 0.95)).toBeCloseTo(0.475);
  });

  it("answers nothing for no data and the last bound for the open bucket", () => {
    expect(quantileOf(empty(), 0.5)).toBeUndefined();
    const counts = empty();
    counts[latencyBucketsS.length] = 3;
    expect(quantileOf(counts, 0.5)).toBe(3600);
  });

  it("does the same over other bounds: attempt durations in milliseconds", () => {
    const counts = attemptBucketsMs.map(() => 0).concat(0);
    counts[bucketOf(7, attemptBucketsMs)] = 10; // (5, 10]
    expect(bucketOf(7, attemptBucketsMs)).toBe(1);
    expect(quantileOf(counts, 0.5, attemptBucketsMs)).toBeCloseTo(7.5);
    counts[attemptBucketsMs.length] = 90;
    expect(quantileOf(counts, 0.95, attemptBucketsMs)).toBe(30_000);
  });
});
