import { describe, expect, it } from "vitest";
import { eventTypeOf, matchesEventTypes } from "../../../services/core/event-type.ts";

describe("eventTypeOf", () => {
  it("takes `type`, else `event`, else none", () => {
    expect(eventTypeOf({ type: "order.paid", event: "x" })).toBe("order.paid");
    expect(eventTypeOf({ event: "user.created" })).toBe("user.created");
    expect(eventTypeOf({ type: 42, event: { nested: true } })).toBeUndefined();
    expect(eventTypeOf({})).toBeUndefined();
  });
});

describe("matchesEventTypes", () => {
  it("matches exact types, prefix.* wildcards, * and no filter", () => {
    expect(matchesEventTypes(undefined, undefined)).toBe(true);
    expect(matchesEventTypes([], "a")).toBe(true);
    expect(matchesEventTypes(["order.paid"], "order.paid")).toBe(true);
    expect(matchesEventTypes(["order.paid"], "order.paid.late")).toBe(false);
    expect(matchesEventTypes(["order.*"], "order.refund.partial")).toBe(true);
    expect(matchesEventTypes(["order.*"], "orders.paid")).toBe(false);
    expect(matchesEventTypes(["order.*"], undefined)).toBe(false);
    expect(matchesEventTypes(["*"], undefined)).toBe(true);
  });
});
