/**
 * The worker's liveness is its pollers moving: a poller that neither finishes a receive nor gets room for one
 * within the stall limit makes the worker unhealthy (its container is replaced), while one that long-polls an
 * empty queue stays healthy however long the queue stays empty. Real sqs-consumer pollers on the emulator's SQS;
 * the scheduler is a stand-in that hands out room, or never does. And each receive asks SQS for exactly the room
 * reserved for it (sqs-consumer's batchSize option, updated before each poll), never its default 10.
 */
import { PurgeQueueCommand, SendMessageCommand } from "@aws-sdk/client-sqs";
import { pino } from "pino";
import { afterAll, afterEach, beforeAll, expect, it } from "vitest";
import { startPollers, type Pollers } from "../../services/worker/consumer.ts";
import type { Scheduler } from "../../services/worker/scheduler.ts";
import { eventually, stays } from "../support/eventually.ts";
import { startStack, type Stack } from "../support/stack.ts";

let stack: Stack;
const running: Pollers[] = [];

beforeAll(async () => {
  stack = await startStack();
});

// Each test's pollers stop, and its messages go, before the next test starts.
afterEach(async () => {
  await Promise.all(running.splice(0).map((p) => p.stop()));
  await stack.clients.sqs.send(new PurgeQueueCommand({ QueueUrl: stack.queue.queueUrl }));
});

afterAll(async () => {
  await stack.close();
});

function pollers(
  room: (max: number) => Promise<number>,
  accept: Scheduler["accept"] = () => undefined,
  count = 2,
): Pollers {
  const scheduler: Scheduler = {
    reserve: room,
    unreserve: () => undefined,
    accept,
    inFlight: () => 0,
    stop: async () => undefined,
  };
  const p = startPollers({
    sqs: stack.clients.sqs,
    queueUrl: stack.queue.queueUrl,
    pollers: count,
    visibilityTimeoutS: 10,
    waitTimeSeconds: 1,
    scheduler,
    log: pino({ level: "silent" }),
  });
  running.push(p);
  return p;
}

it("stay healthy while they long-poll an empty queue, for longer than the stall limit", async () => {
  const p = pollers(async () => 10);
  await stays(() => p.progressing(2500), { forMs: 4000, intervalMs: 100, what: "pollers moving" });
});

it("are unhealthy once a poller waits for room past the stall limit", async () => {
  let calls = 0;
  // The first receive goes and hands over its messages; then room never comes (a scheduler that never frees one).
  await sendMessages(4);
  const p = pollers(() => (++calls <= 2 ? Promise.resolve(10) : new Promise<number>(() => undefined)));
  expect(p.progressing(1500)).toBe(true);
  await eventually(() => !p.progressing(1500), { what: "a stalled poller noticed", timeoutMs: 6000 });
});

it("size each receive to the room reserved for it, and hand over no more than that", async () => {
  const asked: number[] = [];
  const name = "recordReceiveSizes";
  stack.clients.sqs.middlewareStack.add(
    (next, context) => async (args) => {
      const input = args.input as { MaxNumberOfMessages?: number };
      if (context.commandName === "ReceiveMessageCommand") asked.push(input.MaxNumberOfMessages ?? 1);
      return next(args);
    },
    { step: "initialize", name },
  );
  try {
    const rooms = [3, 2, 1];
    const reserved: number[] = [];
    const batches: [number, number][] = [];
    let taken = 0;
    await sendMessages(12);
    const p = pollers(
      async (max) => {
        const r = Math.min(max, rooms[reserved.length % rooms.length]!);
        reserved.push(r);
        return r;
      },
      (messages, room) => {
        batches.push([messages.length, room]);
        taken += messages.length;
      },
      1,
    );
    await eventually(() => taken === 12, { what: "all 12 messages handed over" });
    await p.stop();
    // Every receive asked for the room reserved just before it (one poller: a reservation, then its receive).
    expect(asked.length).toBeGreaterThanOrEqual(batches.length);
    for (const [i, n] of asked.entries()) expect(n).toBe(reserved[i]);
    for (const [n, room] of batches) expect(n).toBeLessThanOrEqual(room);
    expect(new Set(asked)).toEqual(new Set([1, 2, 3]));
  } finally {
    stack.clients.sqs.middlewareStack.remove(name);
  }
});

async function sendMessages(n: number) {
  for (let i = 0; i < n; i++)
    await stack.clients.sqs.send(new SendMessageCommand({ QueueUrl: stack.queue.queueUrl, MessageBody: `m${i}` }));
}
