import { describe, expect, it } from "vitest";
import type { Arrival } from "../../soak/receivers.ts";
import { judge, percentile, slopeMbPer10Min, type Accepted, type VerdictInput } from "../../soak/verdict.ts";

const event = (id: string, kind: Accepted["kind"] = "fast", lane?: Accepted["lane"]): Accepted => ({
  id,
  kind,
  eventId: `evt_${id}`,
  sentAt: 1000,
  lane,
});
const arrival = (id: string, at: number, status = 200, kind: Arrival["kind"] = "fast"): Arrival => ({
  kind,
  id,
  webhookId: `msg_${id}`,
  at,
  status,
});
const input = (over: Partial<VerdictInput>): VerdictInput => ({
  accepted: [],
  arrivals: [],
  final: new Map(),
  disruptions: [],
  logged: new Map(),
  windowMs: 5000,
  ...over,
});

describe("the soak's verdict", () => {
  it("counts an accepted event lost when the store has it unsettled or not at all", () => {
    const v = judge(
      input({
        accepted: [event("a"), event("b"), event("c")],
        final: new Map([
          ["evt_a", "DELIVERED"],
          ["evt_b", "PENDING"],
        ]),
        arrivals: [arrival("a", 2000)],
      }),
    );
    expect(v.lost).toEqual(["b (fast) PENDING", "c (fast) MISSING"]);
  });

  it("refuses DELIVERED without a 2xx, DEAD where the receiver always succeeds, and DEAD after a 2xx no disruption explains", () => {
    const v = judge(
      input({
        accepted: [event("a"), event("b"), event("c", "flap"), event("d", "flap")],
        final: new Map([
          ["evt_a", "DELIVERED"],
          ["evt_b", "DEAD"],
          ["evt_c", "DEAD"],
          ["evt_d", "DEAD"],
        ]),
        arrivals: [arrival("a", 2000, 500), arrival("c", 2000, 200, "flap"), arrival("d", 2000, 500, "flap")],
      }),
    );
    expect(v.wrongState.map((w) => w.split(" ")[0])).toEqual(["a", "b", "c"]);
    const excused = judge(
      input({
        accepted: [event("c", "flap")],
        final: new Map([["evt_c", "DEAD"]]),
        arrivals: [arrival("c", 2000, 200, "flap")],
        disruptions: [{ what: "worker 2 SIGKILL", at: 3000 }],
      }),
    );
    expect(excused.wrongState).toEqual([]);
    expect(excused.receivedNotRecorded).toBe(1);
  });

  it("explains a repeated 2xx by a disruption near the first or a worker's log line, and no other way", () => {
    const v = judge(
      input({
        accepted: [event("a"), event("b"), event("c")],
        final: new Map(["a", "b", "c"].map((id) => [`evt_${id}`, "DELIVERED"])),
        arrivals: [2000, 9000].flatMap((at) => ["a", "b", "c"].map((id) => arrival(id, at))),
        disruptions: [{ what: "worker 2 SIGKILL", at: 6000 }],
        logged: new Map([["b", "outcome write failed"]]),
        windowMs: 5000,
      }),
    );
    // a and c: the kill at 6000 is within 5 s of their first 2xx at 2000; b: its worker's log line says why first.
    expect(v.repeats.explained).toEqual({ worker: 2, "outcome write failed": 1 });
    const far = judge(
      input({
        accepted: [event("c")],
        final: new Map([["evt_c", "DELIVERED"]]),
        arrivals: [arrival("c", 2000), arrival("c", 30_000)],
        disruptions: [{ what: "worker 2 SIGKILL", at: 20_000 }],
      }),
    );
    expect(far.repeats.unexplained).toHaveLength(1);
  });

  it("finds a key's event first attempted before an earlier one", () => {
    const lane = (seq: number) => ({ key: "0/fast/k1", seq });
    const v = judge(
      input({
        accepted: [event("a", "fast", lane(1)), event("b", "fast", lane(2)), event("c", "fast", lane(3))],
        final: new Map(["a", "b", "c"].map((id) => [`evt_${id}`, "DELIVERED"])),
        arrivals: [arrival("a", 2000), arrival("c", 3000), arrival("b", 4000)],
      }),
    );
    expect(v.outOfOrder).toEqual(["0/fast/k1: #2 after #3"]);
  });

  it("reads percentiles by nearest rank and RSS growth in MB per 10 minutes", () => {
    expect(percentile([5, 1, 3, 2, 4], 50)).toBe(3);
    expect(percentile([5, 1, 3, 2, 4], 99)).toBe(5);
    expect(percentile([], 50)).toBeUndefined();
    const growing = [0, 1, 2, 3].map((i) => ({ at: i * 60_000, bytes: 100e6 + i * 1e6 }));
    expect(slopeMbPer10Min(growing)).toBeCloseTo(10);
    expect(slopeMbPer10Min(growing.slice(0, 2))).toBeUndefined();
  });
});
