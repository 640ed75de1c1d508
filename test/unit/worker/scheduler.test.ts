/**
 * The scheduler with a fake queue (a MessageAcks that records what was asked of SQS) and fake timers: each
 * disposition, the heartbeat, the reservation against capacity, the drain on stop.
 */
import { pino } from "pino";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { MessageAcks } from "../../../services/aws/delivery-queue.ts";
import { createMetrics } from "../../../services/metrics.ts";
import {
  createScheduler,
  failureBackoffS,
  type Disposition,
  type Received,
  type SchedulerOptions,
} from "../../../services/worker/scheduler.ts";

const t0 = 1_800_000_000_000;
const visibilityTimeoutS = 30;

type Call = [string, ...unknown[]];

function fakeQueue() {
  const calls: Call[] = [];
  const acks: MessageAcks = {
    ack: (h) => (calls.push(["ack", h]), Promise.resolve(true)),
    nack: (c) => (calls.push(["nack", c.receiptHandle, c.visibleInS]), Promise.resolve(true)),
    deadLetter: (body) => (calls.push(["deadLetter", body]), Promise.resolve()),
    resend: (body, delayS) => (calls.push(["resend", body, delayS]), Promise.resolve()),
  };
  return { calls, acks };
}

let n = 0;
const message = (over: Partial<Received> = {}): Received => {
  n++;
  return { messageId: `m${n}`, receiptHandle: `r${n}`, body: `b${n}`, receiveCount: 1, firstReceivedAt: t0, ...over };
};

/** A handler whose answers the test gives, message by message. */
function manualHandler() {
  const pending = new Map<string, { answer: (d: Disposition) => void; fail: (e: Error) => void }>();
  const handle = (m: Received) =>
    new Promise<Disposition>((answer, fail) => {
      pending.set(m.messageId, { answer, fail });
    });
  return { handle, pending };
}

function setUp(over: Partial<SchedulerOptions> = {}) {
  const q = fakeQueue();
  const h = manualHandler();
  const s = createScheduler({
    capacity: 4,
    visibilityTimeoutS,
    replaceAfterReceives: 5,
    acks: q.acks,
    handle: h.handle,
    log: pino({ level: "silent" }),
    metrics: createMetrics("worker"),
    now: () => Date.now(),
    ...over,
  });
  return { ...q, ...h, s };
}

/** Lets every settled promise's callbacks run (the scheduler's chain is a few hops long). */
const settle = () => vi.advanceTimersByTimeAsync(0);

beforeEach(() => {
  vi.useFakeTimers({ now: t0 });
});
afterEach(() => {
  vi.useRealTimers();
});

describe("scheduler", () => {
  it("acks a message whose delivery is done with", async () => {
    const { s, calls, pending } = setUp();
    const m = message();
    s.accept([m], await s.reserve(1));
    expect(s.inFlight()).toBe(1);
    pending.get(m.messageId)!.answer({ kind: "ack" });
    await settle();
    expect(calls).toEqual([["ack", m.receiptHandle]]);
    expect(s.inFlight()).toBe(0);
    await s.stop(0);
  });

  it("nacks until the time asked: the message becomes visible again then", async () => {
    const { s, calls, pending } = setUp();
    const m = message();
    s.accept([m], await s.reserve(1));
    pending.get(m.messageId)!.answer({ kind: "nack", at: Date.now() + 90_000 });
    await settle();
    expect(calls).toEqual([["nack", m.receiptHandle, 90]]);
    await s.stop(0);
  });

  it("sends a fresh copy instead when the message's 12 h of visibility or its receives are nearly spent", async () => {
    const { s, calls, pending } = setUp();
    const old = message({ firstReceivedAt: t0 - 11.99 * 3600_000 });
    const worn = message({ receiveCount: 5 });
    s.accept([old, worn], await s.reserve(2));
    pending.get(old.messageId)!.answer({ kind: "nack", at: Date.now() + 120_000 });
    pending.get(worn.messageId)!.answer({ kind: "nack", at: Date.now() + 10_000 });
    await settle();
    // The copy goes first, the old message after it: a crash in between leaves two, never none.
    expect(calls).toEqual([
      ["resend", old.body, 120],
      ["resend", worn.body, 10],
      ["ack", old.receiptHandle],
      ["ack", worn.receiptHandle],
    ]);
    await s.stop(0);
  });

  it("dead-letters: the copy into the DLQ before the message goes", async () => {
    const { s, calls, pending } = setUp();
    const m = message();
    s.accept([m], await s.reserve(1));
    pending.get(m.messageId)!.answer({ kind: "dead-letter" });
    await settle();
    expect(calls).toEqual([
      ["deadLetter", m.body],
      ["ack", m.receiptHandle],
    ]);
    await s.stop(0);
  });

  it("a delivery that throws comes back after a backoff that grows with its receives", async () => {
    const { s, calls, pending } = setUp();
    const first = message({ receiveCount: 1 });
    const fourth = message({ receiveCount: 4 });
    s.accept([first, fourth], await s.reserve(2));
    pending.get(first.messageId)!.fail(new Error("DynamoDB unreachable"));
    pending.get(fourth.messageId)!.fail(new Error("DynamoDB unreachable"));
    await settle();
    expect(calls).toEqual([
      ["nack", first.receiptHandle, 2],
      ["nack", fourth.receiptHandle, 16],
    ]);
    expect(failureBackoffS(30)).toBe(300);
    await s.stop(0);
  });

  it("extends a message's visibility before it lapses, as long as it is worked on, and not after", async () => {
    const { s, calls, pending } = setUp();
    const m = message();
    s.accept([m], await s.reserve(1));
    // Worked on for 2.5 visibility timeouts, extended each time before half its visibility has passed.
    const extendedAt: number[] = [];
    for (let ms = 0; ms < 2.5 * visibilityTimeoutS * 1000; ms += 100) {
      await vi.advanceTimersByTimeAsync(100);
      if (calls.length > extendedAt.length) extendedAt.push(Date.now());
    }
    const gaps = extendedAt.map((at, i) => at - (extendedAt[i - 1] ?? t0));
    expect(gaps.length).toBeGreaterThanOrEqual(4);
    expect(Math.max(...gaps)).toBeLessThanOrEqual((visibilityTimeoutS * 1000) / 2);
    const beats = calls.filter((c) => c[0] === "nack");
    expect(beats.every((c) => c[1] === m.receiptHandle && c[2] === visibilityTimeoutS)).toBe(true);
    pending.get(m.messageId)!.answer({ kind: "ack" });
    await settle();
    const after = calls.length;
    await vi.advanceTimersByTimeAsync(2 * visibilityTimeoutS * 1000);
    expect(calls.length).toBe(after);
    await s.stop(0);
  });

  it("never reserves beyond its capacity: a reservation waits for room and gets only what is free", async () => {
    const { s, pending } = setUp({ capacity: 4 });
    const r1 = await s.reserve(10);
    expect(r1).toBe(4);
    let r2: number | undefined;
    void s.reserve(10).then((r) => (r2 = r));
    await settle();
    expect(r2).toBeUndefined();
    // Three received against the reservation of four: one place is free again.
    const ms = [message(), message(), message()];
    s.accept(ms, r1);
    await settle();
    expect(r2).toBe(1);
    let r3: number | undefined;
    void s.reserve(10).then((r) => (r3 = r));
    pending.get(ms[0]!.messageId)!.answer({ kind: "ack" });
    await settle();
    expect(r3).toBe(1);
    expect(s.inFlight() + r2! + r3!).toBeLessThanOrEqual(4);
    s.unreserve(r2!);
    s.unreserve(r3!);
    const stopped = s.stop(0);
    await vi.advanceTimersByTimeAsync(1);
    await stopped;
  });

  it("on stop: refuses reservations, sends back what arrives, and waits for the deliveries under way", async () => {
    const { s, calls, pending } = setUp();
    const m = message();
    const r = await s.reserve(2);
    s.accept([m], r);
    let stopped = false;
    const stopping = s.stop(60_000).then(() => (stopped = true));
    await expect(s.reserve(1)).rejects.toThrow(/stopping/);
    const late = message();
    s.accept([late], 0);
    await settle();
    expect(calls).toContainEqual(["nack", late.receiptHandle, 0]);
    expect(stopped).toBe(false);
    pending.get(m.messageId)!.answer({ kind: "ack" });
    await stopping;
    expect(calls).toContainEqual(["ack", m.receiptHandle]);
  });

  it("on stop: gives up waiting at the deadline; the message is then left to SQS", async () => {
    const { s, calls } = setUp();
    const m = message();
    s.accept([m], await s.reserve(1));
    let stopped = false;
    void s.stop(10_000).then(() => (stopped = true));
    await vi.advanceTimersByTimeAsync(9_000);
    expect(stopped).toBe(false);
    await vi.advanceTimersByTimeAsync(1_001);
    expect(stopped).toBe(true);
    expect(calls.filter((c) => c[0] !== "nack")).toEqual([]);
  });
});
