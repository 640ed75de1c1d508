/**
 * A worker never holds more deliveries than its capacity (`WORKER_CONCURRENCY`): each receive asks SQS for no
 * more messages than the room reserved for it. With sqs-consumer's batch size set in its pre-receive callback, a
 * worker of capacity 3 received 10 at once (the setting only sized the next receive).
 */
import { afterAll, beforeAll, expect, it } from "vitest";
import { postEvent } from "../support/api.ts";
import { eventually } from "../support/eventually.ts";
import { startReceiver, type TestReceiver } from "../support/receiver.ts";
import { startStack, type Stack } from "../support/stack.ts";

const capacity = 3;
let stack: Stack;
let receiver: TestReceiver;
let peak = 0;

beforeAll(async () => {
  stack = await startStack({ WORKER_CONCURRENCY: String(capacity) });
  receiver = await startReceiver();
  receiver.behave(() => {
    peak = Math.max(peak, receiver.open() + 1);
    return { status: 200, delayMs: 600 };
  });
});

afterAll(async () => {
  await stack.close();
  await receiver.close();
});

it("holds at most its capacity of deliveries, and uses all of it", async () => {
  const tenant = await stack.createTenant([{ url: receiver.url }]);
  for (let i = 0; i < 12; i++) await postEvent(stack, tenant.apiKey, { type: "capacity.test", i });
  stack.startWorker();
  await eventually(() => receiver.requests.length === 12, { what: "all 12 delivered" });
  expect(peak).toBe(capacity);
});
