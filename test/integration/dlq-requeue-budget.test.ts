/**
 * A DLQ requeue answers within its time budget, inside the API's drain, so a deploy or scale-in never cuts one off:
 * it says it stopped (`complete: false`), and the same request again goes on until everything is moved, each delivery
 * once.
 */
import { afterAll, beforeAll, expect, it } from "vitest";
import { getEvent, postEvent } from "../support/api.ts";
import { eventually } from "../support/eventually.ts";
import { startReceiver, type TestReceiver } from "../support/receiver.ts";
import { startStack, type CreatedTenant, type Stack } from "../support/stack.ts";

let stack: Stack;
let receiver: TestReceiver;
let tenant: CreatedTenant;
const eventIds: string[] = [];
const count = 10;

beforeAll(async () => {
  // 5 a second against a 1 s budget: no run can move all ten, however fast the machine.
  stack = await startStack(
    { RETRY_SCHEDULE: "100ms", DLQ_REQUEUE_RATE: "5", BREAKER_FAILURES: "1000" },
    { requeueBudgetMs: 1000 },
  );
  receiver = await startReceiver();
  receiver.behave(() => ({ status: 500 }));
  tenant = await stack.createTenant([{ url: receiver.url }]);
  stack.startWorker();
  for (let i = 0; i < count; i++) eventIds.push((await postEvent(stack, tenant.apiKey, { i })).body.event_id as string);
  await eventually(
    async () =>
      (await Promise.all(eventIds.map((id) => getEvent(stack, tenant.apiKey, id)))).every((e) => e.status === "DEAD"),
    { what: "every delivery dead", timeoutMs: 30_000 },
  );
  receiver.behave(() => ({ status: 200 }));
  receiver.requests.length = 0;
}, 60_000);

afterAll(async () => {
  await stack.close();
  await receiver.close();
});

it("stops at its time budget saying so, and the same request again goes on until every delivery is moved, once", async () => {
  const runs: { moved: number; complete: boolean }[] = [];
  await eventually(
    async () => {
      const res = await stack.http
        .post("/admin/dlq/requeue")
        .set("authorization", `Bearer ${stack.adminToken}`)
        .send({ max_messages: 100 });
      expect(res.status).toBe(200);
      runs.push({ moved: res.body.moved as number, complete: res.body.complete as boolean });
      return res.body.complete === true;
    },
    { what: "a complete requeue", timeoutMs: 30_000 },
  );
  expect(runs[0]!.complete).toBe(false);
  expect(runs[0]!.moved).toBeLessThan(count);
  expect(runs.reduce((n, r) => n + r.moved, 0)).toBe(count);
  await eventually(() => receiver.requests.length >= count, { what: "every delivery delivered" });
  expect(new Set(receiver.requests.map((r) => r.headers["webhook-id"])).size).toBe(count);
  expect(receiver.requests).toHaveLength(count);
});
