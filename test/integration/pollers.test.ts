/**
 * The worker's liveness is its pollers moving: a poller that neither finishes a receive nor gets room for one
 * within the stall limit makes the worker unhealthy (its container is replaced), while one that long-polls an
 * empty queue stays healthy however long the queue stays empty. Real sqs-consumer pollers on the emulator's SQS;
 * the scheduler is a stand-in that hands out room, or never does.
 */
import { pino } from "pino";
import { afterAll, beforeAll, expect, it } from "vitest";
import { startPollers, type Pollers } from "../../services/worker/consumer.ts";
import type { Scheduler } from "../../services/worker/scheduler.ts";
import { eventually, stays } from "../support/eventually.ts";
import { startStack, type Stack } from "../support/stack.ts";

let stack: Stack;
const running: Pollers[] = [];

beforeAll(async () => {
  stack = await startStack();
});

afterAll(async () => {
  await Promise.all(running.map((p) => p.stop()));
  await stack.close();
});

function pollers(room: () => Promise<number>): Pollers {
  const scheduler: Scheduler = {
    reserve: room,
    unreserve: () => undefined,
    accept: () => undefined,
    inFlight: () => 0,
    stop: async () => undefined,
  };
  const p = startPollers({
    sqs: stack.clients.sqs,
    queueUrl: stack.queue.queueUrl,
    pollers: 2,
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
  // The first receive goes; then room never comes (a scheduler that never frees a slot).
  const p = pollers(() => (++calls <= 2 ? Promise.resolve(10) : new Promise<number>(() => undefined)));
  expect(p.progressing(1500)).toBe(true);
  await eventually(() => !p.progressing(1500), { what: "a stalled poller noticed", timeoutMs: 6000 });
});
