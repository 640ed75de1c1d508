/**
 * The endpoint gate's modes and answers, the slot pool's caps and line, and the comeback spacing: pure logic on a
 * hand-moved clock; the gate's shared state (probe claim, rate schedule) in a map standing in for the store.
 */
import { describe, expect, it } from "vitest";
import { applyPacingChange, decideRateTurn, openCircuit, rateShape } from "../../../services/core/endpoint-pacing.ts";
import { newEndpointRecord, type Endpoint } from "../../../services/core/tenant.ts";
import { createComebacks } from "../../../services/worker/comebacks.ts";
import { createEndpointGate, type GateIo } from "../../../services/worker/endpoint-gate.ts";
import type { Answer } from "../../../services/worker/endpoint-pace.ts";
import { createSlotPool, type SlotWant } from "../../../services/worker/slot-pool.ts";

const t0 = 1_800_000_000_000;
const key = { tenantId: "ten_1", endpointId: "ep_1" };
const ok: Answer = { latencyMs: 100, probe: false, why: "" };
const bad: Answer = { latencyMs: 100, probe: false, why: "500" };

function setUp(endpoint: Endpoint = newEndpointRecord({ url: "https://a.example" }, "s", t0), maxEndpoints?: number) {
  const clock = { t: t0 };
  const now = () => clock.t;
  const stored = { endpoint, tat: undefined as number | undefined };
  const io: GateIo = {
    changeEndpoint: async (_k, change) => {
      const next = change(stored.endpoint);
      if (next) stored.endpoint = next;
      return stored.endpoint;
    },
    takeRateTurn: async (_k, at, perSecond, horizonMs) => {
      const d = decideRateTurn(stored.tat, at, rateShape(perSecond), horizonMs);
      if (d.ok) stored.tat = d.tat;
      return d;
    },
  };
  const comebacks = createComebacks({ now, random: () => 0.5 });
  const gate = createEndpointGate(
    {
      breakerFailures: 3,
      breakerCooldownMs: 30_000,
      leaseMs: 10_000,
      rateHorizonMs: 0,
      tenantCap: 10,
      comebacks,
      now,
      ...(maxEndpoints === undefined ? {} : { maxEndpoints }),
    },
    io,
  );
  return { gate, clock, stored, comebacks };
}

describe("endpoint gate", () => {
  it("starts steady: the whole cap, and deliveries over it may wait for a slot", () => {
    const { gate } = setUp();
    expect(gate.limit("ep_1", 8)).toBe(8);
    expect(gate.mayWait("ep_1")).toBe(true);
  });

  it("a failure halves the limit (reported once), a success grows it by one, and back at the cap it says so", () => {
    const { gate, clock } = setUp();
    gate.limit("ep_1", 8);
    expect(gate.after("ep_1", 8, "unhealthy", bad)).toEqual({ kind: "limit", limit: 4 });
    expect(gate.limit("ep_1", 8)).toBe(4);
    // Cut: its deliveries over the limit go back to the queue instead of waiting here.
    expect(gate.mayWait("ep_1")).toBe(false);
    clock.t += 5000;
    expect(gate.after("ep_1", 8, "unhealthy", bad)).toBeUndefined(); // cut again to 2, not reported
    expect(gate.limit("ep_1", 8)).toBe(2);
    const changes = Array.from({ length: 6 }, () => gate.after("ep_1", 8, "healthy", ok));
    expect(gate.limit("ep_1", 8)).toBe(8);
    expect(changes.filter(Boolean)).toEqual([{ kind: "limit", limit: undefined }]);
    expect(gate.mayWait("ep_1")).toBe(true);
  });

  it("a run of failures trips the circuit; a neutral answer neither breaks nor extends the run", () => {
    const { gate, clock } = setUp();
    gate.after("ep_1", 8, "unhealthy", bad);
    clock.t += 2000;
    gate.after("ep_1", 8, "unhealthy", bad);
    expect(gate.after("ep_1", 8, "neutral", bad)).toBeUndefined();
    clock.t += 2000;
    expect(gate.after("ep_1", 8, "unhealthy", bad)).toEqual({
      kind: "trip",
      reason: "failed repeatedly, last: 500",
      cooldownMs: 30_000,
    });
  });

  it("Retry-After pauses the endpoint: nothing starts, comebacks are after the pause, and it ends by itself", () => {
    const { gate, clock } = setUp();
    gate.limit("ep_1", 8);
    gate.after("ep_1", 8, "unhealthy", { ...bad, retryAfterMs: 60_000 });
    expect(gate.limit("ep_1", 8)).toBe(0);
    expect(gate.mayWait("ep_1")).toBe(false);
    const back = gate.comeback(key, "endpoint_cap", undefined);
    expect(back.reason).toBe("paused");
    expect(back.at).toBeGreaterThanOrEqual(t0 + 60_000 * 0.9);
    // A pause asked for longer than 10 minutes is cut to 10.
    gate.after("ep_1", 8, "unhealthy", { ...bad, retryAfterMs: 86_400_000 });
    clock.t += 10 * 60_000 + 1;
    expect(gate.limit("ep_1", 8)).toBeGreaterThan(0);
  });

  it("an open circuit defers until its retry time; when due, one claim wins the probe and the next waits", async () => {
    const open = { ...newEndpointRecord({ url: "https://a.example" }, "s", t0), circuit: openCircuit(t0, "x", 30_000) };
    const { gate, clock, stored } = setUp(open);
    const waiting = await gate.pass(key, stored.endpoint);
    expect(waiting).toMatchObject({ ok: false, reason: "circuit_open" });
    expect(!waiting.ok && waiting.at).toBeGreaterThanOrEqual(t0 + 30_000);
    clock.t += 30_000;
    expect(await gate.pass(key, stored.endpoint)).toEqual({ ok: true, probe: true });
    // Another delivery read the endpoint before the claim was written: it loses the claim and comes back later.
    const second = await gate.pass(key, open);
    expect(second).toMatchObject({ ok: false, reason: "circuit_open" });
    // The probe's answer closes the circuit (a change to write), and the endpoint restarts from a limit of one.
    const change = gate.after("ep_1", 8, "healthy", { ...ok, probe: true });
    expect(change).toEqual({ kind: "probe-result", ok: true, reason: "a probe failed: " });
    expect(applyPacingChange(stored.endpoint, change!, clock.t)?.circuit?.state).toBe("closed");
    expect(gate.limit("ep_1", 8)).toBe(1);
  });

  it("a rate limit: a turn now goes, one beyond the horizon is deferred to when its turn comes", async () => {
    const limited = { ...newEndpointRecord({ url: "https://a.example" }, "s", t0), rateLimit: 1 };
    const { gate } = setUp(limited);
    expect(await gate.pass(key, limited)).toEqual({ ok: true, probe: false });
    const later = await gate.pass(key, limited);
    expect(later).toMatchObject({ ok: false, reason: "rate_limited" });
    expect(!later.ok && later.at).toBeGreaterThanOrEqual(t0 + 900);
  });

  it("comebacks of one endpoint are spaced by its pace, so a backlog returns spread out, not at once", () => {
    const { gate } = setUp();
    gate.after("ep_1", 4, "healthy", { ...ok, latencyMs: 1000 });
    const times = Array.from({ length: 100 }, () => gate.comeback(key, "endpoint_cap", undefined).at);
    // Latency ≈ 1 s over a limit of 4: 100 comebacks spread over ≈ 25 s.
    expect(Math.max(...times) - t0).toBeGreaterThan(20_000);
  });

  it("remembers at most its bound of endpoints, whatever passes through (100,000 endpoints)", () => {
    const { gate, comebacks } = setUp(undefined, 1000);
    const pool = createSlotPool({ tenantCap: 10 });
    for (let i = 0; i < 100_000; i++) {
      const ep = `ep_${i}`;
      gate.limit(ep, 8);
      gate.after(ep, 8, i % 2 ? "healthy" : "unhealthy", i % 3 ? bad : { ...bad, retryAfterMs: 1000 });
      gate.comeback({ tenantId: `t${i % 7}`, endpointId: ep }, i % 2 ? "endpoint_cap" : "tenant_cap", undefined);
    }
    expect(gate.size()).toBe(1000);
    expect(comebacks.size()).toBeLessThanOrEqual(10_000);
    expect(pool.size()).toBe(0);
  });
});

describe("slot pool", () => {
  const want = (over: Partial<SlotWant> = {}): SlotWant => ({
    tenantId: "t",
    endpointId: "e",
    limit: () => 2,
    maxWaitMs: 0,
    ...over,
  });

  it("grants up to the endpoint's limit and the tenant's cap, and counts nothing once all is released", async () => {
    const pool = createSlotPool({ tenantCap: 3 });
    const a = await pool.acquire(want());
    const b = await pool.acquire(want());
    expect(await pool.acquire(want())).toMatchObject({ ok: false, reason: "endpoint_cap" });
    const c = await pool.acquire(want({ endpointId: "f" }));
    expect(await pool.acquire(want({ endpointId: "g" }))).toMatchObject({ ok: false, reason: "tenant_cap" });
    // Another tenant is not affected.
    const d = await pool.acquire(want({ tenantId: "u", endpointId: "h" }));
    expect(pool.inFlight()).toBe(4);
    for (const g of [a, b, c, d]) if (g.ok) g.slot.release();
    if (a.ok) a.slot.release(); // a second release frees nothing
    expect(pool.inFlight()).toBe(0);
    expect(pool.size()).toBe(0);
  });

  it("a waiter gets the freed slot before anyone arriving later; one whose endpoint paused is sent back", async () => {
    const pool = createSlotPool({ tenantCap: 2 });
    const first = await pool.acquire(want({ endpointId: "e" }));
    const second = await pool.acquire(want({ endpointId: "p" }));
    let pausedLimit = 2;
    const waiting = pool.acquire(want({ endpointId: "e", maxWaitMs: 60_000 }));
    const paused = pool.acquire(want({ endpointId: "p", limit: () => pausedLimit, maxWaitMs: 60_000 }));
    pausedLimit = 0;
    if (second.ok) second.slot.release();
    expect(await paused).toMatchObject({ ok: false, waited: true });
    // The freed slot went to nobody yet: the other waiter wants a tenant slot, which is free now.
    expect(await waiting).toMatchObject({ ok: true, waited: true });
    expect(await pool.acquire(want({ endpointId: "x" }))).toMatchObject({ ok: false, reason: "tenant_cap" });
    if (first.ok) first.slot.release();
  });

  it("close sends every waiter back and lets no one wait", async () => {
    const pool = createSlotPool({ tenantCap: 1 });
    const held = await pool.acquire(want());
    const waiting = pool.acquire(want({ maxWaitMs: 60_000 }));
    pool.close();
    expect(await waiting).toMatchObject({ ok: false });
    expect(await pool.acquire(want({ maxWaitMs: 60_000 }))).toMatchObject({ ok: false, waited: false });
    if (held.ok) held.slot.release();
  });
});

describe("comebacks", () => {
  it("spaces one key's comebacks one after another, from the later of now and the time asked", () => {
    const clock = { t: t0 };
    const c = createComebacks({ now: () => clock.t, random: () => 0.5, maxKeys: 2 });
    expect(c.next("a", t0, 100)).toBe(t0 + 100);
    expect(c.next("a", t0, 100)).toBe(t0 + 200);
    expect(c.next("b", t0 + 5000, 100)).toBe(t0 + 5000);
    c.next("c", t0, 100);
    expect(c.size()).toBe(2);
    // "a" was forgotten: it starts anew.
    expect(c.next("a", t0, 100)).toBe(t0 + 100);
  });
});
