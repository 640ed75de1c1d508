/**
 * `deliver` branch by branch, against an in-memory stand-in for its store and receiver (the DeliveryOps
 * interface), with the real state machine, slot pool, endpoint gate and memory budget: each stage's outcomes and
 * failures.
 */
import { randomBytes } from "node:crypto";
import { pino } from "pino";
import { describe, expect, it } from "vitest";
import {
  applyOutcome,
  exhaust,
  newDelivery,
  takeLease as decideLease,
  type Delivery,
} from "../../../services/core/delivery-state.ts";
import type { OperationalNotice } from "../../../services/core/operational-events.ts";
import { newEndpointRecord, type Endpoint, type Tenant } from "../../../services/core/tenant.ts";
import type { EventItem } from "../../../services/aws/events/store.ts";
import { localKeyProvider, openSecrets, sealSecrets } from "../../../services/aws/secret-keys.ts";
import { verifyWebhook } from "../../../services/core/signing.ts";
import type { PostResult } from "../../../services/outbound/guarded-client.ts";
import type { DestinationMessage } from "../../../services/aws/destinations/sender.ts";
import type { Destination } from "../../../services/core/destination.ts";
import { createMetrics } from "../../../services/metrics.ts";
import { createComebacks } from "../../../services/worker/comebacks.ts";
import { deliver } from "../../../services/worker/deliver.ts";
import { DeliveryStageError, type DeliverDeps, type DeliveryOps } from "../../../services/worker/deliver-deps.ts";
import { createEndpointGate } from "../../../services/worker/endpoint-gate.ts";
import { createMemoryBudget } from "../../../services/worker/memory-budget.ts";
import { createSlotPool } from "../../../services/worker/slot-pool.ts";

const now = 1_800_000_000_000;
const ids = { tenantId: "ten_1", eventId: "evt_1", endpointId: "ep_1" };
const message = (extra: Record<string, unknown> = {}) => ({
  messageId: "m1",
  receiptHandle: "r1",
  body: JSON.stringify({ ...ids, ...extra }),
  receiveCount: 1,
  firstReceivedAt: now,
});

/** One tenant, one endpoint, one event with one delivery; `answer` is the receiver. */
function world(answer: () => PostResult | Promise<PostResult>, delivery: Partial<Delivery> = {}) {
  const endpoint: Endpoint = newEndpointRecord(
    { url: "https://hooks.example/in" },
    "whsec_dGVzdHRlc3R0ZXN0dGVzdHRlc3R0ZXN0",
    now,
  );
  let tenant: Tenant = {
    tenantId: ids.tenantId,
    name: "t",
    status: "active",
    createdAt: now,
    version: 0,
    endpoints: { [ids.endpointId]: endpoint },
  };
  let event: EventItem = {
    tenantId: ids.tenantId,
    eventId: ids.eventId,
    body: Buffer.from('{"type":"x"}'),
    bodyHash: "",
    createdAt: new Date(now).toISOString(),
    status: "PENDING",
    deliveries: { [ids.endpointId]: { ...newDelivery("msg_1", now), ...delivery } },
    version: 0,
  };
  const attempts: number[] = [];
  const posts: string[] = [];
  const parked: number[] = [];
  const sentHeaders: Record<string, string>[] = [];
  const sent: { dest: Destination; message: DestinationMessage }[] = [];
  const notices: OperationalNotice[] = [];
  const keys = localKeyProvider(randomBytes(32));
  const failing = new Set<keyof DeliveryOps>();
  const guard = (op: keyof DeliveryOps) => {
    if (failing.has(op)) throw Object.assign(new Error(`${op} unavailable`), { name: "ServiceUnavailable" });
  };
  const set = (d: Delivery) => {
    event = { ...event, deliveries: { [ids.endpointId]: d }, version: event.version + 1 };
  };
  const ops: DeliveryOps = {
    getTenant: async () => (guard("getTenant"), tenant),
    async takeLease(_key, input) {
      guard("takeLease");
      const decision = decideLease(event.deliveries[ids.endpointId]!, input);
      if (!decision.ok && decision.reason === "exhausted") {
        set(exhaust(event.deliveries[ids.endpointId]!, input.now));
        return { ...decision, delivery: event.deliveries[ids.endpointId]! };
      }
      if (!decision.ok) return decision;
      set(decision.delivery);
      return { ok: true, delivery: decision.delivery, event };
    },
    async recordAttempt(_t, a) {
      guard("recordAttempt");
      attempts.push(a.attempt);
    },
    async recordOutcome(_key, outcome, input) {
      guard("recordOutcome");
      const decision = applyOutcome(event.deliveries[ids.endpointId]!, outcome, input);
      if (decision.ok) set(decision.delivery);
      return decision;
    },
    abandon: async () => true,
    async skip(_key, at) {
      set({ ...event.deliveries[ids.endpointId]!, status: "SKIPPED", skippedAt: at });
      return { delivery: event.deliveries[ids.endpointId]! };
    },
    takeTurn: async () => ({ ok: true }),
    passTurn: async () => undefined,
    park: async (_key, _now, until) => (parked.push(until), "parked"),
    async changeEndpoint(_key, change) {
      const next = change(tenant.endpoints[ids.endpointId]!);
      if (next) tenant = { ...tenant, version: tenant.version + 1, endpoints: { [ids.endpointId]: next } };
      return tenant.endpoints[ids.endpointId];
    },
    takeRateTurn: async () => (guard("takeRateTurn"), { ok: true, tat: now, at: now }),
    async openSecrets(key, secrets) {
      guard("openSecrets");
      return openSecrets(keys, key, secrets);
    },
    async post(url, _body, headers) {
      guard("post");
      posts.push(url);
      sentHeaders.push(headers);
      return answer();
    },
    async send(dest, m) {
      guard("send");
      sent.push({ dest, message: m });
      return answer();
    },
    notify: Object.assign(
      async (n: OperationalNotice) => {
        notices.push(n);
      },
      { flush: async () => undefined },
    ),
  };
  const clock = { now: () => now, random: () => 0.5 };
  const gate = createEndpointGate(
    {
      breakerFailures: 5,
      breakerCooldownMs: 30_000,
      leaseMs: 10_000,
      rateHorizonMs: 10_000,
      tenantCap: 10,
      comebacks: createComebacks(clock),
      now: clock.now,
    },
    ops,
  );
  const deps: DeliverDeps = {
    ops,
    pool: createSlotPool({ tenantCap: 10 }),
    gate,
    memory: createMemoryBudget(1 << 20),
    schedule: [1000, 2000],
    leaseMs: 10_000,
    endpointCap: 10,
    disableAfterMs: 86_400_000,
    sweepGraceMs: 300_000,
    slotWaitMs: 0,
    maxPayloadBytes: 1024,
    figures: { observe: () => undefined },
    log: pino({ level: "silent" }),
    metrics: createMetrics("worker"),
    now: () => now,
    random: () => 0.5,
  };
  const setEndpoint = (change: (e: Endpoint) => Endpoint) => {
    tenant = { ...tenant, endpoints: { [ids.endpointId]: change(tenant.endpoints[ids.endpointId]!) } };
  };
  /** Seals the tenant's secrets as the tenant store does on every write. */
  const seal = async () => {
    tenant = await sealSecrets(keys, tenant);
  };
  return {
    deps,
    ops,
    attempts,
    posts,
    parked,
    sentHeaders,
    sent,
    notices,
    failing,
    setEndpoint,
    seal,
    delivery: () => event.deliveries[ids.endpointId]!,
    endpoint: () => tenant.endpoints[ids.endpointId]!,
  };
}

const answer = (statusCode: number | undefined, headers: Record<string, string> = {}): PostResult => ({
  statusCode,
  headers,
  bodyExcerpt: "",
  durationMs: 12,
  error: statusCode === undefined ? "timeout" : undefined,
});

describe("deliver", () => {
  it("success: POSTs once, records attempt 1 and DELIVERED, deletes the message", async () => {
    const w = world(() => answer(200));
    expect(await deliver(w.deps, message())).toEqual({ kind: "ack" });
    expect(w.posts).toEqual(["https://hooks.example/in"]);
    expect(w.attempts).toEqual([1]);
    expect(w.delivery()).toMatchObject({ status: "DELIVERED", attempts: 1, leaseId: undefined });
  });

  it("a failure with attempts left: FAILED, and the message comes back when the retry is due", async () => {
    const w = world(() => answer(500));
    expect(await deliver(w.deps, message())).toEqual({ kind: "nack", at: now + 1000 });
    expect(w.delivery()).toMatchObject({
      status: "FAILED",
      attempts: 1,
      lastError: "HTTP 500",
      nextAttemptAt: now + 1000,
    });
  });

  it("the last failure: DEAD, into the dead-letter queue, announced as exhausted", async () => {
    const w = world(() => answer(undefined), { status: "FAILED", attempts: 2 });
    expect(await deliver(w.deps, message())).toEqual({ kind: "dead-letter" });
    expect(w.delivery()).toMatchObject({ status: "DEAD", attempts: 3, lastError: "timeout" });
    expect(w.notices).toEqual([
      {
        type: "delivery.exhausted",
        data: {
          tenant_id: ids.tenantId,
          endpoint_id: ids.endpointId,
          event_id: ids.eventId,
          attempts: 3,
          last_status_code: null,
          last_error: "timeout",
        },
      },
    ]);
  });

  it("410 Gone: dead at once, and the endpoint disabled; both announced", async () => {
    const w = world(() => answer(410));
    expect(await deliver(w.deps, message())).toEqual({ kind: "dead-letter" });
    expect(w.delivery().status).toBe("DEAD");
    expect(w.endpoint()).toMatchObject({
      enabled: false,
      disabledAt: now,
      disabledReason: expect.stringContaining("410 Gone"),
    });
    expect(w.notices.map((n) => n.type)).toEqual(["endpoint.disabled", "delivery.exhausted"]);
    expect(w.notices[0]!.data).toEqual({
      tenant_id: ids.tenantId,
      endpoint_id: ids.endpointId,
      reason: w.endpoint().disabledReason,
      last_status_code: 410,
    });
  });

  describe("to an AWS destination", () => {
    const destination: Destination = {
      type: "aws_sqs",
      target: "https://sqs.eu-west-1.amazonaws.com/111111111111/orders",
      roleArn: "arn:aws:iam::111111111111:role/webhooks",
      externalId: "whx_1",
    };
    const awsFailure = (verdict: PostResult["verdict"], error: string): PostResult => ({
      headers: {},
      bodyExcerpt: "",
      durationMs: 5,
      error,
      verdict,
    });

    it("sends into the destination, not a POST, with the signatures an HTTP delivery carries", async () => {
      const w = world(() => ({ statusCode: 200, headers: {}, bodyExcerpt: "MessageId 1", durationMs: 5 }));
      w.setEndpoint((e) => ({ ...e, destination, url: destination.target }));
      expect(await deliver(w.deps, message())).toEqual({ kind: "ack" });
      expect(w.posts).toEqual([]);
      const [{ dest, message: m }] = w.sent as [{ dest: Destination; message: DestinationMessage }];
      expect(dest).toEqual(destination);
      expect(m).toMatchObject({ eventId: ids.eventId, tenantId: ids.tenantId });
      const secret = "whsec_dGVzdHRlc3R0ZXN0dGVzdHRlc3R0ZXN0";
      const verified = verifyWebhook(m.signatureHeaders, m.body, secret, { now: Math.floor(now / 1000) });
      expect(verified).toEqual({ ok: true, format: "standard" });
      expect(w.delivery().status).toBe("DELIVERED");
    });

    it("a missing target or a refusing role: dead at once and the endpoint disabled in the AWS error's words", async () => {
      const error = "AWS QueueDoesNotExist on sqs:SendMessage: the target does not exist";
      const w = world(() => awsFailure("gone", error));
      w.setEndpoint((e) => ({ ...e, destination, url: destination.target }));
      expect(await deliver(w.deps, message())).toEqual({ kind: "dead-letter" });
      expect(w.delivery()).toMatchObject({ status: "DEAD", lastError: error });
      expect(w.endpoint()).toMatchObject({ enabled: false, disabledReason: expect.stringContaining(error) });
      expect(w.notices.map((n) => n.type)).toEqual(["endpoint.disabled", "delivery.exhausted"]);
    });

    it("a message too large for the service: dead at once; the endpoint stays enabled, its in-flight limit uncut", async () => {
      const w = world(() => awsFailure("permanent", "payload of 300000 bytes exceeds aws_sns's 262144-byte limit"));
      w.setEndpoint((e) => ({ ...e, destination, url: destination.target }));
      expect(await deliver(w.deps, message())).toEqual({ kind: "dead-letter" });
      expect(w.endpoint()).toMatchObject({ enabled: true });
      expect(w.endpoint().inFlightLimit).toBeUndefined();
    });

    it("throttled: retried on the schedule, as a 429 without Retry-After", async () => {
      const w = world(() => awsFailure("throttled", "AWS ThrottlingException on sqs:SendMessage: retried later"));
      w.setEndpoint((e) => ({ ...e, destination, url: destination.target }));
      expect(await deliver(w.deps, message())).toEqual({ kind: "nack", at: now + 1000 });
      expect(w.delivery()).toMatchObject({ status: "FAILED", lastStatusCode: undefined });
    });
  });

  it("a budget spent by a worker that died: DEAD without a POST, dead-lettered and announced", async () => {
    const w = world(() => answer(200), { attempts: 3 });
    expect(await deliver(w.deps, message())).toEqual({ kind: "dead-letter" });
    expect(w.posts).toEqual([]);
    expect(w.delivery().status).toBe("DEAD");
    expect(w.notices.map((n) => n.type)).toEqual(["delivery.exhausted"]);
  });

  it("a requeued dead delivery delivered: announced as recovered; a first success is not", async () => {
    const recovered = world(() => answer(200), { recoveredFrom: "DEAD" });
    expect(await deliver(recovered.deps, message())).toEqual({ kind: "ack" });
    expect(recovered.notices).toEqual([
      {
        type: "delivery.recovered",
        data: { tenant_id: ids.tenantId, endpoint_id: ids.endpointId, event_id: ids.eventId, recovered_from: "DEAD" },
      },
    ]);
    const first = world(() => answer(200));
    await deliver(first.deps, message());
    expect(first.notices).toEqual([]);
  });

  it("leased by another worker: no POST, back when the lease ends", async () => {
    const w = world(() => answer(200), { leaseId: "other", leaseUntil: now + 5000, attempts: 1 });
    expect(await deliver(w.deps, message())).toEqual({ kind: "nack", at: now + 5000 });
    expect(w.posts).toEqual([]);
  });

  it("arrives early: no POST, no attempt spent, back when it is due", async () => {
    const w = world(() => answer(200), { status: "FAILED", attempts: 1, nextAttemptAt: now + 60_000 });
    expect(await deliver(w.deps, message())).toEqual({ kind: "nack", at: now + 60_000 });
    expect(w.posts).toEqual([]);
    expect(w.delivery().attempts).toBe(1);
  });

  it("already delivered: acknowledged without a POST", async () => {
    const w = world(() => answer(200), { status: "DELIVERED", attempts: 1 });
    expect(await deliver(w.deps, message())).toEqual({ kind: "ack" });
    expect(w.posts).toEqual([]);
  });

  it("a backend failure before the POST: a stage error, nothing POSTed, nothing spent", async () => {
    const w = world(() => answer(200));
    w.failing.add("takeLease");
    const err = await deliver(w.deps, message()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DeliveryStageError);
    expect((err as DeliveryStageError).stage).toBe("before the attempt");
    expect(w.posts).toEqual([]);
    expect(w.delivery().attempts).toBe(0);
  });

  it("a backend failure after the POST: a stage error; the lease stands, so no second worker POSTs before it ends", async () => {
    const w = world(() => answer(200));
    w.failing.add("recordOutcome");
    const err = await deliver(w.deps, message()).catch((e: unknown) => e);
    expect((err as DeliveryStageError).stage).toBe("after the attempt");
    // Its log line names the delivery: a repeat POST that follows can be traced to it.
    expect((err as DeliveryStageError).ids).toMatchObject({ event_id: expect.stringMatching(/^evt_/) });
    expect(w.posts).toHaveLength(1);
    expect(w.delivery()).toMatchObject({ status: "PENDING", attempts: 1, leaseUntil: now + 10_000 });
  });

  it("an open circuit: deferred until its probe may go, no attempt; a wait past half the sweeper's grace parks it", async () => {
    const w = world(() => answer(200));
    w.setEndpoint((e) => ({
      ...e,
      circuit: { state: "open", since: now, retryAt: now + 600_000, cooldownMs: 600_000 },
    }));
    // Parked: its due time written, its message acked; the sweeper sends a new one then.
    expect(await deliver(w.deps, message())).toEqual({ kind: "ack" });
    expect(w.parked).toHaveLength(1);
    expect(w.parked[0]).toBeGreaterThanOrEqual(now + 540_000);
    expect(w.posts).toEqual([]);
    expect(w.delivery().attempts).toBe(0);
  });

  it("a short deferral is a nack, with no write at all", async () => {
    const w = world(() => answer(200));
    w.setEndpoint((e) => ({ ...e, circuit: { state: "open", since: now, retryAt: now + 30_000, cooldownMs: 30_000 } }));
    const d = await deliver(w.deps, message());
    expect(d.kind === "nack" && d.at - now).toBeGreaterThanOrEqual(27_000);
    expect(w.parked).toEqual([]);
  });

  it("a disabled endpoint's delivery is skipped (recorded for a recover), not sent and not kept coming back", async () => {
    const w = world(() => answer(200), { status: "FAILED", attempts: 1 });
    w.setEndpoint((e) => ({ ...e, enabled: false }));
    expect(await deliver(w.deps, message())).toEqual({ kind: "ack" });
    expect(w.delivery()).toMatchObject({ status: "SKIPPED", skippedAt: now, attempts: 1 });
    expect(w.posts).toEqual([]);
  });

  const slotOf = async (w: ReturnType<typeof world>) => {
    const grant = await w.deps.pool.acquire({ ...ids, limit: () => 1, maxWaitMs: 0 });
    if (!grant.ok) throw new Error("no slot");
    return grant.slot;
  };

  it("over the endpoint's in-flight cap: back shortly, with no write at all", async () => {
    const w = world(() => answer(200));
    w.setEndpoint((e) => ({ ...e, maxInFlight: 1 }));
    await slotOf(w);
    const d = await deliver(w.deps, message());
    expect(d.kind).toBe("nack");
    expect(d.kind === "nack" && d.at - now).toBeLessThan(5000);
    expect(w.parked).toEqual([]);
    expect(w.posts).toEqual([]);
  });

  it("over the cap of a steady endpoint: waits on the task for the slot, then reads the endpoint again", async () => {
    const w = world(() => answer(200));
    w.setEndpoint((e) => ({ ...e, maxInFlight: 1 }));
    const deps = { ...w.deps, slotWaitMs: 60_000 };
    const slot = await slotOf(w);
    const waiting = deliver(deps, message());
    await new Promise((r) => setTimeout(r, 10));
    expect(w.posts).toEqual([]);
    // Disabled while it waited: skipped, not POSTed with what was read before the wait.
    w.setEndpoint((e) => ({ ...e, enabled: false }));
    slot.release();
    expect(await waiting).toEqual({ kind: "ack" });
    expect(w.delivery().status).toBe("SKIPPED");
    expect(w.posts).toEqual([]);
    expect(deps.pool.inFlight()).toBe(0);
  });

  it("the next one in line POSTs as soon as the slot is free", async () => {
    const w = world(() => answer(200));
    w.setEndpoint((e) => ({ ...e, maxInFlight: 1 }));
    const deps = { ...w.deps, slotWaitMs: 60_000 };
    const held = await slotOf(w);
    const next = deliver(deps, message());
    held.release();
    expect(await next).toEqual({ kind: "ack" });
    expect(w.posts).toEqual(["https://hooks.example/in"]);
  });

  it("a store failure after the slot was taken (the rate turn's write) gives the slot back", async () => {
    const w = world(() => answer(200));
    w.setEndpoint((e) => ({ ...e, maxInFlight: 1, rateLimit: 5 }));
    w.failing.add("takeRateTurn");
    const err = await deliver(w.deps, message()).catch((e: unknown) => e);
    expect((err as DeliveryStageError).stage).toBe("before the attempt");
    expect(w.deps.pool.inFlight()).toBe(0);
    w.failing.delete("takeRateTurn");
    expect(await deliver(w.deps, message())).toEqual({ kind: "ack" });
  });

  it("a run of failures trips the circuit, written once on the endpoint", async () => {
    const w = world(() => answer(503));
    const deps = { ...w.deps, schedule: [0, 0, 0, 0, 0, 0] };
    for (let i = 0; i < 5; i++) expect(await deliver(deps, message())).toMatchObject({ kind: "nack" });
    expect(w.posts).toHaveLength(5);
    expect(w.endpoint().circuit).toMatchObject({ state: "open", reason: "failed repeatedly, last: HTTP 503" });
    expect(w.endpoint().inFlightLimit).toBeLessThan(10);
  });

  it("signs with the endpoint's secret opened from its sealed form", async () => {
    const w = world(() => answer(200));
    await w.seal();
    expect(w.endpoint().secrets[0]).not.toHaveProperty("secret");
    expect(await deliver(w.deps, message())).toEqual({ kind: "ack" });
    const verified = verifyWebhook(
      w.sentHeaders[0]!,
      Buffer.from('{"type":"x"}'),
      "whsec_dGVzdHRlc3R0ZXN0dGVzdHRlc3R0ZXN0",
      { now: Math.floor(now / 1000) },
    );
    expect(verified).toEqual({ ok: true, format: "standard" });
  });

  it("a key provider failure: a stage error before the attempt, nothing POSTed, nothing spent", async () => {
    const w = world(() => answer(200));
    w.failing.add("openSecrets");
    const err = await deliver(w.deps, message()).catch((e: unknown) => e);
    expect((err as DeliveryStageError).stage).toBe("before the attempt");
    expect(w.posts).toEqual([]);
    expect(w.delivery().attempts).toBe(0);
    // Nothing held either: the next delivery goes through.
    w.failing.delete("openSecrets");
    expect(await deliver(w.deps, message())).toEqual({ kind: "ack" });
  });

  it("a poison message: dropped without touching anything", async () => {
    const w = world(() => answer(200));
    expect(await deliver(w.deps, { ...message(), body: "not json" })).toEqual({ kind: "ack" });
    expect(w.posts).toEqual([]);
  });
});
