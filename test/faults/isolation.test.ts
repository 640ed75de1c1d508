/**
 * A slow endpoint does not hold up other deliveries: while one POST waits seconds for its receiver, deliveries
 * queued after it go out at once (each delivery runs on its own; no receive batch waits for its slowest).
 * It failed before the scheduler, with sqs-consumer's batches of ten; it also holds with a capacity of ten.
 */
import { afterAll, beforeAll, expect, it } from "vitest";
import { postEvent } from "../support/api.ts";
import { eventually } from "../support/eventually.ts";
import { startReceiver, type TestReceiver } from "../support/receiver.ts";
import { startStack, type CreatedTenant, type Stack } from "../support/stack.ts";

let stack: Stack;
let receiver: TestReceiver;
let tenant: CreatedTenant;
const slowMs = 8000;

beforeAll(async () => {
  stack = await startStack({ WORKER_CONCURRENCY: "10", DELIVERY_TIMEOUT_MS: "15000", VISIBILITY_TIMEOUT_S: "30" });
  receiver = await startReceiver();
  receiver.behave((req) => (req.url.includes("slow") ? { status: 200, delayMs: slowMs } : { status: 200 }));
  tenant = await stack.createTenant([
    { url: `${receiver.url}?slow`, event_types: ["slow.*"] },
    { url: `${receiver.url}?fast`, event_types: ["fast.*"] },
  ]);
  stack.startWorker();
});

afterAll(async () => {
  await stack.close();
  await receiver.close();
});

it("delivers what was queued after a slow delivery while that one is still waiting", async () => {
  await postEvent(stack, tenant.apiKey, { type: "slow.one" });
  await eventually(() => receiver.requests.some((r) => r.url.includes("slow")), { what: "the slow POST in flight" });
  const sentAt = Date.now();
  for (let i = 0; i < 5; i++) await postEvent(stack, tenant.apiKey, { type: "fast.one", i });
  // Within half the slow receiver's delay: behind a blocked batch they would wait for all of it.
  await eventually(() => receiver.requests.filter((r) => r.url.includes("fast")).length === 5, {
    what: "the fast deliveries",
    timeoutMs: slowMs / 2,
  });
  expect(Date.now() - sentAt).toBeLessThan(slowMs / 2);
});
