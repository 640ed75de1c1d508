import { describe, expect, it } from "vitest";
import { createMemoryBudget } from "../../../services/worker/memory-budget.ts";
import { createPacer } from "../../../services/worker/pacer.ts";
import { stays } from "../../support/eventually.ts";

const options = (now: () => number) => ({
  tenantMaxInFlight: 3,
  endpointMaxInFlight: 2,
  breakerFailures: 3,
  now,
  random: () => 0.5,
});

describe("pacer", () => {
  it("keeps each endpoint and tenant within its cap, and sends the rest back spaced out", () => {
    const pacer = createPacer(options(() => 0));
    const a = pacer.admit("t1", "e1", undefined);
    const b = pacer.admit("t1", "e1", undefined);
    const c = pacer.admit("t1", "e1", undefined);
    expect([a.ok, b.ok, c.ok]).toEqual([true, true, false]);
    expect(c).toMatchObject({ reason: "endpoint_cap" });
    const d = pacer.admit("t1", "e1", undefined);
    // Two held back come back one after the other, not together.
    expect(!c.ok && !d.ok && d.at > c.at).toBe(true);
    expect(pacer.admit("t1", "e2", undefined).ok).toBe(true);
    expect(pacer.admit("t1", "e3", undefined)).toMatchObject({ ok: false, reason: "tenant_cap" });
    // Another tenant is not held back by the first.
    expect(pacer.admit("t2", "e3", undefined).ok).toBe(true);
    expect(pacer.inFlight()).toBe(4);
    if (a.ok) a.slot.release("success");
    expect(pacer.admit("t1", "e3", undefined).ok).toBe(true);
    // An endpoint's own cap wins over the default.
    expect(pacer.admit("t3", "e4", 1).ok).toBe(true);
    expect(pacer.admit("t3", "e4", 1)).toMatchObject({ ok: false, reason: "endpoint_cap" });
  });

  it("trips after a run of failures, cuts the limit and reports it, and pauses on Retry-After", () => {
    let now = 0;
    const pacer = createPacer({ ...options(() => now), endpointMaxInFlight: 8, tenantMaxInFlight: 100 });
    const release = (result: "success" | "failure", opts = {}) => {
      const s = pacer.admit("t", "e", undefined);
      if (!s.ok) throw new Error("not admitted");
      return s.slot.release(result, opts);
    };
    expect(release("failure")).toEqual({ trip: false, reportLimit: { limit: 4 } });
    now += 1000;
    expect(release("failure")).toEqual({ trip: false });
    now += 1000;
    expect(release("failure").trip).toBe(true);
    expect(release("success")).toEqual({ trip: false });
    now += 1000;
    release("failure", { retryAfterMs: 5000 });
    expect(pacer.admit("t", "e", undefined)).toMatchObject({ ok: false, reason: "paused" });
    now += 5000;
    expect(pacer.admit("t", "e", undefined).ok).toBe(true);
  });
});

describe("pacer's line", () => {
  it("a delivery over a cap waits for a freed slot in arrival order, in a line no longer than the cap", async () => {
    const pacer = createPacer(options(() => Date.now()));
    const first = pacer.admit("t1", "e1", undefined);
    const second = pacer.admit("t1", "e1", undefined);
    const order: string[] = [];
    const a = pacer.acquire("t1", "e1", undefined, 60_000).then((r) => (order.push("a"), r));
    const b = pacer.acquire("t1", "e1", undefined, 60_000).then((r) => (order.push("b"), r));
    // The line for e1 is full (two, its cap): the next one goes back to the queue at once.
    expect(await pacer.acquire("t1", "e1", undefined, 60_000)).toMatchObject({
      ok: false,
      reason: "endpoint_cap",
      waited: false,
    });
    await stays(() => order.length === 0, { forMs: 20, intervalMs: 5, what: "both wait while e1 is at its cap" });
    if (first.ok) first.slot.release("success");
    expect(await a).toMatchObject({ ok: true, waited: true });
    expect(order).toEqual(["a"]);
    if (second.ok) second.slot.release("success");
    expect(await b).toMatchObject({ ok: true, waited: true });
    expect(pacer.inFlight()).toBe(2);
  });

  it("no wait past the deadline, for a failing or paused endpoint, or once closed", async () => {
    const pacer = createPacer(options(() => Date.now()));
    const held = [pacer.admit("t1", "e1", undefined), pacer.admit("t1", "e1", undefined)];
    expect(held.every((h) => h.ok)).toBe(true);
    expect(await pacer.acquire("t1", "e1", undefined, 30)).toMatchObject({
      ok: false,
      reason: "endpoint_cap",
      waited: true,
    });
    const waiting = pacer.acquire("t1", "e1", undefined, 60_000);
    pacer.close();
    expect(await waiting).toMatchObject({ ok: false, reason: "endpoint_cap", waited: true });
    expect(await pacer.acquire("t1", "e1", undefined, 60_000)).toMatchObject({ ok: false, waited: false });

    const other = createPacer(options(() => Date.now()));
    const slots = [other.admit("t1", "e1", undefined), other.admit("t1", "e1", undefined)];
    const s0 = slots[0]!;
    if (s0.ok) s0.slot.release("failure");
    other.admit("t1", "e1", undefined);
    // e1 just failed: its deliveries do not wait for it.
    expect(await other.acquire("t1", "e1", undefined, 60_000)).toMatchObject({ ok: false, waited: false });
  });

  it("hands a freed slot over at once: a delivery arriving meanwhile does not take it, nor does a stopping task give it", async () => {
    const pacer = createPacer(options(() => Date.now()));
    const held = [pacer.admit("t1", "e1", undefined), pacer.admit("t1", "e1", undefined)];
    const waiting = pacer.acquire("t1", "e1", undefined, 60_000);
    const first = held[0]!;
    if (first.ok) first.slot.release("success");
    expect(pacer.admit("t1", "e1", undefined)).toMatchObject({ ok: false, reason: "endpoint_cap" });
    expect(await waiting).toMatchObject({ ok: true, waited: true });

    const stopping = pacer.acquire("t1", "e1", undefined, 60_000);
    pacer.close();
    const second = held[1]!;
    if (second.ok) second.slot.release("success");
    expect(await stopping).toMatchObject({ ok: false, waited: true });
  });

  it("a slot freed while the first in line's endpoint is paused goes to the next, and the paused one goes back", async () => {
    const pacer = createPacer(options(() => Date.now()));
    const e1 = [pacer.admit("t1", "e1", undefined), pacer.admit("t1", "e1", undefined)];
    expect(pacer.admit("t1", "e2", undefined).ok).toBe(true);
    // The tenant is at its cap (3): one waits for e1 (at its cap), one for e3 (the tenant's cap).
    const forE1 = pacer.acquire("t1", "e1", undefined, 60_000);
    const forE3 = pacer.acquire("t1", "e3", undefined, 60_000);
    // e1 answers 429 with Retry-After: it pauses, and the freed slot goes to e3, not to nobody.
    const first = e1[0]!;
    if (first.ok) first.slot.release("failure", { retryAfterMs: 30_000 });
    expect(await forE1).toMatchObject({ ok: false, reason: "paused", waited: true });
    expect(await forE3).toMatchObject({ ok: true, waited: true });
  });

  it("a slot freed under the tenant's cap goes to the first in line whose endpoint has room", async () => {
    const pacer = createPacer(options(() => Date.now()));
    const e1 = [pacer.admit("t1", "e1", undefined), pacer.admit("t1", "e1", undefined)];
    const e2 = pacer.admit("t1", "e2", undefined);
    expect([...e1, e2].every((s) => s.ok)).toBe(true);
    // The tenant is at its cap (3): both wait; a slot freed on e2 can only serve the one for e2.
    const forE1 = pacer.acquire("t1", "e1", undefined, 60_000);
    const forE3 = pacer.acquire("t1", "e3", undefined, 60_000);
    if (e2.ok) e2.slot.release("success");
    expect(await forE3).toMatchObject({ ok: true, waited: true });
    const first = e1[0]!;
    if (first.ok) first.slot.release("success");
    expect(await forE1).toMatchObject({ ok: true, waited: true });
  });
});

describe("memory budget", () => {
  it("lets deliveries in while their bodies fit, in order, and a body larger than the budget alone", async () => {
    const budget = createMemoryBudget(100);
    const first = await budget.acquire(60);
    const order: string[] = [];
    const second = budget.acquire(60).then((r) => (order.push("second"), r));
    const third = budget.acquire(10).then((r) => (order.push("third"), r));
    await stays(() => order.length === 0, {
      forMs: 20,
      intervalMs: 5,
      what: "both wait while the first holds 60 of 100",
    });
    expect(budget.held()).toBe(60);
    first();
    (await second)();
    (await third)();
    expect(order).toEqual(["second", "third"]);
    expect(budget.held()).toBe(0);
    const huge = await budget.acquire(500);
    expect(budget.held()).toBe(500);
    huge();
  });
});
