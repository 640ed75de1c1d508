/** Queue-level faults: deliveries slower than the visibility timeout, poison messages, racing workers. */
import { GetQueueAttributesCommand, SendMessageCommand } from "@aws-sdk/client-sqs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { enqueueDeliveries } from "../../services/aws/delivery-queue.ts";
import { getEvent, postEvent } from "../support/api.ts";
import { eventually } from "../support/eventually.ts";
import { startReceiver, type TestReceiver } from "../support/receiver.ts";
import { captureLogs } from "../support/log-capture.ts";
import { startStack, type Stack } from "../support/stack.ts";

let stack: Stack;
let receiver: TestReceiver;
const { logger, lines: logs } = captureLogs("debug");

beforeAll(async () => {
  stack = await startStack({}, { logger });
  receiver = await startReceiver();
});
afterAll(async () => {
  await stack.close();
  await receiver.close();
});

const queueEmpty = async () => {
  const { Attributes: a } = await stack.clients.sqs.send(
    new GetQueueAttributesCommand({ QueueUrl: stack.queue.queueUrl, AttributeNames: ["All"] }),
  );
  return (
    Number(a?.ApproximateNumberOfMessages) +
      Number(a?.ApproximateNumberOfMessagesNotVisible) +
      Number(a?.ApproximateNumberOfMessagesDelayed) ===
    0
  );
};

describe("queue faults", () => {
  it("a delivery slower than the visibility timeout is POSTed once (the heartbeat extends it)", async () => {
    const worker = stack.startWorker({ visibilityTimeoutS: 2, deliveryTimeoutMs: 8000 });
    try {
      receiver.behave(() => ({ status: 200, delayMs: 5000 }));
      const t = await stack.createTenant([{ url: receiver.url }]);
      const { body } = await postEvent(stack, t.apiKey, { type: "slow" });
      await eventually(async () => (await getEvent(stack, t.apiKey, body.event_id)).status === "DELIVERED", {
        what: "delivered",
        timeoutMs: 15_000,
      });
      expect(receiver.requests).toHaveLength(1);
      await eventually(queueEmpty, { what: "the queue to drain" });
      // Without the heartbeat the message would come back after 2 s and find the delivery leased.
      expect(logs.join("")).not.toContain('"reason":"leased"');
    } finally {
      await worker.stop();
    }
  }, 30_000);

  it("drops poison messages with a log line instead of looping", async () => {
    const worker = stack.startWorker();
    try {
      const t = await stack.createTenant([{ url: receiver.url }]);
      for (const body of [
        "not json",
        '{"tenantId":"ten_x"}',
        JSON.stringify({ tenantId: t.tenantId, eventId: "evt_01ABCDEFGHJKMNPQRSTVWXYZ00", endpointId: "ep_x" }),
      ]) {
        await stack.clients.sqs.send(new SendMessageCommand({ QueueUrl: stack.queue.queueUrl, MessageBody: body }));
      }
      await eventually(queueEmpty, { what: "the poison to be dropped" });
      const all = logs.join("");
      expect(all.match(/malformed delivery message dropped/g)).toHaveLength(2);
      expect(all).toContain("delivery message for an unknown event or endpoint dropped");
    } finally {
      await worker.stop();
    }
  });

  it("two workers racing on five copies of one message POST once", async () => {
    const workers = [stack.startWorker(), stack.startWorker()];
    try {
      receiver.requests.length = 0;
      receiver.behave(() => ({ status: 200, delayMs: 300 }));
      const t = await stack.createTenant([{ url: receiver.url }]);
      const { body } = await postEvent(stack, t.apiKey, { type: "race" });
      const ref = { tenantId: t.tenantId, eventId: body.event_id as string, endpointId: t.endpoints[0]!.endpointId };
      expect(await enqueueDeliveries(stack.queue, [ref, ref, ref, ref])).toEqual([]);
      await eventually(async () => (await getEvent(stack, t.apiKey, body.event_id)).status === "DELIVERED", {
        what: "delivered",
      });
      await eventually(queueEmpty, { what: "every copy consumed", timeoutMs: 20_000 });
      expect(receiver.requests).toHaveLength(1);
    } finally {
      await Promise.all(workers.map((w) => w.stop()));
    }
  }, 30_000);
});
