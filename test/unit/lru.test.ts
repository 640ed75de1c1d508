import { describe, expect, it } from "vitest";
import { lru } from "../../services/lru.ts";

describe("lru", () => {
  it("holds at most its count of entries, forgetting the least recently used", () => {
    const cache = lru<string, number>(3);
    for (const [i, key] of ["a", "b", "c"].entries()) cache.set(key, i);
    expect(cache.get("a")).toBe(0); // now the most recent
    cache.set("d", 3);
    cache.set("e", 4);
    expect(cache.size).toBe(3);
    expect([...cache.keys()].sort()).toEqual(["a", "d", "e"]);
  });

  it("keeps the options it is given", () => {
    let now = 1_000; // lru-cache takes a start of 0 for "no TTL"
    const cache = lru<string, number>(10, { ttl: 1000, ttlResolution: 0, perf: { now: () => now } });
    cache.set("a", 1);
    now = 1_999;
    expect(cache.get("a")).toBe(1);
    now = 2_001;
    expect(cache.get("a")).toBeUndefined();
  });
});
