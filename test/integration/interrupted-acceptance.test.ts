/**
 * An acceptance cut short after the event was stored (found by the soak, issue 30): the client saw no 201 and sends
 * the request again with its Idempotency-Key. The repeat finishes what the first request did not (the lane join,
 * the message), so the event is delivered at once and in its key's order, not minutes later by the sweeper behind
 * events accepted after it. And a store write the SDK sent twice (its first answer lost) is still the request's own.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { randomBytes } from "node:crypto";
import { createEvent, freshEventWriter } from "../../services/aws/events/create-event.ts";
import { getEventForDelivery as readEvent } from "../../services/aws/events/read-events.ts";
import { newDelivery } from "../../services/core/delivery-state.ts";
import { idempotentEventId, newId } from "../../services/core/ids.ts";
import { postEvent } from "../support/api.ts";
import { startAwsFaultProxy } from "../support/aws-fault-proxy.ts";
import { eventually } from "../support/eventually.ts";
import { startApiProcess } from "../support/processes.ts";
import { startReceiver, type TestReceiver } from "../support/receiver.ts";
import { startStack, type Stack } from "../support/stack.ts";

let stack: Stack;
let receiver: TestReceiver;

beforeAll(async () => {
  // The sweeper's grace stays at its default (5 minutes): only the repeat can send the event in time.
  stack = await startStack();
  receiver = await startReceiver();
  stack.startWorker();
});
afterAll(async () => {
  await stack.close();
  await receiver.close();
});

describe("an acceptance cut short after the store", () => {
  it("is finished by the client's repeat: the event is delivered at once, before the key's later events", async () => {
    const tenant = await stack.createTenant([{ url: receiver.url }]);
    const headers = { "idempotency-key": "order-1", "ordering-key": "customer-7" };
    const body = JSON.stringify({ type: "order.created", n: 1 });
    // The first request through an API whose lane joins (UpdateItem) DynamoDB refuses: stored, then an error.
    const proxy = await startAwsFaultProxy(stack.env.AWS_ENDPOINT_URL_DYNAMODB!);
    const api = await startApiProcess({ ...stack.env, AWS_ENDPOINT_URL_DYNAMODB: proxy.url });
    try {
      proxy.throttle("UpdateItem", 1000);
      const first = await fetch(`http://127.0.0.1:${api.port}/v1/events`, {
        method: "POST",
        headers: { authorization: `Bearer ${tenant.apiKey}`, "content-type": "application/json", ...headers },
        body,
      });
      expect(first.status).toBeGreaterThanOrEqual(500);
    } finally {
      await api.kill();
      await proxy.close();
    }
    const eventId = idempotentEventId(tenant.tenantId, "order-1");
    const stored = await stack.http.get(`/v1/events/${eventId}`).set("authorization", `Bearer ${tenant.apiKey}`);
    expect(stored.status).toBe(200);
    expect(receiver.requests).toHaveLength(0);

    const repeat = await postEvent(stack, tenant.apiKey, body, headers);
    expect(repeat.status).toBe(200);
    expect(repeat.body).toMatchObject({ event_id: eventId });
    const next = await postEvent(
      stack,
      tenant.apiKey,
      { type: "order.created", n: 2 },
      { "ordering-key": "customer-7" },
    );
    expect(next.status).toBe(201);
    await eventually(() => expect(receiver.requests).toHaveLength(2), { timeoutMs: 15_000 });
    expect(receiver.requests.map((r) => (JSON.parse(r.body.toString()) as { n: number }).n)).toEqual([1, 2]);
  });

  it("takes a store write sent twice (its first answer lost) for its own, and another request's for a repeat", async () => {
    const tenant = await stack.createTenant([{ url: receiver.url }]);
    const now = Date.now();
    const item = {
      tenantId: tenant.tenantId,
      eventId: idempotentEventId(tenant.tenantId, "twice"),
      type: "order.created",
      body: Buffer.from("{}"),
      bodyHash: "h",
      createdAt: new Date(now).toISOString(),
      status: "PENDING" as const,
      deliveries: { [tenant.endpoints[0]!.endpointId]: newDelivery("msg_1", now) },
      version: 0,
      retentionMs: 86_400_000,
    };
    expect(await createEvent(stack.store, item, now)).toEqual({ created: true });
    expect(await createEvent(stack.store, item, now)).toEqual({ created: true });
    const other = { ...item, createdAt: new Date(now + 1).toISOString() };
    expect(await createEvent(stack.store, other, now + 1)).toMatchObject({ created: false });
  });

  it("stores concurrent fresh events in batches, and a batch one bad item fails item by item", async () => {
    const tenant = await stack.createTenant([{ url: receiver.url }]);
    const write = freshEventWriter(stack.store);
    const now = Date.now();
    const event = (body: Buffer) => ({
      tenantId: tenant.tenantId,
      eventId: newId("evt", now),
      type: "order.created",
      body,
      bodyHash: "h",
      createdAt: new Date(now).toISOString(),
      status: "PENDING" as const,
      deliveries: { [tenant.endpoints[0]!.endpointId]: newDelivery(newId("msg", now), now) },
      version: 0,
    });
    // Over DynamoDB's 400 KB for one item, and random, so deflating does not bring it under.
    const tooBig = event(randomBytes(410 * 1024));
    const good = Array.from({ length: 30 }, (_, i) => event(Buffer.from(JSON.stringify({ i }))));
    // The first goes alone (a PutItem); the bad one waits for it with the next 24 and fails their batch.
    const all = [...good.slice(0, 3), tooBig, ...good.slice(3)];
    const settled = await Promise.allSettled(all.map((e) => write(e, now)));
    expect(settled.map((r) => r.status)).toEqual(all.map((e) => (e === tooBig ? "rejected" : "fulfilled")));
    for (const e of good) {
      const stored = await readEvent(stack.store, { tenantId: tenant.tenantId, eventId: e.eventId });
      expect(Buffer.from(stored!.body).toString()).toBe(e.body.toString());
    }
    expect(await readEvent(stack.store, { tenantId: tenant.tenantId, eventId: tooBig.eventId })).toBeUndefined();
  });
});
