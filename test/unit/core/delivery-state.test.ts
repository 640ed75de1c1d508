import { describe, expect, it } from "vitest";
import { classifyAttempt, healthSignal, type AttemptVerdict } from "../../../services/core/attempt-outcome.ts";
import {
  applyOutcome,
  isOverdue,
  newDelivery,
  park,
  skip,
  nextDue,
  requeue,
  sameDelivery,
  skippedDelivery,
  totalAttempts,
  summarize,
  takeLease,
  unsentSince,
  type Delivery,
} from "../../../services/core/delivery-state.ts";

const now = 1_000_000;
const schedule = [1000, 2000];
const lease = { now, leaseId: "L1", leaseMs: 5000, maxAttempts: 3 };
const outcomeInput = { now, leaseId: "L1", schedule, random: () => 0.5 };
const fresh = newDelivery("msg_1", now);

function leased(d: Delivery = fresh): Delivery {
  const r = takeLease(d, lease);
  if (!r.ok) throw new Error(r.reason);
  return r.delivery;
}

describe("takeLease", () => {
  it("counts the attempt and holds the lease", () => {
    expect(leased()).toMatchObject({ attempts: 1, leaseId: "L1", leaseUntil: now + 5000, status: "PENDING" });
  });

  it("refuses while another lease is live, before the delivery is due, once settled, and past the budget", () => {
    expect(takeLease(leased(), { ...lease, leaseId: "L2" })).toEqual({
      ok: false,
      reason: "leased",
      retryAt: now + 5000,
    });
    expect(takeLease({ ...fresh, nextAttemptAt: now + 60_000 }, lease)).toEqual({
      ok: false,
      reason: "not-due",
      retryAt: now + 60_000,
    });
    expect(takeLease({ ...fresh, status: "DELIVERED" }, lease)).toEqual({ ok: false, reason: "settled" });
    expect(takeLease({ ...fresh, attempts: 3 }, lease)).toEqual({ ok: false, reason: "exhausted" });
  });

  it("allows a new lease once the old one expired (a worker died mid-POST)", () => {
    const r = takeLease(leased(), { ...lease, now: now + 5001, leaseId: "L2" });
    expect(r).toMatchObject({ ok: true, delivery: { attempts: 2, leaseId: "L2" } });
  });
});

describe("applyOutcome", () => {
  it("delivers on success", () => {
    const r = applyOutcome(leased(), { kind: "delivered", statusCode: 204 }, outcomeInput);
    expect(r).toMatchObject({
      ok: true,
      next: "delivered",
      delivery: { status: "DELIVERED", deliveredAt: now, leaseId: undefined },
    });
  });

  it("schedules the retry with the jittered delay, then dies after the last attempt", () => {
    const first = applyOutcome(leased(), { kind: "failed", statusCode: 500, error: "HTTP 500" }, outcomeInput);
    expect(first).toMatchObject({
      ok: true,
      next: "retry",
      delayMs: 1000,
      delivery: { status: "FAILED", nextAttemptAt: now + 1000 },
    });
    let d = first.ok ? first.delivery : fresh;
    d = leased({ ...d, nextAttemptAt: now });
    const second = applyOutcome(d, { kind: "failed", error: "timeout" }, outcomeInput);
    expect(second).toMatchObject({ next: "retry", delayMs: 2000 });
    d = leased({ ...(second.ok ? second.delivery : fresh), nextAttemptAt: now });
    expect(d.attempts).toBe(3);
    expect(applyOutcome(d, { kind: "failed", error: "timeout" }, outcomeInput)).toMatchObject({
      next: "dead",
      delivery: { status: "DEAD", deadAt: now, lastError: "timeout" },
    });
  });

  it("dies at once on a permanent failure (410)", () => {
    const outcome = classifyAttempt({ statusCode: 410, headers: {} }, now);
    expect(applyOutcome(leased(), outcome, outcomeInput)).toMatchObject({ next: "dead" });
  });

  it("never moves backwards: a settled delivery ignores late outcomes; a lost lease cannot record a failure", () => {
    const delivered: Delivery = { ...fresh, status: "DELIVERED" };
    expect(applyOutcome(delivered, { kind: "failed", error: "x" }, outcomeInput)).toEqual({
      ok: false,
      reason: "settled",
    });
    expect(applyOutcome(leased(), { kind: "failed", error: "x" }, { ...outcomeInput, leaseId: "other" })).toEqual({
      ok: false,
      reason: "lease-lost",
    });
    // A success from a worker whose lease lapsed still settles: the receiver has it.
    expect(
      applyOutcome(leased(), { kind: "delivered", statusCode: 200 }, { ...outcomeInput, leaseId: "other" }),
    ).toMatchObject({
      next: "delivered",
    });
  });

  it("honours Retry-After on 429 within [delay, 2x delay]", () => {
    const outcome = classifyAttempt({ statusCode: 429, headers: { "retry-after": "100" } }, now);
    expect(applyOutcome(leased(), outcome, outcomeInput)).toMatchObject({ next: "retry", delayMs: 2000 });
  });
});

describe("classifyAttempt", () => {
  it("treats only 2xx as success; redirects, errors and no response as failures", () => {
    expect(classifyAttempt({ statusCode: 204, headers: {} }, now).kind).toBe("delivered");
    expect(classifyAttempt({ statusCode: 301, headers: {} }, now)).toMatchObject({
      kind: "failed",
      error: "redirect (301) not followed",
    });
    expect(classifyAttempt({ statusCode: 500, headers: {} }, now)).toMatchObject({ kind: "failed", error: "HTTP 500" });
    expect(classifyAttempt({ headers: {}, error: "timeout" }, now)).toEqual({ kind: "failed", error: "timeout" });
    expect(classifyAttempt({ statusCode: 503, headers: { "retry-after": "7" } }, now)).toMatchObject({
      retryAfterMs: 7000,
    });
  });

  it("410 is permanent and gone (the endpoint is disabled); another 4xx is neither", () => {
    expect(classifyAttempt({ statusCode: 410, headers: {} }, now)).toMatchObject({ permanent: true, gone: true });
    expect(classifyAttempt({ statusCode: 404, headers: {} }, now)).toEqual({
      kind: "failed",
      statusCode: 404,
      error: "HTTP 404",
    });
  });

  it("an attempt without a status follows its verdict: gone, permanent, or retried (throttled, retry, none)", () => {
    const failure = (verdict: AttemptVerdict | undefined) => classifyAttempt({ headers: {}, error: "e", verdict }, now);
    expect(failure("gone")).toEqual({ kind: "failed", error: "e", permanent: true, gone: true });
    expect(failure("permanent")).toEqual({ kind: "failed", error: "e", permanent: true });
    for (const v of ["throttled", "retry", undefined] as const)
      expect(failure(v)).toEqual({ kind: "failed", error: "e" });
    expect(applyOutcome(leased(), failure("gone"), outcomeInput)).toMatchObject({ next: "dead" });
    expect(applyOutcome(leased(), failure("throttled"), outcomeInput)).toMatchObject({ next: "retry" });
  });

  it("health: throttling and no answer say unhealthy; a refusal for good says nothing of the endpoint", () => {
    expect(healthSignal(undefined, "throttled")).toBe("unhealthy");
    expect(healthSignal(undefined, "retry")).toBe("unhealthy");
    expect(healthSignal(undefined)).toBe("unhealthy");
    expect(healthSignal(undefined, "gone")).toBe("neutral");
    expect(healthSignal(undefined, "permanent")).toBe("neutral");
    expect([healthSignal(200), healthSignal(410), healthSignal(429)]).toEqual(["healthy", "neutral", "unhealthy"]);
  });
});

describe("requeue, summarize, nextDue", () => {
  it("requeues FAILED and DEAD with a fresh budget and the same webhook-id", () => {
    const dead: Delivery = { ...fresh, status: "DEAD", attempts: 6, deadAt: now };
    expect(requeue(dead, now + 1)).toMatchObject({
      status: "PENDING",
      attempts: 0,
      webhookId: "msg_1",
      nextAttemptAt: now + 1,
      deadAt: undefined,
    });
    // The attempt log numbers on across requeues: nothing of the first run is overwritten.
    const twice = requeue({ ...requeue(dead, now)!, status: "DEAD", attempts: 2 }, now)!;
    expect([twice.attempts, twice.priorAttempts, totalAttempts(twice)]).toEqual([
      0,
      dead.attempts + 2,
      dead.attempts + 2,
    ]);
    expect(requeue(fresh, now)).toBeUndefined();
    expect(requeue({ ...fresh, status: "DELIVERED" }, now)).toBeUndefined();
  });

  it("records a skipped delivery settled, never leased, and requeues it like a dead one, remembering where from", () => {
    const skipped = skippedDelivery("msg_2", now);
    expect(skipped).toMatchObject({ status: "SKIPPED", attempts: 0, skippedAt: now });
    expect(takeLease(skipped, lease)).toEqual({ ok: false, reason: "settled" });
    expect(nextDue({ a: skipped }, 300)).toBeUndefined();
    expect(unsentSince(skipped)).toBe(now);
    const back = requeue(skipped, now + 5)!;
    expect(back).toMatchObject({
      status: "PENDING",
      webhookId: "msg_2",
      skippedAt: undefined,
      recoveredFrom: "SKIPPED",
    });
    expect(unsentSince(back)).toBeUndefined();
    // The success of a requeued delivery still says where it came from: the worker announces it as recovered.
    const delivered = applyOutcome(leased(back), { kind: "delivered", statusCode: 200 }, outcomeInput);
    expect(delivered).toMatchObject({ ok: true, delivery: { status: "DELIVERED", recoveredFrom: "SKIPPED" } });
    const dead: Delivery = { ...fresh, status: "DEAD", deadAt: now };
    expect(unsentSince(dead)).toBe(now);
    expect(requeue(dead, now)?.recoveredFrom).toBe("DEAD");
    expect(requeue({ ...fresh, status: "FAILED" }, now)?.recoveredFrom).toBeUndefined();
  });

  it("summarises: PENDING until all settle, then DEAD if any died, then SKIPPED if any was skipped", () => {
    const delivered: Delivery = { ...fresh, status: "DELIVERED" };
    const dead: Delivery = { ...fresh, status: "DEAD" };
    const skipped = skippedDelivery("msg_2", now);
    expect(summarize({ a: skipped, b: fresh })).toBe("PENDING");
    expect(summarize({ a: skipped, b: dead })).toBe("DEAD");
    expect(summarize({ a: skipped, b: delivered })).toBe("SKIPPED");
    expect(summarize({ a: delivered, b: fresh })).toBe("PENDING");
    expect(summarize({ a: delivered, b: { ...fresh, status: "FAILED" } })).toBe("PENDING");
    expect(summarize({ a: delivered, b: dead })).toBe("DEAD");
    expect(summarize({ a: delivered })).toBe("DELIVERED");
    expect(summarize({})).toBe("DELIVERED");
  });

  it("is due at the earliest unsettled delivery, counting a live lease; a parked one a grace early", () => {
    expect(nextDue({ a: { ...fresh, nextAttemptAt: 5 }, b: { ...fresh, nextAttemptAt: 3 } }, 300)).toBe(3);
    expect(nextDue({ a: { ...fresh, nextAttemptAt: 3, leaseUntil: 9 } }, 300)).toBe(9);
    expect(nextDue({ a: { ...fresh, status: "DELIVERED" } }, 300)).toBeUndefined();
    // The sweeper takes index entries a grace past due: a parked one (no message) is indexed so it is sent when due.
    expect(nextDue({ a: { ...fresh, nextAttemptAt: 1000, parked: true } }, 300)).toBe(700);
  });
});

describe("park, skip and the sweeper's view", () => {
  const due = { ...fresh, nextAttemptAt: now };

  it("parks a due, unleased delivery until a time; not a settled one, a leased one, or one another copy deferred", () => {
    expect(park(due, now, now + 60_000)).toEqual({
      ok: true,
      delivery: { ...due, nextAttemptAt: now + 60_000, parked: true },
    });
    expect(park({ ...due, status: "DELIVERED" }, now, now + 60_000)).toEqual({ ok: false, reason: "settled" });
    expect(park(leased(due), now, now + 60_000)).toEqual({ ok: false, reason: "leased" });
    const parked = park(due, now, now + 60_000);
    expect(parked.ok && park(parked.delivery, now, now + 90_000)).toEqual({ ok: false, reason: "surplus" });
  });

  it("a lease or a requeue unparks it", () => {
    const parked = { ...due, parked: true, nextAttemptAt: now };
    expect(leased(parked).parked).toBeUndefined();
    expect(requeue({ ...parked, status: "FAILED" }, now)?.parked).toBeUndefined();
  });

  it("skips an unsettled, unleased delivery (its endpoint disabled), and a recover requeues it", () => {
    const skipped = skip({ ...due, status: "FAILED", attempts: 2, parked: true }, now + 5);
    expect(skipped).toMatchObject({ status: "SKIPPED", skippedAt: now + 5, attempts: 2, parked: undefined });
    expect(skip(leased(due), now)).toBeUndefined();
    expect(skip({ ...due, status: "DEAD" }, now)).toBeUndefined();
    expect(requeue(skipped!, now + 10)).toMatchObject({
      status: "PENDING",
      recoveredFrom: "SKIPPED",
      priorAttempts: 2,
    });
  });

  it("is overdue a grace after its due time with no live lease; a parked one as soon as it is due", () => {
    const grace = 300;
    expect(isOverdue({ ...due, nextAttemptAt: now - grace }, now, grace)).toBe(true);
    expect(isOverdue({ ...due, nextAttemptAt: now - grace + 1 }, now, grace)).toBe(false);
    expect(isOverdue({ ...due, nextAttemptAt: now - grace, leaseUntil: now + 1 }, now, grace)).toBe(false);
    expect(isOverdue({ ...due, nextAttemptAt: now, parked: true }, now, grace)).toBe(true);
    expect(isOverdue({ ...due, nextAttemptAt: now + 1, parked: true }, now, grace)).toBe(false);
    expect(isOverdue({ ...due, status: "SKIPPED", nextAttemptAt: 0 }, now, grace)).toBe(false);
  });
});

describe("sameDelivery", () => {
  const d = newDelivery("msg_1", 1000);
  it("takes a field set to undefined for an absent one, as DynamoDB stores it", () => {
    expect(sameDelivery({ ...d, leaseId: undefined, leaseUntil: undefined }, d)).toBe(true);
    expect(sameDelivery(d, { ...d, parked: undefined })).toBe(true);
  });
  it("tells apart any field with another value, or one that only one side has", () => {
    expect(sameDelivery(d, { ...d, attempts: 1 })).toBe(false);
    expect(sameDelivery(d, { ...d, leaseId: "x" })).toBe(false);
    expect(sameDelivery({ ...d, leaseId: "x" }, d)).toBe(false);
  });
});
