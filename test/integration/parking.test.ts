/**
 * Deliveries deferred for long are parked, not re-received: behind a slow rate limit, a delivery whose turn is
 * further off than half the sweeper's grace has its due time written and its message acked, and the sweeper sends
 * a new one when it is due. So each delivered message costs about two receives (the first, and the one at its turn),
 * however long the backlog, instead of one every few minutes for as long as it waits.
 */
import { afterAll, beforeAll, expect, it } from "vitest";
import { getEvent, postEvent } from "../support/api.ts";
import { eventually } from "../support/eventually.ts";
import { startReceiver, type TestReceiver } from "../support/receiver.ts";
import { startStack, type Stack } from "../support/stack.ts";

let stack: Stack;
let receiver: TestReceiver;

beforeAll(async () => {
  // Deferrals beyond 1 s park; the sweeper looks every half second.
  stack = await startStack({ SWEEP_GRACE_MS: "2000", SWEEP_INTERVAL_MS: "500" });
  receiver = await startReceiver();
});
afterAll(async () => {
  await stack.close();
  await receiver.close();
});

it("behind a slow rate limit, about two receives per delivered message", async () => {
  let received = 0;
  const name = "countReceivedMessages";
  stack.clients.sqs.middlewareStack.add(
    (next, context) => async (args) => {
      const out = await next(args);
      const input = args.input as { QueueUrl?: string };
      if (context.commandName === "ReceiveMessageCommand" && input.QueueUrl === stack.queue.queueUrl)
        received += (out.output as { Messages?: unknown[] }).Messages?.length ?? 0;
      return out;
    },
    { step: "initialize", name },
  );
  try {
    const created = await stack.http
      .post("/admin/tenants")
      .set("authorization", `Bearer ${stack.adminToken}`)
      .send({ name: "slow", endpoints: [{ url: receiver.url, rate_limit: 2 }] });
    const apiKey = created.body.api_key as string;
    const count = 30;
    const ids: string[] = [];
    for (let i = 0; i < count; i++) ids.push((await postEvent(stack, apiKey, { type: "slow", i })).body.event_id);
    const requeuedBefore = (await stack.workerMetrics.sweeperRequeued.get()).values[0]?.value ?? 0;
    stack.startWorker();
    await eventually(
      async () =>
        (await Promise.all(ids.map(async (id) => (await getEvent(stack, apiKey, id)).status))).every(
          (s) => s === "DELIVERED",
        ),
      { what: "all delivered at 2 a second", timeoutMs: 90_000 },
    );
    const requeued = ((await stack.workerMetrics.sweeperRequeued.get()).values[0]?.value ?? 0) - requeuedBefore;
    process.stdout.write(
      `rate limit 2/s, ${count} deliveries: ${received} messages received (${(received / count).toFixed(2)} per ` +
        `delivery), ${requeued} sent again by the sweeper when due\n`,
    );
    expect(receiver.requests).toHaveLength(count);
    // Most waited for their turn parked, with no message: the sweeper sent them when due.
    expect(requeued).toBeGreaterThan(count / 2);
    expect(received / count).toBeLessThanOrEqual(2.5);
  } finally {
    stack.clients.sqs.middlewareStack.remove(name);
  }
}, 120_000);
