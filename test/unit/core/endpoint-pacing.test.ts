import { describe, expect, it } from "vitest";
import {
  adjustLimit,
  afterProbe,
  circuitGate,
  claimProbe,
  maxCooldownMs,
  openCircuit,
  rateShape,
  decideRateTurn,
} from "../../../services/core/endpoint-pacing.ts";

describe("circuit breaker", () => {
  it("holds deliveries until the cooldown ends, then lets exactly one probe claim it", () => {
    const open = openCircuit(1000, "timeout", 30_000);
    expect(circuitGate(undefined, 0)).toEqual({ kind: "closed" });
    expect(circuitGate(open, 5000)).toEqual({ kind: "wait", until: 31_000 });
    expect(claimProbe(open, 5000, 40_000)).toBeUndefined();
    expect(circuitGate(open, 31_000)).toEqual({ kind: "probe" });
    const claimed = claimProbe(open, 31_000, 40_000)!;
    expect(claimed.probeUntil).toBe(40_000);
    // A second worker finds the probe taken and waits for it; once it lapses, another may probe.
    expect(claimProbe(claimed, 32_000, 41_000)).toBeUndefined();
    expect(circuitGate(claimed, 32_000)).toEqual({ kind: "wait", until: 40_000 });
    expect(claimProbe(claimed, 40_000, 49_000)?.probeUntil).toBe(49_000);
    // With a short cooldown, others look again after it rather than at the end of the probe's claim.
    const quick = claimProbe(openCircuit(0, "timeout", 2000), 2000, 40_000)!;
    expect(circuitGate(quick, 3000)).toEqual({ kind: "wait", until: 5000 });
  });

  it("closes on a good probe, and reopens for twice as long (at most 10 min) on a bad one", () => {
    const open = openCircuit(0, "HTTP 503", 30_000);
    expect(afterProbe(open, true, 30_000, "")).toMatchObject({ state: "closed", since: 30_000 });
    const again = afterProbe(open, false, 30_000, "timeout");
    expect(again).toMatchObject({ state: "open", cooldownMs: 60_000, retryAt: 90_000, reason: "timeout" });
    expect(afterProbe({ ...open, cooldownMs: maxCooldownMs }, false, 0, "x").cooldownMs).toBe(maxCooldownMs);
  });
});

describe("concurrency limit (AIMD)", () => {
  it("halves on a failure, once per burst, never below 1, and grows back by one per success", () => {
    let l = { limit: 50, cutAt: 0 };
    l = adjustLimit(l, 50, false, 10_000);
    expect(l.limit).toBe(25);
    expect(adjustLimit(l, 50, false, 10_500).limit).toBe(25);
    l = adjustLimit(l, 50, false, 11_000);
    expect(l.limit).toBe(12);
    for (let i = 0; i < 10; i++) l = adjustLimit(l, 50, false, 20_000 + i * 1000);
    expect(l.limit).toBe(1);
    l = adjustLimit(adjustLimit(l, 50, true, 40_000), 50, true, 40_001);
    expect(l.limit).toBe(3);
    expect(adjustLimit({ limit: 50, cutAt: 0 }, 50, true, 1).limit).toBe(50);
  });
});

describe("rate limit (GCRA)", () => {
  it("lets a second's worth through at once, then one per interval, and says when the next may go", () => {
    const shape = rateShape(5);
    expect(shape).toEqual({ intervalMs: 200, toleranceMs: 800 });
    let tat: number | undefined;
    for (let i = 0; i < 5; i++) {
      const d = decideRateTurn(tat, 0, shape);
      expect(d.ok).toBe(true);
      if (d.ok) tat = d.tat;
    }
    expect(tat).toBe(1000);
    expect(decideRateTurn(tat, 0, shape)).toEqual({ ok: false, retryAt: 200 });
    expect(decideRateTurn(tat, 200, shape)).toEqual({ ok: true, tat: 1200, at: 200 });
    // Idle for long: the schedule restarts from now, with no credit saved up beyond the burst.
    expect(decideRateTurn(1200, 60_000, shape)).toEqual({ ok: true, tat: 60_200, at: 60_000 });
  });

  it("reserves a slot within the horizon (the caller waits for it), and refuses beyond it", () => {
    const shape = rateShape(5);
    // Busy for three seconds ahead: the next slot is at 2200 ms, reserved now with a 5 s horizon.
    expect(decideRateTurn(3000, 0, shape, 5000)).toEqual({ ok: true, tat: 3200, at: 2200 });
    expect(decideRateTurn(9000, 0, shape, 5000)).toEqual({ ok: false, retryAt: 3200 });
  });

  it("holds any window of w seconds to 5w plus the burst of 5", () => {
    const shape = rateShape(5);
    let tat: number | undefined;
    const sent: number[] = [];
    for (let now = 0; now < 10_000; now += 7) {
      const d = decideRateTurn(tat, now, shape);
      if (d.ok) {
        tat = d.tat;
        sent.push(d.at);
      }
    }
    expect(sent.length).toBeGreaterThanOrEqual(50);
    expect(sent.length).toBeLessThanOrEqual(55);
    for (const w of [1, 2, 5])
      for (const t of sent)
        expect(sent.filter((s) => s >= t && s < t + w * 1000).length).toBeLessThanOrEqual(5 * w + 5);
  });
});
