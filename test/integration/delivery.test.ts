/** End to end through the real emulators, the real SDK and a real loopback receiver. */
import { GetQueueAttributesCommand, ReceiveMessageCommand } from "@aws-sdk/client-sqs";
import { GetCommand } from "@aws-sdk/lib-dynamodb";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { enqueueDeliveries } from "../../services/aws/delivery-queue.ts";
import { getEvent, postEvent } from "../support/api.ts";
import { eventually } from "../support/eventually.ts";
import { startReceiver, verifyWithIndependentLibraries, type TestReceiver } from "../support/receiver.ts";
import { startStack, type Stack } from "../support/stack.ts";

let stack: Stack;
const receivers: TestReceiver[] = [];

beforeAll(async () => {
  stack = await startStack({ RETRY_SCHEDULE: "1s,1s", DELIVERY_TIMEOUT_MS: "1500" });
  stack.startWorker();
});
afterAll(async () => {
  await stack.close();
  await Promise.all(receivers.map((r) => r.close()));
});

async function tenantWithReceiver() {
  const receiver = await startReceiver();
  receivers.push(receiver);
  const tenant = await stack.createTenant([{ url: receiver.url }]);
  return { receiver, tenant, secret: tenant.endpoints[0]!.secret };
}

async function settled(apiKey: string, eventId: string, status: string) {
  return eventually(
    async () => {
      const e = await getEvent(stack, apiKey, eventId);
      return e.status === status ? e : undefined;
    },
    { what: `event ${status}` },
  );
}

describe("delivery", () => {
  it("POSTs the exact bytes with both signatures, verified by the standardwebhooks and stripe packages", async () => {
    const { receiver, tenant, secret } = await tenantWithReceiver();
    const raw = '{ "type": "order.paid",  "amount":4200, "z":1, "a":"caf\u00e9 \u2603", "n": 1.50 }';
    const res = await postEvent(stack, tenant.apiKey, raw);
    expect(res.status).toBe(201);
    expect(res.body).toEqual({ event_id: expect.stringMatching(/^evt_/), status: "PENDING" });

    const event = await settled(tenant.apiKey, res.body.event_id, "DELIVERED");
    expect(receiver.requests).toHaveLength(1);
    const req = receiver.requests[0]!;
    expect(req.body.toString("utf8")).toBe(raw);
    expect(req.headers["content-type"]).toBe("application/json");
    expect(req.headers["user-agent"]).toBe("webhook-delivery-platform-test");
    expect(req.headers["webhook-id"]).toBe(event.deliveries[0]!.webhook_id);
    verifyWithIndependentLibraries(req, secret);
    expect(event.type).toBe("order.paid");
    expect(event.deliveries[0]).toMatchObject({
      status: "DELIVERED",
      attempts: 1,
      attempt_log: [{ attempt: 1, status_code: 200, error: null, response_excerpt: "ok" }],
    });
  });

  it("stores a payload deflated, POSTs its exact bytes, and lists the delivered event from by-created", async () => {
    const { receiver, tenant } = await tenantWithReceiver();
    const lines = Array.from({ length: 300 }, (_, i) => ({ sku: `sku-${i}`, quantity: i % 7, note: "caf\u00e9" }));
    const raw = JSON.stringify({ type: "order.paid", lines }, null, 1);
    const res = await postEvent(stack, tenant.apiKey, raw);
    const id = res.body.event_id as string;
    await settled(tenant.apiKey, id, "DELIVERED");
    expect(receiver.requests[0]!.body.toString("utf8")).toBe(raw);
    const { Item } = await stack.clients.ddb.send(
      new GetCommand({ TableName: stack.tables.events, Key: { tenantId: tenant.tenantId, sk: id } }),
    );
    expect(Item).toMatchObject({ bodyCodec: "deflate", status: "DELIVERED" });
    expect((Item!.body as Uint8Array).byteLength).toBeLessThan(raw.length / 4);
    // Delivered events are kept out of by-status (each settle would rewrite it): listed from by-created, filtered.
    expect(Item).not.toHaveProperty("tenantStatus");
    const list = async (q: string) =>
      (await stack.http.get(`/v1/events?${q}`).set("authorization", `Bearer ${tenant.apiKey}`)).body as {
        data: { event_id: string; status: string }[];
      };
    expect((await list("status=DELIVERED")).data).toEqual([
      expect.objectContaining({ event_id: id, status: "DELIVERED" }),
    ]);
    expect((await list("status=DELIVERED&type=other")).data).toEqual([]);
    expect((await list("status=PENDING")).data).toEqual([]);
  });

  it("retries a 500 and delivers on attempt 2 with the same webhook-id", async () => {
    const { receiver, tenant } = await tenantWithReceiver();
    receiver.behave((_req, n) => (n === 1 ? { status: 500, body: "boom" } : { status: 204 }));
    const { body } = await postEvent(stack, tenant.apiKey, { type: "a" });
    const event = await settled(tenant.apiKey, body.event_id, "DELIVERED");
    const [first, second] = receiver.requests;
    expect(receiver.requests).toHaveLength(2);
    expect(second!.headers["webhook-id"]).toBe(first!.headers["webhook-id"]);
    expect(second!.at - first!.at).toBeGreaterThanOrEqual(850);
    expect(event.deliveries[0]!.attempt_log.map((a) => [a.attempt, a.status_code, a.error])).toEqual([
      [1, 500, "HTTP 500"],
      [2, 204, null],
    ]);
    expect(event.deliveries[0]!.attempt_log[0]!.response_excerpt).toBe("boom");
  });

  it("dead-letters after exactly 3 attempts when the endpoint always fails", async () => {
    const { receiver, tenant } = await tenantWithReceiver();
    receiver.behave(() => ({ status: 500 }));
    const { body } = await postEvent(stack, tenant.apiKey, { type: "doomed" });
    const event = await settled(tenant.apiKey, body.event_id, "DEAD");
    expect(receiver.requests).toHaveLength(3);
    expect(event.deliveries[0]).toMatchObject({ status: "DEAD", attempts: 3, last_error: "HTTP 500" });
    expect(event.deliveries[0]!.attempt_log).toHaveLength(3);
    const dlq = await eventually(
      async () => {
        const out = await stack.clients.sqs.send(
          new ReceiveMessageCommand({ QueueUrl: stack.queue.dlqUrl, MaxNumberOfMessages: 10, VisibilityTimeout: 0 }),
        );
        return out.Messages?.map((m) => JSON.parse(m.Body ?? "{}") as { eventId: string }).find(
          (m) => m.eventId === body.event_id,
        );
      },
      { what: "the DLQ message" },
    );
    // The delivery's name and the hints the worker reads; never the payload or a secret.
    expect(dlq).toEqual({
      tenantId: tenant.tenantId,
      eventId: body.event_id,
      endpointId: tenant.endpoints[0]!.endpointId,
      tenantVersion: 0,
      bodyBytes: 17,
    });
  });

  it("never follows a redirect", async () => {
    const { receiver, tenant } = await tenantWithReceiver();
    receiver.behave((req) =>
      req.url === "/hook" ? { status: 301, headers: { location: "/elsewhere" } } : { status: 200 },
    );
    const { body } = await postEvent(stack, tenant.apiKey, { type: "r" });
    const event = await settled(tenant.apiKey, body.event_id, "DEAD");
    expect(receiver.requests.map((r) => r.url)).toEqual(["/hook", "/hook", "/hook"]);
    expect(event.deliveries[0]!.attempt_log[0]).toMatchObject({
      status_code: 301,
      error: "redirect (301) not followed",
    });
  });

  it("counts a timeout as a failed attempt and retries", async () => {
    const { receiver, tenant } = await tenantWithReceiver();
    receiver.behave((_req, n) => (n === 1 ? { status: 200, delayMs: 4000 } : { status: 200 }));
    const { body } = await postEvent(stack, tenant.apiKey, { type: "slow" });
    const event = await settled(tenant.apiKey, body.event_id, "DELIVERED");
    expect(event.deliveries[0]!.attempt_log.map((a) => [a.status_code, a.error])).toEqual([
      [null, "timeout"],
      [200, null],
    ]);
    expect(event.deliveries[0]!.attempt_log[0]!.duration_ms).toBeGreaterThanOrEqual(1400);
  });

  it("POSTs once when the same message reaches the worker three times", async () => {
    const { receiver, tenant } = await tenantWithReceiver();
    receiver.behave(() => ({ status: 200, delayMs: 300 }));
    const { body } = await postEvent(stack, tenant.apiKey, { type: "dup" });
    const ref = {
      tenantId: tenant.tenantId,
      eventId: body.event_id as string,
      endpointId: tenant.endpoints[0]!.endpointId,
    };
    expect(await enqueueDeliveries(stack.queue, [ref, ref])).toEqual([]);
    await settled(tenant.apiKey, body.event_id, "DELIVERED");
    await eventually(
      async () => {
        const { Attributes: a } = await stack.clients.sqs.send(
          new GetQueueAttributesCommand({ QueueUrl: stack.queue.queueUrl, AttributeNames: ["All"] }),
        );
        const left =
          Number(a?.ApproximateNumberOfMessages) +
          Number(a?.ApproximateNumberOfMessagesNotVisible) +
          Number(a?.ApproximateNumberOfMessagesDelayed);
        return left === 0;
      },
      { what: "the queue to drain", timeoutMs: 20_000 },
    );
    expect(receiver.requests).toHaveLength(1);
  });

  it("counts attempts by outcome and status class in the worker's metrics", async () => {
    const text = await stack.workerMetrics.registry.metrics();
    expect(text).toMatch(
      /^webhooks_delivery_attempts_total\{outcome="delivered",status_class="2xx",service="worker"\} [1-9]/m,
    );
    expect(text).toMatch(
      /^webhooks_delivery_attempts_total\{outcome="dead",status_class="5xx",service="worker"\} [1-9]/m,
    );
    expect(text).toMatch(
      /^webhooks_delivery_attempts_total\{outcome="retry",status_class="none",service="worker"\} [1-9]/m,
    );
    expect(text).toMatch(/^webhooks_dead_lettered_total\{service="worker"\} [1-9]/m);
    expect(text).toMatch(/^webhooks_attempt_duration_seconds_count\{service="worker"\} [1-9]/m);
  });

  it("fans out only to endpoints whose event types match", async () => {
    const [orders, all, users] = [await startReceiver(), await startReceiver(), await startReceiver()];
    receivers.push(orders, all, users);
    const tenant = await stack.createTenant([
      { url: orders.url, event_types: ["order.*"] },
      { url: all.url },
      { url: users.url, event_types: ["user.created"] },
    ]);
    const { body } = await postEvent(stack, tenant.apiKey, { type: "order.refunded" });
    const event = await settled(tenant.apiKey, body.event_id, "DELIVERED");
    expect(event.deliveries).toHaveLength(2);
    expect([orders.requests.length, all.requests.length, users.requests.length]).toEqual([1, 1, 0]);
  });
});
