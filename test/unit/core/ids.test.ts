import { decodeTime, isValid } from "ulid";
import { describe, expect, it } from "vitest";
import { isId, newId } from "../../../services/core/ids.ts";

describe("newId", () => {
  const now = Date.UTC(2026, 10, 29, 1, 2, 3, 456);
  const ids = Array.from({ length: 10_000 }, () => newId("evt", now));

  it("makes prefixed, valid, distinct ULIDs carrying the given time", () => {
    expect(new Set(ids).size).toBe(ids.length);
    for (const id of ids.slice(0, 100)) {
      expect(isId("evt", id)).toBe(true);
      expect(isValid(id.slice(4))).toBe(true);
      expect(decodeTime(id.slice(4))).toBe(now);
    }
  });

  it("draws every random character evenly from the pooled CSPRNG bytes", () => {
    const counts = new Map<string, number>();
    for (const id of ids) for (const c of id.slice(14)) counts.set(c, (counts.get(c) ?? 0) + 1);
    expect(counts.size).toBe(32);
    const mean = (ids.length * 16) / 32;
    for (const n of counts.values()) expect(Math.abs(n - mean)).toBeLessThan(mean * 0.1);
  });
});
