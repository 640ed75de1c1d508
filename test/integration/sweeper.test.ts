/** Invariant 1: an accepted event is delivered even when its message never reached SQS or was purged. */
import { PurgeQueueCommand } from "@aws-sdk/client-sqs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { acceptEvent } from "../../services/ingestion/accept-event.ts";
import { enqueueDeliveries } from "../../services/aws/delivery-queue.ts";
import { getTenant } from "../../services/aws/tenants.ts";
import { getEvent, postEvent } from "../support/api.ts";
import { eventually } from "../support/eventually.ts";
import { startReceiver, type TestReceiver } from "../support/receiver.ts";
import { logger, startStack, type Stack } from "../support/stack.ts";

let stack: Stack;
let receiver: TestReceiver;

beforeAll(async () => {
  // The receiver fails on purpose: no circuit breaker here, this is the sweeper's test.
  stack = await startStack({
    SWEEP_GRACE_MS: "300",
    SWEEP_INTERVAL_MS: "200",
    RETRY_SCHEDULE: "1s,1s,1s,1s,1s",
    BREAKER_FAILURES: "1000",
  });
  receiver = await startReceiver();
});
afterAll(async () => {
  await stack.close();
  await receiver.close();
});

const delivered = (apiKey: string, eventId: string) =>
  eventually(async () => (await getEvent(stack, apiKey, eventId)).status === "DELIVERED", { what: "delivery" });

describe("sweeper", () => {
  it("delivers an event whose SQS send failed after the DynamoDB write", async () => {
    const tenant = await stack.createTenant([{ url: receiver.url }]);
    const stored = await getTenant(stack.stores.tenants, tenant.tenantId);
    // The send goes to a queue that does not exist: it fails after the event is stored, as an outage would.
    const brokenQueue = { ...stack.queue, queueUrl: `${stack.queue.queueUrl}-missing` };
    const out = await acceptEvent(
      {
        store: stack.store,
        enqueue: (m) => enqueueDeliveries(brokenQueue, m),
        now: Date.now,
        metrics: stack.workerMetrics,
      },
      { tenant: stored!, body: Buffer.from('{"type":"lost"}'), parsed: { type: "lost" }, log: logger },
    );
    expect(out).toMatchObject({ created: true, status: "PENDING" });
    stack.startWorker();
    await delivered(tenant.apiKey, out.eventId);
    expect(receiver.requests.filter((r) => r.body.toString() === '{"type":"lost"}')).toHaveLength(1);
  });

  it("delivers everything still pending after the queue was purged", async () => {
    const tenant = await stack.createTenant([{ url: `${receiver.url}?purged` }]);
    receiver.behave(() => ({ status: 503, headers: { "retry-after": "1" } }));
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push((await postEvent(stack, tenant.apiKey, { type: "purged", i })).body.event_id);
    // Let the first attempts fail, then lose every message.
    await eventually(() => receiver.requests.filter((r) => r.url.endsWith("?purged")).length >= 5, {
      what: "first attempts",
    });
    await stack.clients.sqs.send(new PurgeQueueCommand({ QueueUrl: stack.queue.queueUrl }));
    receiver.behave(() => ({ status: 200 }));
    for (const id of ids) await delivered(tenant.apiKey, id);
  });
});
