/** The auth cache (cachedLookup): unknown keys are remembered briefly, and a flood of them never evicts a known key. */
import { describe, expect, it } from "vitest";
import { cachedLookup } from "../../../services/aws/tenants.ts";

/** A lookup that knows one key and counts how often it is asked, per key. */
function counted() {
  const asked = new Map<string, number>();
  const fetch = (key: string) => {
    asked.set(key, (asked.get(key) ?? 0) + 1);
    return Promise.resolve(key === "known" ? { tenantId: "ten_1" } : undefined);
  };
  return { fetch, asked };
}

describe("cachedLookup", () => {
  it("keeps a known key while many more unknown keys than the cache holds are looked up", async () => {
    const { fetch, asked } = counted();
    const lookup = cachedLookup(fetch, 60_000, 100);
    expect(await lookup("known")).toEqual({ tenantId: "ten_1" });
    for (let i = 0; i < 1000; i++) expect(await lookup(`guess-${i}`)).toBeUndefined();
    expect(await lookup("known")).toEqual({ tenantId: "ten_1" });
    expect(asked.get("known")).toBe(1);
  });

  it("remembers an unknown key, so repeating it costs one lookup; concurrent callers share one", async () => {
    const { fetch, asked } = counted();
    const lookup = cachedLookup(fetch, 60_000);
    await Promise.all(Array.from({ length: 10 }, () => lookup("nope")));
    await lookup("nope");
    expect(asked.get("nope")).toBe(1);
  });
});
