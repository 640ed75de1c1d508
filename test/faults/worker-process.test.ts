/** The worker killed mid-POST, and stopped mid-burst: nothing lost, nothing left leased, no second POST after success. */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { getEvent, postEvent } from "../support/api.ts";
import { eventually } from "../support/eventually.ts";
import { startServiceProcess, type ServiceProcess } from "../support/processes.ts";
import { startReceiver, type TestReceiver } from "../support/receiver.ts";
import { startStack, type Stack } from "../support/stack.ts";

let stack: Stack;
let receiver: TestReceiver;
const workers: ServiceProcess[] = [];

beforeAll(async () => {
  stack = await startStack({
    RETRY_SCHEDULE: "1s,1s,1s",
    DELIVERY_TIMEOUT_MS: "3000",
    VISIBILITY_TIMEOUT_S: "8",
    SQS_WAIT_TIME_S: "1",
  });
  receiver = await startReceiver();
});
afterAll(async () => {
  await Promise.all(workers.map((w) => w.kill("SIGKILL")));
  await stack.close();
  await receiver.close();
});

async function worker(): Promise<ServiceProcess> {
  const w = await startServiceProcess("worker", stack.env);
  workers.push(w);
  return w;
}

const status = async (apiKey: string, id: string) => (await getEvent(stack, apiKey, id)).status;

describe("worker process faults", () => {
  it("SIGKILL mid-POST: a restarted worker delivers it once the lease lapses", async () => {
    const t = await stack.createTenant([{ url: `${receiver.url}?kill` }]);
    // The first POST never gets an answer: the worker is killed while waiting for it.
    receiver.behave((_req, n) => (n === 1 ? { status: 200, delayMs: 60_000 } : { status: 200 }));
    const first = await worker();
    const { body } = await postEvent(stack, t.apiKey, { type: "kill" });
    await eventually(() => receiver.requests.length === 1, { what: "the first POST" });
    await first.kill("SIGKILL");
    await worker();
    await eventually(async () => (await status(t.apiKey, body.event_id)) === "DELIVERED", {
      what: "delivery after restart",
      timeoutMs: 25_000,
    });
    const event = await getEvent(stack, t.apiKey, body.event_id);
    expect(event.deliveries[0]!.attempts).toBe(2);
    expect(receiver.requests.map((r) => r.headers["webhook-id"])).toEqual([
      event.deliveries[0]!.webhook_id,
      event.deliveries[0]!.webhook_id,
    ]);
    await Promise.all(workers.map((w) => w.kill("SIGKILL")));
  }, 40_000);

  it("SIGTERM during a burst: in-flight POSTs finish and are recorded, the rest wait unleased for the next worker", async () => {
    receiver.requests.length = 0;
    receiver.behave(() => ({ status: 200, delayMs: 1000 }));
    const t = await stack.createTenant([{ url: `${receiver.url}?burst` }]);
    const w = await worker();
    const ids: string[] = [];
    for (let i = 0; i < 30; i++) ids.push((await postEvent(stack, t.apiKey, { type: "burst", i })).body.event_id);
    await eventually(() => receiver.requests.length >= 3, { what: "POSTs in flight" });
    const exited = new Promise<number | null>((resolve) => w.child.once("exit", (code) => resolve(code)));
    w.child.kill("SIGTERM");
    expect(await exited).toBe(0);
    const started = receiver.requests.length;
    const views = await Promise.all(ids.map((id) => getEvent(stack, t.apiKey, id)));
    // Every POST that began was answered and recorded before the worker exited.
    expect(views.filter((v) => v.status === "DELIVERED")).toHaveLength(started);
    for (const v of views.filter((x) => x.status !== "DELIVERED")) expect(v.deliveries[0]!.attempts).toBe(0);

    await worker();
    await eventually(
      async () => (await Promise.all(ids.map((id) => status(t.apiKey, id)))).every((s) => s === "DELIVERED"),
      {
        what: "the rest delivered",
        timeoutMs: 30_000,
      },
    );
    const seen = receiver.requests.map((r) => String(r.headers["webhook-id"]));
    expect(new Set(seen).size).toBe(30);
    expect(seen).toHaveLength(30);
  }, 60_000);
});
