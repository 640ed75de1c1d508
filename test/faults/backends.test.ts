/** Backends failing: DynamoDB unreachable for seconds, the SQS emulator restarted empty. Nothing accepted is lost. */
import { afterAll, describe, expect, it } from "vitest";
import { provisionAll } from "../../services/aws/provision.ts";
import { provisionOptions } from "../../services/runtime.ts";
import { startDynalite, startSqsEmulator, type Emulator } from "../../services/local/emulators.ts";
import { getEvent, postEvent } from "../support/api.ts";
import { eventually } from "../support/eventually.ts";
import { expectProblem } from "../support/problem.ts";
import { startReceiver, type TestReceiver } from "../support/receiver.ts";
import { startTcpProxy } from "../support/tcp-proxy.ts";
import { startStack, type Stack } from "../support/stack.ts";

const cleanups: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const c of cleanups.reverse()) await c();
});

async function receiver(): Promise<TestReceiver> {
  const r = await startReceiver();
  cleanups.push(() => r.close());
  return r;
}

describe("backend faults", () => {
  it("DynamoDB down for seconds: the API answers 503 at once, the worker backs off, nothing accepted is lost", async () => {
    // The outage is a cut connection in front of the emulator, which keeps its data throughout.
    const dynamo = await startDynalite(0);
    const proxy = await startTcpProxy(dynamo.endpoint);
    const stack: Stack = await startStack({ AWS_ENDPOINT_URL_DYNAMODB: proxy.url, RETRY_SCHEDULE: "1s,1s,1s" });
    cleanups.push(
      () => dynamo.stop(),
      () => proxy.close(),
      () => stack.close(),
    );
    const r = await receiver();
    r.behave((_req, n) => (n === 1 ? { status: 200, delayMs: 1000 } : { status: 200 }));
    const t = await stack.createTenant([{ url: r.url }]);
    stack.startWorker();

    const accepted = await postEvent(stack, t.apiKey, { type: "before-outage" });
    expect(accepted.status).toBe(201);
    // The first POST is in flight when DynamoDB goes away: recording its outcome fails.
    await eventually(() => r.requests.length === 1, { what: "the first POST" });
    await proxy.cut();
    const started = Date.now();
    const during = await postEvent(stack, t.apiKey, { type: "during-outage" });
    expectProblem(during, 503);
    expect(during.headers["retry-after"]).toBe("5");
    expect(Date.now() - started).toBeLessThan(5000);

    // The outage lasts two seconds: long enough for the worker's calls to fail and back off.
    await new Promise((resolve) => setTimeout(resolve, 2000));
    await proxy.restore();
    await eventually(async () => (await getEvent(stack, t.apiKey, accepted.body.event_id)).status === "DELIVERED", {
      what: "the accepted event delivered after the outage",
      timeoutMs: 30_000,
    });
    // At least once: the POST whose outcome could not be recorded is repeated, with the same webhook-id.
    expect(new Set(r.requests.map((q) => q.headers["webhook-id"])).size).toBe(1);
  }, 45_000);

  it("the SQS emulator restarted empty: the sweeper delivers everything still pending", async () => {
    let sqs: Emulator = await startSqsEmulator(0);
    const port = Number(new URL(sqs.endpoint).port);
    const stack: Stack = await startStack({
      AWS_ENDPOINT_URL_SQS: sqs.endpoint,
      RETRY_SCHEDULE: "1s,1s,1s,1s,1s",
      SWEEP_GRACE_MS: "500",
    });
    cleanups.push(
      () => sqs.stop(),
      () => stack.close(),
    );
    const r = await receiver();
    r.behave(() => ({ status: 503 }));
    const t = await stack.createTenant([{ url: r.url }]);
    stack.startWorker();
    const ids: string[] = [];
    for (let i = 0; i < 10; i++) ids.push((await postEvent(stack, t.apiKey, { type: "lost-queue", i })).body.event_id);
    await eventually(() => new Set(r.requests.map((q) => q.headers["webhook-id"])).size === 10, {
      what: "first attempts",
    });

    await sqs.stop();
    sqs = await startSqsEmulator(port);
    // An operator re-creates the queues (the bootstrap step); every message is gone.
    await provisionAll(stack.clients.dynamo, stack.clients.sqs, provisionOptions(stack.config));
    r.behave(() => ({ status: 200 }));
    await eventually(
      async () =>
        (await Promise.all(ids.map(async (id) => (await getEvent(stack, t.apiKey, id)).status))).every(
          (s) => s === "DELIVERED",
        ),
      {
        what: "every pending event delivered",
        // The worker's poller pauses after its connection errors, then the sweeper re-sends: a busy machine took > 30 s.
        timeoutMs: 60_000,
      },
    );
  }, 90_000);
});
