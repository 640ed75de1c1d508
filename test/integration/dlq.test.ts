/**
 * The dead-letter queue, first class: peek without consuming, dry run, filtered requeue, one requeue at a
 * time, requeued deliveries delivered once with their original webhook-id, and a killed requeue loses nothing.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { getEvent, postEvent } from "../support/api.ts";
import { eventually } from "../support/eventually.ts";
import { expectProblem } from "../support/problem.ts";
import { startApiProcess } from "../support/processes.ts";
import { startReceiver, type TestReceiver } from "../support/receiver.ts";
import { startStack, type CreatedTenant, type Stack } from "../support/stack.ts";

let stack: Stack;
let receiver: TestReceiver;
let a: CreatedTenant;
let b: CreatedTenant;
const events = new Map<string, { tenant: CreatedTenant; webhookId: string }>();
let admin: string;
const perTenant = 15;

const dlqCount = async () =>
  (await stack.http.get("/admin/dlq?limit=1").set("authorization", admin)).body.count as number;

beforeAll(async () => {
  // A short sweeper grace: a delivery the killed requeue set PENDING before sending its message is the sweeper's.
  stack = await startStack({
    RETRY_SCHEDULE: "100ms",
    DLQ_REQUEUE_RATE: "20",
    SWEEP_GRACE_MS: "2000",
    BREAKER_FAILURES: "1000",
  });
  admin = `Bearer ${stack.adminToken}`;
  receiver = await startReceiver();
  receiver.behave(() => ({ status: 500 }));
  a = await stack.createTenant([{ url: `${receiver.url}?a` }]);
  b = await stack.createTenant([{ url: `${receiver.url}?b` }]);
  stack.startWorker();
  for (const tenant of [a, b]) {
    for (let i = 0; i < perTenant; i++) {
      const { body } = await postEvent(stack, tenant.apiKey, { type: "dlq.test", i });
      events.set(body.event_id, { tenant, webhookId: "" });
    }
  }
  await eventually(async () => (await dlqCount()) === 2 * perTenant, {
    what: "every delivery in the DLQ",
    // moto_server serves each attempt's writes slowly: the retries into the DLQ took over 30 s there.
    timeoutMs: 90_000,
  });
  for (const [id, e] of events) {
    const view = await getEvent(stack, e.tenant.apiKey, id);
    expect(view.status).toBe("DEAD");
    e.webhookId = view.deliveries[0]!.webhook_id;
  }
  receiver.behave(() => ({ status: 200 }));
  receiver.requests.length = 0;
}, 120_000);

afterAll(async () => {
  await stack.close();
  await receiver.close();
});

const idsOf = (tenant: CreatedTenant) => [...events].filter(([, e]) => e.tenant === tenant).map(([id]) => id);
const statuses = async (tenant: CreatedTenant) =>
  Promise.all(idsOf(tenant).map(async (id) => (await getEvent(stack, tenant.apiKey, id)).status));

describe("dead-letter queue", () => {
  it("peeks without consuming, filtered by tenant, resolved against DynamoDB", async () => {
    const page = await stack.http.get(`/admin/dlq?tenant_id=${a.tenantId}&limit=5`).set("authorization", admin);
    expect(page.status).toBe(200);
    expect(page.body.count).toBe(2 * perTenant);
    expect(page.body.data).toHaveLength(5);
    for (const m of page.body.data) {
      expect(m).toMatchObject({
        tenant_id: a.tenantId,
        endpoint_id: a.endpoints[0]!.endpointId,
        delivery: {
          status: "DEAD",
          attempts: 2,
          last_status_code: 500,
          last_error: "HTTP 500",
          dead_at: expect.any(String),
        },
      });
      expect(events.get(m.event_id)?.webhookId).toBe(m.delivery.webhook_id);
    }
    // Everything peeked is visible again at once.
    const depth = (await stack.http.get("/admin/stats").set("authorization", admin)).body.dead_letter_queue;
    expect(depth).toEqual({ visible: 2 * perTenant, in_flight: 0, delayed: 0 });
  });

  it("changes nothing in a dry run", async () => {
    const res = await stack.http
      .post("/admin/dlq/requeue")
      .set("authorization", admin)
      .send({ tenant_id: a.tenantId, max_messages: 100, dry_run: true });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ moved: perTenant, skipped: perTenant, failed: 0, stale: 0, dry_run: true });
    expect(await dlqCount()).toBe(2 * perTenant);
    expect(new Set(await statuses(a))).toEqual(new Set(["DEAD"]));
    expect(receiver.requests).toHaveLength(0);
  });

  it("moves only the filtered tenant's messages, once each with the original webhook-id, and answers 409 to a concurrent requeue", async () => {
    const first = stack.http
      .post("/admin/dlq/requeue")
      .set("authorization", admin)
      .send({ tenant_id: a.tenantId, max_messages: 100 })
      .then((r) => r);
    await eventually(async () => (await statuses(a)).some((s) => s !== "DEAD"), { what: "the requeue to start" });
    expectProblem(
      await stack.http.post("/admin/dlq/requeue").set("authorization", admin).send({ max_messages: 5 }),
      409,
    );
    const report = await first;
    expect(report.status).toBe(200);
    expect(report.body).toMatchObject({ moved: perTenant, skipped: perTenant, failed: 0, stale: 0 });
    // 15 moves at 20/s: the rate cap holds the run to at least 0.7 s.
    expect(report.body.duration_ms).toBeGreaterThanOrEqual(650);

    await eventually(async () => (await statuses(a)).every((s) => s === "DELIVERED"), { what: "tenant A delivered" });
    expect(await dlqCount()).toBe(perTenant);
    const ids = receiver.requests.map((r) => String(r.headers["webhook-id"]));
    expect(ids.sort()).toEqual(
      idsOf(a)
        .map((id) => events.get(id)!.webhookId)
        .sort(),
    );
    expect(new Set(await statuses(b))).toEqual(new Set(["DEAD"]));
    // The audit trail keeps the first run: the requeued attempts are numbered on from 3, after the two refused
    // ones, and the last is the 200. (On a loaded machine a requeued POST can time out before it reaches the
    // receiver, whose 2 s timeout is short: that attempt is recorded without a status and retried, as it should be.)
    const delivery = (await getEvent(stack, a.apiKey, idsOf(a)[0]!)).deliveries[0]!;
    const log = delivery.attempt_log.map((l) => [l.attempt, l.status_code]);
    expect(log.slice(0, 2)).toEqual([
      [1, 500],
      [2, 500],
    ]);
    expect(log.map(([n]) => n)).toEqual(log.map((_, i) => i + 1));
    expect(log.at(-1)).toEqual([delivery.attempts, 200]);
    expect(delivery.attempts).toBeGreaterThanOrEqual(3);
  });

  it("loses and duplicates nothing when the API task is killed mid-requeue", async () => {
    receiver.requests.length = 0;
    const api = await startApiProcess({ ...stack.env, DLQ_REQUEUE_RATE: "5" });
    try {
      void fetch(`http://127.0.0.1:${api.port}/admin/dlq/requeue`, {
        method: "POST",
        headers: { authorization: admin, "content-type": "application/json" },
        body: JSON.stringify({ tenant_id: b.tenantId, max_messages: 100 }),
      }).catch(() => undefined);
      await eventually(async () => (await statuses(b)).filter((s) => s !== "DEAD").length >= 3, { what: "some moves" });
    } finally {
      await api.kill("SIGKILL");
    }
    // Run the requeue again (409 until the dead task's lease lapses) until every delivery is delivered.
    await eventually(
      async () => {
        await stack.http
          .post("/admin/dlq/requeue")
          .set("authorization", admin)
          .send({ tenant_id: b.tenantId, max_messages: 100 });
        return (await statuses(b)).every((s) => s === "DELIVERED") && (await dlqCount()) === 0;
      },
      { what: "tenant B delivered and the DLQ empty", timeoutMs: 45_000, intervalMs: 500 },
    );
    const ids = receiver.requests.map((r) => String(r.headers["webhook-id"]));
    expect(ids.sort()).toEqual(
      idsOf(b)
        .map((id) => events.get(id)!.webhookId)
        .sort(),
    );
  }, 60_000);
});
